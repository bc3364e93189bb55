#include "broker/delivery/lease_rules.hpp"

#include <unordered_set>

namespace sektorbro {

TimePoint lease_until(TimePoint now, Duration lease) { return now + lease; }

bool lease_held(TimePoint now, TimePoint until) { return now < until; }

bool lease_allows(TimePoint now, TimePoint until, Duration work_bound) {
  return now + work_bound < until;
}

Duration renew_interval(Duration lease) { return lease / 3; }

bool renew_due(TimePoint now, TimePoint renewed_at, Duration lease) {
  return now - renewed_at >= renew_interval(lease);
}

Duration minimum_lease(Duration work_bound) { return 2 * work_bound; }

void LeaseBook::granted(std::int64_t message_id, TimePoint until) {
  leases_[message_id] = Lease{until, passes_};
}

void LeaseBook::forget(std::int64_t message_id) { leases_.erase(message_id); }

bool LeaseBook::allows(std::int64_t message_id, TimePoint now, Duration work_bound) const {
  const auto it = leases_.find(message_id);
  return it != leases_.end() && lease_allows(now, it->second.until, work_bound);
}

std::uint64_t LeaseBook::begin_pass() { return ++passes_; }

std::vector<std::int64_t> LeaseBook::end_pass(std::uint64_t pass,
                                              const std::vector<std::int64_t>& held,
                                              TimePoint until) {
  std::vector<std::int64_t> fresh;
  const std::unordered_set<std::int64_t> confirmed(held.begin(), held.end());
  for (auto it = leases_.begin(); it != leases_.end();) {
    // Granted before this pass began (counter < pass) and not confirmed by it: lost.
    if (it->second.pass < pass && !confirmed.contains(it->first)) {
      it = leases_.erase(it);
    } else {
      ++it;
    }
  }
  for (const std::int64_t id : held) {
    auto [it, inserted] = leases_.try_emplace(id, Lease{until, pass});
    if (inserted) {
      fresh.push_back(id);
    } else {
      it->second.until = until;
      it->second.pass = pass;
    }
  }
  return fresh;
}

}  // namespace sektorbro
