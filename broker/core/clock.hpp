// The clock seam. Everything that decides by time (backoff, deadlines, reminders) takes a Clock,
// so tests move a ManualClock instead of sleeping.
//
// Thread rules: all clocks are safe to read from any thread; ManualClock may be advanced from any
// thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <string_view>

#include "broker/core/time.hpp"

namespace sektorbro {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // How long to wait in real time for `clock_delay` to pass on this clock. Timers use it; a clock
  // that only moves when told returns a bounded wait and the broker re-checks when it is moved.
  virtual Duration real_delay(Duration clock_delay) const { return clock_delay; }
  // A short label for logs and /v1/health: "system", "manual", "accelerated x720".
  virtual std::string_view name() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
  std::string_view name() const override { return "system"; }
};

// A clock that only moves when told. For tests (and scripted demos) only.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : ms_(to_millis(start)) {}
  TimePoint now() const override { return from_millis(ms_.load()); }
  Duration real_delay(Duration clock_delay) const override {
    return std::min(clock_delay, Duration{std::chrono::seconds{1}});
  }
  std::string_view name() const override { return "manual"; }
  void advance(Duration d) { ms_.fetch_add(d.count()); }
  void set(TimePoint t) { ms_.store(to_millis(t)); }

 private:
  std::atomic<std::int64_t> ms_;
};

// Real time sped up by `factor` from `start`: for the demo only, so deadlines of days pass in
// seconds. Never for production: every figure it produces is fiction.
class AcceleratedClock final : public Clock {
 public:
  AcceleratedClock(TimePoint start, double factor)
      : start_(start), real_start_(std::chrono::steady_clock::now()), factor_(factor) {}
  TimePoint now() const override {
    const auto real = std::chrono::steady_clock::now() - real_start_;
    return start_ + Duration{static_cast<std::int64_t>(
                        std::chrono::duration<double, std::milli>(real).count() * factor_)};
  }
  Duration real_delay(Duration clock_delay) const override {
    return Duration{static_cast<std::int64_t>(static_cast<double>(clock_delay.count()) / factor_)};
  }
  std::string_view name() const override { return "accelerated"; }
  double factor() const { return factor_; }

 private:
  TimePoint start_;
  std::chrono::steady_clock::time_point real_start_;
  double factor_;
};

}  // namespace sektorbro
