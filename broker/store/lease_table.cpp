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

template <typename Table>
std::vector<std::int64_t> LeaseTable::take(Table& table, UndoLog<Table>& log,
                                           const std::vector<std::int64_t>& ids, Lease lease,
                                           TimePoint now, int limit) {
  std::vector<std::int64_t> out;
  for (const std::int64_t id : ids) {
    if (static_cast<int>(out.size()) >= limit) break;
    auto it = table.find(id);
    if (it != table.end() && held(now, it->second.until)) continue;
    remember(table, log, id);
    table[id] = lease;
    out.push_back(id);
  }
  return out;
}

template <typename Table>
void LeaseTable::forget_all_but(Table& table, UndoLog<Table>& log,
                                const std::vector<std::int64_t>& kept) {
  const std::unordered_set<std::int64_t> keep(kept.begin(), kept.end());
  for (auto it = table.begin(); it != table.end();) {
    if (keep.contains(it->first)) {
      ++it;
      continue;
    }
    remember(table, log, it->first);
    it = table.erase(it);
  }
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
  return take(deliveries_, undo_deliveries_, pending, Lease{owner_id(owner), until}, now, limit);
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
  if (leased < deliveries_.size()) forget_all_but(deliveries_, undo_deliveries_, pending);
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
  forget_all_but(mailbox_, undo_mailbox_, waiting);
  return take(mailbox_, undo_mailbox_, waiting, Lease{owner_id(owner), until}, now, limit);
}

}  // namespace sektorbro
