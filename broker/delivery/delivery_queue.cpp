#include "broker/delivery/delivery_queue.hpp"

#include <algorithm>

namespace sektorbro {

DeliveryQueue::DeliveryQueue(int max_per_endpoint)
    : max_(std::max(1, max_per_endpoint)), initial_(std::min(4, max_)) {}

DeliveryQueue::PerEndpoint& DeliveryQueue::endpoint(const std::string& id) {
  PerEndpoint& per = endpoints_[id];
  if (per.window == 0) per.window = initial_;
  return per;
}

int DeliveryQueue::window(const std::string& id) const {
  const auto it = endpoints_.find(id);
  return it == endpoints_.end() || it->second.window == 0 ? initial_ : it->second.window;
}

DeliveryQueue::Load DeliveryQueue::load(const std::string& id) const {
  const auto it = endpoints_.find(id);
  if (it == endpoints_.end()) return {};
  return Load{it->second.waiting.size(), it->second.in_flight};
}

void DeliveryQueue::schedule(std::int64_t message_id, const std::string& id, TimePoint at) {
  if (flying_.contains(message_id)) return;
  if (auto it = where_.find(message_id); it != where_.end()) {
    endpoints_[it->second.first].waiting.erase({it->second.second, message_id});
    where_.erase(it);
  }
  endpoint(id).waiting.insert({at, message_id});
  where_.emplace(message_id, std::make_pair(id, at));
}

std::vector<DeliveryQueue::Due> DeliveryQueue::take_due(TimePoint now) {
  std::vector<Due> due;
  for (auto& [id, per] : endpoints_) {
    while (per.in_flight < per.window && !per.waiting.empty() &&
           per.waiting.begin()->first <= now) {
      const std::int64_t message_id = per.waiting.begin()->second;
      per.waiting.erase(per.waiting.begin());
      where_.erase(message_id);
      flying_.emplace(message_id, id);
      ++per.in_flight;
      due.push_back({message_id, id});
    }
  }
  return due;
}

void DeliveryQueue::finished(std::int64_t message_id, Outcome outcome) {
  auto it = flying_.find(message_id);
  if (it == flying_.end()) return;
  PerEndpoint& per = endpoints_[it->second];
  --per.in_flight;
  flying_.erase(it);
  switch (outcome) {
    case Outcome::kTaken:
      per.window = std::min(max_, per.window + 1);
      break;
    case Outcome::kFailed:
      per.window = std::max(1, per.window / 2);
      break;
    case Outcome::kNeutral:
      break;
  }
}

std::optional<TimePoint> DeliveryQueue::next_due() const {
  std::optional<TimePoint> next;
  for (const auto& [id, per] : endpoints_) {
    if (per.in_flight >= per.window || per.waiting.empty()) continue;
    const TimePoint t = per.waiting.begin()->first;
    if (!next || t < *next) next = t;
  }
  return next;
}

}  // namespace sektorbro
