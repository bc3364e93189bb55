#include "broker/server/service_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "broker/core/log.hpp"

namespace sektorbro {

namespace {

// A STATUS= value is one line; the broker's texts are, but a newline would end the field.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

void notify(const std::string& state) {
  const int r = sd_notify(0, state.c_str());
  if (r < 0) log_warn("systemd notification failed: " + std::string(std::strerror(-r)));
}

}  // namespace

ServiceNotify::ServiceNotify(asio::io_context& io) : timer_(io) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  if (!enabled_) return;
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
    interval_ = std::chrono::microseconds{static_cast<std::int64_t>(usec / 2)};
}

void ServiceNotify::ready(const std::string& status) {
  if (!enabled_) return;
  notify("READY=1\nSTATUS=" + one_line(status));
  if (interval_) {
    log_info("systemd watchdog: pinging every " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(*interval_).count()) +
             " ms");
    notify("WATCHDOG=1");
    schedule_ping();
  }
}

void ServiceNotify::stopping(const std::string& status) {
  if (!enabled_) return;
  notify("STOPPING=1\nSTATUS=" + one_line(status));
}

void ServiceNotify::schedule_ping() {
  timer_.expires_after(*interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    notify("WATCHDOG=1");
    schedule_ping();
  });
}

}  // namespace sektorbro
