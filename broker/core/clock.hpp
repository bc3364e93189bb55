// The clock seam. Everything that decides by time (backoff, deadlines, resend windows) takes a
// Clock so tests move a ManualClock instead of sleeping. Thread rules: SystemClock is
// stateless; ManualClock is safe to read and advance from any thread.
#pragma once

#include <atomic>

#include "broker/core/time.hpp"

namespace sektorbro {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
};

// A clock that only moves when told. For tests and the clearly labelled demo mode only.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : ms_(to_millis(start)) {}
  TimePoint now() const override { return from_millis(ms_.load()); }
  void advance(Duration d) { ms_.fetch_add(d.count()); }
  void set(TimePoint t) { ms_.store(to_millis(t)); }

 private:
  std::atomic<std::int64_t> ms_;
};

}  // namespace sektorbro
