#include "broker/xml/formatted_text.hpp"

#include <array>
#include <utility>

#include "broker/xml/text_encoding.hpp"
#include "broker/xml/xml_builder.hpp"

namespace sektorbro {
namespace {

// Where an element may stand (FormattedText.xsd): the level of its parent.
enum class Level { kTop, kFixedFont, kBreakable };

constexpr std::array<std::string_view, 5> kBreakable{"Right", "Center", "Bold", "Italic",
                                                     "Underline"};

bool is_breakable(std::string_view name) {
  for (auto n : kBreakable)
    if (n == name) return true;
  return false;
}

Error invalid(std::string detail) { return make_error(Errc::kInvalid, std::move(detail)); }

bool short_word(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  return true;
}

std::string_view trim_leading(std::string_view s) {
  while (!s.empty() && is_xml_space(s.front())) s.remove_prefix(1);
  return s;
}
std::string_view trim_trailing(std::string_view s) {
  while (!s.empty() && is_xml_space(s.back())) s.remove_suffix(1);
  return s;
}

// Appends the canonical form of `node`'s content. Recursion is at most three levels deep.
Result<void> append_content(std::string& out, const XmlNode& node, std::string_view ns,
                            Level level, bool trim_ends) {
  std::size_t pos = 0;
  const std::size_t n = node.children.size();
  for (std::size_t i = 0; i <= n; ++i) {
    const std::size_t end = i < n ? node.children[i].text_offset : node.text.size();
    std::string_view run(node.text.data() + pos, end - pos);
    if (trim_ends && i == 0) run = trim_leading(run);
    if (trim_ends && i == n) run = trim_trailing(run);
    append_escaped(out, run);
    pos = end;
    if (i == n) break;
    const XmlNode& c = node.children[i];
    const std::string where = short_word(c.name) ? "element " + c.name : std::string("an element");
    if (c.ns != ns) return invalid("formatted text: " + where + " of another namespace");
    if (!c.attributes.empty()) return invalid("formatted text: " + where + " has attributes");
    std::string_view name = c.name;
    if (name == "br") name = "Break";
    if (name == "Break" || name == "Space") {
      if (!c.children.empty() || !trim_leading(c.text).empty())
        return invalid("formatted text: " + std::string(name) + " must be empty");
      out.append("<").append(name).append("/>");
      continue;
    }
    const bool allowed = (name == "FixedFont" && level == Level::kTop) ||
                         (is_breakable(name) && level != Level::kBreakable);
    if (!allowed) return invalid("formatted text: " + where + " is not allowed here");
    out.append("<").append(name).append(">");
    const Level inner = name == "FixedFont" ? Level::kFixedFont : Level::kBreakable;
    if (auto r = append_content(out, c, ns, inner, false); !r) return r;
    out.append("</").append(name).append(">");
  }
  return {};
}

}  // namespace

Result<std::string> formatted_text_from(const XmlNode& node, std::string_view ns) {
  std::string out;
  if (auto r = append_content(out, node, ns, Level::kTop, true); !r) return r.error();
  return out;
}

Result<void> check_formatted_text(std::string_view fragment) {
  std::string doc = "<t>";
  doc.append(fragment);
  doc.append("</t>");
  auto utf8 = to_utf8_document(doc);
  if (!utf8) return invalid("formatted text: not well-formed");
  auto tree = parse_xml_document(*utf8);
  if (!tree) return invalid("formatted text: not well-formed");
  auto canonical = formatted_text_from(*tree, {});
  if (!canonical) return canonical.error();
  if (*canonical != fragment) return invalid("formatted text: not in canonical form");
  return {};
}

std::string plain_text_of(std::string_view fragment) {
  std::string out;
  std::size_t i = 0;
  while (i < fragment.size()) {
    const char c = fragment[i];
    if (c == '<') {
      const std::size_t close = fragment.find('>', i);
      if (close == std::string_view::npos) break;
      const std::string_view tag = fragment.substr(i, close - i + 1);
      if (tag == "<Break/>") out.push_back('\n');
      if (tag == "<Space/>") out.push_back(' ');
      i = close + 1;
      continue;
    }
    if (c == '&') {
      const std::size_t semi = fragment.find(';', i);
      if (semi == std::string_view::npos) break;
      const std::string_view ref = fragment.substr(i, semi - i + 1);
      if (ref == "&amp;") out.push_back('&');
      else if (ref == "&lt;") out.push_back('<');
      else if (ref == "&gt;") out.push_back('>');
      else if (ref == "&#13;") out.push_back('\r');
      else if (ref == "&quot;") out.push_back('"');
      else if (ref == "&apos;") out.push_back('\'');
      i = semi + 1;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

std::string plain_text_of_blocks(const std::vector<std::string>& fragments) {
  std::string out;
  for (std::size_t i = 0; i < fragments.size(); ++i) {
    if (i > 0) out.push_back('\n');
    const std::string plain = plain_text_of(fragments[i]);
    out.append(trim_trailing(trim_leading(plain)));
  }
  return out;
}

std::string formatted_text_of_plain(std::string_view text) {
  text = trim_trailing(trim_leading(text));
  std::string out;
  std::size_t start = 0;
  while (true) {
    const auto nl = text.find('\n', start);
    append_escaped(out, text.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (nl == std::string_view::npos) break;
    out.append("<Break/>");
    start = nl + 1;
  }
  return out;
}

}  // namespace sektorbro
