// LeaseTable: the Store's lease contract (store.hpp, "leases") kept in memory, for the stores a
// single broker owns — MemoryStore, and SqliteStore, whose file lock admits one broker per file,
// so that leases never need to outlive the process or be seen by another one. Pure bookkeeping;
// the store passes in its pending deliveries as its writer sees them (its open batch included)
// and guards the table with its own lock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "broker/core/time.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

class LeaseTable {
 public:
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
                                          const std::string& owner, TimePoint now,
                                          TimePoint until, int limit);

 private:
  struct Lease {
    std::string owner;
    TimePoint until{};
  };
  std::map<std::int64_t, Lease> deliveries_;
  std::map<std::string, Lease> singletons_;
  std::map<std::int64_t, Lease> mailbox_;  // mailbox fetches, by message
};

}  // namespace sektorbro
