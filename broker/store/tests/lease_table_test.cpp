// LeaseTable's batch log: a batch rolled back takes its lease changes back with it (a failed
// commit, or an optimistic group run again guarded), so a replayed group leases as if once.
#include "broker/store/lease_table.hpp"

#include <gtest/gtest.h>

#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using store_test::at_ms;

using Ids = std::vector<std::int64_t>;

TEST(LeaseTable, AnUndoneBatchGivesItsClaimsBack) {
  LeaseTable t;
  t.start_batch();
  EXPECT_EQ(t.claim(Ids{1, 2}, "me", at_ms(0), at_ms(1000), 10), (std::vector<std::int64_t>{1, 2}));
  t.undo_batch();
  // Free again: the same claim, run once more, takes both.
  t.start_batch();
  EXPECT_EQ(t.claim(Ids{1, 2}, "me", at_ms(0), at_ms(1000), 10), (std::vector<std::int64_t>{1, 2}));
  t.keep_batch();
  // Kept: held now, another owner gets nothing.
  EXPECT_TRUE(t.claim(Ids{1, 2}, "other", at_ms(10), at_ms(1000), 10).empty());
}

TEST(LeaseTable, UndoRestoresChangedAndForgottenLeasesAsTheyWere) {
  LeaseTable t;
  t.lease(1, "me", at_ms(1000));
  t.lease(2, "other", at_ms(5000));
  t.start_batch();
  t.lease(1, "me", at_ms(5000));  // changed twice in the batch
  EXPECT_EQ(t.renew(Ids{1}, "me", at_ms(0), at_ms(9000)),
            (std::vector<std::int64_t>{1}));  // and message 2 forgotten: no longer pending
  EXPECT_TRUE(t.hold_singleton("sweeper", "me", at_ms(0), at_ms(1000)));
  t.undo_batch();
  // Message 1's lease ends at 1000 again; message 2 is still held by "other" (until 5000);
  // the singleton is free.
  EXPECT_EQ(t.claim(Ids{1, 2}, "third", at_ms(1500), at_ms(9000), 10),
            (std::vector<std::int64_t>{1}));
  EXPECT_TRUE(t.hold_singleton("sweeper", "third", at_ms(0), at_ms(1000)));
}

TEST(LeaseTable, ARenewalExtendsOnlyTheOwnersLeasesAndForgetsThoseOfSettledMessages) {
  LeaseTable t;
  t.lease(1, "me", at_ms(1000));
  t.lease(2, "me", at_ms(1000));
  t.lease(3, "other", at_ms(1000));
  t.lease(4, "me", at_ms(1000));
  // Message 2 was delivered: no longer pending. The pending ids come in any order.
  EXPECT_EQ(t.renew(Ids{4, 3, 1}, "me", at_ms(500), at_ms(9000)), (Ids{4, 1}));
  // At 2000 "other"'s lease has ended and mine were renewed: only 3 is free. Message 2 is
  // pending again (requeued) and its old lease was forgotten, so it is free too.
  EXPECT_EQ(t.claim(Ids{1, 2, 3, 4}, "third", at_ms(2000), at_ms(9000), 10), (Ids{2, 3}));
  // Every lease is of a pending message now: a renewal forgets nothing.
  EXPECT_EQ(t.renew(Ids{1, 2, 3, 4}, "me", at_ms(2500), at_ms(9500)), (Ids{1, 4}));
  EXPECT_TRUE(t.claim(Ids{1, 2, 3, 4}, "fourth", at_ms(3000), at_ms(9000), 10).empty());
}

TEST(LeaseTable, AnEndedLeaseIsNotRenewed) {
  LeaseTable t;
  t.lease(1, "me", at_ms(1000));
  EXPECT_TRUE(t.renew(Ids{1}, "me", at_ms(1000), at_ms(9000)).empty()) << "it ends at 1000";
  EXPECT_EQ(t.claim(Ids{1}, "other", at_ms(1000), at_ms(9000), 10), (Ids{1}));
}

TEST(LeaseTable, AnUndoneMailboxFetchLeavesTheLettersWaiting) {
  LeaseTable t;
  t.start_batch();
  EXPECT_EQ(t.claim_mailbox({7, 8}, "me", at_ms(0), at_ms(1000), 10),
            (std::vector<std::int64_t>{7, 8}));
  t.undo_batch();
  EXPECT_EQ(t.claim_mailbox({7, 8}, "other", at_ms(0), at_ms(1000), 10),
            (std::vector<std::int64_t>{7, 8}));
}

TEST(LeaseTable, OutsideABatchNothingIsLogged) {
  LeaseTable t;
  t.lease(1, "me", at_ms(1000));
  t.undo_batch();  // no batch open: nothing to undo
  EXPECT_TRUE(t.claim(Ids{1}, "other", at_ms(0), at_ms(1000), 10).empty());
}

}  // namespace
}  // namespace sektorbro
