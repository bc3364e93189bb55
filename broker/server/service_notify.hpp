// systemd's service notifications (sd_notify(3), libsystemd) for a Type=notify unit:
//   READY=1     once the broker listens and has resumed its deliveries;
//   WATCHDOG=1  every half of WATCHDOG_USEC, sent by a timer on the io thread — a stuck io loop
//               stops the pings and systemd restarts the service (WatchdogSec= in the unit);
//   STOPPING=1  when SIGTERM/SIGINT starts the drain.
// Without NOTIFY_SOCKET in the environment (not started by systemd) every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>  // before Asio (broker/http/asio.hpp)

#include "broker/http/asio.hpp"

namespace sektorbro {

class ServiceNotify {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (sd_watchdog_enabled) now; the timer
  // runs on `io`.
  explicit ServiceNotify(asio::io_context& io);

  // Whether systemd listens (NOTIFY_SOCKET is set).
  bool enabled() const { return enabled_; }
  // The ping interval: half of WATCHDOG_USEC, when the watchdog is on for this process.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return interval_; }

  // READY=1 with a STATUS= line, then the watchdog pings start (if on).
  void ready(const std::string& status);
  // STOPPING=1 with a STATUS= line. The pings go on while the drain runs on the io thread.
  void stopping(const std::string& status);

 private:
  void schedule_ping();

  asio::steady_timer timer_;
  bool enabled_ = false;
  std::optional<std::chrono::microseconds> interval_;
};

}  // namespace sektorbro
