#include "broker/core/log.hpp"

#include <cstdio>
#include <mutex>
#include <string>

#include "broker/core/clock.hpp"

namespace sektorbro {

void log_line(LogLevel level, std::string_view text) {
  static std::mutex mu;
  const char* name = level == LogLevel::kInfo   ? "INFO"
                     : level == LogLevel::kWarn ? "WARN"
                                                : "ERROR";
  std::string line = format_timestamp(SystemClock{}.now());
  line += ' ';
  line += name;
  line += ' ';
  line += text;
  line += '\n';
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace sektorbro
