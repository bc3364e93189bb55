// Collects Transport `done` results; tests wait on them with a bounded timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/delivery/transport.hpp"

namespace sektorbro::testing {

// Upper bound only: 200 fsynced files take seconds on a slow disk under a sanitizer.
inline constexpr std::chrono::milliseconds kWait{60'000};

class TransportOutcomes {
 public:
  struct Outcome {
    TransportResponse response;
    std::thread::id thread;
  };

  std::function<void(TransportResponse)> done() {
    return [this](TransportResponse r) {
      // Notified under the lock: a waiter may destroy this object as soon as it wakes.
      std::lock_guard lock(mu_);
      outcomes_.push_back(Outcome{std::move(r), std::this_thread::get_id()});
      cv_.notify_all();
    };
  }

  bool wait_count(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return outcomes_.size() >= n; });
  }

  std::vector<Outcome> all() {
    std::lock_guard lock(mu_);
    return outcomes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Outcome> outcomes_;
};

}  // namespace sektorbro::testing
