// The audit chain (issue 5): what the store appends, that a rolled-back operation never leaves a
// link behind, migration from schema 3, and the verifier against a file tampered with through
// SQLite's C API — the way someone with access to the file would do it.
#include "broker/store/audit_chain.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "broker/core/identifiers.hpp"
#include "broker/intake/message_acceptor.hpp"
#include "broker/store/audit_verify.hpp"
#include "broker/store/sqlite_store.hpp"
#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using store_test::at_ms;
using store_test::kJobcenterGln;
using store_test::make_message;
using store_test::TempDir;

// A tamperer first drops the triggers that keep the table append-only.
constexpr const char* kUnlock =
    "DROP TRIGGER IF EXISTS audit_chain_no_update; DROP TRIGGER IF EXISTS audit_chain_no_delete;";

using store_test::exec_sql;

std::vector<AuditEntry> read_chain(const std::string& path) {
  std::vector<AuditEntry> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db,
                               "SELECT seq, at, kind, actor, subject, detail, prev_hash, hash, "
                               "binding FROM audit_chain ORDER BY seq",
                               -1, &s, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  const auto text = [&](int col) {
    const auto* p = sqlite3_column_text(s, col);
    return std::string(p ? reinterpret_cast<const char*>(p) : "");
  };
  while (s && sqlite3_step(s) == SQLITE_ROW)
    out.push_back(AuditEntry{sqlite3_column_int64(s, 0), from_millis(sqlite3_column_int64(s, 1)),
                             text(2), text(3), text(4), text(5), text(6), text(7), text(8)});
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

std::vector<std::string> kinds(const std::vector<AuditEntry>& chain) {
  std::vector<std::string> out;
  for (const auto& e : chain) out.push_back(e.kind);
  return out;
}

// The SQL that inserts `e` as it stands (hash included).
std::string insert_sql(const AuditEntry& e) {
  char* sql = sqlite3_mprintf(
      "INSERT INTO audit_chain (seq, at, kind, actor, subject, detail, prev_hash, hash) "
      "VALUES (%lld, %lld, %Q, %Q, %Q, %Q, %Q, %Q);",
      static_cast<long long>(e.seq), static_cast<long long>(to_millis(e.at)), e.kind.c_str(),
      e.actor.c_str(), e.subject.c_str(), e.detail.c_str(), e.prev_hash.c_str(), e.hash.c_str());
  std::string out(sql);
  sqlite3_free(sql);
  return out;
}

AuditVerdict verify(const std::string& path) {
  auto v = verify_audit_chain(path);
  EXPECT_TRUE(v) << v.error().detail;
  return v ? *v : AuditVerdict{};
}

// `good`: the entries the walk accepted before the break.
void expect_broken(const AuditVerdict& v, std::int64_t seq, AuditBreak reason, std::int64_t good) {
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_seq, seq) << v.explanation;
  EXPECT_EQ(to_string(v.reason), to_string(reason)) << v.explanation;
  EXPECT_EQ(v.entries, good);
}

// --- the entry's encoding ---

TEST(AuditEntryEncoding, IsSevenNetstringsAndTheHashIsItsSha256) {
  AuditEntry e{12,         from_millis(1'790'000'000'123), "delivered", "broker", "message 7",
               "HTTP 200", std::string(kAuditGenesisHash), ""};
  EXPECT_EQ(audit_entry_encoding(e),
            "2:12,13:1790000000123,9:delivered,6:broker,9:message 7,8:HTTP 200,64:" +
                std::string(kAuditGenesisHash) + ",");
  EXPECT_EQ(audit_entry_hash(e), sha256_hex(audit_entry_encoding(e)));
  e.at = from_millis(-5);
  EXPECT_EQ(audit_entry_encoding(e).substr(0, 9), "2:12,2:-5");
}

// The keyed seal is HMAC-SHA256 over the encoding, whatever key the thread used last: checked
// against OpenSSL's one-shot HMAC() for two keys in turn (the seal keeps a context per thread
// and sets it up again only for another key).
TEST(AuditEntryMac, IsHmacSha256OfTheEncodingForEachKeyInTurn) {
  auto one_shot = [](const AuditEntry& e, const std::string& key) {
    const std::string encoding = audit_entry_encoding(e);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(encoding.data()), encoding.size(), mac, &n);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex = "hmac:";
    for (unsigned int i = 0; i < n; ++i) {
      hex += kDigits[mac[i] >> 4];
      hex += kDigits[mac[i] & 0x0f];
    }
    return hex;
  };
  const AuditKey first{std::string(32, 'a')}, second{"0123456789abcdef0123456789abcdefXYZ"};
  AuditEntry e;
  e.kind = "delivered";
  e.subject = "message 1";
  for (int i = 0; i < 6; ++i) {
    e.seq = i + 1;
    const AuditKey& key = i % 3 == 2 ? second : first;
    EXPECT_EQ(audit_entry_mac(e, key), one_shot(e, key.bytes)) << "entry " << i;
  }
  EXPECT_NE(audit_entry_mac(e, first), audit_entry_mac(e, second));
}

TEST(AuditEntryEncoding, MovingBytesBetweenFieldsChangesTheEncoding) {
  AuditEntry a{1, at_ms(0), "ab", "c", "s", "d", "p", ""};
  AuditEntry b{1, at_ms(0), "a", "bc", "s", "d", "p", ""};
  AuditEntry c{1, at_ms(0), "a", "b", "c,1:s", "d", "p", ""};  // a separator inside a field
  AuditEntry d{1, at_ms(0), "a", "b", "c", "1:s,1:d", "p", ""};
  EXPECT_NE(audit_entry_encoding(a), audit_entry_encoding(b));
  EXPECT_NE(audit_entry_encoding(c), audit_entry_encoding(d));
  EXPECT_NE(audit_entry_hash(a), audit_entry_hash(b));
  AuditEntry later = a;
  later.seq = 2;
  EXPECT_NE(audit_entry_hash(a), audit_entry_hash(later));
}

// --- what the store appends ---

class AuditChainTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    store_.reset();
    auto opened = SqliteStore::open(path_);
    ASSERT_TRUE(opened) << opened.error().detail;
    store_ = std::move(*opened);
  }
  void close() { store_.reset(); }

  std::int64_t store_new(const NewMessage& m) {
    auto out = accept_message(*store_, m);
    EXPECT_TRUE(out) << out.error().detail;
    return out && out->kind == AcceptOutcome::Kind::kStored ? out->message_id : 0;
  }

  // Eight entries: three messages (received, and a delivery attempt each), a refusal and an
  // operator's view.
  void write_eight_entries() {
    for (const char* e : {"E1", "E2", "E3"}) {
      const auto id = store_new(make_message(e, {std::string("B") + (e + 1)}));
      ASSERT_TRUE(store_->append_event(MessageEvent{id, at_ms(5), "attempt-failed", "HTTP 503"}));
    }
    ASSERT_TRUE(store_->audit(at_ms(10), "refused", "kInvalid envelope X1 via native: bad GLN"));
    ASSERT_TRUE(
        store_->audit_action(at_ms(11), "operator:anna", "view-message", "message 2", "unmasked"));
    close();
    ASSERT_EQ(read_chain(path_).size(), 8u);
  }

  TempDir dir_;
  std::string path_ = dir_.file("broker.db");
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(AuditChainTest, EveryRecordedEventAppendsALinkedEntry) {
  const auto a = store_new(make_message("E1", {"Brev1"}));
  ASSERT_GT(a, 0);
  auto resend = accept_message(*store_, make_message("E1b", {"Brev1"}));
  ASSERT_TRUE(resend && resend->kind == AcceptOutcome::Kind::kDuplicate);
  MessageEvent attempt{a, at_ms(1), "attempt", "HTTP 503", "psyk"};
  ASSERT_TRUE(
      store_->update_delivery(a, DeliveryState::kDeadLettered, 3, at_ms(1), "HTTP 503", attempt));
  ASSERT_TRUE(store_->requeue(a, at_ms(2)));
  ASSERT_TRUE(store_->set_receipt(a, ReceiptState::kPositive,
                                  MessageEvent{a, at_ms(3), "receipt-positive", "R1"}));
  ASSERT_TRUE(store_->append_event(MessageEvent{a, at_ms(4), "relayed", "to psyk"}));
  Deadline d;
  d.key = DeadlineKey{kJobcenterGln, "Brev1"};
  d.owed_by = "psyk";
  d.owed_to = "jc";
  d.opened_at = at_ms(5);
  d.due = Date{std::chrono::year{2026}, std::chrono::month{12}, std::chrono::day{1}};
  ASSERT_TRUE(store_->put_deadline(d, a, MessageEvent{a, at_ms(5), "deadline-opened", "LÆ125"}));
  ASSERT_TRUE(store_->put_deadline(d, a, MessageEvent{}));  // no event: not audited
  ASSERT_TRUE(store_->audit(at_ms(6), "refused", "kInvalid envelope X via native: bad GLN"));
  ASSERT_TRUE(
      store_->audit_action(at_ms(7), "operator:anna", "view-message", "message 1", "unmasked"));
  auto bad = store_->audit_action(at_ms(7), "", "view-message", "message 1", "");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kInvalid);
  close();

  const auto chain = read_chain(path_);
  EXPECT_EQ(kinds(chain), (std::vector<std::string>{"received", "duplicate", "attempt", "requeued",
                                                    "receipt-positive", "relayed",
                                                    "deadline-opened", "refused", "view-message"}));
  ASSERT_EQ(chain.size(), 9u);
  std::string prev(kAuditGenesisHash);
  for (std::size_t i = 0; i < chain.size(); ++i) {
    EXPECT_EQ(chain[i].seq, static_cast<std::int64_t>(i) + 1);
    EXPECT_EQ(chain[i].prev_hash, prev);
    EXPECT_EQ(chain[i].hash, audit_entry_hash(chain[i]));
    prev = chain[i].hash;
  }
  const std::string jc = make_message("x", {"y"}).sender_endpoint;
  EXPECT_EQ(chain[0].actor, jc);  // the sender caused its message to be received
  EXPECT_EQ(chain[0].subject, "message " + std::to_string(a));
  EXPECT_EQ(chain[0].at, at_ms(0));
  EXPECT_EQ(chain[1].actor, jc);
  EXPECT_EQ(chain[2].actor, "psyk");  // from MessageEvent::actor
  EXPECT_EQ(chain[2].detail, "HTTP 503");
  EXPECT_EQ(chain[3].actor, "broker");
  EXPECT_EQ(chain[3].detail, "from dead-lettered");
  EXPECT_EQ(chain[6].subject,
            "message " + std::to_string(a) + " deadline " + std::string(kJobcenterGln) + "/Brev1");
  EXPECT_EQ(chain[7].actor, "broker");
  EXPECT_EQ(chain[7].subject, "input");
  EXPECT_EQ(chain[8].actor, "operator:anna");
  EXPECT_EQ(chain[8].subject, "message 1");
  EXPECT_EQ(chain[8].at, at_ms(7));

  const auto v = verify(path_);
  EXPECT_TRUE(v.ok) << v.explanation;
  EXPECT_EQ(v.entries, 9);
  EXPECT_EQ(v.last_hash, chain.back().hash);
}

TEST_F(AuditChainTest, NoEntryHoldsTheBodyOrTheCpr) {
  auto m = make_message("E1", {"Brev1"});
  m.body = "<Envelope><Cpr>0101801234</Cpr>helbredsoplysning</Envelope>";
  ASSERT_GT(store_new(m), 0);
  close();
  for (const auto& e : read_chain(path_)) {
    const std::string all = e.kind + e.actor + e.subject + e.detail;
    EXPECT_EQ(all.find("0101801234"), std::string::npos);
    EXPECT_EQ(all.find("helbred"), std::string::npos);
  }
}

// A plan whose second event ("stored") the trigger below can make fail after the first one was
// written.
MessagePlan two_events(const NewMessage& m) {
  MessagePlan plan{m};
  plan.events.push_back(MessageEvent{0, m.received_at, "received", "in", m.sender_endpoint});
  plan.events.push_back(MessageEvent{0, m.received_at, "stored", "kept", m.sender_endpoint});
  return plan;
}

TEST_F(AuditChainTest, AFailedOperationLeavesNoEntryAndTheChainGoesOnFromTheLastGoodOne) {
  // Fault injection in the file itself: the "stored" event fails after "received" was written,
  // so the operation has already advanced its copy of the head.
  close();
  ASSERT_EQ(exec_sql(path_,
                     "CREATE TRIGGER fail_stored BEFORE INSERT ON audit_chain "
                     "WHEN NEW.kind = 'stored' AND (SELECT count(*) FROM messages) = 2 "
                     "BEGIN SELECT RAISE(ABORT, 'injected'); END;"),
            "");
  reopen();

  const auto a = store_new(make_message("E1", {"B1"}));  // entries 1, 2
  ASSERT_TRUE(store_->begin_batch());
  auto failed = store_->store_message(two_events(make_message("E2", {"B2"})));  // rolled back
  ASSERT_FALSE(failed);
  ASSERT_TRUE(store_->append_event(MessageEvent{a, at_ms(1), "relayed", "to psyk"}));  // entry 3
  ASSERT_TRUE(store_->commit_batch());
  // Outside a batch the same failure is its own rolled-back transaction.
  ASSERT_FALSE(store_->store_message(two_events(make_message("E3", {"B3"}))));
  ASSERT_TRUE(store_->audit(at_ms(2), "refused", "after"));  // entry 4
  close();

  const auto chain = read_chain(path_);
  EXPECT_EQ(kinds(chain), (std::vector<std::string>{"received", "relayed", "refused"}));
  const auto v = verify(path_);
  EXPECT_TRUE(v.ok) << v.bad_seq << " " << v.explanation;
  EXPECT_EQ(v.entries, 3);
}

TEST_F(AuditChainTest, ARolledBackBatchReloadsTheHeadFromTheFile) {
  store_new(make_message("E1", {"B1"}));  // entry 1
  ASSERT_TRUE(store_->begin_batch());
  store_new(make_message("E2", {"B2"}));
  ASSERT_TRUE(store_->audit(at_ms(1), "refused", "in the lost batch"));
  store_->rollback_batch();                                               // two entries gone
  ASSERT_TRUE(store_->audit(at_ms(2), "refused", "after the rollback"));  // entry 2
  ASSERT_TRUE(store_->begin_batch());
  store_new(make_message("E3", {"B3"}));  // entry 3
  ASSERT_TRUE(store_->commit_batch());
  reopen();  // the head is loaded from the file
  ASSERT_TRUE(store_->audit(at_ms(3), "refused", "after the restart"));  // entry 4
  close();

  const auto chain = read_chain(path_);
  ASSERT_EQ(chain.size(), 4u);
  EXPECT_EQ(chain[1].detail, "after the rollback");
  EXPECT_EQ(chain[1].prev_hash, chain[0].hash);
  EXPECT_EQ(chain[3].detail, "after the restart");
  const auto v = verify(path_);
  EXPECT_TRUE(v.ok) << v.bad_seq << " " << v.explanation;
  EXPECT_EQ(v.entries, 4);
}

TEST_F(AuditChainTest, TheTableRefusesUpdatesAndDeletesByMistake) {
  write_eight_entries();
  EXPECT_NE(exec_sql(path_, "UPDATE audit_chain SET detail = 'x' WHERE seq = 1"), "");
  EXPECT_NE(exec_sql(path_, "DELETE FROM audit_chain WHERE seq = 8"), "");
  EXPECT_TRUE(verify(path_).ok);
}

// The schema-3 file: today's schema without what migration 3 → 4 added.
TEST_F(AuditChainTest, AVersion3FileIsMigratedAndItsChainSaysWhatCameBefore) {
  store_new(make_message("E1", {"B1"}));
  ASSERT_TRUE(store_->audit(at_ms(9), "refused", "old"));
  close();
  ASSERT_EQ(
      exec_sql(path_,
               std::string(kUnlock) +
                   // what version 11 changed: the timeline back in its own table
                   "INSERT INTO events (message_id, at, kind, detail) SELECT message_id, at, "
                   "kind, detail FROM audit_chain WHERE message_id IS NOT NULL ORDER BY seq; "
                   // what version 9 changed: the bodies back in the rows
                   "ALTER TABLE messages ADD COLUMN body BLOB NOT NULL DEFAULT x''; "
                   "UPDATE messages SET body = (SELECT body FROM message_bodies "
                   "WHERE message_id = messages.id) "
                   "WHERE id IN (SELECT message_id FROM message_bodies); "
                   "DROP TABLE message_bodies; "
                   "DROP TABLE audit_chain; DROP INDEX messages_receipt_owed; "
                   "ALTER TABLE messages DROP COLUMN receipt_sent_at; "
                   "ALTER TABLE messages DROP COLUMN resends; "
                   // what versions 6 to 8 added
                   "DROP TABLE sent_envelopes; DROP INDEX messages_receipt_missing; "
                   "DROP INDEX messages_dead_lettered; DROP INDEX messages_received; "
                   "DROP INDEX messages_envelope; DROP INDEX deadlines_open_groups; "
                   "ALTER TABLE messages DROP COLUMN receipt_missing; "
                   "DROP INDEX messages_retention_body; DROP INDEX messages_retention_record; "
                   "ALTER TABLE messages DROP COLUMN body_deleted_at; DROP TABLE holds; "
                   "DROP TABLE citizen_index; PRAGMA user_version = 3;"),
      "");

  reopen();
  store_new(make_message("E2", {"B2"}));
  close();

  const auto chain = read_chain(path_);
  EXPECT_EQ(kinds(chain), (std::vector<std::string>{"audit-chain-started", "received"}));
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0].detail,
            "schema 3 -> 12: 1 timeline event(s) and 1 audit line(s) recorded before this entry "
            "are not chained");
  EXPECT_EQ(chain[0].at, at_ms(9));  // the latest instant before the chain
  EXPECT_EQ(chain[0].prev_hash, kAuditGenesisHash);
  const auto v = verify(path_);
  EXPECT_TRUE(v.ok) << v.explanation;
  EXPECT_EQ(v.entries, 2);
  // And the triggers came with the migration.
  EXPECT_NE(exec_sql(path_, "DELETE FROM audit_chain"), "");
}

TEST_F(AuditChainTest, ANewFileStartsWithAnEmptyChain) {
  close();
  const auto v = verify(path_);
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.entries, 0);
  EXPECT_EQ(v.last_hash, kAuditGenesisHash);
}

// --- tampering ---

TEST_F(AuditChainTest, AChangedDetailIsAlteredAtThatEntry) {
  write_eight_entries();
  ASSERT_EQ(exec_sql(path_, std::string(kUnlock) +
                                "UPDATE audit_chain SET detail = 'nothing' WHERE seq = 4"),
            "");
  expect_broken(verify(path_), 4, AuditBreak::kAltered, 3);
}

TEST_F(AuditChainTest, AChangedActorOrTimeIsAltered) {
  write_eight_entries();
  ASSERT_EQ(
      exec_sql(path_, std::string(kUnlock) + "UPDATE audit_chain SET at = at + 1 WHERE seq = 6"),
      "");
  expect_broken(verify(path_), 6, AuditBreak::kAltered, 5);
  ASSERT_EQ(exec_sql(path_, "UPDATE audit_chain SET actor = 'broker' WHERE seq = 1"), "");
  expect_broken(verify(path_), 1, AuditBreak::kAltered, 0);
}

TEST_F(AuditChainTest, ADeletedMiddleEntryIsRemovedAtTheNextOne) {
  write_eight_entries();
  ASSERT_EQ(exec_sql(path_, std::string(kUnlock) + "DELETE FROM audit_chain WHERE seq = 4"), "");
  const auto v = verify(path_);
  expect_broken(v, 5, AuditBreak::kRemoved, 3);
  EXPECT_EQ(v.explanation, "entry 4 is missing");
  ASSERT_EQ(exec_sql(path_, "DELETE FROM audit_chain WHERE seq IN (5, 6)"), "");
  EXPECT_EQ(verify(path_).explanation, "entries 4 to 6 are missing");
}

TEST_F(AuditChainTest, ADeletedFirstEntryIsRemovedAtTheSecond) {
  write_eight_entries();
  ASSERT_EQ(exec_sql(path_, std::string(kUnlock) + "DELETE FROM audit_chain WHERE seq = 1"), "");
  expect_broken(verify(path_), 2, AuditBreak::kRemoved, 0);
}

// Makes room for a forged entry at seq 4 by moving entries 4… one up (seq is hashed, so the
// moved entries no longer match their hashes — but the walk stops at the forgery first).
std::string shift_up_from_4() {
  return std::string(kUnlock) +
         "UPDATE audit_chain SET seq = -seq WHERE seq >= 4;"
         "UPDATE audit_chain SET seq = 1 - seq WHERE seq < 0;";
}

TEST_F(AuditChainTest, AForgedEntryChainedToAnEarlierOneIsInserted) {
  write_eight_entries();
  const auto chain = read_chain(path_);
  AuditEntry forged{4,
                    at_ms(3),
                    "delivered",
                    "broker",
                    "message 1",
                    "HTTP 200",
                    chain[1].hash,  // entry 2's: the wrong predecessor
                    ""};
  forged.hash = audit_entry_hash(forged);
  ASSERT_EQ(exec_sql(path_, shift_up_from_4() + insert_sql(forged)), "");
  const auto v = verify(path_);
  expect_broken(v, 4, AuditBreak::kInserted, 3);
  EXPECT_EQ(v.explanation, "it is chained after entry 2, not after entry 3");
}

TEST_F(AuditChainTest, AForgedEntryChainedToNothingKnownIsRemoved) {
  write_eight_entries();
  AuditEntry forged{4,           at_ms(3),   "delivered",           "broker",
                    "message 1", "HTTP 200", sha256_hex("made up"), ""};
  forged.hash = audit_entry_hash(forged);
  ASSERT_EQ(exec_sql(path_, shift_up_from_4() + insert_sql(forged)), "");
  expect_broken(verify(path_), 4, AuditBreak::kRemoved, 3);
}

TEST_F(AuditChainTest, AForgedEntryWithTheRightPredecessorBreaksTheNextEntry) {
  write_eight_entries();
  const auto chain = read_chain(path_);
  AuditEntry forged{4, at_ms(3), "delivered", "broker", "message 1", "HTTP 200", chain[2].hash, ""};
  forged.hash = audit_entry_hash(forged);
  ASSERT_EQ(exec_sql(path_, shift_up_from_4() + insert_sql(forged)), "");
  // The forgery is consistent; the entry it pushed to seq 5 no longer matches its hash.
  expect_broken(verify(path_), 5, AuditBreak::kAltered, 4);
}

// Schema 11: the timeline is the chain's entries with message_id set. That column is not sealed,
// so the verifier holds it to the sealed subject.
TEST_F(AuditChainTest, ATimelineEntryMovedToAnotherMessageIsAltered) {
  write_eight_entries();
  reopen();
  // Message 2's timeline: its two events; the operator's view of it (entry 8) is no event.
  auto timeline = store_->timeline(2);
  ASSERT_TRUE(timeline) << timeline.error().detail;
  EXPECT_EQ(store_test::kinds(*timeline), (std::vector<std::string>{"received", "attempt-failed"}));
  close();
  EXPECT_TRUE(verify(path_).ok);
  ASSERT_EQ(
      exec_sql(path_, std::string(kUnlock) + "UPDATE audit_chain SET message_id = 1 WHERE seq = 4"),
      "");
  const auto v = verify(path_);
  expect_broken(v, 4, AuditBreak::kAltered, 3);
  EXPECT_NE(v.explanation.find("timeline column names message 1"), std::string::npos)
      << v.explanation;
}

TEST_F(AuditChainTest, ASecondEntryWithTheSameSeqIsInserted) {
  write_eight_entries();
  // Rebuilt without the primary key, a table can hold the same seq twice.
  ASSERT_EQ(
      exec_sql(
          path_,
          std::string(kUnlock) +
              "ALTER TABLE audit_chain RENAME TO old_chain;"
              "CREATE TABLE audit_chain (seq INTEGER, at INTEGER, kind TEXT, "
              "actor TEXT, subject TEXT, detail TEXT, prev_hash TEXT, hash TEXT, binding TEXT, "
              "message_id INTEGER);"
              "INSERT INTO audit_chain SELECT * FROM old_chain ORDER BY seq;"
              "DROP TABLE old_chain;"
              "INSERT INTO audit_chain SELECT * FROM audit_chain WHERE seq = 3;"),
      "");
  const auto v = verify(path_);
  expect_broken(v, 3, AuditBreak::kInserted, 3);  // the original 3 was fine; its copy breaks
  EXPECT_EQ(v.explanation, "a second entry with seq 3");
}

TEST_F(AuditChainTest, AChangedLastHashIsAltered) {
  write_eight_entries();
  ASSERT_EQ(exec_sql(path_, std::string(kUnlock) + "UPDATE audit_chain SET hash = '" +
                                sha256_hex("other") + "' WHERE seq = 8"),
            "");
  expect_broken(verify(path_), 8, AuditBreak::kAltered, 7);
}

TEST_F(AuditChainTest, AnEntryRewrittenWithAFreshHashShowsAtTheNextEntry) {
  write_eight_entries();
  auto chain = read_chain(path_);
  AuditEntry e = chain[3];  // seq 4
  e.detail = "nothing to see";
  e.hash = audit_entry_hash(e);
  ASSERT_EQ(exec_sql(path_, std::string(kUnlock) + "DELETE FROM audit_chain WHERE seq = 4;" +
                                insert_sql(e)),
            "");
  const auto v = verify(path_);
  expect_broken(v, 5, AuditBreak::kRemoved, 4);
  EXPECT_NE(v.explanation.find("removed or rewritten"), std::string::npos);
}

// What a chain without a secret cannot see by itself: a valid entry appended at the end. A
// last_hash kept from an earlier verdict shows it.
TEST_F(AuditChainTest, AForgedTailIsCaughtOnlyByAKeptLastHash) {
  write_eight_entries();
  const auto kept = verify(path_);
  ASSERT_TRUE(kept.ok);
  AuditEntry forged{9,           at_ms(20),  "delivered",    "broker",
                    "message 1", "HTTP 200", kept.last_hash, ""};
  forged.hash = audit_entry_hash(forged);
  ASSERT_EQ(exec_sql(path_, insert_sql(forged)), "");
  const auto later = verify(path_);
  EXPECT_TRUE(later.ok);
  EXPECT_EQ(later.entries, 9);
  EXPECT_NE(later.last_hash, kept.last_hash);
}

TEST_F(AuditChainTest, TheStoreStillOpensAfterTamperingAndTheBreakStaysVisible) {
  write_eight_entries();
  ASSERT_EQ(
      exec_sql(path_, std::string(kUnlock) + "DELETE FROM audit_chain WHERE seq = 3;"
                                             "UPDATE audit_chain SET hash = 'bad' WHERE seq = 8"),
      "");
  reopen();  // the broker keeps carrying messages
  ASSERT_GT(store_new(make_message("E4", {"B4"})), 0);
  close();
  const auto chain = read_chain(path_);
  ASSERT_EQ(chain.back().seq, 9);
  EXPECT_EQ(chain.back().prev_hash, "bad");  // chained on the last entry as found
  expect_broken(verify(path_), 4, AuditBreak::kRemoved, 2);
  // Once the first break is dealt with, the next one shows.
  ASSERT_EQ(exec_sql(path_, "DELETE FROM audit_chain WHERE seq < 8"), "");
  AuditVerdict v = verify(path_);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_seq, 8);
}

TEST_F(AuditChainTest, TheVerifierReadsWhileTheStoreIsOpen) {
  store_new(make_message("E1", {"B1"}));
  const auto v = verify(path_);
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.entries, 1);
  ASSERT_TRUE(store_->audit(at_ms(1), "refused", "x"));  // the verifier left no lock behind
}

TEST(AuditVerify, AMissingFileOrAnOldStoreIsAnErrorAndNothingIsCreated) {
  TempDir dir;
  const auto missing = dir.file("missing.db");
  auto none = verify_audit_chain(missing);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::kStorage);
  EXPECT_FALSE(std::filesystem::exists(missing));

  const auto old = dir.file("v3.db");
  ASSERT_EQ(exec_sql(old, ""), "cannot open");  // READWRITE does not create either
  {
    auto opened = SqliteStore::open(old);
    ASSERT_TRUE(opened);
  }
  ASSERT_EQ(exec_sql(old, std::string(kUnlock) + "DROP TABLE audit_chain"), "");
  auto no_table = verify_audit_chain(old);
  ASSERT_FALSE(no_table);
  EXPECT_NE(no_table.error().detail.find("schema version 4"), std::string::npos)
      << no_table.error().detail;
}

// --- sektorbro-audit ---

using store_test::run_audit;

TEST_F(AuditChainTest, TheCommandLineToolReportsOkBrokenAndUsage) {
  write_eight_entries();
  const std::string detail4 = read_chain(path_)[3].detail;
  const auto good = run_audit("verify --store '" + path_ + "'");
  EXPECT_EQ(good.status, 0) << good.output;
  EXPECT_EQ(good.output.substr(0, good.output.find('\n')), "audit chain ok: 8 entries");
  EXPECT_NE(good.output.find(verify(path_).last_hash), std::string::npos);

  ASSERT_EQ(exec_sql(path_, std::string(kUnlock) +
                                "UPDATE audit_chain SET detail = 'nothing' WHERE seq = 4"),
            "");
  const auto bad = run_audit("verify --store '" + path_ + "'");
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_EQ(bad.output.rfind("audit chain broken at entry 4: altered (", 0), 0u) << bad.output;

  ASSERT_EQ(exec_sql(path_, "UPDATE audit_chain SET detail = '" + detail4 +
                                "' WHERE seq = 4; DELETE FROM audit_chain WHERE seq = 6"),
            "");
  const auto removed = run_audit("verify --store '" + path_ + "'");
  EXPECT_EQ(removed.status, 1) << removed.output;
  EXPECT_EQ(removed.output, "audit chain broken at entry 7: removed (entry 6 is missing)\n");

  EXPECT_EQ(run_audit("").status, 2);
  EXPECT_EQ(run_audit("verify").status, 2);
  EXPECT_EQ(run_audit("check --store '" + path_ + "'").status, 2);
  const auto unreadable = run_audit("verify --store '" + dir_.file("nope.db") + "'");
  EXPECT_EQ(unreadable.status, 2) << unreadable.output;
  EXPECT_NE(unreadable.output.find("cannot verify"), std::string::npos);
}

}  // namespace
}  // namespace sektorbro
