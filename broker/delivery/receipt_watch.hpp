// ReceiptWatch: delivered messages whose sender asked for a receipt (pluspositivkvitt) and has
// not had one yet, and when each is due for a resend. MedCom reliable messaging (domain.md §3):
// no receipt in time → resend with the same letter ids, a new envelope id and time, at most
// twice; then a person must act. Pure bookkeeping; owned by the io thread.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "broker/core/time.hpp"

namespace sektorbro {

class ReceiptWatch {
 public:
  struct Entry {
    std::int64_t message_id = 0;
    int resends = 0;  // resends done so far
    TimePoint due{};  // when the receipt is overdue
  };

  // Starts (or restarts) watching `message_id`: its receipt is due at `due`.
  void watch(std::int64_t message_id, TimePoint due, int resends = 0);
  // The receipt came (or the message left the broker's hands): stop watching.
  void forget(std::int64_t message_id);
  // Entries due at `now`, earliest first; they stay watched until watch() or forget().
  std::vector<Entry> due(TimePoint now) const;
  std::size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<std::int64_t, Entry> entries_;
  std::set<std::pair<TimePoint, std::int64_t>> by_due_;
};

}  // namespace sektorbro
