#include "broker/delivery/delivery_queue.hpp"

#include <algorithm>

namespace sektorbro {

DeliveryQueue::DeliveryQueue(int per_endpoint_limit) : limit_(std::max(1, per_endpoint_limit)) {}

void DeliveryQueue::schedule(std::int64_t message_id, const std::string& endpoint, TimePoint at) {
  if (flying_.contains(message_id)) return;
  if (auto it = where_.find(message_id); it != where_.end()) {
    endpoints_[it->second.first].waiting.erase({it->second.second, message_id});
    where_.erase(it);
  }
  endpoints_[endpoint].waiting.insert({at, message_id});
  where_.emplace(message_id, std::make_pair(endpoint, at));
}

std::vector<DeliveryQueue::Due> DeliveryQueue::take_due(TimePoint now) {
  std::vector<Due> due;
  for (auto& [endpoint, per] : endpoints_) {
    while (per.in_flight < limit_ && !per.waiting.empty() && per.waiting.begin()->first <= now) {
      const std::int64_t id = per.waiting.begin()->second;
      per.waiting.erase(per.waiting.begin());
      where_.erase(id);
      flying_.emplace(id, endpoint);
      ++per.in_flight;
      due.push_back({id, endpoint});
    }
  }
  return due;
}

void DeliveryQueue::finished(std::int64_t message_id) {
  auto it = flying_.find(message_id);
  if (it == flying_.end()) return;
  --endpoints_[it->second].in_flight;
  flying_.erase(it);
}

std::optional<TimePoint> DeliveryQueue::next_due() const {
  std::optional<TimePoint> next;
  for (const auto& [endpoint, per] : endpoints_) {
    if (per.in_flight >= limit_ || per.waiting.empty()) continue;
    const TimePoint t = per.waiting.begin()->first;
    if (!next || t < *next) next = t;
  }
  return next;
}

}  // namespace sektorbro
