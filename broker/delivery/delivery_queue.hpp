// DeliveryQueue: which messages are due for a delivery attempt, per receiving endpoint, with a
// cap on attempts in flight per endpoint so a slow or dead endpoint cannot take every slot.
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

  explicit DeliveryQueue(int per_endpoint_limit);

  // Queues (or re-queues) a message for an attempt at `at`. No effect while it is in flight.
  void schedule(std::int64_t message_id, const std::string& endpoint, TimePoint at);
  // Removes every message due at `now` whose endpoint has a free slot, oldest first, and marks
  // them in flight.
  std::vector<Due> take_due(TimePoint now);
  // The attempt for `message_id` has ended; frees its endpoint's slot.
  void finished(std::int64_t message_id);
  // The earliest time something could be taken (ignoring endpoints with no free slot).
  std::optional<TimePoint> next_due() const;

  std::size_t waiting() const { return where_.size(); }
  std::size_t in_flight() const { return flying_.size(); }

 private:
  struct PerEndpoint {
    std::set<std::pair<TimePoint, std::int64_t>> waiting;
    int in_flight = 0;
  };
  int limit_;
  std::map<std::string, PerEndpoint> endpoints_;
  std::unordered_map<std::int64_t, std::pair<std::string, TimePoint>> where_;  // waiting ones
  std::unordered_map<std::int64_t, std::string> flying_;
};

}  // namespace sektorbro
