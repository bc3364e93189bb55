// The audit chain sees truncation and row edits (issue 12, item 5; docs/audit.md): each measure
// has a test that fails without it — a message row's body or state edited with raw SQL
// (bindings), entries cut off the end (checkpoint), the chain recomputed without the key
// (HMAC). Retention's deletions stay verifiable. Tampering goes through SQLite's C API, as
// someone with access to the file would do it.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "broker/core/identifiers.hpp"
#include "broker/intake/message_acceptor.hpp"
#include "broker/store/audit_checkpoint.hpp"
#include "broker/store/audit_verify.hpp"
#include "broker/store/sqlite_store.hpp"
#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using store_test::at_ms;
using store_test::make_message;
using store_test::TempDir;

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
            SQLITE_OK);
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

std::string insert_sql(const AuditEntry& e) {
  char* sql = sqlite3_mprintf(
      "INSERT INTO audit_chain (seq, at, kind, actor, subject, detail, prev_hash, hash, binding) "
      "VALUES (%lld, %lld, %Q, %Q, %Q, %Q, %Q, %Q, %Q);",
      static_cast<long long>(e.seq), static_cast<long long>(to_millis(e.at)), e.kind.c_str(),
      e.actor.c_str(), e.subject.c_str(), e.detail.c_str(), e.prev_hash.c_str(), e.hash.c_str(),
      e.binding.c_str());
  std::string out(sql);
  sqlite3_free(sql);
  return out;
}

// Rewrites the whole chain as someone without the key would: every entry kept, every hash
// recomputed (unkeyed, or under `key`), so the walk alone finds nothing wrong.
std::string rewrite_chain(const std::string& path, const AuditKey* key) {
  auto chain = read_chain(path);
  std::string sql = std::string(kUnlock) + "DELETE FROM audit_chain;";
  std::string prev(kAuditGenesisHash);
  for (AuditEntry& e : chain) {
    e.prev_hash = prev;
    e.hash = audit_entry_seal(e, key);
    prev = e.hash;
    sql += insert_sql(e);
  }
  return exec_sql(path, sql);
}

AuditVerdict verify(const std::string& path, const VerifyOptions& options = {}) {
  auto v = verify_audit_chain(path, options);
  EXPECT_TRUE(v) << v.error().detail;
  return v ? *v : AuditVerdict{};
}

void expect_broken(const AuditVerdict& v, AuditBreak reason) {
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(to_string(v.reason), to_string(reason)) << v.explanation;
}

class AuditBindingTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen(const AuditKey* key = nullptr) {
    store_.reset();
    auto opened = SqliteStore::open(path_);
    ASSERT_TRUE(opened) << opened.error().detail;
    store_ = std::move(*opened);
    if (key) store_->set_audit_key(*key);
  }
  void close() { store_.reset(); }

  std::int64_t store_new(const std::string& envelope, const std::string& letter) {
    auto out = accept_message(*store_, make_message(envelope, {letter}));
    EXPECT_TRUE(out) << out.error().detail;
    return out && out->kind == AcceptOutcome::Kind::kStored ? out->message_id : 0;
  }
  void deliver(std::int64_t id) {
    ASSERT_TRUE(store_->update_delivery(id, DeliveryState::kDelivered, 1, at_ms(10), "",
                                        MessageEvent{id, at_ms(10), "delivered", "HTTP 200"}));
    ASSERT_TRUE(store_->set_receipt(id, ReceiptState::kPositive,
                                    MessageEvent{id, at_ms(11), "receipt-positive", ""}));
  }

  TempDir dir_;
  std::string path_ = dir_.file("broker.db");
  std::unique_ptr<SqliteStore> store_;
  AuditKey key_{std::string(40, 'k')};
};

// --- bindings: the rows the chain describes ---

TEST_F(AuditBindingTest, EveryRowMatchesItsBindingsOnAnUntouchedStore) {
  const auto a = store_new("E1", "B1");
  deliver(a);
  store_new("E2", "B2");
  close();
  const auto chain = read_chain(path_);
  EXPECT_EQ(chain[0].binding,
            message_stored_binding(sha256_hex(make_message("E1", {"B1"}).body), "pending", "none"));
  const auto v = verify(path_);
  EXPECT_TRUE(v.ok) << v.explanation;
  EXPECT_EQ(v.rows_checked, 2);
  EXPECT_EQ(v.rows_unbound, 0);
}

TEST_F(AuditBindingTest, AnEditedBodyIsRowAlteredAtTheEntryThatBoundIt) {
  store_new("E1", "B1");
  const auto b = store_new("E2", "B2");
  close();
  ASSERT_TRUE(verify(path_).ok);
  ASSERT_EQ(
      exec_sql(
          path_,
          "UPDATE message_bodies SET body = CAST('<Envelope>else</Envelope>' AS BLOB), codec = 0 "
          "WHERE message_id = " +
              std::to_string(b)),
      "");
  const auto v = verify(path_);
  expect_broken(v, AuditBreak::kRowAltered);
  EXPECT_EQ(v.bad_seq, 2);  // E2's "received", which bound its body
  EXPECT_NE(v.explanation.find("message 2's body"), std::string::npos) << v.explanation;
  // Without the row check the edit goes unseen: the binding is what sees it.
  VerifyOptions no_rows;
  no_rows.check_rows = false;
  EXPECT_TRUE(verify(path_, no_rows).ok);
}

TEST_F(AuditBindingTest, AnEditedStateOrReceiptIsRowAltered) {
  const auto a = store_new("E1", "B1");
  deliver(a);
  close();
  ASSERT_TRUE(verify(path_).ok);
  ASSERT_EQ(exec_sql(path_, "UPDATE messages SET state = 'pending' WHERE id = 1"), "");
  auto v = verify(path_);
  expect_broken(v, AuditBreak::kRowAltered);
  EXPECT_EQ(v.bad_seq, 2);  // "delivered" bound state=delivered
  ASSERT_EQ(exec_sql(path_, "UPDATE messages SET state = 'delivered', receipt = 'negative'"), "");
  v = verify(path_);
  expect_broken(v, AuditBreak::kRowAltered);
  EXPECT_EQ(v.bad_seq, 3);  // "receipt-positive"
}

TEST_F(AuditBindingTest, ADeletedRowIsRowRemoved) {
  store_new("E1", "B1");
  store_new("E2", "B2");
  close();
  ASSERT_EQ(exec_sql(path_, "PRAGMA foreign_keys = OFF; DELETE FROM messages WHERE id = 1"), "");
  const auto v = verify(path_);
  expect_broken(v, AuditBreak::kRowRemoved);
  EXPECT_NE(v.explanation.find("message 1"), std::string::npos) << v.explanation;
}

TEST_F(AuditBindingTest, RetentionsDeletionsStayVerifiableAndTheirRowsAreChecked) {
  const auto a = store_new("E1", "B1");
  deliver(a);
  const auto b = store_new("E2", "B2");
  deliver(b);
  ASSERT_TRUE(store_->delete_body(a, at_ms(100)));
  ASSERT_TRUE(store_->delete_body(b, at_ms(100)));
  ASSERT_TRUE(store_->delete_record(b, at_ms(200)));
  close();
  const auto chain = read_chain(path_);
  ASSERT_GE(chain.size(), 3u);
  EXPECT_EQ(chain[chain.size() - 3].binding,
            "body-deleted=" + sha256_hex(make_message("E1", {"B1"}).body));
  EXPECT_EQ(chain.back().binding, "record-deleted");
  auto v = verify(path_);
  EXPECT_TRUE(v.ok) << v.explanation;
  EXPECT_EQ(v.rows_checked, 1);  // a's minimal record; b's is gone, as its entry says
  // A body put back after retention deleted it is seen.
  ASSERT_EQ(exec_sql(path_,
                     "INSERT INTO message_bodies (message_id, body, codec) "
                     "VALUES (1, CAST('x' AS BLOB), 0)"),
            "");
  expect_broken(verify(path_), AuditBreak::kRowAltered);
}

// --- the checkpoint: entries cut off the end ---

TEST_F(AuditBindingTest, EntriesCutOffTheEndAreTruncatedAgainstTheCheckpoint) {
  for (int i = 1; i <= 4; ++i) store_new("E" + std::to_string(i), "B" + std::to_string(i));
  auto head = store_->audit_head();
  ASSERT_TRUE(head);
  ASSERT_EQ(head->seq, 4);
  close();
  const std::string checkpoint = dir_.file("audit.checkpoint");
  std::ofstream(checkpoint) << format_audit_checkpoint(*head);
  auto read = read_audit_checkpoint(checkpoint);
  ASSERT_TRUE(read) << read.error().detail;
  // Cut off the last two entries and the rows they describe: the chain alone is whole.
  ASSERT_EQ(exec_sql(path_, std::string(kUnlock) +
                                "DELETE FROM audit_chain WHERE seq > 2; PRAGMA foreign_keys = OFF;"
                                "DELETE FROM letters WHERE message_id > 2;"
                                "DELETE FROM events WHERE message_id > 2;"
                                "DELETE FROM messages WHERE id > 2;"),
            "");
  EXPECT_TRUE(verify(path_).ok);
  VerifyOptions with_checkpoint;
  with_checkpoint.checkpoint = *read;
  const auto v = verify(path_, with_checkpoint);
  expect_broken(v, AuditBreak::kTruncated);
  EXPECT_NE(v.explanation.find("names entry 4 but the chain ends at 2"), std::string::npos)
      << v.explanation;
}

TEST_F(AuditBindingTest, ATailRewrittenToTheSameLengthIsRewrittenAgainstTheCheckpoint) {
  for (int i = 1; i <= 3; ++i) store_new("E" + std::to_string(i), "B" + std::to_string(i));
  const auto head = store_->audit_head();
  ASSERT_TRUE(head);
  close();
  auto chain = read_chain(path_);
  chain[2].detail = "forged";
  chain[2].hash = audit_entry_hash(chain[2]);
  ASSERT_EQ(exec_sql(path_, std::string(kUnlock) + "DELETE FROM audit_chain WHERE seq = 3;" +
                                insert_sql(chain[2])),
            "");
  VerifyOptions with_checkpoint;
  with_checkpoint.checkpoint = *head;
  expect_broken(verify(path_, with_checkpoint), AuditBreak::kRewritten);
  EXPECT_TRUE(verify(path_).ok);  // without it, a valid last entry is all there is
}

// --- the key: the chain recomputed without it ---

TEST_F(AuditBindingTest, AKeyedChainVerifiesOnlyWithItsKey) {
  reopen(&key_);
  store_new("E1", "B1");
  store_new("E2", "B2");
  close();
  EXPECT_TRUE(is_keyed_seal(read_chain(path_)[0].hash));
  VerifyOptions keyed;
  keyed.key = &key_;
  const auto v = verify(path_, keyed);
  EXPECT_TRUE(v.ok) << v.explanation;
  EXPECT_EQ(v.keyed_entries, 2);
  auto without = verify_audit_chain(path_);
  ASSERT_FALSE(without);
  EXPECT_EQ(without.error().code, Errc::kInvalid);
  AuditKey other{std::string(40, 'x')};
  VerifyOptions wrong;
  wrong.key = &other;
  expect_broken(verify(path_, wrong), AuditBreak::kAltered);
}

TEST_F(AuditBindingTest, AChainRecomputedWithoutTheKeyFailsWithTheKey) {
  reopen(&key_);
  store_new("E1", "B1");
  store_new("E2", "B2");
  close();
  // Edit a row and recompute the whole chain to match it, as one without the key must.
  ASSERT_EQ(exec_sql(path_,
                     "UPDATE message_bodies SET body = CAST('x' AS BLOB), codec = 0 "
                     "WHERE message_id = 1"),
            "");
  auto chain = read_chain(path_);
  ASSERT_EQ(rewrite_chain(path_, nullptr), "");
  ASSERT_EQ(exec_sql(path_, std::string(kUnlock) + "UPDATE audit_chain SET binding = '" +
                                message_stored_binding(sha256_hex("x"), "pending", "none") +
                                "' WHERE seq = 1"),
            "");
  ASSERT_EQ(rewrite_chain(path_, nullptr), "");
  EXPECT_TRUE(verify(path_).ok);  // unkeyed, the forgery passes
  VerifyOptions keyed;
  keyed.key = &key_;
  expect_broken(verify(path_, keyed), AuditBreak::kUnkeyed);
}

TEST_F(AuditBindingTest, EntriesBeforeTheKeyAreCountedAndAnUnkeyedOneAfterItIsCaught) {
  store_new("E1", "B1");  // before the key was configured
  reopen(&key_);
  store_new("E2", "B2");
  close();
  VerifyOptions keyed;
  keyed.key = &key_;
  const auto v = verify(path_, keyed);
  EXPECT_TRUE(v.ok) << v.explanation;
  EXPECT_EQ(v.unkeyed_entries, 1);
  EXPECT_EQ(v.keyed_entries, 1);
  // One more entry appended without the key, after a keyed one.
  reopen();
  store_new("E3", "B3");
  close();
  expect_broken(verify(path_, keyed), AuditBreak::kUnkeyed);
}

// --- sektorbro-audit ---

using store_test::run_audit;

TEST_F(AuditBindingTest, TheToolTakesTheKeyFileAndTheCheckpoint) {
  reopen(&key_);
  store_new("E1", "B1");
  store_new("E2", "B2");
  const auto head = store_->audit_head();
  ASSERT_TRUE(head);
  close();
  const std::string key_file = dir_.file("audit.key");
  std::ofstream(key_file) << key_.bytes << "\n";
  const std::string checkpoint = dir_.file("audit.checkpoint");
  std::ofstream(checkpoint) << format_audit_checkpoint(*head);
  const std::string base = "verify --store '" + path_ + "' --key-file '" + key_file + "'";
  const auto good = run_audit(base + " --checkpoint '" + checkpoint + "'");
  EXPECT_EQ(good.status, 0) << good.output;
  EXPECT_NE(good.output.find("checkpoint: entry 2 matches"), std::string::npos) << good.output;
  EXPECT_EQ(run_audit("verify --store '" + path_ + "'").status, 2);  // keyed: needs the key
  ASSERT_EQ(exec_sql(path_, std::string(kUnlock) + "DELETE FROM audit_chain WHERE seq = 2"), "");
  const auto cut = run_audit(base + " --checkpoint '" + checkpoint + "' --no-rows");
  EXPECT_EQ(cut.status, 1) << cut.output;
  EXPECT_NE(cut.output.find("truncated"), std::string::npos) << cut.output;
}

}  // namespace
}  // namespace sektorbro
