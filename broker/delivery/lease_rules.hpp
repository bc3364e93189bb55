// Lease timing (issue 11, item 2: several brokers on one database), pure. A broker attempts a
// pending delivery only while it holds the delivery's lease in the store; the deadline sweep and
// the receipt check run only on the broker holding the "sweeper" singleton lease. A lease is
// held from its grant until `until` (exclusive) and renewed by its owner before it ends; a broker
// that stops renewing (killed, hung, cut off) loses it at `until`, and another broker takes the
// work over then. These rules say when a lease is held, when it may still be used for work that
// takes time, and when to renew — the drivers (Dispatcher, DeadlineSweeper) only follow them.
//
// Clocks: the brokers' clocks must agree to well within a lease (NTP does); a lease is measured
// on the clock of the broker that reads it.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "broker/core/time.hpp"

namespace sektorbro {

// The end of a lease granted at `now` for `lease`.
TimePoint lease_until(TimePoint now, Duration lease);

// Whether a lease ending at `until` is still held at `now` (it ends at `until` itself): a lease
// that is not held may be taken over by any broker.
bool lease_held(TimePoint now, TimePoint until);

// Whether work that may take up to `work_bound` (a delivery attempt: the delivery timeout) may
// start at `now` under a lease ending at `until`: only if it would end while the lease is still
// held, so no other broker can take the same work over while it runs.
bool lease_allows(TimePoint now, TimePoint until, Duration work_bound);

// How often a broker renews its leases: a third of the lease, so a lease that was renewed has at
// least two thirds left, and one missed renewal (a slow commit) does not lose it.
Duration renew_interval(Duration lease);

// Whether leases last renewed (or granted) at `renewed_at` are due for renewal at `now`.
bool renew_due(TimePoint now, TimePoint renewed_at, Duration lease);

// The shortest lease the configuration accepts for `work_bound`: a renewed lease (two thirds
// left) must outlast one attempt begun just before a renewal, with room to spare.
Duration minimum_lease(Duration work_bound);

// LeaseBook: the delivery leases one broker believes it holds, and until when — pure
// bookkeeping for the Dispatcher (io thread, no locks). The store is the truth; the book follows
// it through lease passes: a pass begins (begin_pass), the store renews what this broker still
// holds and grants what it may take over, and the pass's answer is applied (end_pass). A lease
// the store no longer counts as ours is forgotten — but only one granted before the pass began:
// one granted meanwhile (a message stored while the pass ran) was not in the pass's answer yet.
class LeaseBook {
 public:
  // A lease granted outside a pass (a message this broker just stored or requeued).
  void granted(std::int64_t message_id, TimePoint until);
  // The broker gives the lease up (the delivery's outcome is final, or the store lost it).
  void forget(std::int64_t message_id);
  // Whether an attempt taking up to `work_bound` may start now (lease_allows).
  bool allows(std::int64_t message_id, TimePoint now, Duration work_bound) const;
  bool holds(std::int64_t message_id) const { return leases_.contains(message_id); }
  std::size_t size() const { return leases_.size(); }

  // A lease pass begins: returns its number, for end_pass.
  std::uint64_t begin_pass();
  // The pass `pass` was answered: `held` are the messages the store says this broker holds now
  // (renewed and newly taken), each until `until`. Returns those of `held` the book did not
  // know (to schedule), and forgets what was granted before the pass began and is not in `held`.
  std::vector<std::int64_t> end_pass(std::uint64_t pass, const std::vector<std::int64_t>& held,
                                     TimePoint until);

 private:
  struct Lease {
    TimePoint until{};
    std::uint64_t pass = 0;  // the pass counter when it was granted or last confirmed
  };
  std::unordered_map<std::int64_t, Lease> leases_;
  std::uint64_t passes_ = 0;
};

}  // namespace sektorbro
