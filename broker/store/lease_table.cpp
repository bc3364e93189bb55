#include "broker/store/lease_table.hpp"

#include <set>

namespace sektorbro {
namespace {

bool held(TimePoint now, TimePoint until) { return now < until; }  // as lease_rules.hpp

}  // namespace

void LeaseTable::lease(std::int64_t message_id, const std::string& owner, TimePoint until) {
  deliveries_[message_id] = Lease{owner, until};
}

std::vector<PendingDelivery> LeaseTable::claim(const std::vector<PendingDelivery>& pending,
                                               const std::string& owner, TimePoint now,
                                               TimePoint until, int limit) {
  std::vector<PendingDelivery> out;
  for (const PendingDelivery& p : pending) {
    if (static_cast<int>(out.size()) >= limit) break;
    auto it = deliveries_.find(p.message_id);
    if (it != deliveries_.end() && held(now, it->second.until)) continue;
    deliveries_[p.message_id] = Lease{owner, until};
    out.push_back(p);
  }
  return out;
}

std::vector<PendingDelivery> LeaseTable::renew(const std::vector<PendingDelivery>& pending,
                                               const std::string& owner, TimePoint now,
                                               TimePoint until) {
  std::set<std::int64_t> still_pending;
  std::vector<PendingDelivery> out;
  for (const PendingDelivery& p : pending) {
    still_pending.insert(p.message_id);
    auto it = deliveries_.find(p.message_id);
    if (it == deliveries_.end() || it->second.owner != owner || !held(now, it->second.until))
      continue;
    it->second.until = until;
    out.push_back(p);
  }
  for (auto it = deliveries_.begin(); it != deliveries_.end();)
    it = still_pending.contains(it->first) ? std::next(it) : deliveries_.erase(it);
  return out;
}

bool LeaseTable::hold_singleton(const std::string& name, const std::string& owner, TimePoint now,
                                TimePoint until) {
  auto it = singletons_.find(name);
  if (it != singletons_.end() && it->second.owner != owner && held(now, it->second.until))
    return false;
  singletons_[name] = Lease{owner, until};
  return true;
}

std::vector<std::int64_t> LeaseTable::claim_mailbox(const std::vector<std::int64_t>& waiting,
                                                    const std::string& owner, TimePoint now,
                                                    TimePoint until, int limit) {
  std::vector<std::int64_t> out;
  const std::set<std::int64_t> still_waiting(waiting.begin(), waiting.end());
  for (auto it = mailbox_.begin(); it != mailbox_.end();)
    it = still_waiting.contains(it->first) ? std::next(it) : mailbox_.erase(it);
  for (const std::int64_t id : waiting) {
    if (static_cast<int>(out.size()) >= limit) break;
    auto it = mailbox_.find(id);
    if (it != mailbox_.end() && held(now, it->second.until)) continue;
    mailbox_[id] = Lease{owner, until};
    out.push_back(id);
  }
  return out;
}

}  // namespace sektorbro
