// MemoryStore's own parts: the fault switches and the unhashed audit list. Everything it shares
// with SqliteStore through the Store interface is in store_contract_test.cpp.
#include "broker/store/memory_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "broker/intake/message_acceptor.hpp"
#include "broker/store/group_commit_writer.hpp"
#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using store_test::at_ms;
using store_test::make_message;
using Kind = AcceptOutcome::Kind;

std::size_t message_count(Store& store) {
  MessageFilter all;
  all.limit = 1'000'000;
  auto got = store.list_messages(all);
  EXPECT_TRUE(got);
  return got ? got->size() : 0;
}

std::int64_t store_new(Store& store, const NewMessage& m) {
  auto out = accept_message(store, m);
  EXPECT_TRUE(out) << out.error().detail;
  if (!out) return 0;
  EXPECT_EQ(out->kind, Kind::kStored);
  return out->message_id;
}

TEST(MemoryStoreFaults, AFailingCommitLosesTheWholeBatchAndTheStoreRecovers) {
  MemoryStore store;
  const auto a = store_new(store, make_message("E1", {"B1"}));
  ASSERT_EQ(a, 1);

  store.fail_commits(true);
  ASSERT_TRUE(store.begin_batch());
  EXPECT_EQ(store_new(store, make_message("E2", {"B2"})), 2);
  ASSERT_TRUE(store.update_delivery(a, DeliveryState::kDelivered, 1, at_ms(1), "",
                                    MessageEvent{a, at_ms(1), "delivered", ""}));
  auto committed = store.commit_batch();
  ASSERT_FALSE(committed);
  EXPECT_EQ(committed.error().code, Errc::kStorage);
  EXPECT_EQ(message_count(store), 1u);
  auto ra = store.get_message(a);
  ASSERT_TRUE(ra && ra->has_value());
  EXPECT_EQ((*ra)->state, DeliveryState::kPending);

  // A write outside a batch commits on its own, so it fails too, without a trace.
  auto alone = store.append_event(MessageEvent{a, at_ms(2), "relayed", ""});
  ASSERT_FALSE(alone);
  EXPECT_EQ(alone.error().code, Errc::kStorage);
  auto tl = store.timeline(a);
  ASSERT_TRUE(tl);
  EXPECT_EQ(tl->size(), 1u);

  // Once the disk has room again, the lost letters are new (not duplicates), under the same id.
  store.fail_commits(false);
  ASSERT_TRUE(store.begin_batch());
  EXPECT_EQ(store_new(store, make_message("E2", {"B2"})), 2);
  ASSERT_TRUE(store.commit_batch());
  EXPECT_EQ(message_count(store), 2u);
}

TEST(MemoryStoreFaults, AFailingWriteLosesTheBatchItWasIn) {
  MemoryStore store;
  const auto a = store_new(store, make_message("E1", {"B1"}));
  ASSERT_TRUE(store.begin_batch());
  store_new(store, make_message("E2", {"B2"}));
  store.fail_writes(true);
  auto failed = store.append_event(MessageEvent{a, at_ms(1), "relayed", ""});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::kStorage);
  store.fail_writes(false);
  // The batch is gone with the failure: later writes in it and its commit say so.
  auto later = store.append_event(MessageEvent{a, at_ms(2), "relayed", ""});
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, Errc::kStorage);
  auto committed = store.commit_batch();
  ASSERT_FALSE(committed);
  EXPECT_EQ(committed.error().code, Errc::kStorage);
  EXPECT_EQ(message_count(store), 1u);

  // The next batch works.
  ASSERT_TRUE(store.begin_batch());
  ASSERT_TRUE(store.append_event(MessageEvent{a, at_ms(3), "relayed", ""}));
  ASSERT_TRUE(store.commit_batch());
  auto tl = store.timeline(a);
  ASSERT_TRUE(tl);
  ASSERT_EQ(tl->size(), 2u);
  EXPECT_EQ(tl->back().at, at_ms(3));

  // Outside a batch a failing write fails alone.
  store.fail_writes(true);
  EXPECT_FALSE(store.audit(at_ms(4), "refused", "x"));
  store.fail_writes(false);
  EXPECT_TRUE(store.audit(at_ms(5), "refused", "y"));
  const auto entries = store.audit_entries();
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back().detail, "y");
}

// A GroupCommitWriter on a full disk: every job hears of the failure, nothing is stored, and the
// writer carries on once the disk has room.
TEST(MemoryStoreFaults, TheGroupCommitWriterReportsAFullDiskToEveryJob) {
  MemoryStore store;
  store.fail_commits(true);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<void>> outcomes;
  {
    GroupCommitWriter writer(store, 16);
    for (int i = 0; i < 5; ++i)
      writer.submit(GroupCommitWriter::Job{
          .apply =
              [i](Store& s) {
                (void)accept_message(s, make_message("E", {"L" + std::to_string(i)}));
              },
          .done =
              [&](const Result<void>& r) {
                std::lock_guard lock(mu);
                outcomes.push_back(r);
                cv.notify_all();
              },
      });
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return outcomes.size() == 5; }));
  }
  for (const auto& r : outcomes) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kStorage);
  }
  EXPECT_EQ(message_count(store), 0u);
  store.fail_commits(false);
  {
    GroupCommitWriter writer(store, 16);
    for (int i = 0; i < 5; ++i)
      writer.submit(GroupCommitWriter::Job{
          .apply =
              [i](Store& s) {
                (void)accept_message(s, make_message("E", {"L" + std::to_string(i)}));
              },
          .done = [](const Result<void>& r) { EXPECT_TRUE(r); },
      });
  }  // the destructor drains the queue
  EXPECT_EQ(message_count(store), 5u);
}

TEST(MemoryStoreAudit, EveryEventAndAuditLineHasAnEntryInOrder) {
  MemoryStore store;
  const auto a = store_new(store, make_message("E1", {"B1"}));
  ASSERT_TRUE(store.update_delivery(a, DeliveryState::kDeadLettered, 3, at_ms(7), "HTTP 500",
                                    MessageEvent{a, at_ms(7), "dead-lettered", "gave up"}));
  ASSERT_TRUE(store.requeue(a, at_ms(8)));
  Deadline d;
  d.key = DeadlineKey{store_test::kJobcenterGln, "B1"};
  d.due = std::chrono::year{2026} / 11 / 20;
  ASSERT_TRUE(store.put_deadline(d, a, MessageEvent{a, at_ms(9), "deadline-opened", "LÆ125"}));
  ASSERT_TRUE(store.put_deadline(d, a, MessageEvent{}));  // no event: no entry
  ASSERT_TRUE(store.audit(at_ms(10), "refused", "malformed XML"));
  ASSERT_TRUE(store.audit_action(at_ms(11), "operator:anna", "view-message", "message 1", ""));
  auto invalid = store.audit_action(at_ms(12), "", "view-message", "message 1", "");
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, Errc::kInvalid);
  // Rolled back: no entry.
  ASSERT_TRUE(store.begin_batch());
  ASSERT_TRUE(store.audit(at_ms(13), "refused", "rolled back"));
  store.rollback_batch();

  const auto entries = store.audit_entries();
  ASSERT_EQ(entries.size(), 6u);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_TRUE(entries[i].hash.empty());
  }
  EXPECT_EQ(entries[0].kind, "received");
  EXPECT_EQ(entries[0].actor, "jc-0005");  // the sender endpoint
  EXPECT_EQ(entries[0].subject, "message 1");
  EXPECT_EQ(entries[1].kind, "dead-lettered");
  EXPECT_EQ(entries[1].actor, "broker");
  EXPECT_EQ(entries[1].detail, "gave up");
  EXPECT_EQ(entries[2].kind, "requeued");
  EXPECT_EQ(entries[2].detail, "from dead-lettered");
  EXPECT_EQ(entries[3].subject, "message 1 deadline 5790000000005/B1");
  EXPECT_EQ(entries[4].kind, "refused");
  EXPECT_EQ(entries[4].actor, "broker");
  EXPECT_EQ(entries[4].subject, "input");
  EXPECT_EQ(entries[5].kind, "view-message");
  EXPECT_EQ(entries[5].actor, "operator:anna");
  EXPECT_EQ(entries[5].at, at_ms(11));
}

}  // namespace
}  // namespace sektorbro
