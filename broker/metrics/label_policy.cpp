#include "broker/metrics/label_policy.hpp"

namespace sektorbro::metrics {

namespace {

bool ascii_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool ascii_digit(unsigned char c) { return c >= '0' && c <= '9'; }

// Length of the well-formed UTF-8 sequence of 2 to 4 bytes starting at s[i], or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

}  // namespace

bool acceptable_label_value(std::string_view value) {
  if (value.empty() || value.size() > kMaxLabelValueBytes) return false;
  std::size_t digit_run = 0;
  for (std::size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (ascii_digit(c)) {
      if (++digit_run >= 6) return false;
      ++i;
      continue;
    }
    digit_run = 0;
    if (ascii_alpha(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '/') {
      ++i;
    } else if (c >= 0x80) {
      const std::size_t n = utf8_sequence(value, i);
      if (n == 0) return false;
      i += n;
    } else {
      return false;  // whitespace, quotes, backslash, control characters, '=', '{', …
    }
  }
  return true;
}

bool valid_metric_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (!(ascii_alpha(c) || c == '_' || (i > 0 && ascii_digit(c)))) return false;
  }
  return true;
}

}  // namespace sektorbro::metrics
