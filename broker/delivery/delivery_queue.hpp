// DeliveryQueue: which messages are due for a delivery attempt, per receiving endpoint, and how
// many attempts each endpoint may have in flight. That window adapts (additive increase,
// multiplicative decrease, as TCP's congestion window): each attempt the endpoint takes widens
// it by one up to the configured maximum, each failure halves it down to one. So delivery keeps
// pace with intake against a healthy receiver by design — the window grows while a backlog
// waits — and a slow or failing receiver is tried one message at a time, not flooded.
// Pure bookkeeping, no I/O; owned by the io thread (no locks).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/core/time.hpp"

namespace sektorbro {

class DeliveryQueue {
 public:
  struct Due {
    std::int64_t message_id;
    std::string endpoint;
  };
  // How an attempt ended, for the window: kTaken (the receiver answered, delivered or refused)
  // widens it, kFailed (no answer, 5xx) halves it, kNeutral leaves it (nothing was sent).
  enum class Outcome { kTaken, kFailed, kNeutral };

  // `max_per_endpoint` caps each endpoint's window; windows start at min(4, max).
  explicit DeliveryQueue(int max_per_endpoint);

  // Queues (or re-queues) a message for an attempt at `at`. No effect while it is in flight.
  void schedule(std::int64_t message_id, const std::string& endpoint, TimePoint at);
  // Removes every message due at `now` whose endpoint's window has room, oldest first, and
  // marks them in flight.
  std::vector<Due> take_due(TimePoint now);
  // The attempt for `message_id` has ended; frees its place in the window and adapts the window.
  void finished(std::int64_t message_id, Outcome outcome = Outcome::kNeutral);
  // The earliest time something could be taken (ignoring endpoints whose window is full).
  std::optional<TimePoint> next_due() const;

  std::size_t waiting() const { return where_.size(); }
  std::size_t in_flight() const { return flying_.size(); }
  // The endpoint's current window (the initial one if it was never used).
  int window(const std::string& endpoint) const;
  struct Load {
    std::size_t waiting = 0;
    int in_flight = 0;
  };
  Load load(const std::string& endpoint) const;

 private:
  struct PerEndpoint {
    std::set<std::pair<TimePoint, std::int64_t>> waiting;
    int in_flight = 0;
    int window = 0;
  };
  PerEndpoint& endpoint(const std::string& id);
  int max_;
  int initial_;
  std::map<std::string, PerEndpoint> endpoints_;
  std::unordered_map<std::int64_t, std::pair<std::string, TimePoint>> where_;  // waiting ones
  std::unordered_map<std::int64_t, std::string> flying_;
};

}  // namespace sektorbro
