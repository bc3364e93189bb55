#include "broker/store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using store_test::at_ms;
using store_test::kJobcenterGln;
using store_test::kPsychiatryGln;
using store_test::make_message;
using store_test::TempDir;
using Kind = AcceptOutcome::Kind;

std::vector<std::string> kinds(const std::vector<MessageEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.kind);
  return out;
}

std::vector<std::int64_t> ids(const std::vector<MessageRecord>& records) {
  std::vector<std::int64_t> out;
  for (const auto& r : records) out.push_back(r.id);
  return out;
}

MessageEvent event(std::int64_t id, std::string kind, std::string detail = {}) {
  return MessageEvent{id, at_ms(5), std::move(kind), std::move(detail)};
}

MessageFilter filter(std::optional<DeliveryState> state, std::optional<std::string> endpoint,
                     std::int64_t after_id = 0, int limit = 100) {
  MessageFilter f;
  f.state = state;
  f.endpoint = std::move(endpoint);
  f.after_id = after_id;
  f.limit = limit;
  return f;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    store_.reset();
    auto opened = SqliteStore::open(path_);
    ASSERT_TRUE(opened) << opened.error().detail;
    store_ = std::move(*opened);
  }

  std::int64_t store_new(const NewMessage& m) {
    auto out = store_->accept(m);
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

  TempDir dir_;
  std::string path_ = dir_.file("data/broker.db");  // parent directory created by open()
  std::unique_ptr<SqliteStore> store_;
};

TEST(DeliveryStateNames, RoundTrip) {
  for (auto s : {DeliveryState::kPending, DeliveryState::kDelivered, DeliveryState::kRefused,
                 DeliveryState::kDeadLettered})
    EXPECT_EQ(parse_delivery_state(to_string(s)), s);
  EXPECT_EQ(to_string(DeliveryState::kDeadLettered), "dead-lettered");
  EXPECT_FALSE(parse_delivery_state("Pending"));
  EXPECT_EQ(to_string(ReceiptState::kNegative), "negative");
}

TEST_F(SqliteStoreTest, AcceptStoresAndReadsBack) {
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
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received", "stored"}));
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

TEST_F(SqliteStoreTest, UsesWalJournalOnDisk) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 4);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, DuplicateReplaysTheFirstAcceptanceByteForByte) {
  const auto first = make_message("E1", {"Brev1", "Brev2"});
  const auto id = store_new(first);

  auto resend = make_message("E2", {"Brev1", "Brev2"});
  resend.acceptance = "a different answer";
  resend.received_at = at_ms(600'000);
  auto out = store_->accept(resend);
  ASSERT_TRUE(out) << out.error().detail;
  EXPECT_EQ(out->kind, Kind::kDuplicate);
  EXPECT_EQ(out->message_id, id);
  EXPECT_EQ(out->acceptance, first.acceptance);
  EXPECT_EQ(out->acceptance.size(), first.acceptance.size());  // embedded NUL survives

  EXPECT_EQ(count_messages(), 1);
  auto tl = store_->timeline(id);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received", "stored", "duplicate"}));
  EXPECT_EQ(tl->back().detail, "resent in envelope E2");
  EXPECT_EQ(tl->back().at, resend.received_at);
}

TEST_F(SqliteStoreTest, LetterIdsAreUniquePerSenderOnly) {
  const auto a = store_new(make_message("E1", {"Brev1"}, "v1", kJobcenterGln));
  const auto b = store_new(make_message("E1", {"Brev1"}, "other", kPsychiatryGln));
  EXPECT_NE(a, b);
  EXPECT_EQ(count_messages(), 2);
  auto loc = store_->find_letter(kPsychiatryGln, "Brev1");
  ASSERT_TRUE(loc && loc->has_value());
  EXPECT_EQ((*loc)->message_id, b);
}

TEST_F(SqliteStoreTest, SameLetterIdWithOtherContentIsAConflict) {
  const auto id = store_new(make_message("E1", {"Brev1", "Brev2"}));
  auto changed = make_message("E2", {"Brev1", "Brev2"});
  changed.letters[1].content_hash = sha256_hex("something else");
  auto out = store_->accept(changed);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, Kind::kConflict);
  EXPECT_EQ(out->conflicting_letter_id, "Brev2");
  EXPECT_EQ(count_messages(), 1);
  auto tl = store_->timeline(id);
  ASSERT_TRUE(tl);
  EXPECT_EQ(tl->size(), 2u);  // no duplicate event
}

TEST_F(SqliteStoreTest, KnownAndNewLettersTogetherAreMixed) {
  store_new(make_message("E1", {"Brev1"}));
  store_new(make_message("E2", {"Brev2"}));

  auto some_new = store_->accept(make_message("E3", {"Brev1", "Brev3"}));
  ASSERT_TRUE(some_new);
  EXPECT_EQ(some_new->kind, Kind::kMixed);

  auto two_messages = store_->accept(make_message("E4", {"Brev1", "Brev2"}));
  ASSERT_TRUE(two_messages);
  EXPECT_EQ(two_messages->kind, Kind::kMixed);

  EXPECT_EQ(count_messages(), 2);
  auto brev3 = store_->find_letter(kJobcenterGln, "Brev3");
  ASSERT_TRUE(brev3);
  EXPECT_FALSE(brev3->has_value());
}

TEST_F(SqliteStoreTest, UpdateDeliveryRecordsStateAndEvent) {
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
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received", "stored", "attempt", "delivered"}));

  auto unknown = store_->update_delivery(id + 1, DeliveryState::kDelivered, 1, at_ms(0), "",
                                         event(id + 1, "delivered"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
}

TEST_F(SqliteStoreTest, RequeueOnlyFromDeadLetteredOrRefused) {
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

TEST_F(SqliteStoreTest, SetReceiptAndAppendEvent) {
  const auto id = store_new(make_message("E1", {"Brev1"}));
  ASSERT_TRUE(store_->set_receipt(id, ReceiptState::kPositive, event(id, "receipt-positive")));
  ASSERT_TRUE(store_->append_event(event(id, "relayed", "to psyk")));
  auto r = store_->get_message(id);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->receipt, ReceiptState::kPositive);
  auto tl = store_->timeline(id);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl),
            (std::vector<std::string>{"received", "stored", "receipt-positive", "relayed"}));
  EXPECT_EQ(tl->back().detail, "to psyk");

  auto unknown = store_->set_receipt(id + 1, ReceiptState::kNegative, event(id + 1, "x"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
  auto orphan = store_->append_event(event(id + 1, "relayed"));
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code, Errc::kNotFound);
  EXPECT_TRUE(store_->audit(at_ms(0), "refused", "malformed XML from 127.0.0.1"));
}

TEST_F(SqliteStoreTest, ListMessagesFiltersAndPages) {
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
}

TEST_F(SqliteStoreTest, PendingDeliveriesInOrderOfNextAttempt) {
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

TEST_F(SqliteStoreTest, ReopeningKeepsEverythingAndIdsKeepIncreasing) {
  const auto a = store_new(make_message("E1", {"B1"}, "v", kJobcenterGln, at_ms(10)));
  const auto b = store_new(make_message("E2", {"B2"}, "v", kJobcenterGln, at_ms(20)));
  ASSERT_TRUE(store_->update_delivery(a, DeliveryState::kDelivered, 1, at_ms(0), "",
                                      event(a, "delivered")));

  reopen();

  auto ra = store_->get_message(a);
  ASSERT_TRUE(ra && ra->has_value());
  EXPECT_EQ((*ra)->state, DeliveryState::kDelivered);
  auto pending = store_->pending_deliveries();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].message_id, b);
  EXPECT_EQ((*pending)[0].next_attempt_at, at_ms(20));
  auto tl = store_->timeline(a);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received", "stored", "delivered"}));

  // Dedup memory survives the restart.
  auto dup = store_->accept(make_message("E9", {"B1"}, "v"));
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->kind, Kind::kDuplicate);
  EXPECT_EQ(dup->message_id, a);

  const auto c = store_new(make_message("E3", {"B3"}));
  EXPECT_GT(c, b);
}

TEST_F(SqliteStoreTest, BatchCommitsAsAWholeAndRollsBackAsAWhole) {
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

TEST_F(SqliteStoreTest, ReadsSeeOnlyCommittedBatches) {
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

TEST_F(SqliteStoreTest, AFailedOperationLeavesNoTraceAndTheBatchStillCommits) {
  const auto a = store_new(make_message("E0", {"B0"}));

  ASSERT_TRUE(store_->begin_batch());
  const auto b = store_new(make_message("E1", {"B1"}));
  auto unknown = store_->update_delivery(a + 100, DeliveryState::kDelivered, 1, at_ms(0), "",
                                         event(a + 100, "delivered"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
  // Fails half way: the message row goes in, then the second letter breaks the letters key.
  auto broken = store_->accept(make_message("E2", {"B2", "B2"}));
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, Errc::kStorage);
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

TEST(SqliteStoreOpen, NotADatabaseFailsCleanly) {
  TempDir dir;
  const auto path = dir.file("garbage.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 200; ++i) out << "this is not an SQLite database\n";
  }
  auto opened = SqliteStore::open(path);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::kStorage);
  EXPECT_NE(opened.error().detail.find("not a database"), std::string::npos)
      << opened.error().detail;
  EXPECT_EQ(opened.error().detail.find('\n'), std::string::npos);
}

TEST(SqliteStoreOpen, UncreatableDirectoryFailsCleanly) {
  TempDir dir;
  const auto file = dir.file("plain-file");
  { std::ofstream(file) << "x"; }
  // A directory cannot be created under a regular file, not even by root.
  auto opened = SqliteStore::open(file + "/sub/broker.db");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::kStorage);
  EXPECT_NE(opened.error().detail.find("cannot open store"), std::string::npos);
  EXPECT_EQ(opened.error().detail.find('\n'), std::string::npos);
}

TEST(SqliteStoreOpen, NewerSchemaVersionIsRefused) {
  TempDir dir;
  const auto path = dir.file("future.db");
  {
    auto opened = SqliteStore::open(path);
    ASSERT_TRUE(opened) << opened.error().detail;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  auto opened = SqliteStore::open(path);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::kStorage);
  EXPECT_NE(opened.error().detail.find("schema version 99"), std::string::npos)
      << opened.error().detail;
}

// --- letter versions (MedCom StatusCode, domain.md §2) ---

NewMessage with_status(NewMessage m, LetterStatus status) {
  for (auto& l : m.letters) l.status = status;
  return m;
}

TEST_F(SqliteStoreTest, ACorrectedLetterIsANewVersionAndTheOldOneStaysFindable) {
  const auto first = make_message("E1", {"Brev1"}, "v1");
  const auto v1 = store_new(first);

  auto out =
      store_->accept(with_status(make_message("E2", {"Brev1"}, "v2"), LetterStatus::kCorrected));
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
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received", "stored", "superseded"}));
  EXPECT_EQ(tl->back().detail, "by #" + std::to_string(v2) + ", rettetbrev");
  auto fresh = store_->get_message(v2);
  ASSERT_TRUE(fresh && fresh->has_value());
  ASSERT_EQ((*fresh)->letters.size(), 1u);
  EXPECT_EQ((*fresh)->letters[0].status, LetterStatus::kCorrected);

  // Resends of either version get that version's answer.
  auto resend_v2 =
      store_->accept(with_status(make_message("E3", {"Brev1"}, "v2"), LetterStatus::kCorrected));
  ASSERT_TRUE(resend_v2);
  EXPECT_EQ(resend_v2->kind, Kind::kDuplicate);
  EXPECT_EQ(resend_v2->message_id, v2);
  auto late_resend_v1 = store_->accept(make_message("E4", {"Brev1"}, "v1"));
  ASSERT_TRUE(late_resend_v1);
  EXPECT_EQ(late_resend_v1->kind, Kind::kDuplicate);
  EXPECT_EQ(late_resend_v1->message_id, v1);
  EXPECT_EQ(late_resend_v1->acceptance, first.acceptance);

  // A new letter reusing the id is still a conflict.
  auto reuse = store_->accept(make_message("E5", {"Brev1"}, "v3"));
  ASSERT_TRUE(reuse);
  EXPECT_EQ(reuse->kind, Kind::kConflict);
  EXPECT_EQ(reuse->conflicting_letter_id, "Brev1");

  // A cancellation replaces the correction.
  auto cancel = store_->accept(
      with_status(make_message("E6", {"Brev1"}, "cancelled"), LetterStatus::kCancelled));
  ASSERT_TRUE(cancel);
  ASSERT_EQ(cancel->kind, Kind::kStored);
  EXPECT_EQ(cancel->superseded, (std::vector<std::int64_t>{v2}));
  auto tl2 = store_->timeline(v2);
  ASSERT_TRUE(tl2);
  EXPECT_EQ(tl2->back().kind, "superseded");
  EXPECT_EQ(tl2->back().detail, "by #" + std::to_string(cancel->message_id) + ", annulleretbrev");
  latest = store_->find_letter(kJobcenterGln, "Brev1");
  ASSERT_TRUE(latest && latest->has_value());
  EXPECT_EQ((*latest)->message_id, cancel->message_id);
  EXPECT_EQ((*latest)->status, LetterStatus::kCancelled);
  EXPECT_EQ(count_messages(), 3);
}

TEST_F(SqliteStoreTest, CorrectingOneLetterOfAnEnvelopeKeepsTheOthersInPlace) {
  const auto original = store_new(make_message("E1", {"Brev1", "Brev2", "Brev3"}, "v1"));
  auto corr = make_message("E2", {"Brev2", "Brev3"}, "v2");
  corr.letters[0].status = LetterStatus::kCorrected;
  corr.letters[1].status = LetterStatus::kCancelled;
  auto out = store_->accept(corr);
  ASSERT_TRUE(out) << out.error().detail;
  ASSERT_EQ(out->kind, Kind::kStored);
  EXPECT_EQ(out->superseded, (std::vector<std::int64_t>{original}));  // once per message
  auto tl = store_->timeline(original);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received", "stored", "superseded"}));
  EXPECT_EQ(tl->back().detail,
            "by #" + std::to_string(out->message_id) + ", rettetbrev, annulleretbrev");

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
  auto resend = store_->accept(make_message("E3", {"Brev1", "Brev2", "Brev3"}, "v1"));
  ASSERT_TRUE(resend);
  EXPECT_EQ(resend->kind, Kind::kDuplicate);
  EXPECT_EQ(resend->message_id, original);
  // Letters of the two versions together are mixed.
  auto both = make_message("E4", {"Brev1", "Brev2"}, "v1");
  both.letters[1].content_hash = sha256_hex("Brev2/v2");
  both.letters[1].status = LetterStatus::kCorrected;
  auto mixed = store_->accept(both);
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->kind, Kind::kMixed);
}

TEST_F(SqliteStoreTest, VersionsMixWithNewLettersButNotWithResends) {
  const auto a = store_new(make_message("E1", {"Brev1", "Brev2"}, "v1"));

  auto with_resend = make_message("E2", {"Brev1", "Brev2"}, "v1");
  with_resend.letters[0].content_hash = sha256_hex("Brev1/v2");
  with_resend.letters[0].status = LetterStatus::kCorrected;
  auto mixed = store_->accept(with_resend);
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->kind, Kind::kMixed);

  auto with_new =
      with_status(make_message("E3", {"Brev1", "Brev9"}, "v2"), LetterStatus::kCorrected);
  auto stored = store_->accept(with_new);
  ASSERT_TRUE(stored) << stored.error().detail;
  ASSERT_EQ(stored->kind, Kind::kStored);
  EXPECT_EQ(stored->superseded, (std::vector<std::int64_t>{a}));

  // A correction of a letter never seen is simply a new letter.
  auto unseen =
      store_->accept(with_status(make_message("E4", {"Brev7"}), LetterStatus::kCorrected));
  ASSERT_TRUE(unseen);
  EXPECT_EQ(unseen->kind, Kind::kStored);
  EXPECT_TRUE(unseen->superseded.empty());
}

TEST_F(SqliteStoreTest, ARolledBackCorrectionLeavesTheOldVersionCurrent) {
  const auto a = store_new(make_message("E1", {"Brev1"}, "v1"));
  ASSERT_TRUE(store_->begin_batch());
  auto out =
      store_->accept(with_status(make_message("E2", {"Brev1"}, "v2"), LetterStatus::kCorrected));
  ASSERT_TRUE(out && out->kind == Kind::kStored);
  store_->rollback_batch();

  auto latest = store_->find_letter(kJobcenterGln, "Brev1");
  ASSERT_TRUE(latest && latest->has_value());
  EXPECT_EQ((*latest)->message_id, a);
  auto tl = store_->timeline(a);
  ASSERT_TRUE(tl);
  EXPECT_EQ(kinds(*tl), (std::vector<std::string>{"received", "stored"}));
  auto again =
      store_->accept(with_status(make_message("E2", {"Brev1"}, "v2"), LetterStatus::kCorrected));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kind, Kind::kStored);
  reopen();
  auto old = store_->get_message(a);
  ASSERT_TRUE(old && old->has_value());
  ASSERT_EQ((*old)->letters.size(), 1u);
  EXPECT_EQ((*old)->letters[0].content_hash, sha256_hex("Brev1/v1"));
}

// The schema of version 1 exactly as it shipped (commit a796c6e), to prove that files written
// by that broker open and migrate.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE messages (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  envelope_id       TEXT    NOT NULL,
  sender_gln        TEXT    NOT NULL,
  receiver_gln      TEXT    NOT NULL,
  sender_endpoint   TEXT    NOT NULL,
  receiver_endpoint TEXT    NOT NULL,
  body              BLOB    NOT NULL,
  acceptance        BLOB    NOT NULL,
  receipt_requested INTEGER NOT NULL CHECK (receipt_requested IN (0, 1)),
  contains_cpr      INTEGER NOT NULL CHECK (contains_cpr IN (0, 1)),
  received_at       INTEGER NOT NULL,
  state             TEXT    NOT NULL
                    CHECK (state IN ('pending', 'delivered', 'refused', 'dead-lettered')),
  attempts          INTEGER NOT NULL CHECK (attempts >= 0),
  next_attempt_at   INTEGER NOT NULL,
  last_error        TEXT    NOT NULL DEFAULT '',
  receipt           TEXT    NOT NULL DEFAULT 'none'
                    CHECK (receipt IN ('none', 'positive', 'negative'))
);
CREATE INDEX messages_pending ON messages (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX messages_state ON messages (state, id);
CREATE INDEX messages_sender_endpoint ON messages (sender_endpoint, id);
CREATE INDEX messages_receiver_endpoint ON messages (receiver_endpoint, id);
CREATE TABLE letters (
  sender_gln   TEXT    NOT NULL,
  letter_id    TEXT    NOT NULL,
  message_id   INTEGER NOT NULL REFERENCES messages (id),
  position     INTEGER NOT NULL,
  type         TEXT    NOT NULL,
  content_hash TEXT    NOT NULL,
  PRIMARY KEY (sender_gln, letter_id)
) WITHOUT ROWID;
CREATE INDEX letters_message ON letters (message_id, position);
CREATE TABLE events (
  id         INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL REFERENCES messages (id),
  at         INTEGER NOT NULL,
  kind       TEXT    NOT NULL,
  detail     TEXT    NOT NULL
);
CREATE INDEX events_message ON events (message_id, id);
CREATE TABLE audit (
  id     INTEGER PRIMARY KEY,
  at     INTEGER NOT NULL,
  kind   TEXT    NOT NULL,
  detail TEXT    NOT NULL
);
PRAGMA journal_mode = WAL;
INSERT INTO messages (envelope_id, sender_gln, receiver_gln, sender_endpoint, receiver_endpoint,
  body, acceptance, receipt_requested, contains_cpr, received_at, state, attempts,
  next_attempt_at, last_error, receipt)
  VALUES ('E1', '5790000000005', '5790000000012', 'jc', 'psyk', X'3C612F3E', X'6F6B', 1, 1,
          1790000000000, 'delivered', 1, 1790000000000, '', 'positive');
INSERT INTO letters VALUES ('5790000000005', 'Brev1', 1, 0, 'CertificateRequest',
                            'hash-of-v1');
INSERT INTO events (message_id, at, kind, detail)
  VALUES (1, 1790000000000, 'received', 'x'), (1, 1790000000000, 'stored', 'y');
PRAGMA user_version = 1;
)sql";

std::int64_t user_version(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return -1;
  sqlite3_stmt* stmt = nullptr;
  std::int64_t v = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return v;
}

TEST(SqliteStoreOpen, AVersion1FileIsMigratedAndKeepsItsData) {
  TempDir dir;
  const auto path = dir.file("v1.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, kSchemaV1, nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK);
  }
  ASSERT_EQ(user_version(path), 1);

  auto opened = SqliteStore::open(path);
  ASSERT_TRUE(opened) << opened.error().detail;
  auto& store = **opened;

  auto m = store.get_message(1);
  ASSERT_TRUE(m && m->has_value()) << (m ? "" : m.error().detail);
  EXPECT_EQ((*m)->state, DeliveryState::kDelivered);
  EXPECT_EQ((*m)->receipt, ReceiptState::kPositive);
  EXPECT_EQ((*m)->body, "<a/>");
  ASSERT_EQ((*m)->letters.size(), 1u);
  EXPECT_EQ((*m)->letters[0].status, LetterStatus::kNew);  // every v1 letter was a new letter
  EXPECT_EQ((*m)->letters[0].content_hash, "hash-of-v1");

  // The dedup memory carries over and letter versions work on the migrated letters.
  NewMessage resend = make_message("E2", {"Brev1"});
  resend.letters[0].content_hash = "hash-of-v1";
  auto dup = store.accept(resend);
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->kind, Kind::kDuplicate);
  EXPECT_EQ(dup->acceptance, "ok");
  auto corrected = with_status(make_message("E3", {"Brev1"}, "v2"), LetterStatus::kCorrected);
  auto out = store.accept(corrected);
  ASSERT_TRUE(out) << out.error().detail;
  EXPECT_EQ(out->kind, Kind::kStored);
  EXPECT_EQ(out->superseded, (std::vector<std::int64_t>{1}));
  EXPECT_GT(out->message_id, 1);

  // The deadlines table exists.
  auto none = store.list_deadlines({});
  ASSERT_TRUE(none) << none.error().detail;
  EXPECT_TRUE(none->empty());
  opened->reset();
  EXPECT_EQ(user_version(path), 4);
}

}  // namespace
}  // namespace sektorbro
