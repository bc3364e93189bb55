// LeaseTable: the Store's lease contract (store.hpp, "leases") kept in memory, for the stores a
// single broker owns — MemoryStore, and SqliteStore, whose file lock admits one broker per file,
// so that leases never need to outlive the process or be seen by another one. Pure bookkeeping;
// the store passes in the ids of its pending deliveries as its writer sees them (its open batch
// included) and guards the table with its own lock.
//
// A lease pass touches every lease the broker holds, so under a backlog of hundreds of thousands
// of letters a pass must cost little per lease: the table takes and returns ids only (the store
// reads details for what was taken), hashes them, and names owners by a small number (there are
// few owners and many leases). docs/performance.md, "Lease passes under a backlog".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
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
  // Store::claim_deliveries. `pending`: the ids of every pending delivery, earliest next attempt
  // first (ties by id). Returns the ids taken, in that order.
  std::vector<std::int64_t> claim(const std::vector<std::int64_t>& pending,
                                  const std::string& owner, TimePoint now, TimePoint until,
                                  int limit);
  // Store::renew_leases. `pending`: the ids of every pending delivery, in any order. Returns the
  // ids renewed, in the order of `pending`. Also forgets the leases of messages that are no
  // longer pending (not in `pending`).
  std::vector<std::int64_t> renew(const std::vector<std::int64_t>& pending,
                                  const std::string& owner, TimePoint now, TimePoint until);
  bool hold_singleton(const std::string& name, const std::string& owner, TimePoint now,
                      TimePoint until);
  // Store::claim_mailbox. `waiting`: the ids of the endpoint's pending messages, lowest first.
  // Also forgets the mailbox leases of messages no longer waiting there.
  std::vector<std::int64_t> claim_mailbox(const std::vector<std::int64_t>& waiting,
                                          const std::string& owner, TimePoint now, TimePoint until,
                                          int limit);

 private:
  using OwnerId = std::uint32_t;  // an index into owners_
  struct Lease {
    OwnerId owner = 0;
    TimePoint until{};
  };
  using Deliveries = std::unordered_map<std::int64_t, Lease>;
  using Mailbox = std::map<std::int64_t, Lease>;
  using Singletons = std::map<std::string, Lease>;
  // What a key of `Table` held before the batch's first change to it (nullopt: nothing).
  template <typename Table>
  struct Before {
    typename Table::key_type key;
    std::optional<Lease> lease;
  };
  template <typename Table>
  using UndoLog = std::vector<Before<Table>>;  // oldest first; undone newest first

  // Logs the entry `key` of `table` as it is now, before a change (only while a batch is open).
  template <typename Table>
  void remember(const Table& table, UndoLog<Table>& log, const typename Table::key_type& key);
  // Leases to `lease` those of `ids` (in their order) that nobody holds at `now`, at most
  // `limit`; returns them.
  template <typename Table>
  std::vector<std::int64_t> take(Table& table, UndoLog<Table>& log,
                                 const std::vector<std::int64_t>& ids, Lease lease, TimePoint now,
                                 int limit);
  // Forgets every lease of `table` whose key is not in `kept`.
  template <typename Table>
  void forget_all_but(Table& table, UndoLog<Table>& log, const std::vector<std::int64_t>& kept);
  // The number naming `owner`, given on first use. Names are never forgotten: there is one per
  // broker that used the store in this process.
  OwnerId owner_id(const std::string& owner);

  std::vector<std::string> owners_;
  Deliveries deliveries_;
  Singletons singletons_;
  Mailbox mailbox_;  // mailbox fetches, by message
  bool logging_ = false;
  UndoLog<Deliveries> undo_deliveries_;
  UndoLog<Mailbox> undo_mailbox_;
  UndoLog<Singletons> undo_singletons_;
};

}  // namespace sektorbro
