#include "broker/store/lease_table.hpp"

#include <algorithm>
#include <unordered_set>

namespace sektorbro {
namespace {

bool held(TimePoint now, TimePoint until) { return now < until; }  // as lease_rules.hpp

// Undoes `log` newest first into `table`: a key changed twice ends as it was before the first
// change.
template <typename Table, typename Log>
void undo(Table& table, const Log& log) {
  for (auto it = log.rbegin(); it != log.rend(); ++it) {
    if (it->lease)
      table[it->key] = *it->lease;
    else
      table.erase(it->key);
  }
}

}  // namespace

void LeaseTable::start_batch() {
  keep_batch();
  logging_ = true;
}

void LeaseTable::keep_batch() {
  logging_ = false;
  undo_deliveries_.clear();
  undo_mailbox_.clear();
  undo_singletons_.clear();
}

void LeaseTable::undo_batch() {
  // The logs touch different tables, so which goes first does not matter.
  undo(deliveries_, undo_deliveries_);
  undo(mailbox_, undo_mailbox_);
  undo(singletons_, undo_singletons_);
  keep_batch();
}

template <typename Table>
void LeaseTable::remember(const Table& table, UndoLog<Table>& log,
                          const typename Table::key_type& key) {
  if (!logging_) return;
  auto it = table.find(key);
  log.push_back({key, it == table.end() ? std::nullopt : std::optional(it->second)});
}

LeaseTable::OwnerId LeaseTable::owner_id(const std::string& owner) {
  auto it = std::find(owners_.begin(), owners_.end(), owner);
  if (it != owners_.end()) return static_cast<OwnerId>(it - owners_.begin());
  owners_.push_back(owner);
  return static_cast<OwnerId>(owners_.size() - 1);
}

void LeaseTable::lease(std::int64_t message_id, const std::string& owner, TimePoint until) {
  remember(deliveries_, undo_deliveries_, message_id);
  deliveries_[message_id] = Lease{owner_id(owner), until};
}

std::vector<std::int64_t> LeaseTable::claim(const std::vector<std::int64_t>& pending,
                                            const std::string& owner, TimePoint now,
                                            TimePoint until, int limit) {
  const OwnerId me = owner_id(owner);
  std::vector<std::int64_t> out;
  for (const std::int64_t id : pending) {
    if (static_cast<int>(out.size()) >= limit) break;
    auto it = deliveries_.find(id);
    if (it != deliveries_.end() && held(now, it->second.until)) continue;
    remember(deliveries_, undo_deliveries_, id);
    deliveries_[id] = Lease{me, until};
    out.push_back(id);
  }
  return out;
}

std::vector<std::int64_t> LeaseTable::renew(const std::vector<std::int64_t>& pending,
                                            const std::string& owner, TimePoint now,
                                            TimePoint until) {
  const OwnerId me = owner_id(owner);
  std::vector<std::int64_t> out;
  std::size_t leased = 0;  // pending messages with a lease, anyone's
  for (const std::int64_t id : pending) {
    auto it = deliveries_.find(id);
    if (it == deliveries_.end()) continue;
    ++leased;
    if (it->second.owner != me || !held(now, it->second.until)) continue;
    remember(deliveries_, undo_deliveries_, id);
    it->second.until = until;
    out.push_back(id);
  }
  // Leases of messages no longer pending (delivered, dead-lettered) mean nothing: forgotten
  // here. When every lease was found above there is nothing to look for.
  if (leased < deliveries_.size()) {
    const std::unordered_set<std::int64_t> still_pending(pending.begin(), pending.end());
    for (auto it = deliveries_.begin(); it != deliveries_.end();) {
      if (still_pending.contains(it->first)) {
        ++it;
        continue;
      }
      remember(deliveries_, undo_deliveries_, it->first);
      it = deliveries_.erase(it);
    }
  }
  return out;
}

bool LeaseTable::hold_singleton(const std::string& name, const std::string& owner, TimePoint now,
                                TimePoint until) {
  const OwnerId me = owner_id(owner);
  auto it = singletons_.find(name);
  if (it != singletons_.end() && it->second.owner != me && held(now, it->second.until))
    return false;
  remember(singletons_, undo_singletons_, name);
  singletons_[name] = Lease{me, until};
  return true;
}

std::vector<std::int64_t> LeaseTable::claim_mailbox(const std::vector<std::int64_t>& waiting,
                                                    const std::string& owner, TimePoint now,
                                                    TimePoint until, int limit) {
  const OwnerId me = owner_id(owner);
  std::vector<std::int64_t> out;
  const std::unordered_set<std::int64_t> still_waiting(waiting.begin(), waiting.end());
  for (auto it = mailbox_.begin(); it != mailbox_.end();) {
    if (still_waiting.contains(it->first)) {
      ++it;
      continue;
    }
    remember(mailbox_, undo_mailbox_, it->first);
    it = mailbox_.erase(it);
  }
  for (const std::int64_t id : waiting) {
    if (static_cast<int>(out.size()) >= limit) break;
    auto it = mailbox_.find(id);
    if (it != mailbox_.end() && held(now, it->second.until)) continue;
    remember(mailbox_, undo_mailbox_, id);
    mailbox_[id] = Lease{me, until};
    out.push_back(id);
  }
  return out;
}

}  // namespace sektorbro
