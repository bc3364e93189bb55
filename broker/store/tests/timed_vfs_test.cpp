// The fsync timing VFS (timed_vfs.hpp) on real SQLite files: a commit with synchronous=FULL
// syncs through it and every observer alive hears of each sync; SqliteStore's writer connection
// goes through it; an observer gone hears nothing more.
#include "broker/store/timed_vfs.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <optional>

#include "broker/store/sqlite_store.hpp"
#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using store_test::TempDir;

struct Syncs {
  std::atomic<int> count{0};
  std::atomic<bool> negative{false};
  SyncObserver observer{[this](double seconds) {
    if (seconds < 0) negative = true;
    ++count;
  }};
};

void exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
}

TEST(TimedVfs, ACommitWithSynchronousFullIsTimedAndTheFileReadsBack) {
  const char* vfs = register_timed_vfs();
  ASSERT_NE(vfs, nullptr);
  EXPECT_EQ(register_timed_vfs(), vfs);  // once
  EXPECT_NE(sqlite3_vfs_find(nullptr), sqlite3_vfs_find(vfs)) << "must not be the default VFS";
  TempDir dir;
  const std::string path = (dir.path() / "timed.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
            SQLITE_OK);
  exec(db, "PRAGMA journal_mode=WAL");
  exec(db, "PRAGMA synchronous=FULL");
  exec(db, "CREATE TABLE t(x)");
  Syncs syncs;
  exec(db, "INSERT INTO t VALUES (1)");
  const int after_one = syncs.count;
  EXPECT_GE(after_one, 1) << "a WAL commit with synchronous=FULL syncs the WAL";
  exec(db, "BEGIN; INSERT INTO t VALUES (2); INSERT INTO t VALUES (3); COMMIT");
  EXPECT_GT(syncs.count, after_one);
  EXPECT_FALSE(syncs.negative);
  // Without a transaction nothing is written, so nothing is synced.
  const int before_read = syncs.count;
  exec(db, "SELECT count(*) FROM t");
  EXPECT_EQ(syncs.count, before_read);
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);

  // What the timed VFS wrote, the default VFS reads (the same files, the same format).
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT sum(x) FROM t", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 6);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(TimedVfs, SqliteStoresWriterSyncsThroughIt) {
  TempDir dir;
  auto store = SqliteStore::open((dir.path() / "store.db").string());
  ASSERT_TRUE(store) << store.error().detail;
  std::optional<Syncs> syncs;
  syncs.emplace();
  ASSERT_TRUE((*store)->begin_batch());
  ASSERT_TRUE((*store)->audit_action(store_test::at_ms(1), "operator:test", "view-message",
                                     "message 1", "test"));
  ASSERT_TRUE((*store)->commit_batch());
  const int counted = syncs->count;
  EXPECT_GE(counted, 1) << "the writer's commit (synchronous=FULL) syncs through the timed VFS";
  // Reads sync nothing.
  ASSERT_TRUE((*store)->audit_head());
  EXPECT_EQ(syncs->count, counted);
  // An observer gone hears no more; a new one hears the next commit.
  syncs.reset();
  Syncs later;
  ASSERT_TRUE((*store)->begin_batch());
  ASSERT_TRUE((*store)->audit_action(store_test::at_ms(2), "operator:test", "view-message",
                                     "message 2", "test"));
  ASSERT_TRUE((*store)->commit_batch());
  EXPECT_GE(later.count, 1);
}

}  // namespace
}  // namespace sektorbro
