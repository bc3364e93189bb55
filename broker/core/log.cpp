#include "broker/core/log.hpp"

#include <atomic>
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

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "error";
}

std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (const auto l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError})
    if (to_string(l) == name) return l;
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view name) {
  if (name == "plain") return LogFormat::kPlain;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

namespace {

// A JSON string literal (RFC 8259): quotes, backslashes and control characters escaped; other
// bytes as they are (the text is UTF-8).
void append_json_string(std::string& out, std::string_view text) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
}

struct LogSettings {
  std::atomic<LogFormat> format{LogFormat::kPlain};
  std::atomic<LogLevel> min_level{LogLevel::kInfo};
  std::atomic<const Clock*> broker_clock{nullptr};
};

LogSettings& settings() {
  static LogSettings s;
  return s;
}

}  // namespace

std::string format_log_line(LogFormat format, LogLevel level, TimePoint wall,
                            std::optional<TimePoint> broker_time, std::string_view text) {
  std::string line;
  if (format == LogFormat::kJson) {
    line = "{\"time\":\"" + format_timestamp(wall) + "\",\"level\":\"" +
           std::string(to_string(level)) + "\"";
    if (broker_time) line += ",\"broker_time\":\"" + format_timestamp(*broker_time) + "\"";
    line += ",\"message\":";
    append_json_string(line, text);
    line += "}\n";
    return line;
  }
  const char* name = level == LogLevel::kDebug  ? "DEBUG"
                     : level == LogLevel::kInfo ? "INFO"
                     : level == LogLevel::kWarn ? "WARN"
                                                : "ERROR";
  line = format_timestamp(wall);
  line += ' ';
  line += name;
  line += ' ';
  if (broker_time) {
    line += "broker_time=";
    line += format_timestamp(*broker_time);
    line += ' ';
  }
  line += text;
  line += '\n';
  return line;
}

void configure_log(LogFormat format, LogLevel min_level, const Clock* broker_clock) {
  settings().format = format;
  settings().min_level = min_level;
  settings().broker_clock = broker_clock;
}

void log_line(LogLevel level, std::string_view text) {
  static std::mutex mu;
  const LogSettings& s = settings();
  if (level < s.min_level.load()) return;
  const Clock* broker_clock = s.broker_clock.load();
  std::optional<TimePoint> broker_time;
  if (broker_clock != nullptr) broker_time = broker_clock->now();
  const std::string line = format_log_line(s.format.load(), level, SystemClock{}.now(),
                                           broker_time, without_cpr_shaped_numbers(text));
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace sektorbro
