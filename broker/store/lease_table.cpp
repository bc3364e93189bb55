#include "broker/store/lease_table.hpp"

#include <set>

namespace sektorbro {
namespace {

bool held(TimePoint now, TimePoint until) { return now < until; }  // as lease_rules.hpp

}  // namespace

void LeaseTable::start_batch() {
  logging_ = true;
  undo_ids_.clear();
  undo_names_.clear();
}

void LeaseTable::keep_batch() {
  logging_ = false;
  undo_ids_.clear();
  undo_names_.clear();
}

void LeaseTable::undo_batch() {
  // Newest first: a key changed twice ends as it was before the first change. The two logs
  // touch different tables, so which log goes first does not matter.
  const auto undo = [](const auto& log) {
    for (auto it = log.rbegin(); it != log.rend(); ++it) {
      if (it->lease)
        (*it->table)[it->key] = *it->lease;
      else
        it->table->erase(it->key);
    }
  };
  undo(undo_ids_);
  undo(undo_names_);
  keep_batch();
}

void LeaseTable::remember(std::map<std::int64_t, Lease>& table, std::int64_t key) {
  if (!logging_) return;
  auto it = table.find(key);
  undo_ids_.push_back({&table, key, it == table.end() ? std::nullopt : std::optional(it->second)});
}

void LeaseTable::remember(std::map<std::string, Lease>& table, const std::string& key) {
  if (!logging_) return;
  auto it = table.find(key);
  undo_names_.push_back(
      {&table, key, it == table.end() ? std::nullopt : std::optional(it->second)});
}

void LeaseTable::lease(std::int64_t message_id, const std::string& owner, TimePoint until) {
  remember(deliveries_, message_id);
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
    remember(deliveries_, p.message_id);
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
    remember(deliveries_, p.message_id);
    it->second.until = until;
    out.push_back(p);
  }
  for (auto it = deliveries_.begin(); it != deliveries_.end();) {
    if (still_pending.contains(it->first)) {
      ++it;
      continue;
    }
    remember(deliveries_, it->first);
    it = deliveries_.erase(it);
  }
  return out;
}

bool LeaseTable::hold_singleton(const std::string& name, const std::string& owner, TimePoint now,
                                TimePoint until) {
  auto it = singletons_.find(name);
  if (it != singletons_.end() && it->second.owner != owner && held(now, it->second.until))
    return false;
  remember(singletons_, name);
  singletons_[name] = Lease{owner, until};
  return true;
}

std::vector<std::int64_t> LeaseTable::claim_mailbox(const std::vector<std::int64_t>& waiting,
                                                    const std::string& owner, TimePoint now,
                                                    TimePoint until, int limit) {
  std::vector<std::int64_t> out;
  const std::set<std::int64_t> still_waiting(waiting.begin(), waiting.end());
  for (auto it = mailbox_.begin(); it != mailbox_.end();) {
    if (still_waiting.contains(it->first)) {
      ++it;
      continue;
    }
    remember(mailbox_, it->first);
    it = mailbox_.erase(it);
  }
  for (const std::int64_t id : waiting) {
    if (static_cast<int>(out.size()) >= limit) break;
    auto it = mailbox_.find(id);
    if (it != mailbox_.end() && held(now, it->second.until)) continue;
    remember(mailbox_, id);
    mailbox_[id] = Lease{owner, until};
    out.push_back(id);
  }
  return out;
}

}  // namespace sektorbro
