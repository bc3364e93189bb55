#include "broker/core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>

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

// One step through text that should be UTF-8: a well-formed sequence (Unicode 15, table 3-7: no
// overlong forms, no surrogates, nothing above U+10FFFF), or the maximal subpart of an ill-formed
// one — the lead byte and the continuation bytes that fit it — which is replaced by one U+FFFD
// (Unicode 15, 3.9, "U+FFFD Substitution of Maximal Subparts").
struct Utf8Step {
  std::size_t length = 1;
  bool well_formed = true;
};

Utf8Step utf8_step(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return {1, true};
  std::size_t n = 0;
  unsigned char lo = 0x80;  // the range of the second byte; later ones are 80..BF
  unsigned char hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0) lo = 0xA0;  // no overlong forms
    if (lead == 0xED) hi = 0x9F;  // no surrogates D800..DFFF
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0) lo = 0x90;  // no overlong forms
    if (lead == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {1, false};  // 80..C1 (a continuation byte, or an overlong 2-byte lead), F5..FF
  }
  for (std::size_t k = 1; k < n; ++k) {
    const unsigned char min = k == 1 ? lo : 0x80;
    const unsigned char max = k == 1 ? hi : 0xBF;
    if (i + k >= text.size() || byte(i + k) < min || byte(i + k) > max) return {k, false};
  }
  return {n, true};
}

// U+2028 LINE SEPARATOR or U+2029 PARAGRAPH SEPARATOR (E2 80 A8 / E2 80 A9) at `i`: not
// controls (Unicode Zl, Zp), but editors, log viewers and JavaScript's older JSON readers end a
// line there, so one record could read as two.
bool is_line_or_paragraph_separator(std::string_view text, std::size_t i, Utf8Step step) {
  return step.well_formed && step.length == 3 && static_cast<unsigned char>(text[i]) == 0xE2 &&
         static_cast<unsigned char>(text[i + 1]) == 0x80 &&
         (static_cast<unsigned char>(text[i + 2]) == 0xA8 ||
          static_cast<unsigned char>(text[i + 2]) == 0xA9);
}

// Writes \u00XX; true when XX are both decimal digits (the escape ends in 4 digits: "0012").
bool append_u00(std::string& out, unsigned char u) {
  static const char* kHex = "0123456789abcdef";
  out += "\\u00";
  out += kHex[u >> 4];
  out += kHex[u & 0xF];
  return (u >> 4) < 10 && (u & 0xF) < 10;
}

// How a log text is written in each format (the one walk both formats call, so both hold to
// the same rules for controls and UTF-8).
enum class Escaping {
  kJsonString,  // inside a JSON string literal (RFC 8259): '"' escaped too, ill-formed as \ufffd
  kPlainLine,   // the plain format: '"' as it is, ill-formed as the character U+FFFD itself
};

// `text` appended so that it is always well-formed UTF-8 on one line, nothing in it a terminal
// acts on: a backslash as \\; every control character (Unicode Cc: U+0000..U+001F,
// U+007F..U+009F — C0, DEL, C1) as \n, \r, \t or \u00XX (lower-case hex); the line and
// paragraph separators U+2028, U+2029 as \u2028, \u2029; every ill-formed byte sequence as one
// U+FFFD per maximal subpart; everything else, Danish æøå included, as it is.
// An ASCII digit right after a \u00XX escape whose XX are decimal digits, or after \u2028 or
// \u2029, is escaped too (\u003N): else the escape's digits and the sender's would read as one
// number, and "\x05" "123456" would put the CPR-shaped 0005123456 in the line (issue 12,
// item 3). So a run of digits an escape makes has at most 4 digits; the text's own runs are kept
// as they are.
// Identifiers and answers come from senders, in any encoding: whatever they hold, they can
// neither forge a second log record (a "\n" or "\r") nor rewrite an operator's terminal (ESC,
// CSI), and a log shipper reads the line. Written by hand: Boost 1.74 (Debian 12's Boost) has
// no Boost.JSON — it came with 1.75, and Debian 12 packages it only as libboost-json1.81-dev,
// beside a second Boost — and nlohmann::json's dump() throws on ill-formed UTF-8 unless told to
// replace it.
void append_escaped(std::string& out, std::string_view text, Escaping escaping) {
  const bool json = escaping == Escaping::kJsonString;
  bool after_decimal_escape = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const Utf8Step step = utf8_step(text, i);
    const auto u = static_cast<unsigned char>(text[i]);
    const bool was_after_decimal_escape = std::exchange(after_decimal_escape, false);
    if (!step.well_formed) {
      out += json ? "\\ufffd" : "\xef\xbf\xbd";
    } else if (step.length == 2 && u == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      // C1 controls U+0080..U+009F
      after_decimal_escape = append_u00(out, static_cast<unsigned char>(text[i + 1]));
    } else if (was_after_decimal_escape && is_digit(text[i])) {
      after_decimal_escape = append_u00(out, u);
    } else if (is_line_or_paragraph_separator(text, i, step)) {
      out += static_cast<unsigned char>(text[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      after_decimal_escape = true;  // the escape ends in the digits "2028" / "2029"
    } else if (step.length > 1) {
      out.append(text, i, step.length);
    } else if (u == '\\' || (json && u == '"')) {
      out += '\\';
      out += text[i];
    } else if (u == '\n') {
      out += "\\n";
    } else if (u == '\r') {
      out += "\\r";
    } else if (u == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      after_decimal_escape = append_u00(out, u);
    } else {
      out += text[i];
    }
    i += step.length;
  }
}

// A JSON string literal (RFC 8259) holding `text`, escaped as above.
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  append_escaped(out, text, Escaping::kJsonString);
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
  append_escaped(line, text, Escaping::kPlainLine);
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
  const std::string line = format_log_line(s.format.load(), level, SystemClock{}.now(), broker_time,
                                           without_cpr_shaped_numbers(text));
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace sektorbro
