// One line per event on stderr: "<UTC timestamp> <level> <text>", or with "log": {"format":
// "json"} one JSON object per line ({"time", "level", "message"}, issue 10). Lines below the
// configured level ("log": {"level"}, default info) are not written. When the broker runs on a
// manual or accelerated clock every line also carries that clock's time ("broker_time"), so a
// line can be matched with what the broker decided. Callers must never pass CPR
// numbers or message content; log identifiers (envelope/letter ids, GLNs, endpoint ids) only.
// Thread-safe.
//
// The writer itself also keeps CPR-shaped numbers out (issue 12, item 3): identifiers are chosen
// by senders, so a letter id such as "2912791111" or an echoed SOR may be a CPR number. Every
// such number in `text` is written as kHiddenCprShapedNumber, whatever field it came from.
//
// One record is exactly one line in both formats (issue 12): `text` may hold sender-chosen
// values (ids, an endpoint's answer, an error text), so the writer escapes it. Plain: a
// backslash as \\, every control character (C0 U+0000..U+001F, DEL, C1 U+0080..U+009F) as \n,
// \r, \t or \u00XX, the line and paragraph separators U+2028, U+2029 (which some viewers
// break lines at) as \u2028, \u2029, ill-formed UTF-8 as U+FFFD (one per maximal subpart),
// other UTF-8 (æøå) as it is; no escape joins sender digits into a CPR shape. JSON: also '"'
// as \", U+FFFD as \ufffd.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "broker/core/time.hpp"

namespace sektorbro {

class Clock;

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kPlain, kJson };

// "debug", "info", "warning", "error" (the configuration's and the JSON lines' names).
std::string_view to_string(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view name);
std::optional<LogFormat> parse_log_format(std::string_view name);  // "plain", "json"

// The whole line, newline included, for `text` already cleared of CPR-shaped numbers: plain
// "<wall> <LEVEL> [broker_time=<t>] <text>", or one JSON object; the text escaped as above.
std::string format_log_line(LogFormat format, LogLevel level, TimePoint wall,
                            std::optional<TimePoint> broker_time, std::string_view text);

// Set once at start-up, before other threads log: the format, the least level written, and the
// broker's clock when it is not the system clock (nullptr: none; it must outlive the logging).
void configure_log(LogFormat format, LogLevel min_level, const Clock* broker_clock = nullptr);

inline constexpr std::string_view kHiddenCprShapedNumber = "<10 digits hidden>";

// `text` with every CPR-shaped number replaced by kHiddenCprShapedNumber. CPR-shaped (domain.md
// §2, DDMMYYSSSS, printed DDMMYY-SSSS): a run of exactly 10 digits, or exactly 6 digits, '-',
// exactly 4 digits, with no digit directly before or after — wherever it stands, also inside a
// word ("X2512489996_"). Longer digit runs (GLNs: 13, SOR codes: up to 18) are kept. Any date
// and check digit count: a shape, not a validity check.
std::string without_cpr_shaped_numbers(std::string_view text);

void log_line(LogLevel level, std::string_view text);
inline void log_debug(std::string_view text) { log_line(LogLevel::kDebug, text); }
inline void log_info(std::string_view text) { log_line(LogLevel::kInfo, text); }
inline void log_warn(std::string_view text) { log_line(LogLevel::kWarn, text); }
inline void log_error(std::string_view text) { log_line(LogLevel::kError, text); }

}  // namespace sektorbro
