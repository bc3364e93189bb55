// The Store contract (store.hpp), checked through the interface against every implementation:
// SqliteStore on a file in a fresh temporary directory, MemoryStore, and PostgresStore on a
// fresh database of a private PostgreSQL server (postgres_test_database.hpp). A case here must hold
// for both; what only one of them has stays in its own file (sqlite_store_test.cpp: the file on
// disk, migrations, restarts; audit_chain_test.cpp: the hashed chain; memory_store_test.cpp: the
// fault switches).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <tuple>
#include <utility>

#include "broker/intake/message_acceptor.hpp"
#include "broker/store/memory_store.hpp"
#include "broker/store/postgres_store.hpp"
#include "broker/store/sqlite_store.hpp"
#include "broker/store/tests/postgres_test_database.hpp"
#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using store_test::at_ms;
using store_test::event;
using store_test::filter;
using store_test::full_deadline;
using store_test::ids;
using store_test::kDayMs;
using store_test::kinds;
using store_test::kJobcenterGln;
using store_test::kPsychiatryGln;
using store_test::letter_ids;
using store_test::make_deadline;
using store_test::make_message;
using store_test::TempDir;
using store_test::with_status;
using Kind = AcceptOutcome::Kind;

enum class StoreKind { kSqlite, kMemory, kPostgres };

std::string store_name(const ::testing::TestParamInfo<StoreKind>& info) {
  switch (info.param) {
    case StoreKind::kSqlite:
      return "Sqlite";
    case StoreKind::kMemory:
      return "Memory";
    case StoreKind::kPostgres:
      return "Postgres";
  }
  return "?";
}

// What the intake core would plan for a message whose letters are all new (or replace the
// versions named in `supersedes`): the message and its "received" event.
MessagePlan plan_for(const NewMessage& m, std::vector<Supersession> supersedes = {}) {
  MessagePlan plan;
  plan.message = m;
  plan.supersedes = std::move(supersedes);
  plan.events.push_back(
      MessageEvent{0, m.received_at, "received", "envelope " + m.envelope_id, m.sender_endpoint});
  return plan;
}

class StoreContractTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreKind::kPostgres) {
      conninfo_ = store_test::fresh_postgres_database("contract");
      ASSERT_FALSE(conninfo_.empty());
    }
    open();
  }

  void open() {
    if (GetParam() == StoreKind::kMemory) {
      store_ = std::make_unique<MemoryStore>();
      return;
    }
    if (GetParam() == StoreKind::kPostgres) {
      auto opened = PostgresStore::open(conninfo_);
      ASSERT_TRUE(opened) << opened.error().detail;
      store_ = std::move(*opened);
      return;
    }
    auto opened = SqliteStore::open(path_);
    ASSERT_TRUE(opened) << opened.error().detail;
    store_ = std::move(*opened);
  }

  // A broker restart: SqliteStore's file (PostgresStore's connections) is closed and opened
  // again; a MemoryStore is the same object across the restart of the drivers that use it, so it
  // stays as it is.
  void restart() {
    if (GetParam() == StoreKind::kMemory) return;
    store_.reset();
    open();
  }

  std::int64_t store_new(const NewMessage& m) {
    auto out = accept_message(*store_, m);
    EXPECT_TRUE(out) << out.error().detail;
    if (!out) return 0;
    EXPECT_EQ(out->kind, Kind::kStored);
    return out->message_id;
  }

  std::int64_t count_messages() {
    auto all = store_->list_messages(filter({}, {}, 0, 1'000'000));
    EXPECT_TRUE(all);
    return all ? static_cast<std::int64_t>(all->size()) : -1;
  }

  std::int64_t store_request(const std::string& letter_id) {
    auto out = accept_message(*store_, make_message("E-" + letter_id, {letter_id}));
    EXPECT_TRUE(out && out->kind == AcceptOutcome::Kind::kStored);
    return out ? out->message_id : 0;
  }

  void put(const Deadline& d) {
    auto r = store_->put_deadline(d, 0, MessageEvent{});
    ASSERT_TRUE(r) << r.error().detail;
  }

  std::optional<Deadline> find(const DeadlineKey& key) {
    auto r = store_->find_deadline(key);
    EXPECT_TRUE(r) << r.error().detail;
    return r ? *r : std::nullopt;
  }

  std::vector<std::string> listed(const DeadlineFilter& f) {
    auto r = store_->list_deadlines(f);
    EXPECT_TRUE(r) << r.error().detail;
    return r ? letter_ids(*r) : std::vector<std::string>{"<error>"};
  }

  TempDir dir_;
  std::string path_ = dir_.file("data/broker.db");  // parent directory created by open()
  std::string conninfo_;                            // kPostgres: a fresh database per case
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Every, StoreContractTest,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kMemory,
                                           StoreKind::kPostgres),
                         store_name);

TEST(DeliveryStateNames, RoundTrip) {
  for (auto s : {DeliveryState::kPending, DeliveryState::kDelivered, DeliveryState::kRefused,
                 DeliveryState::kDeadLettered})
    EXPECT_EQ(parse_delivery_state(to_string(s)), s);
  EXPECT_EQ(to_string(DeliveryState::kDeadLettered), "dead-lettered");
  EXPECT_FALSE(parse_delivery_state("Pending"));
  EXPECT_EQ(to_string(ReceiptState::kNegative), "negative");
}

TEST_P(StoreContractTest, AcceptStoresAndReadsBack) {
  auto m = make_message("E1", {"Brev1", "Brev2"});
  m.letters[1].type = LetterType::kDischargeNotice;
  const auto id = store_new(m);
  ASSERT_GT(id, 0);

  auto got = store_->get_message(id);
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_TRUE(got->has_value());
  const MessageRecord& r = **got;
  EXPECT_EQ(r.id, id);
  EXPECT_EQ(r.envelope_id, "E1");
  EXPECT_EQ(r.sender_gln, kJobcenterGln);
  EXPECT_EQ(r.receiver_gln, kPsychiatryGln);
  EXPECT_EQ(r.sender_endpoint, m.sender_endpoint);
  EXPECT_EQ(r.receiver_endpoint, "psyk");
  EXPECT_EQ(r.body, m.body);
  EXPECT_EQ(r.acceptance, m.acceptance);
  EXPECT_TRUE(r.receipt_requested);
  EXPECT_TRUE(r.contains_cpr);
  EXPECT_EQ(r.received_at, m.received_at);
  EXPECT_EQ(r.state, DeliveryState::kPending);
  EXPECT_EQ(r.attempts, 0);
  EXPECT_EQ(r.next_attempt_at, m.received_at);
  EXPECT_EQ(r.last_error, "");
  EXPECT_EQ(r.receipt, ReceiptState::kNone);
  ASSERT_EQ(r.letters.size(), 2u);
  EXPECT_EQ(r.letters[0].letter_id, "Brev1");
  EXPECT_EQ(r.letters[0].type, LetterType::kCertificateRequest);
  EXPECT_EQ(r.letters[0].content_hash, m.letters[0].content_hash);
  EXPECT_EQ(r.letters[1].letter_id, "Brev2");
  EXPECT_EQ(r.letters[1].type, LetterType::kDischargeNotice);

  auto tl = store_->timeline(id);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received"}));
  EXPECT_EQ((*tl)[0].message_id, id);
  EXPECT_EQ((*tl)[0].at, m.received_at);

  auto loc = store_->find_letter(kJobcenterGln, "Brev2");
  ASSERT_TRUE(loc);
  ASSERT_TRUE(loc->has_value());
  EXPECT_EQ((*loc)->message_id, id);
  EXPECT_EQ((*loc)->type, LetterType::kDischargeNotice);
  EXPECT_EQ((*loc)->content_hash, m.letters[1].content_hash);
  EXPECT_EQ((*loc)->receiver_gln, kPsychiatryGln);

  auto missing = store_->get_message(id + 100);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto no_letter = store_->find_letter(kPsychiatryGln, "Brev1");
  ASSERT_TRUE(no_letter);
  EXPECT_FALSE(no_letter->has_value());
}

TEST_P(StoreContractTest, DuplicateReplaysTheFirstAcceptanceByteForByte) {
  const auto first = make_message("E1", {"Brev1", "Brev2"});
  const auto id = store_new(first);

  auto resend = make_message("E2", {"Brev1", "Brev2"});
  resend.acceptance = "a different answer";
  resend.received_at = at_ms(600'000);
  auto out = accept_message(*store_, resend);
  ASSERT_TRUE(out) << out.error().detail;
  EXPECT_EQ(out->kind, Kind::kDuplicate);
  EXPECT_EQ(out->message_id, id);
  EXPECT_EQ(out->acceptance, first.acceptance);
  EXPECT_EQ(out->acceptance.size(), first.acceptance.size());  // embedded NUL survives

  EXPECT_EQ(count_messages(), 1);
  auto tl = store_->timeline(id);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received", "duplicate"}));
  EXPECT_EQ(tl->back().detail, "resent in envelope E2");
  EXPECT_EQ(tl->back().at, resend.received_at);
}

TEST_P(StoreContractTest, LetterIdsAreUniquePerSenderOnly) {
  const auto a = store_new(make_message("E1", {"Brev1"}, "v1", kJobcenterGln));
  const auto b = store_new(make_message("E1", {"Brev1"}, "other", kPsychiatryGln));
  EXPECT_NE(a, b);
  EXPECT_EQ(count_messages(), 2);
  auto loc = store_->find_letter(kPsychiatryGln, "Brev1");
  ASSERT_TRUE(loc && loc->has_value());
  EXPECT_EQ((*loc)->message_id, b);
}

TEST_P(StoreContractTest, SameLetterIdWithOtherContentIsAConflict) {
  const auto id = store_new(make_message("E1", {"Brev1", "Brev2"}));
  auto changed = make_message("E2", {"Brev1", "Brev2"});
  changed.letters[1].content_hash = sha256_hex("something else");
  auto out = accept_message(*store_, changed);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, Kind::kConflict);
  EXPECT_EQ(out->conflicting_letter_id, "Brev2");
  EXPECT_EQ(count_messages(), 1);
  auto tl = store_->timeline(id);
  ASSERT_TRUE(tl);
  EXPECT_EQ(tl->size(), 1u);  // no duplicate event
}

TEST_P(StoreContractTest, KnownAndNewLettersTogetherAreMixed) {
  store_new(make_message("E1", {"Brev1"}));
  store_new(make_message("E2", {"Brev2"}));

  auto some_new = accept_message(*store_, make_message("E3", {"Brev1", "Brev3"}));
  ASSERT_TRUE(some_new);
  EXPECT_EQ(some_new->kind, Kind::kMixed);

  auto two_messages = accept_message(*store_, make_message("E4", {"Brev1", "Brev2"}));
  ASSERT_TRUE(two_messages);
  EXPECT_EQ(two_messages->kind, Kind::kMixed);

  EXPECT_EQ(count_messages(), 2);
  auto brev3 = store_->find_letter(kJobcenterGln, "Brev3");
  ASSERT_TRUE(brev3);
  EXPECT_FALSE(brev3->has_value());
}

TEST_P(StoreContractTest, UpdateDeliveryRecordsStateAndEvent) {
  const auto id = store_new(make_message("E1", {"Brev1"}));
  ASSERT_TRUE(store_->update_delivery(id, DeliveryState::kPending, 1, at_ms(30'000), "HTTP 503",
                                      event(id, "attempt", "HTTP 503")));
  auto r = store_->get_message(id);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->state, DeliveryState::kPending);
  EXPECT_EQ((*r)->attempts, 1);
  EXPECT_EQ((*r)->next_attempt_at, at_ms(30'000));
  EXPECT_EQ((*r)->last_error, "HTTP 503");

  ASSERT_TRUE(store_->update_delivery(id, DeliveryState::kDelivered, 2, at_ms(30'000), "",
                                      event(id, "delivered")));
  r = store_->get_message(id);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->state, DeliveryState::kDelivered);
  auto tl = store_->timeline(id);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received", "attempt", "delivered"}));

  auto unknown = store_->update_delivery(id + 1, DeliveryState::kDelivered, 1, at_ms(0), "",
                                         event(id + 1, "delivered"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
}

TEST_P(StoreContractTest, RequeueOnlyFromDeadLetteredOrRefused) {
  const auto id = store_new(make_message("E1", {"Brev1"}));

  auto live = store_->requeue(id, at_ms(1000));
  ASSERT_FALSE(live);
  EXPECT_EQ(live.error().code, Errc::kConflict);
  auto unknown = store_->requeue(id + 1, at_ms(1000));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);

  for (auto from : {DeliveryState::kDeadLettered, DeliveryState::kRefused}) {
    ASSERT_TRUE(store_->update_delivery(id, from, 3, at_ms(0), "gave up", event(id, "x")));
    ASSERT_TRUE(store_->requeue(id, at_ms(90'000)));
    auto r = store_->get_message(id);
    ASSERT_TRUE(r && r->has_value());
    EXPECT_EQ((*r)->state, DeliveryState::kPending);
    EXPECT_EQ((*r)->attempts, 0);
    EXPECT_EQ((*r)->next_attempt_at, at_ms(90'000));
    auto tl = store_->timeline(id);
    ASSERT_TRUE(tl);
    EXPECT_EQ(tl->back().kind, "requeued");
    EXPECT_EQ(tl->back().at, at_ms(90'000));
  }

  ASSERT_TRUE(store_->update_delivery(id, DeliveryState::kDelivered, 1, at_ms(0), "",
                                      event(id, "delivered")));
  auto delivered = store_->requeue(id, at_ms(1000));
  ASSERT_FALSE(delivered);
  EXPECT_EQ(delivered.error().code, Errc::kConflict);
}

TEST_P(StoreContractTest, SetReceiptAndAppendEvent) {
  const auto id = store_new(make_message("E1", {"Brev1"}));
  ASSERT_TRUE(store_->set_receipt(id, ReceiptState::kPositive, event(id, "receipt-positive")));
  ASSERT_TRUE(store_->append_event(event(id, "relayed", "to psyk")));
  auto r = store_->get_message(id);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->receipt, ReceiptState::kPositive);
  auto tl = store_->timeline(id);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received", "receipt-positive", "relayed"}));
  EXPECT_EQ(tl->back().detail, "to psyk");

  auto unknown = store_->set_receipt(id + 1, ReceiptState::kNegative, event(id + 1, "x"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
  auto orphan = store_->append_event(event(id + 1, "relayed"));
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code, Errc::kNotFound);
  EXPECT_TRUE(store_->audit(at_ms(0), "refused", "malformed XML from 127.0.0.1"));
}

TEST_P(StoreContractTest, ListMessagesFiltersAndPages) {
  // Even messages come from endpoint "jc", odd ones from "hosp"; all but #3 go to "psyk".
  std::vector<std::int64_t> all;
  for (int i = 0; i < 7; ++i) {
    const std::string sender = i % 2 == 0 ? kJobcenterGln : kPsychiatryGln;
    auto m = make_message("E" + std::to_string(i), {"B" + std::to_string(i)}, "v", sender);
    m.sender_endpoint = i % 2 == 0 ? "jc" : "hosp";
    if (i == 3) m.receiver_endpoint = "other";
    all.push_back(store_new(m));
  }
  ASSERT_TRUE(store_->update_delivery(all[1], DeliveryState::kDeadLettered, 3, at_ms(0), "x",
                                      event(all[1], "dead-lettered")));
  ASSERT_TRUE(store_->update_delivery(all[4], DeliveryState::kDeadLettered, 3, at_ms(0), "x",
                                      event(all[4], "dead-lettered")));

  auto everything = store_->list_messages({});
  ASSERT_TRUE(everything);
  EXPECT_EQ(ids(*everything), all);
  ASSERT_EQ((*everything)[0].letters.size(), 1u);
  EXPECT_EQ((*everything)[0].letters[0].letter_id, "B0");

  auto dead = store_->list_messages(filter(DeliveryState::kDeadLettered, {}));
  ASSERT_TRUE(dead);
  EXPECT_EQ(ids(*dead), (std::vector<std::int64_t>{all[1], all[4]}));

  auto from_jc = store_->list_messages(filter({}, "jc"));
  ASSERT_TRUE(from_jc);
  EXPECT_EQ(ids(*from_jc), (std::vector<std::int64_t>{all[0], all[2], all[4], all[6]}));

  auto to_psyk = store_->list_messages(filter({}, "psyk"));  // receiver side, all but #3
  ASSERT_TRUE(to_psyk);
  EXPECT_EQ(ids(*to_psyk),
            (std::vector<std::int64_t>{all[0], all[1], all[2], all[4], all[5], all[6]}));

  auto dead_jc = store_->list_messages(filter(DeliveryState::kDeadLettered, "jc"));
  ASSERT_TRUE(dead_jc);
  EXPECT_EQ(ids(*dead_jc), (std::vector<std::int64_t>{all[4]}));

  // Paging: pages of 3 by after_id cover everything once, in order.
  std::vector<std::int64_t> paged;
  std::int64_t after = 0;
  for (int page = 0; page < 10; ++page) {
    auto p = store_->list_messages(filter({}, {}, after, 3));
    ASSERT_TRUE(p);
    if (p->empty()) break;
    EXPECT_LE(p->size(), 3u);
    for (const auto& r : *p) paged.push_back(r.id);
    after = p->back().id;
  }
  EXPECT_EQ(paged, all);

  auto page2 = store_->list_messages(filter({}, "psyk", all[1], 2));
  ASSERT_TRUE(page2);
  EXPECT_EQ(ids(*page2), (std::vector<std::int64_t>{all[2], all[4]}));
  auto none = store_->list_messages(filter({}, {}, 0, 0));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  // Newest first (issue 12, item 14): pages of 3 by before_id cover everything once, newest
  // first, with and without the state and endpoint filters.
  const std::vector<std::int64_t> newest(all.rbegin(), all.rend());
  std::vector<std::int64_t> back;
  std::int64_t before = 0;
  for (int page = 0; page < 10; ++page) {
    MessageFilter f = filter({}, {}, 0, 3);
    f.newest_first = true;
    f.before_id = before;
    auto p = store_->list_messages(f);
    ASSERT_TRUE(p);
    if (p->empty()) break;
    EXPECT_LE(p->size(), 3u);
    for (const auto& r : *p) back.push_back(r.id);
    before = p->back().id;
  }
  EXPECT_EQ(back, newest);
  MessageFilter latest = filter({}, "psyk", 0, 2);
  latest.newest_first = true;
  auto top = store_->list_messages(latest);
  ASSERT_TRUE(top);
  EXPECT_EQ(ids(*top), (std::vector<std::int64_t>{all[6], all[5]}));
  latest.before_id = all[5];
  top = store_->list_messages(latest);
  ASSERT_TRUE(top);
  EXPECT_EQ(ids(*top), (std::vector<std::int64_t>{all[4], all[2]}));
  MessageFilter dead_newest = filter(DeliveryState::kDeadLettered, {});
  dead_newest.newest_first = true;
  auto dn = store_->list_messages(dead_newest);
  ASSERT_TRUE(dn);
  EXPECT_EQ(ids(*dn), (std::vector<std::int64_t>{all[4], all[1]}));
  dead_newest.endpoint = "jc";
  dn = store_->list_messages(dead_newest);
  ASSERT_TRUE(dn);
  EXPECT_EQ(ids(*dn), (std::vector<std::int64_t>{all[4]}));
}

TEST_P(StoreContractTest, PendingDeliveriesInOrderOfNextAttempt) {
  const auto a = store_new(make_message("E1", {"B1"}, "v", kJobcenterGln, at_ms(300)));
  const auto b = store_new(make_message("E2", {"B2"}, "v", kJobcenterGln, at_ms(100)));
  const auto c = store_new(make_message("E3", {"B3"}, "v", kJobcenterGln, at_ms(200)));
  const auto d = store_new(make_message("E4", {"B4"}, "v", kJobcenterGln, at_ms(50)));
  ASSERT_TRUE(store_->update_delivery(b, DeliveryState::kPending, 1, at_ms(1000), "timeout",
                                      event(b, "attempt")));
  ASSERT_TRUE(store_->update_delivery(d, DeliveryState::kDelivered, 1, at_ms(0), "",
                                      event(d, "delivered")));

  auto pending = store_->pending_deliveries();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 3u);
  EXPECT_EQ((*pending)[0].message_id, c);
  EXPECT_EQ((*pending)[1].message_id, a);
  EXPECT_EQ((*pending)[2].message_id, b);
  EXPECT_EQ((*pending)[2].attempts, 1);
  EXPECT_EQ((*pending)[2].received_at, at_ms(100));
  EXPECT_EQ((*pending)[2].next_attempt_at, at_ms(1000));
  EXPECT_EQ((*pending)[0].receiver_endpoint, "psyk");
}

TEST_P(StoreContractTest, BatchCommitsAsAWholeAndRollsBackAsAWhole) {
  ASSERT_TRUE(store_->begin_batch());
  const auto a = store_new(make_message("E1", {"B1"}));
  ASSERT_TRUE(store_->commit_batch());

  ASSERT_TRUE(store_->begin_batch());
  store_new(make_message("E2", {"B2"}));
  ASSERT_TRUE(store_->update_delivery(a, DeliveryState::kDelivered, 1, at_ms(0), "",
                                      event(a, "delivered")));
  store_->rollback_batch();

  EXPECT_EQ(count_messages(), 1);
  auto r = store_->get_message(a);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->state, DeliveryState::kPending);
  auto b2 = store_->find_letter(kJobcenterGln, "B2");
  ASSERT_TRUE(b2);
  EXPECT_FALSE(b2->has_value());

  EXPECT_FALSE(store_->commit_batch());  // no batch open
}

TEST_P(StoreContractTest, ReadsSeeOnlyCommittedBatches) {
  ASSERT_TRUE(store_->begin_batch());
  const auto a = store_new(make_message("E1", {"B1"}));
  auto before = store_->get_message(a);
  ASSERT_TRUE(before);
  EXPECT_FALSE(before->has_value());  // the reader connection sees the last commit
  ASSERT_TRUE(store_->commit_batch());
  auto after = store_->get_message(a);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->has_value());
}

TEST_P(StoreContractTest, AFailedOperationLeavesNoTraceAndTheBatchStillCommits) {
  const auto a = store_new(make_message("E0", {"B0"}));

  ASSERT_TRUE(store_->begin_batch());
  const auto b = store_new(make_message("E1", {"B1"}));
  auto unknown = store_->update_delivery(a + 100, DeliveryState::kDelivered, 1, at_ms(0), "",
                                         event(a + 100, "delivered"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
  // Fails half way: the message row goes in, then the second letter breaks the letters key.
  // The store cannot tell a plan naming a letter twice from a racing writer: it reports the
  // plan stale (the intake core refuses such envelopes before they get here).
  auto broken = accept_message(*store_, make_message("E2", {"B2", "B2"}));
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, Errc::kStale);
  ASSERT_TRUE(store_->update_delivery(a, DeliveryState::kDelivered, 1, at_ms(0), "",
                                      event(a, "delivered")));
  ASSERT_TRUE(store_->commit_batch());

  EXPECT_EQ(count_messages(), 2);
  auto rb = store_->get_message(b);
  ASSERT_TRUE(rb && rb->has_value());
  auto ra = store_->get_message(a);
  ASSERT_TRUE(ra && ra->has_value());
  EXPECT_EQ((*ra)->state, DeliveryState::kDelivered);
  auto b2 = store_->find_letter(kJobcenterGln, "B2");
  ASSERT_TRUE(b2);
  EXPECT_FALSE(b2->has_value());
  // The broken accept's id was never committed, so no events point at it either.
  auto orphan = store_->timeline(b + 1);
  ASSERT_TRUE(orphan);
  EXPECT_TRUE(orphan->empty());
}

// A plan decided without reading its letters (MessagePlan::letters_unread, issue 8) is checked
// by the store: one whose letter is stored by now is kStale, writes nothing, and — in an
// optimistic batch — leaves the batch unspoiled; one whose letters are all new is stored.
TEST_P(StoreContractTest, APlanWithItsLettersUnreadIsStaleIfOneIsStored) {
  const auto a = store_new(make_message("E0", {"B0"}));
  ASSERT_TRUE(store_->begin_batch());
  store_->guard_calls(false);
  MessagePlan resent;
  resent.message = make_message("E0-again", {"B9", "B0"});
  resent.letters_unread = true;
  auto stale = store_->store_message(resent);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Errc::kStale);
  EXPECT_FALSE(store_->batch_spoiled());
  MessagePlan fresh;
  fresh.message = make_message("E1", {"B1"});
  fresh.letters_unread = true;
  auto b = store_->store_message(fresh);
  ASSERT_TRUE(b) << b.error().detail;
  ASSERT_TRUE(store_->commit_batch());

  EXPECT_EQ(count_messages(), 2);
  auto b0 = store_->find_letter(kJobcenterGln, "B0");
  ASSERT_TRUE(b0 && b0->has_value());
  EXPECT_EQ((*b0)->message_id, a);
  auto b9 = store_->find_letter(kJobcenterGln, "B9");
  ASSERT_TRUE(b9);
  EXPECT_FALSE(b9->has_value()) << "the stale plan's new letter was kept";
}

// --- EHMI SBDH envelopes the broker sent (issue 9) ---

TEST_P(StoreContractTest, SentEnvelopesAreRecordedFoundAndKeptAcrossARestart) {
  const auto a = store_new(make_message("E1", {"B1"}));
  const auto b = store_new(make_message("E2", {"B2"}));
  auto none = store_->find_sent_envelope("9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc");
  ASSERT_TRUE(none) << none.error().detail;
  EXPECT_FALSE(none->has_value());

  ASSERT_TRUE(store_->record_sent_envelope("9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc", a, at_ms(5)));
  // The same envelope again for the same message (a retried commit) changes nothing.
  ASSERT_TRUE(store_->record_sent_envelope("9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc", a, at_ms(9)));
  auto other = store_->record_sent_envelope("9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc", b, at_ms(6));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::kConflict);
  auto unknown = store_->record_sent_envelope("E-unknown", b + 100, at_ms(6));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
  auto empty = store_->record_sent_envelope("", a, at_ms(6));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Errc::kInvalid);
  ASSERT_TRUE(store_->record_sent_envelope("E-b", b, at_ms(7)));

  restart();
  auto found = store_->find_sent_envelope("9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc");
  ASSERT_TRUE(found) << found.error().detail;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, (SentEnvelope{"9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc", a, at_ms(5)}));
  auto found_b = store_->find_sent_envelope("E-b");
  ASSERT_TRUE(found_b && found_b->has_value());
  EXPECT_EQ((*found_b)->message_id, b);
  EXPECT_FALSE(store_->find_sent_envelope("E-unknown")->has_value());
}

TEST_P(StoreContractTest, ASentEnvelopeInARolledBackBatchIsNotFound) {
  const auto a = store_new(make_message("E1", {"B1"}));
  ASSERT_TRUE(store_->begin_batch());
  ASSERT_TRUE(store_->record_sent_envelope("S1", a, at_ms(5)));
  EXPECT_FALSE(store_->find_sent_envelope("S1")->has_value());  // readers see commits only
  store_->rollback_batch();
  EXPECT_FALSE(store_->find_sent_envelope("S1")->has_value());
  ASSERT_TRUE(store_->begin_batch());
  ASSERT_TRUE(store_->record_sent_envelope("S1", a, at_ms(6)));
  ASSERT_TRUE(store_->commit_batch());
  auto found = store_->find_sent_envelope("S1");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->sent_at, at_ms(6));
}

// --- letter versions (MedCom StatusCode, domain.md §2) ---

TEST_P(StoreContractTest, ACorrectedLetterIsANewVersionAndTheOldOneStaysFindable) {
  const auto first = make_message("E1", {"Brev1"}, "v1");
  const auto v1 = store_new(first);

  auto out = accept_message(
      *store_, with_status(make_message("E2", {"Brev1"}, "v2"), LetterStatus::kCorrected));
  ASSERT_TRUE(out) << out.error().detail;
  ASSERT_EQ(out->kind, Kind::kStored);
  const auto v2 = out->message_id;
  EXPECT_GT(v2, v1);
  EXPECT_EQ(out->superseded, (std::vector<std::int64_t>{v1}));

  auto latest = store_->find_letter(kJobcenterGln, "Brev1");
  ASSERT_TRUE(latest && latest->has_value());
  EXPECT_EQ((*latest)->message_id, v2);
  EXPECT_EQ((*latest)->status, LetterStatus::kCorrected);
  EXPECT_EQ((*latest)->content_hash, sha256_hex("Brev1/v2"));

  // The old version keeps its letter, as it was received.
  auto old = store_->get_message(v1);
  ASSERT_TRUE(old && old->has_value());
  ASSERT_EQ((*old)->letters.size(), 1u);
  EXPECT_EQ((*old)->letters[0].content_hash, first.letters[0].content_hash);
  EXPECT_EQ((*old)->letters[0].status, LetterStatus::kNew);
  auto tl = store_->timeline(v1);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received", "superseded"}));
  EXPECT_EQ(tl->back().detail, "by envelope E2, rettetbrev");
  auto fresh = store_->get_message(v2);
  ASSERT_TRUE(fresh && fresh->has_value());
  ASSERT_EQ((*fresh)->letters.size(), 1u);
  EXPECT_EQ((*fresh)->letters[0].status, LetterStatus::kCorrected);

  // Resends of either version get that version's answer.
  auto resend_v2 = accept_message(
      *store_, with_status(make_message("E3", {"Brev1"}, "v2"), LetterStatus::kCorrected));
  ASSERT_TRUE(resend_v2);
  EXPECT_EQ(resend_v2->kind, Kind::kDuplicate);
  EXPECT_EQ(resend_v2->message_id, v2);
  auto late_resend_v1 = accept_message(*store_, make_message("E4", {"Brev1"}, "v1"));
  ASSERT_TRUE(late_resend_v1);
  EXPECT_EQ(late_resend_v1->kind, Kind::kDuplicate);
  EXPECT_EQ(late_resend_v1->message_id, v1);
  EXPECT_EQ(late_resend_v1->acceptance, first.acceptance);

  // A new letter reusing the id is still a conflict.
  auto reuse = accept_message(*store_, make_message("E5", {"Brev1"}, "v3"));
  ASSERT_TRUE(reuse);
  EXPECT_EQ(reuse->kind, Kind::kConflict);
  EXPECT_EQ(reuse->conflicting_letter_id, "Brev1");

  // A cancellation replaces the correction.
  auto cancel = accept_message(
      *store_, with_status(make_message("E6", {"Brev1"}, "cancelled"), LetterStatus::kCancelled));
  ASSERT_TRUE(cancel);
  ASSERT_EQ(cancel->kind, Kind::kStored);
  EXPECT_EQ(cancel->superseded, (std::vector<std::int64_t>{v2}));
  auto tl2 = store_->timeline(v2);
  ASSERT_TRUE(tl2);
  EXPECT_EQ(tl2->back().kind, "superseded");
  EXPECT_EQ(tl2->back().detail, "by envelope E6, annulleretbrev");
  latest = store_->find_letter(kJobcenterGln, "Brev1");
  ASSERT_TRUE(latest && latest->has_value());
  EXPECT_EQ((*latest)->message_id, cancel->message_id);
  EXPECT_EQ((*latest)->status, LetterStatus::kCancelled);
  EXPECT_EQ(count_messages(), 3);
}

TEST_P(StoreContractTest, CorrectingOneLetterOfAnEnvelopeKeepsTheOthersInPlace) {
  const auto original = store_new(make_message("E1", {"Brev1", "Brev2", "Brev3"}, "v1"));
  auto corr = make_message("E2", {"Brev2", "Brev3"}, "v2");
  corr.letters[0].status = LetterStatus::kCorrected;
  corr.letters[1].status = LetterStatus::kCancelled;
  auto out = accept_message(*store_, corr);
  ASSERT_TRUE(out) << out.error().detail;
  ASSERT_EQ(out->kind, Kind::kStored);
  EXPECT_EQ(out->superseded, (std::vector<std::int64_t>{original}));  // once per message
  auto tl = store_->timeline(original);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received", "superseded"}));
  EXPECT_EQ(tl->back().detail, "by envelope E2, rettetbrev, annulleretbrev");

  auto old = store_->get_message(original);
  ASSERT_TRUE(old && old->has_value());
  ASSERT_EQ((*old)->letters.size(), 3u);  // in envelope order, current and replaced alike
  EXPECT_EQ((*old)->letters[0].letter_id, "Brev1");
  EXPECT_EQ((*old)->letters[1].letter_id, "Brev2");
  EXPECT_EQ((*old)->letters[1].content_hash, sha256_hex("Brev2/v1"));
  EXPECT_EQ((*old)->letters[2].letter_id, "Brev3");

  auto brev1 = store_->find_letter(kJobcenterGln, "Brev1");
  ASSERT_TRUE(brev1 && brev1->has_value());
  EXPECT_EQ((*brev1)->message_id, original);
  auto brev2 = store_->find_letter(kJobcenterGln, "Brev2");
  ASSERT_TRUE(brev2 && brev2->has_value());
  EXPECT_EQ((*brev2)->message_id, out->message_id);

  // A late resend of the original envelope is still that envelope: the first answer.
  auto resend = accept_message(*store_, make_message("E3", {"Brev1", "Brev2", "Brev3"}, "v1"));
  ASSERT_TRUE(resend);
  EXPECT_EQ(resend->kind, Kind::kDuplicate);
  EXPECT_EQ(resend->message_id, original);
  // Letters of the two versions together are mixed.
  auto both = make_message("E4", {"Brev1", "Brev2"}, "v1");
  both.letters[1].content_hash = sha256_hex("Brev2/v2");
  both.letters[1].status = LetterStatus::kCorrected;
  auto mixed = accept_message(*store_, both);
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->kind, Kind::kMixed);
}

TEST_P(StoreContractTest, VersionsMixWithNewLettersButNotWithResends) {
  const auto a = store_new(make_message("E1", {"Brev1", "Brev2"}, "v1"));

  auto with_resend = make_message("E2", {"Brev1", "Brev2"}, "v1");
  with_resend.letters[0].content_hash = sha256_hex("Brev1/v2");
  with_resend.letters[0].status = LetterStatus::kCorrected;
  auto mixed = accept_message(*store_, with_resend);
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->kind, Kind::kMixed);

  auto with_new =
      with_status(make_message("E3", {"Brev1", "Brev9"}, "v2"), LetterStatus::kCorrected);
  auto stored = accept_message(*store_, with_new);
  ASSERT_TRUE(stored) << stored.error().detail;
  ASSERT_EQ(stored->kind, Kind::kStored);
  EXPECT_EQ(stored->superseded, (std::vector<std::int64_t>{a}));

  // A correction of a letter never seen is simply a new letter.
  auto unseen =
      accept_message(*store_, with_status(make_message("E4", {"Brev7"}), LetterStatus::kCorrected));
  ASSERT_TRUE(unseen);
  EXPECT_EQ(unseen->kind, Kind::kStored);
  EXPECT_TRUE(unseen->superseded.empty());
}

TEST_P(StoreContractTest, ARolledBackCorrectionLeavesTheOldVersionCurrent) {
  const auto a = store_new(make_message("E1", {"Brev1"}, "v1"));
  ASSERT_TRUE(store_->begin_batch());
  auto out = accept_message(
      *store_, with_status(make_message("E2", {"Brev1"}, "v2"), LetterStatus::kCorrected));
  ASSERT_TRUE(out && out->kind == Kind::kStored);
  store_->rollback_batch();

  auto latest = store_->find_letter(kJobcenterGln, "Brev1");
  ASSERT_TRUE(latest && latest->has_value());
  EXPECT_EQ((*latest)->message_id, a);
  auto tl = store_->timeline(a);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received"}));
  auto again = accept_message(
      *store_, with_status(make_message("E2", {"Brev1"}, "v2"), LetterStatus::kCorrected));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kind, Kind::kStored);
  restart();
  auto old = store_->get_message(a);
  ASSERT_TRUE(old && old->has_value());
  ASSERT_EQ((*old)->letters.size(), 1u);
  EXPECT_EQ((*old)->letters[0].content_hash, sha256_hex("Brev1/v1"));
}

// --- deadlines (issue 3) ---

TEST_P(StoreContractTest, EveryFieldRoundTripsWithOptionalsEmptyAndSet) {
  const Deadline full = full_deadline();
  Deadline bare = make_deadline("Brev1", at_ms(0), at_ms(14 * kDayMs));
  bare.next_action_at.reset();
  ASSERT_FALSE(bare.answered_at || bare.closed_at || bare.discharge_date || bare.lead_time_days);
  put(full);
  put(bare);

  EXPECT_EQ(find(full.key), full);
  EXPECT_EQ(find(bare.key), bare);
  EXPECT_EQ(find(DeadlineKey{kJobcenterGln, "Udskr-77"}), std::nullopt);  // keyed per requester

  // Each field on its own makes a difference, so the comparison above covers it.
  Deadline one_off = full;
  one_off.lead_time_days = 0;
  put(one_off);
  EXPECT_EQ(find(full.key), one_off);
  EXPECT_NE(find(full.key), full);
}

TEST_P(StoreContractTest, PutReplacesTheDeadlineWithTheSameKey) {
  Deadline d = make_deadline("Brev1", at_ms(0), at_ms(14 * kDayMs));
  put(d);
  Deadline answered = d;
  answered.state = DeadlineState::kAnsweredOnTime;
  answered.answered_at = at_ms(3 * kDayMs);
  answered.closed_at = at_ms(3 * kDayMs);
  answered.next_action_at.reset();
  put(answered);

  EXPECT_EQ(find(d.key), answered);
  DeadlineFilter all;
  EXPECT_EQ(listed(all), (std::vector<std::string>{"Brev1"}));
  auto due = store_->due_deadlines(at_ms(100 * kDayMs), 10);
  ASSERT_TRUE(due);
  EXPECT_TRUE(due->empty());  // nothing left to do once answered
}

TEST_P(StoreContractTest, PutAppendsTheEventAtomically) {
  const auto msg = store_request("Brev1");
  const Deadline d = make_deadline("Brev1", at_ms(0), at_ms(14 * kDayMs));
  ASSERT_TRUE(store_->put_deadline(
      d, msg, MessageEvent{msg, at_ms(60'000), "deadline-opened", "LÆ125 due 2026-11-20"}));
  auto tl = store_->timeline(msg);
  ASSERT_TRUE(tl);
  ASSERT_EQ(tl->size(), 2u);
  EXPECT_EQ(tl->back().kind, "deadline-opened");
  EXPECT_EQ(tl->back().detail, "LÆ125 due 2026-11-20");
  EXPECT_EQ(tl->back().at, at_ms(60'000));

  // An event for a message that does not exist fails the whole put.
  Deadline changed = d;
  changed.reminder_steps_done = 1;
  auto orphan =
      store_->put_deadline(changed, msg + 100, MessageEvent{msg + 100, at_ms(1), "reminder", ""});
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code, Errc::kNotFound);
  EXPECT_EQ(find(d.key), d);

  // Without an event kind nothing is appended.
  ASSERT_TRUE(store_->put_deadline(changed, msg, MessageEvent{}));
  EXPECT_EQ(find(d.key), changed);
  tl = store_->timeline(msg);
  ASSERT_TRUE(tl);
  EXPECT_EQ(tl->size(), 2u);
}

// A request's deadline opens at its first delivery; a delivery again, or a second broker
// racing the first, changes nothing: neither the row nor the timeline.
TEST_P(StoreContractTest, OpenDeadlineWritesOnlyWhenNoneIsStored) {
  const auto msg = store_request("Brev1");
  const Deadline first = make_deadline("Brev1", at_ms(0), at_ms(14 * kDayMs));
  auto opened = store_->open_deadline(
      first, msg, MessageEvent{msg, at_ms(60'000), "deadline-opened", "LÆ125 due 2026-11-20"});
  ASSERT_TRUE(opened) << opened.error().detail;
  EXPECT_TRUE(*opened);
  EXPECT_EQ(find(first.key), first);
  auto tl = store_->timeline(msg);
  ASSERT_TRUE(tl);
  ASSERT_EQ(tl->size(), 2u);
  EXPECT_EQ(tl->back().kind, "deadline-opened");

  Deadline later = make_deadline("Brev1", at_ms(kDayMs), at_ms(15 * kDayMs));
  opened = store_->open_deadline(later, msg,
                                 MessageEvent{msg, at_ms(kDayMs), "deadline-opened", "again"});
  ASSERT_TRUE(opened) << opened.error().detail;
  EXPECT_FALSE(*opened);
  EXPECT_EQ(find(first.key), first);  // the first delivery's clock stands
  tl = store_->timeline(msg);
  ASSERT_TRUE(tl);
  EXPECT_EQ(tl->size(), 2u);

  // As put_deadline: an event for a message that does not exist fails the whole call, and an
  // invalid date is refused; neither leaves a row.
  const Deadline other = make_deadline("Brev2", at_ms(0), at_ms(14 * kDayMs));
  auto orphan = store_->open_deadline(other, msg + 100,
                                      MessageEvent{msg + 100, at_ms(1), "deadline-opened", ""});
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code, Errc::kNotFound);
  EXPECT_EQ(find(other.key), std::nullopt);
  Deadline bad = other;
  bad.due = year{2026} / month{2} / day{30};
  auto refused = store_->open_deadline(bad, msg, MessageEvent{});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kInvalid);
  EXPECT_EQ(find(other.key), std::nullopt);
}

TEST_P(StoreContractTest, InvalidDatesAreRefused) {
  Deadline d = make_deadline("Brev1", at_ms(0), at_ms(0));
  d.due = year{2026} / month{2} / day{30};
  auto r = store_->put_deadline(d, 0, MessageEvent{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalid);
  d = make_deadline("Brev1", at_ms(0), at_ms(0));
  d.discharge_date = Date{};
  r = store_->put_deadline(d, 0, MessageEvent{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalid);
  EXPECT_EQ(find(d.key), std::nullopt);
}

TEST_P(StoreContractTest, DueDeadlinesInOrderUpToTheLimit) {
  // next_action_at: c 100, a 200, d 200 (inserted after a), e 300 = now, b 400, f none.
  const std::vector<std::pair<std::string, std::optional<std::int64_t>>> rows = {
      {"a", 200}, {"b", 400}, {"c", 100}, {"d", 200}, {"e", 300}, {"f", std::nullopt}};
  for (const auto& [id, next] : rows) {
    Deadline d = make_deadline(id, at_ms(0), at_ms(1000));
    d.next_action_at = next ? std::optional(at_ms(*next)) : std::nullopt;
    put(d);
  }
  auto due = store_->due_deadlines(at_ms(300), 10);
  ASSERT_TRUE(due);
  EXPECT_EQ(letter_ids(*due), (std::vector<std::string>{"c", "a", "d", "e"}));
  EXPECT_EQ((*due)[0].next_action_at, at_ms(100));

  auto two = store_->due_deadlines(at_ms(300), 2);
  ASSERT_TRUE(two);
  EXPECT_EQ(letter_ids(*two), (std::vector<std::string>{"c", "a"}));
  auto none_yet = store_->due_deadlines(at_ms(99), 10);
  ASSERT_TRUE(none_yet);
  EXPECT_TRUE(none_yet->empty());
  auto zero = store_->due_deadlines(at_ms(300), 0);
  ASSERT_TRUE(zero);
  EXPECT_TRUE(zero->empty());
}

TEST_P(StoreContractTest, ListFiltersCombineAndPage) {
  const TimePoint now = at_ms(30 * kDayMs);
  // id, owed_by, owed_to, form, kind, opened (days), due_end (days), state
  struct Row {
    std::string id, by, to, form;
    DeadlineKind kind;
    int opened, due;
    DeadlineState state;
  };
  const std::vector<Row> rows = {
      {"o1", "psyk", "jc", "LÆ125", DeadlineKind::kCertificate, 1, 20, DeadlineState::kOpen},
      {"o2", "psyk", "jc2", "LÆ135", DeadlineKind::kCertificate, 2, 25, DeadlineState::kOpen},
      {"o3", "psyk2", "jc", "LÆ125", DeadlineKind::kCertificate, 3, 10, DeadlineState::kOpen},
      {"s1", "psyk", "jc", "LÆ125", DeadlineKind::kCertificate, 25, 33, DeadlineState::kOpen},
      {"m1", "jc", "psyk", "", DeadlineKind::kMentorResponse, 26, 31, DeadlineState::kOpen},
      {"l1", "psyk", "jc", "LÆ125", DeadlineKind::kCertificate, 4, 15,
       DeadlineState::kAnsweredLate},
      {"f1", "psyk", "jc", "LÆ125", DeadlineKind::kCertificate, 5, 60, DeadlineState::kOpen},
  };
  for (const auto& r : rows) {
    Deadline d = make_deadline(r.id, at_ms(r.opened * kDayMs), at_ms(r.due * kDayMs));
    d.owed_by = r.by;
    d.owed_to = r.to;
    d.form = r.form;
    d.kind = r.kind;
    d.state = r.state;
    put(d);
  }

  DeadlineFilter f;
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o3", "l1", "o1", "o2", "m1", "s1", "f1"}));

  f = {};
  f.state = DeadlineState::kOpen;
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o3", "o1", "o2", "m1", "s1", "f1"}));

  f = {};
  f.overdue_only = true;
  auto no_now = store_->list_deadlines(f);
  ASSERT_FALSE(no_now);
  EXPECT_EQ(no_now.error().code, Errc::kInvalid);
  f.now = now;
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o3", "o1", "o2"}));  // l1 is answered
  // Issue 12, item 20: the deadline has passed at due_end itself (past_due), not an instant later.
  f.now = at_ms(20 * kDayMs - 1);  // the last millisecond of o1's due day: not overdue yet
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o3"}));
  f.now = at_ms(20 * kDayMs);  // due_end == now: overdue
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o3", "o1"}));
  f.now = now;
  f.state = DeadlineState::kAnsweredLate;  // overdue means open
  EXPECT_TRUE(listed(f).empty());

  f = {};  // due soon: open and due within 5 days of now
  f.state = DeadlineState::kOpen;
  f.due_before = now + std::chrono::milliseconds(5 * kDayMs);
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o3", "o1", "o2", "m1", "s1"}));

  f = {};
  f.endpoint = "jc";  // owed_by or owed_to
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o3", "l1", "o1", "m1", "s1", "f1"}));
  f.state = DeadlineState::kOpen;
  f.overdue_only = true;
  f.now = now;
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o3", "o1"}));
  f.limit = 1;
  f.offset = 1;
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o1"}));

  f = {};
  f.form = "LÆ135";
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o2"}));
  f = {};
  f.kind = DeadlineKind::kMentorResponse;
  EXPECT_EQ(listed(f), (std::vector<std::string>{"m1"}));

  f = {};  // age filters are strict: opened before day 3, opened after day 4
  f.opened_before = at_ms(3 * kDayMs);
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o1", "o2"}));
  f = {};
  f.opened_after = at_ms(4 * kDayMs);
  EXPECT_EQ(listed(f), (std::vector<std::string>{"m1", "s1", "f1"}));
  f.endpoint = "psyk";
  f.form = "LÆ125";
  EXPECT_EQ(listed(f), (std::vector<std::string>{"s1", "f1"}));

  // Paging covers everything once, in order.
  std::vector<std::string> paged;
  for (int offset = 0; offset < 10; offset += 3) {
    DeadlineFilter page;
    page.limit = 3;
    page.offset = offset;
    const auto got = listed(page);
    EXPECT_LE(got.size(), 3u);
    paged.insert(paged.end(), got.begin(), got.end());
  }
  EXPECT_EQ(paged, (std::vector<std::string>{"o3", "l1", "o1", "o2", "m1", "s1", "f1"}));
  f = {};
  f.limit = 0;
  EXPECT_TRUE(listed(f).empty());
}

// The console's view=all and an endpoint's list without a state read one index range per state
// (and side) and merge them: the pages still come in (due_end, id) order across every state, ties
// on due_end in the order the deadlines were stored, each deadline once.
TEST_P(StoreContractTest, ListsWithoutAStateMergeEveryStateInOrder) {
  const std::vector<DeadlineState> states(kDeadlineStates.begin(), kDeadlineStates.end());
  std::vector<std::string> expected;  // stored in this order, so ids grow in it
  std::vector<std::string> owed_by_psyk2;
  for (int i = 0; i < 25; ++i) {
    const std::string id = "d" + std::to_string(i);
    // Due days 0, 0, 1, 1, 2, ... (ties in pairs), states cycling so each day mixes two of them.
    Deadline d = make_deadline(id, at_ms(0), at_ms((i / 2) * kDayMs));
    d.state = states[static_cast<std::size_t>(i) % states.size()];
    d.owed_by = i % 3 == 0 ? "psyk2" : "psyk";
    put(d);
    expected.push_back(id);
    if (i % 3 == 0) owed_by_psyk2.push_back(id);
  }
  // Pages of 1, 4 and 30, up to past the end.
  for (int limit : {1, 4, 30}) {
    std::vector<std::string> paged;
    for (int offset = 0; offset < 30; offset += limit) {
      DeadlineFilter page;
      page.limit = limit;
      page.offset = offset;
      const auto got = listed(page);
      EXPECT_LE(got.size(), static_cast<std::size_t>(limit));
      paged.insert(paged.end(), got.begin(), got.end());
    }
    EXPECT_EQ(paged, expected) << "pages of " << limit;
  }
  DeadlineFilter by_endpoint;
  by_endpoint.endpoint = "psyk2";
  by_endpoint.offset = 2;
  by_endpoint.limit = 3;
  EXPECT_EQ(listed(by_endpoint),
            (std::vector<std::string>(owed_by_psyk2.begin() + 2, owed_by_psyk2.begin() + 5)));
  // A state with no deadline due before day 3: only the others' ranges give rows.
  DeadlineFilter due_before;
  due_before.due_before = at_ms(2 * kDayMs);
  EXPECT_EQ(listed(due_before), (std::vector<std::string>{"d0", "d1", "d2", "d3", "d4", "d5"}));
}

TEST_P(StoreContractTest, OpenedBetweenIsHalfOpen) {
  for (int i = 0; i < 5; ++i)
    put(make_deadline("d" + std::to_string(i), at_ms(i * 1000), at_ms(kDayMs)));
  auto got = store_->deadlines_opened_between(at_ms(1000), at_ms(4000));
  ASSERT_TRUE(got);
  EXPECT_EQ(letter_ids(*got), (std::vector<std::string>{"d1", "d2", "d3"}));
  auto empty = store_->deadlines_opened_between(at_ms(4000), at_ms(4000));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

// The monthly statistics stream a year of deadlines on a reports thread (statistics_response);
// meanwhile the io thread's reads must not wait for them, nor for the gauges' recount.
TEST_P(StoreContractTest, ReadsAreAnsweredWhileDeadlinesAreStreamedToTheStatistics) {
  for (int i = 0; i < 3; ++i)
    put(make_deadline("d" + std::to_string(i), at_ms(i * 1000), at_ms(kDayMs)));
  std::promise<void> streaming, go_on;
  std::shared_future<void> resume = go_on.get_future().share();
  std::thread reports([&] {
    bool first = true;
    auto r = store_->each_deadline_opened_between(at_ms(0), at_ms(10'000), [&](const Deadline&) {
      if (!std::exchange(first, false)) return;
      streaming.set_value();
      resume.wait_for(std::chrono::seconds{10});  // held in the middle of the stream
    });
    EXPECT_TRUE(r) << r.error().detail;
  });
  streaming.get_future().wait();
  auto read = std::async(std::launch::async, [&] {
    return store_->find_deadline(make_deadline("d1", at_ms(1000), at_ms(kDayMs)).key);
  });
  const bool answered = read.wait_for(std::chrono::seconds{5}) == std::future_status::ready;
  go_on.set_value();
  reports.join();
  EXPECT_TRUE(answered) << "a read waited for the statistics";
  auto found = read.get();
  ASSERT_TRUE(found) << found.error().detail;
  EXPECT_TRUE(found->has_value());
}

TEST_P(StoreContractTest, ARolledBackBatchLeavesNoDeadline) {
  const Deadline d = make_deadline("Brev1", at_ms(0), at_ms(kDayMs));
  ASSERT_TRUE(store_->begin_batch());
  put(d);
  EXPECT_EQ(find(d.key), std::nullopt);  // readers see only committed batches
  store_->rollback_batch();
  EXPECT_EQ(find(d.key), std::nullopt);
  auto due = store_->due_deadlines(at_ms(2 * kDayMs), 10);
  ASSERT_TRUE(due);
  EXPECT_TRUE(due->empty());
}

// --- ids, plans and what their decisions rest on ---

TEST_P(StoreContractTest, IdsIncreaseFromOneAndWhatIsUndoneTakesNoId) {
  EXPECT_EQ(store_new(make_message("E1", {"B1"})), 1);
  auto stale = store_->store_message(plan_for(make_message("E2", {"B1"})));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Errc::kStale);
  ASSERT_TRUE(store_->begin_batch());
  EXPECT_EQ(store_new(make_message("E3", {"B3"})), 2);
  store_->rollback_batch();
  auto no_letters = store_->store_message(plan_for(make_message("E4", {})));
  ASSERT_FALSE(no_letters);
  EXPECT_EQ(no_letters.error().code, Errc::kInvalid);
  EXPECT_EQ(store_new(make_message("E5", {"B5"})), 2);
  EXPECT_EQ(store_new(make_message("E6", {"B6"})), 3);
  EXPECT_EQ(count_messages(), 3);
}

TEST_P(StoreContractTest, APlanIsStaleWhenALetterItTakesAsNewIsStoredByNow) {
  const auto a = store_new(make_message("E1", {"B1"}));
  // Decided before E1 was stored (a resend racing it): B2 and B1 both taken as new.
  auto stale = store_->store_message(plan_for(make_message("E2", {"B2", "B1"})));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Errc::kStale);
  EXPECT_EQ(count_messages(), 1);
  auto b2 = store_->find_letter(kJobcenterGln, "B2");
  ASSERT_TRUE(b2);
  EXPECT_FALSE(b2->has_value());
  auto b1 = store_->find_letter(kJobcenterGln, "B1");
  ASSERT_TRUE(b1 && b1->has_value());
  EXPECT_EQ((*b1)->message_id, a);
  auto orphan = store_->timeline(a + 1);
  ASSERT_TRUE(orphan);
  EXPECT_TRUE(orphan->empty());

  // The writer sees its own batch: a letter stored earlier in it is stored.
  ASSERT_TRUE(store_->begin_batch());
  ASSERT_TRUE(store_->store_message(plan_for(make_message("E3", {"B3"}))));
  auto again = store_->store_message(plan_for(make_message("E4", {"B3"})));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kStale);
  ASSERT_TRUE(store_->commit_batch());
  EXPECT_EQ(count_messages(), 2);
}

TEST_P(StoreContractTest, APlanIsStaleWhenTheVersionItReplacesIsNoLongerTheLatest) {
  const auto v1 = store_new(make_message("E1", {"Brev1"}, "v1"));
  const std::string h1 = sha256_hex("Brev1/v1");
  // Two corrections decided on v1: the first stored replaces it, the second is stale.
  const auto first = with_status(make_message("E2", {"Brev1"}, "v2"), LetterStatus::kCorrected);
  const auto second = with_status(make_message("E3", {"Brev1"}, "v3"), LetterStatus::kCorrected);
  auto v2 = store_->store_message(plan_for(first, {Supersession{"Brev1", v1, h1}}));
  ASSERT_TRUE(v2) << v2.error().detail;
  auto late = store_->store_message(plan_for(second, {Supersession{"Brev1", v1, h1}}));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Errc::kStale);
  // The right message with another content, or a letter never stored, is stale as well.
  auto wrong_hash = store_->store_message(plan_for(second, {Supersession{"Brev1", *v2, h1}}));
  ASSERT_FALSE(wrong_hash);
  EXPECT_EQ(wrong_hash.error().code, Errc::kStale);
  auto never = store_->store_message(
      plan_for(with_status(make_message("E4", {"Brev9"}), LetterStatus::kCorrected),
               {Supersession{"Brev9", v1, h1}}));
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error().code, Errc::kStale);

  EXPECT_EQ(count_messages(), 2);
  auto latest = store_->find_letter(kJobcenterGln, "Brev1");
  ASSERT_TRUE(latest && latest->has_value());
  EXPECT_EQ((*latest)->message_id, *v2);
  auto earlier = store_->find_letter_version(kJobcenterGln, "Brev1", h1);
  ASSERT_TRUE(earlier);
  EXPECT_EQ(*earlier, std::optional<std::int64_t>(v1));

  // Decided again on the latest version, it is stored.
  auto v3 =
      store_->store_message(plan_for(second, {Supersession{"Brev1", *v2, sha256_hex("Brev1/v2")}}));
  ASSERT_TRUE(v3) << v3.error().detail;
  EXPECT_EQ(*v3, *v2 + 1);
}

TEST_P(StoreContractTest, FindLetterVersionNamesTheEarliestReplacedVersionWithThatContent) {
  const auto h = [](const std::string& v) { return sha256_hex("Brev1/" + v); };
  const auto corrected = [](const std::string& envelope, const std::string& content) {
    return with_status(make_message(envelope, {"Brev1"}, content), LetterStatus::kCorrected);
  };
  const auto m1 = store_new(make_message("E1", {"Brev1"}, "v1"));
  auto m2 = store_->store_message(plan_for(corrected("E2", "v2"), {{"Brev1", m1, h("v1")}}));
  ASSERT_TRUE(m2);
  // Back to the first content, then on to a third.
  auto m3 = store_->store_message(plan_for(corrected("E3", "v1"), {{"Brev1", *m2, h("v2")}}));
  ASSERT_TRUE(m3);
  auto m4 = store_->store_message(plan_for(corrected("E4", "v3"), {{"Brev1", *m3, h("v1")}}));
  ASSERT_TRUE(m4);

  const auto version = [&](const std::string& sender, const std::string& hash) {
    auto r = store_->find_letter_version(sender, "Brev1", hash);
    EXPECT_TRUE(r);
    return r ? *r : std::nullopt;
  };
  EXPECT_EQ(version(kJobcenterGln, h("v1")), std::optional<std::int64_t>(m1));
  EXPECT_EQ(version(kJobcenterGln, h("v2")), std::optional<std::int64_t>(*m2));
  EXPECT_EQ(version(kJobcenterGln, h("v3")), std::nullopt);  // the latest is no earlier version
  EXPECT_EQ(version(kPsychiatryGln, h("v1")), std::nullopt);
  auto latest = store_->find_letter(kJobcenterGln, "Brev1");
  ASSERT_TRUE(latest && latest->has_value());
  EXPECT_EQ((*latest)->message_id, *m4);
  auto third = store_->get_message(*m3);
  ASSERT_TRUE(third && third->has_value());
  ASSERT_EQ((*third)->letters.size(), 1u);
  EXPECT_EQ((*third)->letters[0].content_hash, h("v1"));
  EXPECT_EQ((*third)->letters[0].status, LetterStatus::kCorrected);
}

TEST_P(StoreContractTest, APlanWritesReceiptsDeadlinesAndEventsOnOtherMessages) {
  const auto request = store_request("Req1");
  const Deadline d = make_deadline("Req1", at_ms(0), at_ms(14 * kDayMs));
  ASSERT_TRUE(store_->put_deadline(
      d, request, MessageEvent{request, at_ms(1), "deadline-opened", "LÆ125 due 2026-11-20"}));

  // A reply: stored with a receipt and an event on the request, and the deadline answered with
  // an event on the reply (message id 0: the message the plan stores).
  MessagePlan plan = plan_for(make_message("E-reply", {"Svar1"}, "v1", kPsychiatryGln, at_ms(100)));
  plan.events.push_back(MessageEvent{request, at_ms(100), "relayed", "reply in E-reply"});
  plan.receipts.push_back(ReceiptUpdate{request, ReceiptState::kPositive,
                                        MessageEvent{0, at_ms(100), "receipt-positive", ""}});
  Deadline answered = d;
  answered.state = DeadlineState::kAnsweredOnTime;
  answered.answered_at = at_ms(100);
  answered.closed_at = at_ms(100);
  answered.next_action_at.reset();
  plan.deadlines.push_back(DeadlineWrite{
      .deadline = answered,
      .message_id = 0,
      .event = MessageEvent{0, at_ms(100), "deadline-answered", "on time"},
      .expect_open = true,
  });
  auto reply = store_->store_message(plan);
  ASSERT_TRUE(reply) << reply.error().detail;

  auto reply_tl = store_->timeline(*reply);
  ASSERT_TRUE(reply_tl);
  EXPECT_EQ(kinds(*reply_tl), (std::vector<std::string>{"received", "deadline-answered"}));
  auto request_tl = store_->timeline(request);
  ASSERT_TRUE(request_tl);
  EXPECT_EQ(kinds(*request_tl), (std::vector<std::string>{"received", "deadline-opened", "relayed",
                                                          "receipt-positive"}));
  EXPECT_EQ((*request_tl)[2].detail, "reply in E-reply");
  auto r = store_->get_message(request);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->receipt, ReceiptState::kPositive);
  EXPECT_EQ(find(d.key), answered);

  // A second reply decided while the deadline was open (two replies racing) finds it closed:
  // stale, and nothing of it is written.
  MessagePlan racing = plan;
  racing.message = make_message("E-reply2", {"Svar2"}, "v1", kPsychiatryGln, at_ms(200));
  auto raced = store_->store_message(racing);
  ASSERT_FALSE(raced);
  EXPECT_EQ(raced.error().code, Errc::kStale);
  EXPECT_EQ(count_messages(), 2);
  auto svar2 = store_->find_letter(kPsychiatryGln, "Svar2");
  ASSERT_TRUE(svar2);
  EXPECT_FALSE(svar2->has_value());
  request_tl = store_->timeline(request);
  ASSERT_TRUE(request_tl);
  EXPECT_EQ(request_tl->size(), 4u);

  // A deadline that was never opened is not open either.
  MessagePlan unknown = plan_for(make_message("E-x", {"Svar3"}, "v1", kPsychiatryGln));
  unknown.deadlines.push_back(DeadlineWrite{
      .deadline = make_deadline("Nope", at_ms(0), at_ms(kDayMs)),
      .message_id = 0,
      .event = MessageEvent{},
      .expect_open = true,
  });
  auto never = store_->store_message(unknown);
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error().code, Errc::kStale);
  EXPECT_EQ(find(DeadlineKey{kJobcenterGln, "Nope"}), std::nullopt);
}

TEST_P(StoreContractTest, APlanNamingAnUnknownMessageWritesNothing) {
  const auto a = store_new(make_message("E1", {"B1"}));
  MessagePlan event_plan = plan_for(make_message("E2", {"B2"}));
  event_plan.events.push_back(MessageEvent{a + 50, at_ms(1), "superseded", ""});
  MessagePlan receipt_plan = plan_for(make_message("E3", {"B3"}));
  receipt_plan.receipts.push_back(ReceiptUpdate{a + 50, ReceiptState::kPositive,
                                                MessageEvent{0, at_ms(1), "receipt-positive", ""}});
  MessagePlan deadline_plan = plan_for(make_message("E4", {"B4"}));
  deadline_plan.deadlines.push_back(DeadlineWrite{
      .deadline = make_deadline("B4", at_ms(0), at_ms(kDayMs)),
      .message_id = a + 50,
      .event = MessageEvent{0, at_ms(1), "deadline-opened", ""},
  });
  for (const MessagePlan* p : {&event_plan, &receipt_plan, &deadline_plan}) {
    auto r = store_->store_message(*p);
    ASSERT_FALSE(r) << p->message.envelope_id;
    EXPECT_EQ(r.error().code, Errc::kNotFound) << p->message.envelope_id;
    auto letter = store_->find_letter(kJobcenterGln, p->message.letters[0].letter_id);
    ASSERT_TRUE(letter);
    EXPECT_FALSE(letter->has_value());
  }
  EXPECT_EQ(find(DeadlineKey{kJobcenterGln, "B4"}), std::nullopt);
  auto tl = store_->timeline(a);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received"}));
  EXPECT_EQ(store_new(make_message("E5", {"B5"})), a + 1);
}

// --- orders and filters beyond the basic cases ---

TEST_P(StoreContractTest, PendingDeliveriesDueTogetherAreInIdOrder) {
  const auto a = store_new(make_message("E1", {"B1"}, "v", kJobcenterGln, at_ms(100)));
  const auto b = store_new(make_message("E2", {"B2"}, "v", kJobcenterGln, at_ms(50)));
  const auto c = store_new(make_message("E3", {"B3"}, "v", kJobcenterGln, at_ms(100)));
  ASSERT_TRUE(store_->update_delivery(b, DeliveryState::kPending, 1, at_ms(100), "timeout",
                                      event(b, "attempt")));
  auto pending = store_->pending_deliveries();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 3u);
  EXPECT_EQ((*pending)[0].message_id, a);
  EXPECT_EQ((*pending)[1].message_id, b);
  EXPECT_EQ((*pending)[2].message_id, c);
  // A requeued message is due at the requeue's instant.
  ASSERT_TRUE(store_->update_delivery(a, DeliveryState::kDeadLettered, 9, at_ms(100), "gave up",
                                      event(a, "dead-lettered")));
  ASSERT_TRUE(store_->requeue(a, at_ms(60)));
  pending = store_->pending_deliveries();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 3u);
  EXPECT_EQ((*pending)[0].message_id, a);
  EXPECT_EQ((*pending)[0].attempts, 0);
  EXPECT_EQ((*pending)[0].next_attempt_at, at_ms(60));
}

TEST_P(StoreContractTest, DeadlinesDueTogetherKeepTheirInsertionOrderWhenReplaced) {
  // Inserted z, m, then z replaced, then a: the order is z, m, a (not by key, not by last write).
  put(make_deadline("z", at_ms(0), at_ms(kDayMs)));
  put(make_deadline("m", at_ms(0), at_ms(kDayMs)));
  Deadline z2 = make_deadline("z", at_ms(0), at_ms(kDayMs));
  z2.reminder_steps_done = 1;
  put(z2);
  put(make_deadline("a", at_ms(0), at_ms(kDayMs)));
  const std::vector<std::string> order = {"z", "m", "a"};
  EXPECT_EQ(listed({}), order);
  auto due = store_->due_deadlines(at_ms(kDayMs), 10);
  ASSERT_TRUE(due);
  EXPECT_EQ(letter_ids(*due), order);
  auto opened = store_->deadlines_opened_between(at_ms(0), at_ms(1));
  ASSERT_TRUE(opened);
  EXPECT_EQ(letter_ids(*opened), order);
  EXPECT_EQ(find(z2.key), z2);
}

TEST_P(StoreContractTest, AnEndpointOnBothSidesIsListedOnce) {
  Deadline self = make_deadline("s", at_ms(0), at_ms(kDayMs));
  self.owed_by = "x";
  self.owed_to = "x";
  put(self);
  Deadline other = make_deadline("o", at_ms(0), at_ms(2 * kDayMs));
  other.owed_to = "x";
  put(other);
  DeadlineFilter f;
  f.endpoint = "x";
  EXPECT_EQ(listed(f), (std::vector<std::string>{"s", "o"}));
  f.offset = 1;
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o"}));
  f.offset = -5;  // a negative offset counts as none
  EXPECT_EQ(listed(f), (std::vector<std::string>{"s", "o"}));

  auto loop = make_message("E1", {"B1"});
  loop.sender_endpoint = "loop";
  loop.receiver_endpoint = "loop";
  const auto id = store_new(loop);
  store_new(make_message("E2", {"B2"}));
  auto looped = store_->list_messages(filter({}, "loop"));
  ASSERT_TRUE(looped);
  EXPECT_EQ(ids(*looped), (std::vector<std::int64_t>{id}));
}

// --- batches and the audit entry points ---

TEST_P(StoreContractTest, OneBatchAtATime) {
  ASSERT_TRUE(store_->begin_batch());
  auto second = store_->begin_batch();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kStorage);
  const auto a = store_new(make_message("E1", {"B1"}));
  ASSERT_TRUE(store_->commit_batch());  // the first batch is still open and commits
  auto r = store_->get_message(a);
  ASSERT_TRUE(r && r->has_value());
  store_->rollback_batch();  // none open: nothing happens
  EXPECT_EQ(count_messages(), 1);
}

TEST_P(StoreContractTest, AuditLinesAndActionsAreWrittenOrRefused) {
  EXPECT_TRUE(store_->audit(at_ms(0), "refused", "malformed XML from 127.0.0.1"));
  EXPECT_TRUE(
      store_->audit_action(at_ms(1), "operator:anna", "view-message", "message 12", "cpr shown"));
  for (const auto& [actor, action, subject] :
       {std::tuple{"", "view-message", "message 12"}, std::tuple{"operator:anna", "", "message 12"},
        std::tuple{"operator:anna", "view-message", ""}}) {
    auto r = store_->audit_action(at_ms(2), actor, action, subject, "");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalid);
  }
}

// Reads run on another thread while the writer commits batches of two messages: a reader sees
// whole batches only, never one message of a pair.
TEST_P(StoreContractTest, ReadersOnAnotherThreadSeeWholeBatches) {
  constexpr int kBatches = 40;
  std::atomic<bool> writer_failed{false};
  std::thread writer([&] {
    for (int b = 0; b < kBatches; ++b) {
      if (!store_->begin_batch()) {
        writer_failed = true;
        return;
      }
      for (int i = 0; i < 2; ++i) {
        const std::string key = std::to_string(b) + "-" + std::to_string(i);
        if (!store_->store_message(plan_for(make_message("E" + key, {"L" + key}))))
          writer_failed = true;
      }
      if (!store_->commit_batch()) writer_failed = true;
    }
  });
  bool odd_seen = false;
  std::int64_t seen = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (seen < 2 * kBatches && !writer_failed && std::chrono::steady_clock::now() < give_up) {
    auto all = store_->list_messages(filter({}, {}, 0, 1'000'000));
    ASSERT_TRUE(all) << all.error().detail;
    seen = static_cast<std::int64_t>(all->size());
    if (seen % 2 != 0) odd_seen = true;
    auto pending = store_->pending_deliveries();
    ASSERT_TRUE(pending);
    if (pending->size() % 2 != 0) odd_seen = true;
  }
  writer.join();
  EXPECT_FALSE(writer_failed);
  EXPECT_FALSE(odd_seen);
  EXPECT_EQ(seen, 2 * kBatches);
}

}  // namespace
}  // namespace sektorbro

namespace sektorbro {
namespace {

// --- leases (issue 11, item 2): several brokers on one database ---

namespace lease_test {

std::vector<std::int64_t> message_ids(const Result<std::vector<PendingDelivery>>& r) {
  std::vector<std::int64_t> out;
  if (r)
    for (const auto& p : *r) out.push_back(p.message_id);
  return out;
}
// renew_leases names its messages in no particular order: sorted, for comparing.
std::vector<std::int64_t> message_ids(const Result<std::vector<std::int64_t>>& r) {
  std::vector<std::int64_t> out = r ? *r : std::vector<std::int64_t>{};
  std::sort(out.begin(), out.end());
  return out;
}

// The error code of a failed operation, or "ok".
std::string outcome(const Result<void>& r) {
  if (r) return "ok";
  switch (r.error().code) {
    case Errc::kStale:
      return "stale";
    case Errc::kNotFound:
      return "not found";
    default:
      return "other: " + r.error().detail;
  }
}

}  // namespace lease_test

TEST_P(StoreContractTest, ALeasedDeliveryIsNobodyElsesUntilItsLeaseEndsUnrenewed) {
  using lease_test::message_ids;
  const auto id = store_request("L1");
  const TimePoint t = at_ms(1'000);
  ASSERT_TRUE(store_->lease_delivery(id, "broker-a", t + std::chrono::seconds{30}));
  EXPECT_TRUE(message_ids(store_->claim_deliveries("broker-b", t, t + std::chrono::seconds{30}, 10))
                  .empty())
      << "held by broker-a";
  // broker-a renews before the lease ends: it now lasts until t+40s.
  EXPECT_EQ(message_ids(store_->renew_leases("broker-a", t + std::chrono::seconds{10},
                                             t + std::chrono::seconds{40})),
            std::vector<std::int64_t>{id});
  EXPECT_TRUE(message_ids(store_->claim_deliveries("broker-b", t + std::chrono::seconds{39},
                                                   t + std::chrono::seconds{69}, 10))
                  .empty());
  EXPECT_TRUE(message_ids(store_->renew_leases("broker-b", t + std::chrono::seconds{39},
                                               t + std::chrono::seconds{69}))
                  .empty())
      << "renewing takes nothing over";
  // broker-a stops renewing (it died): at t+40s exactly the lease has ended.
  const auto taken = store_->claim_deliveries("broker-b", t + std::chrono::seconds{40},
                                              t + std::chrono::seconds{70}, 10);
  ASSERT_TRUE(taken) << taken.error().detail;
  ASSERT_EQ(message_ids(taken), std::vector<std::int64_t>{id});
  EXPECT_EQ(taken->front().receiver_endpoint, "psyk");
  EXPECT_EQ(taken->front().attempts, 0);
  // broker-a comes back: its lease is gone, nothing is renewed for it.
  EXPECT_TRUE(message_ids(store_->renew_leases("broker-a", t + std::chrono::seconds{41},
                                               t + std::chrono::seconds{71}))
                  .empty());
  EXPECT_EQ(message_ids(store_->renew_leases("broker-b", t + std::chrono::seconds{41},
                                             t + std::chrono::seconds{71})),
            std::vector<std::int64_t>{id});
}

// Mailbox fetches (issue 4) with several brokers on one database (issue 11): one message to one
// fetcher at a time; unconfirmed it comes back only once the lease has ended.
TEST_P(StoreContractTest, AMailboxMessageGoesToOneFetcherUntilItsLeaseEnds) {
  const auto first = store_request("M1");
  const auto second = store_request("M2");
  const TimePoint t = at_ms(1'000);
  const auto until = t + std::chrono::seconds{60};
  auto a = store_->claim_mailbox("psyk", "broker-a", t, until, 1);
  ASSERT_TRUE(a) << a.error().detail;
  EXPECT_EQ(*a, std::vector<std::int64_t>{first}) << "lowest id first, at most the limit";
  auto b = store_->claim_mailbox("psyk", "broker-b", t, until, 10);
  ASSERT_TRUE(b) << b.error().detail;
  EXPECT_EQ(*b, std::vector<std::int64_t>{second}) << "not the one broker-a holds";
  EXPECT_TRUE(store_
                  ->claim_mailbox("psyk", "broker-a", t + std::chrono::seconds{59},
                                  t + std::chrono::seconds{119}, 10)
                  ->empty())
      << "both held, by whoever asks";
  EXPECT_TRUE(store_->claim_mailbox("jc", "broker-a", t, until, 10)->empty())
      << "another endpoint's mailbox";
  // Delivery leases are something else: the dispatcher's lease does not hide a mailbox message.
  ASSERT_TRUE(store_->lease_delivery(first, "broker-c", t + std::chrono::hours{1}));
  // broker-b confirms its message; broker-a never confirms: at t+60s its lease has ended.
  ASSERT_TRUE(store_->update_delivery(second, DeliveryState::kDelivered, 1, t, "",
                                      event(second, "delivered")));
  auto again =
      store_->claim_mailbox("psyk", "broker-b", until, until + std::chrono::seconds{60}, 10);
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(*again, std::vector<std::int64_t>{first}) << "the delivered one is gone";
  EXPECT_TRUE(store_->claim_mailbox("psyk", "broker-a", until, until, 0)->empty());
}

TEST_P(StoreContractTest, ClaimingTakesUnleasedPendingDeliveriesEarliestFirstUpToTheLimit) {
  using lease_test::message_ids;
  const auto first = store_request("L1");
  const auto second = store_request("L2");
  const auto delivered = store_request("L3");
  const auto later = store_request("L4");
  const TimePoint t = at_ms(1'000);
  ASSERT_TRUE(store_->update_delivery(delivered, DeliveryState::kDelivered, 1, t, "",
                                      event(delivered, "delivered")));
  ASSERT_TRUE(store_->update_delivery(later, DeliveryState::kPending, 1, t + std::chrono::hours{1},
                                      "HTTP 503", event(later, "retry")));
  const TimePoint until = t + std::chrono::seconds{30};
  EXPECT_EQ(message_ids(store_->claim_deliveries("a", t, until, 1)),
            std::vector<std::int64_t>{first});
  const auto taken = store_->claim_deliveries("b", t, until, 10);
  EXPECT_EQ(message_ids(taken), (std::vector<std::int64_t>{second, later}))
      << "the delivered one is nobody's to claim; the one due later comes last";
  // What the dispatcher schedules a taken delivery by, as stored.
  ASSERT_TRUE(taken);
  ASSERT_EQ(taken->size(), 2u);
  const auto stored = store_->get_message(later);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(taken->back().receiver_endpoint, (*stored)->receiver_endpoint);
  EXPECT_FALSE(taken->back().receiver_endpoint.empty());
  EXPECT_EQ(taken->back().attempts, 1);
  EXPECT_EQ(taken->back().next_attempt_at, t + std::chrono::hours{1});
  EXPECT_EQ(taken->back().received_at, (*stored)->received_at);
  EXPECT_EQ(taken->front().attempts, 0);
  EXPECT_TRUE(message_ids(store_->claim_deliveries("c", t, until, 10)).empty());
  EXPECT_TRUE(message_ids(store_->claim_deliveries("c", t, until, 0)).empty());
  EXPECT_EQ(message_ids(store_->renew_leases("b", t, until)),
            (std::vector<std::int64_t>{second, later}));
}

TEST_P(StoreContractTest, AFinalOutcomeEndsTheLeaseAndARequeuedMessageIsLeasedAfresh) {
  using lease_test::message_ids;
  const auto id = store_request("L1");
  const TimePoint t = at_ms(1'000);
  const TimePoint until = t + std::chrono::seconds{30};
  ASSERT_TRUE(store_->lease_delivery(id, "a", until));
  ASSERT_TRUE(store_->update_delivery(id, DeliveryState::kDeadLettered, 5, t, "gone",
                                      event(id, "dead-lettered")));
  EXPECT_TRUE(message_ids(store_->renew_leases("a", t, until)).empty()) << "no longer pending";
  EXPECT_TRUE(message_ids(store_->claim_deliveries("b", t, until, 10)).empty());
  // An operator requeues it on broker b, which leases it to itself in the same batch.
  ASSERT_TRUE(store_->begin_batch());
  ASSERT_TRUE(store_->requeue(id, t));
  ASSERT_TRUE(store_->lease_delivery(id, "b", until));
  ASSERT_TRUE(store_->commit_batch());
  EXPECT_TRUE(message_ids(store_->renew_leases("a", t, until)).empty());
  EXPECT_TRUE(message_ids(store_->claim_deliveries("a", t, until, 10)).empty());
  EXPECT_EQ(message_ids(store_->renew_leases("b", t, until)), std::vector<std::int64_t>{id});
  auto unknown = store_->lease_delivery(id + 100, "b", until);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
}

TEST_P(StoreContractTest, ASingletonLeaseHasOneHolderAtATime) {
  const TimePoint t = at_ms(1'000);
  const auto s = std::chrono::seconds{1};
  auto held = [&](const std::string& owner, TimePoint now, TimePoint until) {
    auto r = store_->hold_singleton("sweeper", owner, now, until);
    EXPECT_TRUE(r) << r.error().detail;
    return r && *r;
  };
  EXPECT_TRUE(held("a", t, t + 30 * s)) << "free";
  EXPECT_FALSE(held("b", t + 29 * s, t + 59 * s)) << "a holds it";
  EXPECT_TRUE(held("a", t + 20 * s, t + 50 * s)) << "a renews";
  EXPECT_FALSE(held("b", t + 49 * s, t + 79 * s));
  EXPECT_TRUE(held("b", t + 50 * s, t + 80 * s)) << "a stopped renewing: ended at t+50s";
  EXPECT_FALSE(held("a", t + 51 * s, t + 81 * s)) << "b holds it now";
  auto other = store_->hold_singleton("retention", "a", t + 51 * s, t + 81 * s);
  ASSERT_TRUE(other);
  EXPECT_TRUE(*other) << "each name is its own lease";
}

TEST_P(StoreContractTest, ExpectDeadlineIsStaleOnceAnotherSweepMovedTheDeadlineOn) {
  Deadline d = make_deadline("REQ1", at_ms(0), at_ms(10 * kDayMs));
  d.next_action_at = at_ms(5 * kDayMs);
  put(d);
  EXPECT_TRUE(store_->expect_deadline(d));
  // Another sweeper sent reminder step 1 meanwhile.
  Deadline moved = d;
  moved.reminder_steps_done = 1;
  moved.next_action_at = at_ms(10 * kDayMs);
  ASSERT_TRUE(store_->begin_batch());
  ASSERT_TRUE(store_->put_deadline(moved, 0, MessageEvent{}));
  EXPECT_TRUE(store_->expect_deadline(moved)) << "the batch sees its own write";
  ASSERT_TRUE(store_->commit_batch());
  auto stale = store_->expect_deadline(d);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Errc::kStale);
  Deadline flagged = moved;
  flagged.overdue = true;
  EXPECT_EQ(lease_test::outcome(store_->expect_deadline(flagged)), "stale");
  Deadline no_action = moved;
  no_action.next_action_at.reset();
  EXPECT_EQ(lease_test::outcome(store_->expect_deadline(no_action)), "stale");
  Deadline unknown = d;
  unknown.key.letter_id = "REQ2";
  EXPECT_EQ(lease_test::outcome(store_->expect_deadline(unknown)), "not found");
}

TEST_P(StoreContractTest, ExpectReceiptWatchIsStaleOnceTheWatchMovedOnOrEnded) {
  const auto id = store_request("R1");
  ASSERT_TRUE(store_->update_delivery(id, DeliveryState::kDelivered, 1, at_ms(10), "",
                                      event(id, "delivered")));
  EXPECT_EQ(lease_test::outcome(store_->expect_receipt_watch(id, 0)), "stale") << "not watched";
  ASSERT_TRUE(store_->watch_receipt(id, at_ms(10), 0));
  EXPECT_TRUE(store_->expect_receipt_watch(id, 0));
  ASSERT_TRUE(store_->watch_receipt(id, at_ms(20), 1));  // a resend by another broker
  EXPECT_EQ(lease_test::outcome(store_->expect_receipt_watch(id, 0)), "stale");
  EXPECT_TRUE(store_->expect_receipt_watch(id, 1));
  ASSERT_TRUE(store_->watch_receipt(id, std::nullopt, 0));  // given up on
  EXPECT_EQ(lease_test::outcome(store_->expect_receipt_watch(id, 0)), "stale");
  EXPECT_EQ(lease_test::outcome(store_->expect_receipt_watch(id + 100, 0)), "not found");
}

// Issue 8: a delivery that starts the receipt watch writes it with the delivery step, in one
// row write; the watch it leaves is the one watch_receipt(id, at, 0) leaves — owed from the
// delivery's time, no resends, not missing — and a restart reads it back as owed.
TEST_P(StoreContractTest, UpdateDeliveryCanStartTheReceiptWatchInTheSameWrite) {
  const auto watched = store_request("R1");
  const auto unwatched = store_request("R2");
  ASSERT_TRUE(store_->watch_receipt(unwatched, at_ms(3), 2));
  ASSERT_TRUE(store_->update_delivery(watched, DeliveryState::kDelivered, 1, at_ms(10), "",
                                      event(watched, "delivered"), at_ms(10)));
  ASSERT_TRUE(store_->update_delivery(unwatched, DeliveryState::kDelivered, 3, at_ms(11), "",
                                      event(unwatched, "delivered"), std::nullopt));
  EXPECT_TRUE(store_->expect_receipt_watch(watched, 0));
  EXPECT_TRUE(store_->expect_receipt_watch(unwatched, 2)) << "left as it was";
  restart();
  auto owed = store_->receipts_owed();
  ASSERT_TRUE(owed) << owed.error().detail;
  ASSERT_EQ(owed->size(), 2u);
  EXPECT_EQ((*owed)[0].message_id, unwatched);
  EXPECT_EQ((*owed)[1].message_id, watched);
  EXPECT_EQ((*owed)[1].last_sent, at_ms(10));
  EXPECT_EQ((*owed)[1].resends, 0);
  auto message = store_->get_message(watched);
  ASSERT_TRUE(message && *message);
  EXPECT_EQ((*message)->state, DeliveryState::kDelivered);
  EXPECT_EQ((*message)->attempts, 1);
  EXPECT_EQ(lease_test::outcome(
                store_->update_delivery(watched + 100, DeliveryState::kDelivered, 1, at_ms(12), "",
                                        event(watched + 100, "delivered"), at_ms(12))),
            "not found");
}

// Two mailbox confirms of one message (issue 11): the second, in the same batch or a later one,
// finds the message delivered by the first and writes nothing.
TEST_P(StoreContractTest, ExpectDeliveryStateSeesTheBatchsOwnEarlierWrites) {
  const auto id = store_request("R1");
  EXPECT_TRUE(store_->expect_delivery_state(id, DeliveryState::kPending));
  EXPECT_EQ(lease_test::outcome(store_->expect_delivery_state(id, DeliveryState::kDelivered)),
            "stale");
  ASSERT_TRUE(store_->begin_batch());
  ASSERT_TRUE(store_->expect_delivery_state(id, DeliveryState::kPending));
  ASSERT_TRUE(store_->update_delivery(id, DeliveryState::kDelivered, 1, at_ms(10), "",
                                      event(id, "delivered")));
  EXPECT_EQ(lease_test::outcome(store_->expect_delivery_state(id, DeliveryState::kPending)),
            "stale")
      << "the first confirm's write, not yet committed, is seen";
  ASSERT_TRUE(store_->commit_batch());
  EXPECT_EQ(lease_test::outcome(store_->expect_delivery_state(id, DeliveryState::kPending)),
            "stale");
  EXPECT_TRUE(store_->expect_delivery_state(id, DeliveryState::kDelivered));
  EXPECT_EQ(lease_test::outcome(store_->expect_delivery_state(id + 100, DeliveryState::kPending)),
            "not found");
}

}  // namespace
}  // namespace sektorbro

// --- retention and legal holds (issue 11, item 4) ---

namespace sektorbro {
namespace {

namespace retention_test {

// A message delivered and positively receipted at at_ms(10)/at_ms(11): finished business.
inline void settle(Store& store, std::int64_t id) {
  ASSERT_TRUE(store.update_delivery(id, DeliveryState::kDelivered, 1, at_ms(10), "",
                                    MessageEvent{id, at_ms(10), "delivered", "HTTP 200"}));
  ASSERT_TRUE(store.set_receipt(id, ReceiptState::kPositive,
                                MessageEvent{id, at_ms(11), "receipt-positive", ""}));
}

inline std::vector<std::int64_t> candidate_ids(Store& store, RetentionStage stage,
                                               RetentionCursor after = {}, int limit = 100) {
  auto c = store.retention_candidates(stage, at_ms(1'000'000), after, limit);
  EXPECT_TRUE(c) << c.error().detail;
  std::vector<std::int64_t> out;
  if (c)
    for (const auto& f : *c) out.push_back(f.message_id);
  return out;
}

}  // namespace retention_test

TEST_P(StoreContractTest, RetentionCandidatesCarryTheFactsOfTheRule) {
  const auto a = store_new(make_message("E1", {"R1"}));
  retention_test::settle(*store_, a);
  const auto b = store_new(make_message("E2", {"R2"}, "v1", kJobcenterGln, at_ms(1)));
  auto c = store_->retention_candidates(RetentionStage::kBody, at_ms(1'000), {}, 10);
  ASSERT_TRUE(c) << c.error().detail;
  ASSERT_EQ(c->size(), 2u);
  const RetentionFacts& fa = (*c)[0];
  EXPECT_EQ(fa.message_id, a);
  EXPECT_EQ(fa.type, LetterType::kCertificateRequest);
  EXPECT_EQ(fa.state, DeliveryState::kDelivered);
  EXPECT_TRUE(fa.receipt_requested);
  EXPECT_EQ(fa.receipt, ReceiptState::kPositive);
  EXPECT_FALSE(fa.receipt_watched);
  EXPECT_FALSE(fa.deadline_open);
  EXPECT_EQ(fa.received_at, at_ms(0));
  EXPECT_EQ(fa.last_event_at, at_ms(11));
  EXPECT_FALSE(fa.body_deleted_at);
  EXPECT_FALSE(fa.held);
  EXPECT_EQ((*c)[1].message_id, b);
  EXPECT_EQ((*c)[1].state, DeliveryState::kPending);
  // received_before bounds it; the cursor pages on in (received_at, id) order.
  auto early = store_->retention_candidates(RetentionStage::kBody, at_ms(1), {}, 10);
  ASSERT_TRUE(early);
  EXPECT_EQ(early->size(), 1u);
  EXPECT_EQ(retention_test::candidate_ids(*store_, RetentionStage::kBody, {at_ms(0), a}),
            (std::vector<std::int64_t>{b}));
  EXPECT_EQ(retention_test::candidate_ids(*store_, RetentionStage::kBody, {}, 1),
            (std::vector<std::int64_t>{a}));
  EXPECT_TRUE(retention_test::candidate_ids(*store_, RetentionStage::kRecord).empty());
}

TEST_P(StoreContractTest, AnOpenDeadlineShowsInTheCandidatesFacts) {
  const auto id = store_request("REQ1");
  put(make_deadline("REQ1", at_ms(0), at_ms(100 * kDayMs)));
  auto c = store_->retention_candidates(RetentionStage::kBody, at_ms(1'000), {}, 10);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].message_id, id);
  EXPECT_TRUE((*c)[0].deadline_open);
}

TEST_P(StoreContractTest, DeletingTheBodyKeepsTheMinimalRecord) {
  const auto id = store_new(make_message("E1", {"R1"}));
  retention_test::settle(*store_, id);
  ASSERT_TRUE(store_->delete_body(id, at_ms(500)));
  auto got = store_->get_message(id);
  ASSERT_TRUE(got && *got);
  EXPECT_TRUE((*got)->body.empty());
  EXPECT_EQ((*got)->body_deleted_at, at_ms(500));
  EXPECT_EQ((*got)->envelope_id, "E1");
  EXPECT_EQ((*got)->state, DeliveryState::kDelivered);
  ASSERT_EQ((*got)->letters.size(), 1u);
  EXPECT_EQ((*got)->letters[0].letter_id, "R1");
  EXPECT_FALSE((*got)->acceptance.empty());
  EXPECT_EQ(retention_test::candidate_ids(*store_, RetentionStage::kRecord),
            (std::vector<std::int64_t>{id}));
  EXPECT_TRUE(retention_test::candidate_ids(*store_, RetentionStage::kBody).empty());
  // Once only: and a message without its body is never delivered again.
  EXPECT_EQ(store_->delete_body(id, at_ms(501)).error().code, Errc::kConflict);
  EXPECT_EQ(store_->delete_body(id + 100, at_ms(501)).error().code, Errc::kNotFound);
  restart();
  got = store_->get_message(id);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->body_deleted_at, at_ms(500));
}

TEST_P(StoreContractTest, ABodyStillNeededIsNotDeleted) {
  const auto pending = store_new(make_message("E1", {"R1"}));
  EXPECT_EQ(store_->delete_body(pending, at_ms(500)).error().code, Errc::kConflict);
  ASSERT_TRUE(store_->update_delivery(pending, DeliveryState::kRefused, 1, at_ms(10), "HTTP 400",
                                      event(pending, "refused")));
  ASSERT_TRUE(store_->delete_body(pending, at_ms(500)));
  // A refused message without its body cannot be requeued: there is nothing to deliver.
  EXPECT_EQ(store_->requeue(pending, at_ms(600)).error().code, Errc::kConflict);
}

TEST_P(StoreContractTest, DeletingTheRecordRemovesTheMessageEntirely) {
  const auto id = store_new(make_message("E1", {"R1"}));
  const auto newer = store_new(make_message("E3", {"R3"}));  // retention deletes the old first
  retention_test::settle(*store_, id);
  EXPECT_EQ(store_->delete_record(id, at_ms(500)).error().code, Errc::kConflict)
      << "the body must go first";
  ASSERT_TRUE(store_->delete_body(id, at_ms(500)));
  ASSERT_TRUE(store_->delete_record(id, at_ms(900)));
  auto got = store_->get_message(id);
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
  auto where = store_->find_letter(kJobcenterGln, "R1");
  ASSERT_TRUE(where);
  EXPECT_FALSE(*where);
  auto events = store_->timeline(id);
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
  EXPECT_TRUE(retention_test::candidate_ids(*store_, RetentionStage::kRecord).empty());
  EXPECT_EQ(store_->delete_record(id, at_ms(901)).error().code, Errc::kNotFound);
  // Ids are not reused.
  EXPECT_GT(store_new(make_message("E2", {"R2"})), newer);
}

// Issue 11: an id is never handed out again, not even the newest one's after retention deleted
// its record (PostgreSQL's ids were max(id) + 1 before schema version 5), nor after a restart.
TEST_P(StoreContractTest, TheNewestRecordsIdIsNotReusedAfterItsDeletion) {
  store_new(make_message("E1", {"R1"}));
  const auto newest = store_new(make_message("E2", {"R2"}));
  retention_test::settle(*store_, newest);
  ASSERT_TRUE(store_->delete_body(newest, at_ms(500)));
  ASSERT_TRUE(store_->delete_record(newest, at_ms(900)));
  const auto next = store_new(make_message("E3", {"R3"}));
  EXPECT_GT(next, newest);
  retention_test::settle(*store_, next);
  ASSERT_TRUE(store_->delete_body(next, at_ms(950)));
  ASSERT_TRUE(store_->delete_record(next, at_ms(990)));
  restart();
  EXPECT_GT(store_new(make_message("E4", {"R4"})), next);
}

// An SBDH message's recorded envelopes (issue 9) go with its record: the deletion is not
// refused by them, and their receipts are unknown afterwards.
TEST_P(StoreContractTest, DeletingTheRecordTakesItsSentEnvelopesWithIt) {
  const auto id = store_new(make_message("E1", {"R1"}));
  store_new(make_message("E3", {"R3"}));  // retention deletes the old first
  ASSERT_TRUE(store_->record_sent_envelope("SBDH-1", id, at_ms(20)));
  retention_test::settle(*store_, id);
  ASSERT_TRUE(store_->delete_body(id, at_ms(500)));
  ASSERT_TRUE(store_->delete_record(id, at_ms(900)));
  auto found = store_->find_sent_envelope("SBDH-1");
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
}

TEST_P(StoreContractTest, AMessageHoldStopsBothDeletionsUntilLifted) {
  const auto id = store_new(make_message("E1", {"R1"}));
  retention_test::settle(*store_, id);
  LegalHold hold{HoldKind::kMessage, std::to_string(id), at_ms(50), "operator:anna", "case 17"};
  ASSERT_TRUE(store_->put_hold(hold));
  auto c = store_->retention_candidates(RetentionStage::kBody, at_ms(1'000), {}, 10);
  ASSERT_TRUE(c && c->size() == 1);
  EXPECT_TRUE((*c)[0].held);
  EXPECT_EQ(store_->delete_body(id, at_ms(500)).error().code, Errc::kConflict);
  auto holds = store_->list_holds();
  ASSERT_TRUE(holds);
  EXPECT_EQ(*holds, (std::vector<LegalHold>{hold}));
  ASSERT_TRUE(
      store_->remove_hold(HoldKind::kMessage, std::to_string(id), at_ms(60), "operator:anna"));
  EXPECT_EQ(store_->remove_hold(HoldKind::kMessage, std::to_string(id), at_ms(61), "operator:anna")
                .error()
                .code,
            Errc::kNotFound);
  ASSERT_TRUE(store_->delete_body(id, at_ms(500)));
  ASSERT_TRUE(store_->put_hold(hold));  // a hold on the minimal record
  EXPECT_EQ(store_->delete_record(id, at_ms(900)).error().code, Errc::kConflict);
  // Holds name a stored message and someone who placed them.
  EXPECT_EQ(
      store_->put_hold({HoldKind::kMessage, "999", at_ms(1), "operator:anna", ""}).error().code,
      Errc::kNotFound);
  EXPECT_EQ(store_->put_hold({HoldKind::kMessage, "x", at_ms(1), "operator:anna", ""}).error().code,
            Errc::kInvalid);
  EXPECT_EQ(store_->put_hold({HoldKind::kCitizen, "abc", at_ms(1), "", ""}).error().code,
            Errc::kInvalid);
}

TEST_P(StoreContractTest, ACitizenHoldCoversEveryMessageTheIndexListsForTheCitizen) {
  auto m1 = make_message("E1", {"R1"});
  m1.citizen_keys = {"key-anna"};
  auto m2 = make_message("E2", {"R2"});
  m2.citizen_keys = {"key-bo"};
  const auto a = store_new(m1);
  const auto b = store_new(m2);
  retention_test::settle(*store_, a);
  retention_test::settle(*store_, b);
  ASSERT_TRUE(store_->put_hold({HoldKind::kCitizen, "key-anna", at_ms(50), "operator:anna", ""}));
  EXPECT_EQ(store_->delete_body(a, at_ms(500)).error().code, Errc::kConflict);
  ASSERT_TRUE(store_->delete_body(b, at_ms(500)));
  ASSERT_TRUE(store_->remove_hold(HoldKind::kCitizen, "key-anna", at_ms(60), "operator:anna"));
  ASSERT_TRUE(store_->delete_body(a, at_ms(500)));
  ASSERT_TRUE(store_->put_hold({HoldKind::kCitizen, "key-anna", at_ms(70), "operator:anna", ""}));
  EXPECT_EQ(store_->delete_record(a, at_ms(900)).error().code, Errc::kConflict)
      << "the minimal record keeps its citizen keys";
  ASSERT_TRUE(store_->delete_record(b, at_ms(900)));
}

TEST_P(StoreContractTest, TheAuditHeadFollowsTheChain) {
  auto empty = store_->audit_head();
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->seq, 0);
  store_new(make_message("E1", {"R1"}));
  ASSERT_TRUE(store_->audit(at_ms(1), "refused", "x"));
  auto head = store_->audit_head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->seq, 2);
  EXPECT_TRUE(store_->reclaim_space(100));
}

// --- The operators' console (issue 10): search, counts, the citizen index ---

namespace console_contract {

MessageFilter newest(int limit = 100) {
  MessageFilter f;
  f.newest_first = true;
  f.limit = limit;
  return f;
}

}  // namespace console_contract

TEST_P(StoreContractTest, SearchByTimeRangeIsHalfOpenAndPagesNewestFirstAndOldestFirst) {
  using console_contract::newest;
  std::vector<std::int64_t> id;
  for (int i = 0; i < 6; ++i)  // received at 0, 10, 20, …, 50 ms
    id.push_back(store_new(make_message("T" + std::to_string(i), {"T-" + std::to_string(i)}, "v1",
                                        kJobcenterGln, at_ms(10 * i))));
  auto f = newest();
  f.received_from = at_ms(10);
  f.received_to = at_ms(40);  // 10, 20, 30 — not 40
  auto found = store_->list_messages(f);
  ASSERT_TRUE(found) << found.error().detail;
  EXPECT_EQ(ids(*found), (std::vector<std::int64_t>{id[3], id[2], id[1]}));
  f.limit = 2;
  found = store_->list_messages(f);
  ASSERT_TRUE(found);
  EXPECT_EQ(ids(*found), (std::vector<std::int64_t>{id[3], id[2]}));
  f.before_id = id[2];  // the next page
  found = store_->list_messages(f);
  ASSERT_TRUE(found);
  EXPECT_EQ(ids(*found), (std::vector<std::int64_t>{id[1]}));
  // Oldest first with after=, only a lower bound, only an upper bound, an empty range.
  MessageFilter forward;
  forward.received_from = at_ms(35);
  found = store_->list_messages(forward);
  ASSERT_TRUE(found);
  EXPECT_EQ(ids(*found), (std::vector<std::int64_t>{id[4], id[5]}));
  forward = MessageFilter{};
  forward.received_to = at_ms(10);
  found = store_->list_messages(forward);
  ASSERT_TRUE(found);
  EXPECT_EQ(ids(*found), (std::vector<std::int64_t>{id[0]}));
  forward.received_from = at_ms(60);
  forward.received_to = at_ms(90);
  found = store_->list_messages(forward);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty());
  // With a state: the delivered ones in the range only.
  ASSERT_TRUE(store_->update_delivery(id[2], DeliveryState::kDelivered, 1, at_ms(25), "",
                                      event(id[2], "delivered")));
  f = newest();
  f.received_from = at_ms(0);
  f.received_to = at_ms(100);
  f.state = DeliveryState::kDelivered;
  found = store_->list_messages(f);
  ASSERT_TRUE(found);
  EXPECT_EQ(ids(*found), (std::vector<std::int64_t>{id[2]}));
  EXPECT_EQ(found->front().letters.size(), 1u);  // letters are read as for every list
}

TEST_P(StoreContractTest, SearchByEnvelopeIdFindsEveryMessageWithItAndCombinesWithEndpoint) {
  using console_contract::newest;
  const auto a = store_new(make_message("ENV-1", {"A1"}));
  store_new(make_message("ENV-2", {"A2"}));
  // The same envelope id from another sender (ids are the sender's own).
  const auto c = store_new(make_message("ENV-1", {"A3"}, "v1", "5790000000029"));
  auto f = newest();
  f.envelope_id = "ENV-1";
  auto found = store_->list_messages(f);
  ASSERT_TRUE(found) << found.error().detail;
  EXPECT_EQ(ids(*found), (std::vector<std::int64_t>{c, a}));
  f.endpoint = "jc-0005";  // make_message's endpoint for kJobcenterGln
  found = store_->list_messages(f);
  ASSERT_TRUE(found);
  EXPECT_EQ(ids(*found), (std::vector<std::int64_t>{a}));
  f.envelope_id = "ENV-9";
  found = store_->list_messages(f);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty());
}

TEST_P(StoreContractTest, ReceiptMissingIsAGivenUpWatchUntilAReceiptComes) {
  using console_contract::newest;
  const auto a = store_new(make_message("R-A", {"RA"}));
  const auto b = store_new(make_message("R-B", {"RB"}));
  const auto c = store_new(make_message("R-C", {"RC"}));
  for (const auto id : {a, b, c}) {
    ASSERT_TRUE(store_->update_delivery(id, DeliveryState::kDelivered, 1, at_ms(5), "",
                                        event(id, "delivered")));
    ASSERT_TRUE(store_->watch_receipt(id, at_ms(5), 0));  // owed: not missing yet
  }
  auto f = newest();
  f.receipt_missing = true;
  auto found = store_->list_messages(f);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty()) << "a receipt still awaited is not missing";
  ASSERT_TRUE(store_->watch_receipt(a, std::nullopt, 2));  // given up: the MedCom alert
  ASSERT_TRUE(store_->watch_receipt(b, std::nullopt, 2));
  found = store_->list_messages(f);
  ASSERT_TRUE(found);
  EXPECT_EQ(ids(*found), (std::vector<std::int64_t>{b, a}));
  auto counts = store_->operator_counts(at_ms(0));
  ASSERT_TRUE(counts) << counts.error().detail;
  EXPECT_EQ(counts->receipts_missing, (std::vector<EndpointCount>{{"psyk", 2}}));
  // A late receipt ends it.
  ASSERT_TRUE(store_->set_receipt(b, ReceiptState::kPositive, event(b, "receipt-positive")));
  found = store_->list_messages(f);
  ASSERT_TRUE(found);
  EXPECT_EQ(ids(*found), (std::vector<std::int64_t>{a}));
  restart();
  found = store_->list_messages(f);
  ASSERT_TRUE(found);
  EXPECT_EQ(ids(*found), (std::vector<std::int64_t>{a})) << "kept across a restart";
}

TEST_P(StoreContractTest, OperatorCountsGroupOpenAndOverdueDeadlinesAndCountDeadLetters) {
  auto counts = store_->operator_counts(at_ms(0));
  ASSERT_TRUE(counts) << counts.error().detail;
  EXPECT_TRUE(counts->deadlines.empty());
  EXPECT_TRUE(counts->dead_letters.empty());
  EXPECT_TRUE(counts->receipts_missing.empty());

  const TimePoint now = at_ms(10 * kDayMs);
  auto d1 = make_deadline("D1", at_ms(0), at_ms(5 * kDayMs));   // overdue
  auto d2 = make_deadline("D2", at_ms(0), now);                 // due_end == now: overdue
  auto d3 = make_deadline("D3", at_ms(0), at_ms(20 * kDayMs));  // open, not overdue
  auto d4 = make_deadline("D4", at_ms(0), at_ms(1 * kDayMs));   // another form
  d4.form = "LÆ265";
  auto d5 = make_deadline("D5", at_ms(0), at_ms(1 * kDayMs));  // answered: not counted
  d5.state = DeadlineState::kAnsweredLate;
  auto d6 = make_deadline("D6", at_ms(0), at_ms(1 * kDayMs));  // another unit
  d6.owed_by = "psyk-2";
  for (const auto& d : {d1, d2, d3, d4, d5, d6}) put(d);
  counts = store_->operator_counts(now);
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->deadlines,
            (std::vector<DeadlineCount>{
                {"psyk", "LÆ125", 3, 2}, {"psyk", "LÆ265", 1, 1}, {"psyk-2", "LÆ125", 1, 1}}));

  const auto m1 = store_new(make_message("DL1", {"DL1"}));
  const auto m2 = store_new(make_message("DL2", {"DL2"}));
  store_new(make_message("DL3", {"DL3"}));
  for (const auto id : {m1, m2})
    ASSERT_TRUE(store_->update_delivery(id, DeliveryState::kDeadLettered, 3, at_ms(5), "gone",
                                        event(id, "dead-lettered")));
  counts = store_->operator_counts(now);
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->dead_letters, (std::vector<EndpointCount>{{"psyk", 2}}));
  ASSERT_TRUE(store_->requeue(m1, at_ms(6)));
  counts = store_->operator_counts(now);
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->dead_letters, (std::vector<EndpointCount>{{"psyk", 1}}));
}

TEST_P(StoreContractTest, MessagesOfCitizenFindsByKeyedHashNewestFirstAndPages) {
  auto m1 = make_message("C1", {"C1"});
  m1.citizen_keys = {"key-anna"};
  auto m2 = make_message("C2", {"C2"});
  m2.citizen_keys = {"key-bo"};
  auto m3 = make_message("C3", {"C3"});
  m3.citizen_keys = {"key-anna", "key-bo"};
  const auto a = store_new(m1);
  const auto b = store_new(m2);
  const auto c = store_new(m3);
  auto found = store_->messages_of_citizen("key-anna", 0, 10);
  ASSERT_TRUE(found) << found.error().detail;
  EXPECT_EQ(*found, (std::vector<std::int64_t>{c, a}));
  found = store_->messages_of_citizen("key-bo", 0, 1);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, (std::vector<std::int64_t>{c}));
  found = store_->messages_of_citizen("key-bo", c, 10);  // the next page
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, (std::vector<std::int64_t>{b}));
  found = store_->messages_of_citizen("key-nobody", 0, 10);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty());
  // A rolled-back batch leaves no index row.
  ASSERT_TRUE(store_->begin_batch());
  auto m4 = make_message("C4", {"C4"});
  m4.citizen_keys = {"key-cy"};
  ASSERT_TRUE(store_->store_message(plan_for(m4)));
  store_->rollback_batch();
  found = store_->messages_of_citizen("key-cy", 0, 10);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty());
  restart();
  found = store_->messages_of_citizen("key-anna", 0, 10);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, (std::vector<std::int64_t>{c, a}));
}

}  // namespace
}  // namespace sektorbro
