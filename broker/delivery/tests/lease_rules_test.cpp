// The lease timing rules and the LeaseBook (issue 11, item 2), without a store or a clock.
#include "broker/delivery/lease_rules.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace sektorbro {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kT = from_millis(1'780'000'000'000);

TEST(LeaseRules, ALeaseEndsAtItsUntilExactly) {
  const TimePoint until = lease_until(kT, seconds{30});
  EXPECT_EQ(until, kT + seconds{30});
  EXPECT_TRUE(lease_held(kT, until));
  EXPECT_TRUE(lease_held(until - milliseconds{1}, until));
  EXPECT_FALSE(lease_held(until, until)) << "at until another broker may take it";
  EXPECT_FALSE(lease_held(until + seconds{1}, until));
}

TEST(LeaseRules, WorkStartsOnlyIfItEndsWhileTheLeaseIsHeld) {
  const TimePoint until = kT + seconds{30};
  EXPECT_TRUE(lease_allows(kT, until, seconds{10}));
  EXPECT_TRUE(lease_allows(kT + seconds{19}, until, seconds{10}));
  EXPECT_FALSE(lease_allows(kT + seconds{20}, until, seconds{10})) << "would end at until";
  EXPECT_FALSE(lease_allows(kT + seconds{29}, until, seconds{10}));
  EXPECT_FALSE(lease_allows(kT + seconds{31}, until, Duration{0}));
}

TEST(LeaseRules, RenewalIsDueAfterAThirdOfTheLease) {
  EXPECT_EQ(renew_interval(seconds{30}), seconds{10});
  EXPECT_FALSE(renew_due(kT + seconds{9}, kT, seconds{30}));
  EXPECT_TRUE(renew_due(kT + seconds{10}, kT, seconds{30}));
  // A renewed lease has two thirds left: more than the shortest accepted lease needs for one
  // attempt begun just before the renewal.
  const Duration attempt = seconds{10};
  const Duration lease = minimum_lease(attempt);
  const TimePoint renewed = kT;
  const TimePoint just_before_next = renewed + renew_interval(lease) - milliseconds{1};
  EXPECT_TRUE(lease_allows(just_before_next, lease_until(renewed, lease), attempt));
}

TEST(LeaseBook, GrantedLeasesAllowAttemptsUntilTheyEnd) {
  LeaseBook book;
  book.granted(1, kT + seconds{30});
  EXPECT_TRUE(book.holds(1));
  EXPECT_TRUE(book.allows(1, kT, seconds{10}));
  EXPECT_FALSE(book.allows(1, kT + seconds{25}, seconds{10}));
  EXPECT_FALSE(book.allows(2, kT, seconds{10})) << "never granted";
  book.forget(1);
  EXPECT_FALSE(book.holds(1));
}

TEST(LeaseBook, APassRenewsWhatTheStoreConfirmsForgetsWhatItLostAndNamesWhatIsNew) {
  LeaseBook book;
  book.granted(1, kT + seconds{30});
  book.granted(2, kT + seconds{30});
  const auto pass = book.begin_pass();
  const auto fresh = book.end_pass(pass, {1, 3}, kT + seconds{60});
  EXPECT_EQ(fresh, std::vector<std::int64_t>{3}) << "3 was taken over: schedule it";
  EXPECT_TRUE(book.holds(1));
  EXPECT_TRUE(book.allows(1, kT + seconds{45}, seconds{10})) << "renewed to kT+60";
  EXPECT_FALSE(book.holds(2)) << "the store no longer counts 2 as ours";
  EXPECT_TRUE(book.holds(3));
}

TEST(LeaseBook, ALeaseGrantedWhileAPassRunsIsNotForgottenByThatPass) {
  LeaseBook book;
  book.granted(1, kT + seconds{30});
  const auto pass = book.begin_pass();
  book.granted(7, kT + seconds{31});  // a message stored while the pass was in the store
  const auto fresh = book.end_pass(pass, {1}, kT + seconds{40});
  EXPECT_TRUE(fresh.empty());
  EXPECT_TRUE(book.holds(7));
  // The next pass does count it: not confirmed then, it is lost.
  const auto next = book.begin_pass();
  book.end_pass(next, {1}, kT + seconds{50});
  EXPECT_FALSE(book.holds(7));
  EXPECT_EQ(book.size(), 1u);
}

}  // namespace
}  // namespace sektorbro
