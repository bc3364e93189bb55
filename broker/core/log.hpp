// One line per event on stderr: "<UTC timestamp> <level> <text>". Callers must never pass CPR
// numbers or message content; log identifiers (envelope/letter ids, GLNs, endpoint ids) only.
// Thread-safe.
//
// The writer itself also keeps CPR-shaped numbers out (issue 12, item 3): identifiers are chosen
// by senders, so a letter id such as "2912791111" or an echoed SOR may be a CPR number. Every
// such number in `text` is written as kHiddenCprShapedNumber, whatever field it came from.
#pragma once

#include <string>
#include <string_view>

namespace sektorbro {

enum class LogLevel { kInfo, kWarn, kError };

inline constexpr std::string_view kHiddenCprShapedNumber = "<10 digits hidden>";

// `text` with every CPR-shaped number replaced by kHiddenCprShapedNumber. CPR-shaped (domain.md
// §2, DDMMYYSSSS, printed DDMMYY-SSSS): a run of exactly 10 digits, or exactly 6 digits, '-',
// exactly 4 digits, with no digit directly before or after — wherever it stands, also inside a
// word ("X2512489996_"). Longer digit runs (GLNs: 13, SOR codes: up to 18) are kept. Any date
// and check digit count: a shape, not a validity check.
std::string without_cpr_shaped_numbers(std::string_view text);

void log_line(LogLevel level, std::string_view text);
inline void log_info(std::string_view text) { log_line(LogLevel::kInfo, text); }
inline void log_warn(std::string_view text) { log_line(LogLevel::kWarn, text); }
inline void log_error(std::string_view text) { log_line(LogLevel::kError, text); }

}  // namespace sektorbro
