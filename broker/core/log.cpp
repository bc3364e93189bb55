#include "broker/core/log.hpp"

#include <cstdio>
#include <mutex>
#include <string>

#include "broker/core/clock.hpp"

namespace sektorbro {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of the run of digits starting at `at`.
std::size_t digits_at(std::string_view s, std::size_t at) {
  std::size_t n = 0;
  while (at + n < s.size() && is_digit(s[at + n])) ++n;
  return n;
}

}  // namespace

std::string without_cpr_shaped_numbers(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    // A maximal run of digits (the character before it is no digit).
    const std::size_t run = digits_at(text, i);
    if (run == 10) {
      out += kHiddenCprShapedNumber;
      i += run;
      continue;
    }
    if (run == 6 && i + 7 < text.size() && text[i + 6] == '-' && digits_at(text, i + 7) == 4) {
      out += kHiddenCprShapedNumber;
      i += 11;
      continue;
    }
    out.append(text, i, run);
    i += run;
  }
  return out;
}

void log_line(LogLevel level, std::string_view text) {
  static std::mutex mu;
  const char* name = level == LogLevel::kInfo   ? "INFO"
                     : level == LogLevel::kWarn ? "WARN"
                                                : "ERROR";
  std::string line = format_timestamp(SystemClock{}.now());
  line += ' ';
  line += name;
  line += ' ';
  line += without_cpr_shaped_numbers(text);
  line += '\n';
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace sektorbro
