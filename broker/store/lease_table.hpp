// LeaseTable: the Store's lease contract (store.hpp, "leases") kept in memory, for the stores a
// single broker owns — MemoryStore, and SqliteStore, whose file lock admits one broker per file,
// so that leases never need to outlive the process or be seen by another one. Pure bookkeeping;
// the store passes in its pending deliveries as its writer sees them (its open batch included)
// and guards the table with its own lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/core/time.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

class LeaseTable {
 public:
  // Batches (SqliteStore): between start_batch() and keep_batch() / undo_batch() every change is
  // logged, so a batch rolled back — a failed commit, or an optimistic group replayed guarded
  // (store.hpp, guard_calls) — takes its leases back with it, and a replay leases as if once.
  void start_batch();
  void keep_batch();
  void undo_batch();

  void lease(std::int64_t message_id, const std::string& owner, TimePoint until);
  // `pending`: every pending delivery, earliest next attempt first (ties by id).
  std::vector<PendingDelivery> claim(const std::vector<PendingDelivery>& pending,
                                     const std::string& owner, TimePoint now, TimePoint until,
                                     int limit);
  // Also forgets leases of messages that are no longer pending (not in `pending`).
  std::vector<PendingDelivery> renew(const std::vector<PendingDelivery>& pending,
                                     const std::string& owner, TimePoint now, TimePoint until);
  bool hold_singleton(const std::string& name, const std::string& owner, TimePoint now,
                      TimePoint until);
  // Store::claim_mailbox. `waiting`: the ids of the endpoint's pending messages, lowest first.
  // Also forgets the mailbox leases of messages no longer waiting there.
  std::vector<std::int64_t> claim_mailbox(const std::vector<std::int64_t>& waiting,
                                          const std::string& owner, TimePoint now, TimePoint until,
                                          int limit);

 private:
  struct Lease {
    std::string owner;
    TimePoint until{};
  };
  // What a key held before the batch's first change to it (nullopt: nothing).
  template <typename Key>
  struct Before {
    std::map<Key, Lease>* table;
    Key key;
    std::optional<Lease> lease;
  };
  // Logs the entry `key` of `table` as it is now, before a change (only while a batch is open).
  void remember(std::map<std::int64_t, Lease>& table, std::int64_t key);
  void remember(std::map<std::string, Lease>& table, const std::string& key);

  std::map<std::int64_t, Lease> deliveries_;
  std::map<std::string, Lease> singletons_;
  std::map<std::int64_t, Lease> mailbox_;  // mailbox fetches, by message
  bool logging_ = false;
  std::vector<Before<std::int64_t>> undo_ids_;  // oldest first; undone newest first
  std::vector<Before<std::string>> undo_names_;
};

}  // namespace sektorbro
