#include "broker/delivery/receipt_watch.hpp"

namespace sektorbro {

void ReceiptWatch::watch(std::int64_t message_id, TimePoint due, int resends) {
  forget(message_id);
  entries_[message_id] = Entry{message_id, resends, due};
  by_due_.insert({due, message_id});
}

void ReceiptWatch::forget(std::int64_t message_id) {
  auto it = entries_.find(message_id);
  if (it == entries_.end()) return;
  by_due_.erase({it->second.due, message_id});
  entries_.erase(it);
}

std::vector<ReceiptWatch::Entry> ReceiptWatch::due(TimePoint now) const {
  std::vector<Entry> out;
  for (const auto& [at, id] : by_due_) {
    if (at > now) break;
    out.push_back(entries_.at(id));
  }
  return out;
}

}  // namespace sektorbro
