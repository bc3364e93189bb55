// One line per event on stderr: "<UTC timestamp> <level> <text>". Callers must never pass CPR
// numbers or message content; log identifiers (envelope/letter ids, GLNs, endpoint ids) only.
// Thread-safe.
#pragma once

#include <string_view>

namespace sektorbro {

enum class LogLevel { kInfo, kWarn, kError };

void log_line(LogLevel level, std::string_view text);
inline void log_info(std::string_view text) { log_line(LogLevel::kInfo, text); }
inline void log_warn(std::string_view text) { log_line(LogLevel::kWarn, text); }
inline void log_error(std::string_view text) { log_line(LogLevel::kError, text); }

}  // namespace sektorbro
