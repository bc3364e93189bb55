#include "broker/http/request_target.hpp"

#include <algorithm>

namespace sektorbro {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `plus_is_space`: in a query (form encoding) "+" is a space; in a path it is a plus.
std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());  // decoding never lengthens
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

// RFC 3629 UTF-8 without control characters (C0 and DEL).
bool is_text(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return false;
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlong forms
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) lo = 0x90;  // no overlong forms
      if (c == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
    } else {
      return false;  // a continuation byte, C0/C1 (overlong), F5-FF
    }
    if (i + length > s.size()) return false;
    const auto second = static_cast<unsigned char>(s[i + 1]);
    if (second < lo || second > hi) return false;
    for (std::size_t k = 2; k < length; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if (next < 0x80 || next > 0xBF) return false;
    }
    if (length == 2 && c == 0xC2 && second < 0xA0) return false;  // C1 controls U+0080-U+009F
    i += length;
  }
  return true;
}

}  // namespace

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  parts.reserve(static_cast<std::size_t>(std::count(path.begin(), path.end(), '/')) + 1);
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (end > start) parts.push_back(percent_decode(path.substr(start, end - start), false));
    start = end + 1;
  }
  return parts;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < query.size()) {
    const std::size_t end = std::min(query.find('&', start), query.size());
    const std::string_view item = query.substr(start, end - start);
    const std::size_t eq = item.find('=');
    if (!item.empty()) {
      out[percent_decode(item.substr(0, eq), true)] =
          eq == std::string_view::npos ? "" : percent_decode(item.substr(eq + 1), true);
    }
    start = end + 1;
  }
  return out;
}

std::string_view query_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

bool target_is_text(std::string_view target) {
  // Printable ASCII without '%' decodes to itself ('+' to a space in the query): text. Almost
  // every target is such, and is then checked without decoding it into strings.
  if (std::all_of(target.begin(), target.end(),
                  [](char c) { return c >= 0x20 && c < 0x7F && c != '%'; }))
    return true;
  for (const auto& segment : split_path(path_of(target)))
    if (!is_text(segment)) return false;
  for (const auto& [name, value] : parse_query(query_of(target)))
    if (!is_text(name) || !is_text(value)) return false;
  return true;
}

}  // namespace sektorbro
