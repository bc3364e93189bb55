#include "broker/store/sqlite_check_lists.hpp"

#include <cctype>
#include <optional>
#include <vector>

namespace sektorbro {
namespace {

constexpr std::string_view kCheck = "CHECK (";
constexpr std::size_t kShortestRewritten = 3;  // SQLite compares two values without a B-tree

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

struct Cursor {
  std::string_view s;
  std::size_t i = 0;

  void skip_space() {
    while (i < s.size() && is_space(s[i])) ++i;
  }
  bool take(std::string_view word) {
    if (s.substr(i, word.size()) != word) return false;
    i += word.size();
    return true;
  }
  std::optional<std::string_view> identifier() {
    const std::size_t start = i;
    if (i >= s.size() || !(std::isalpha(static_cast<unsigned char>(s[i])) || s[i] == '_'))
      return std::nullopt;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
    return s.substr(start, i - start);
  }
  // 'text' without a quote inside, or an optionally negative integer.
  std::optional<std::string_view> literal() {
    const std::size_t start = i;
    if (i < s.size() && s[i] == '\'') {
      const std::size_t close = s.find('\'', i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      if (close + 1 < s.size() && s[close + 1] == '\'') return std::nullopt;  // '' inside
      i = close + 1;
      return s.substr(start, i - start);
    }
    if (i < s.size() && s[i] == '-') ++i;
    const std::size_t digits = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == digits) {
      i = start;
      return std::nullopt;
    }
    return s.substr(start, i - start);
  }
};

// At `at`, just after "CHECK (": `column IN (v, …))`. Returns the rewritten constraint's text
// after "CHECK (" and the length of what it replaces, or nothing if the shape is another.
std::optional<std::pair<std::string, std::size_t>> expand_one(std::string_view sql,
                                                              std::size_t at) {
  Cursor c{sql, at};
  c.skip_space();
  const auto column = c.identifier();
  if (!column) return std::nullopt;
  c.skip_space();
  if (!c.take("IN")) return std::nullopt;
  c.skip_space();
  if (!c.take("(")) return std::nullopt;
  std::vector<std::string_view> values;
  for (;;) {
    c.skip_space();
    const auto value = c.literal();
    if (!value) return std::nullopt;
    values.push_back(*value);
    c.skip_space();
    if (c.take(",")) continue;
    if (c.take(")")) break;
    return std::nullopt;
  }
  c.skip_space();
  if (!c.take(")")) return std::nullopt;
  if (values.size() < kShortestRewritten) return std::nullopt;
  std::string out;
  for (const auto value : values) {
    if (!out.empty()) out += " OR ";
    out.append(*column).append(" = ").append(value);
  }
  out += ')';
  return std::pair{std::move(out), c.i - at};
}

}  // namespace

std::string expand_check_in_lists(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 128);
  std::size_t copied = 0;
  for (std::size_t at = sql.find(kCheck); at != std::string_view::npos; at = sql.find(kCheck, at)) {
    at += kCheck.size();
    const auto expanded = expand_one(sql, at);
    if (!expanded) continue;
    out.append(sql.substr(copied, at - copied)).append(expanded->first);
    at += expanded->second;
    copied = at;
  }
  out.append(sql.substr(copied));
  return out;
}

}  // namespace sektorbro
