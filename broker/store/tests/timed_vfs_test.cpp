// The fsync timing VFS (timed_vfs.hpp) on real SQLite files: a commit with synchronous=FULL
// syncs through it and every observer alive hears of each sync; SqliteStore's writer connection
// goes through it; an observer gone hears nothing more.
#include "broker/store/timed_vfs.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

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

using store_test::exec_ok;

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
  exec_ok(db, "PRAGMA journal_mode=WAL");
  exec_ok(db, "PRAGMA synchronous=FULL");
  exec_ok(db, "CREATE TABLE t(x)");
  Syncs syncs;
  exec_ok(db, "INSERT INTO t VALUES (1)");
  const int after_one = syncs.count;
  EXPECT_GE(after_one, 1) << "a WAL commit with synchronous=FULL syncs the WAL";
  exec_ok(db, "BEGIN; INSERT INTO t VALUES (2); INSERT INTO t VALUES (3); COMMIT");
  EXPECT_GT(syncs.count, after_one);
  EXPECT_FALSE(syncs.negative);
  // Without a transaction nothing is written, so nothing is synced.
  const int before_read = syncs.count;
  exec_ok(db, "SELECT count(*) FROM t");
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

// The default VFS's write system calls, replaced while alive (sqlite3_vfs::xSetSystemCall): every
// write is counted with its size, and while `fail_above` is set a write of more bytes than that
// fails with ENOSPC. Which of pwrite64 / pwrite / write the build uses does not matter: all three
// are hooked. Process-wide; each test runs in a process of its own (gtest_discover_tests).
struct WriteHook {
  static inline std::atomic<int> writes{0};
  static inline std::atomic<int> large_writes{0};  // more than one WAL frame (4 KiB + 24)
  static inline std::atomic<long> fail_above{-1};
  // While set: the writes made while it owed a sync are counted.
  static inline const WalSync* watched = nullptr;
  static inline std::atomic<int> writes_while_owed{0};
  static inline sqlite3_syscall_ptr real_pwrite64 = nullptr;
  static inline sqlite3_syscall_ptr real_pwrite = nullptr;
  static inline sqlite3_syscall_ptr real_write = nullptr;

  static bool refuse(std::size_t n) {
    ++writes;
    if (n > 4096 + 24) ++large_writes;
    if (watched != nullptr && watched->owed()) ++writes_while_owed;
    const long limit = fail_above;
    if (limit >= 0 && n > static_cast<std::size_t>(limit)) {
      errno = ENOSPC;
      return true;
    }
    return false;
  }
  static ssize_t pwrite64_hook(int fd, const void* buf, std::size_t n, off_t at) {
    if (refuse(n)) return -1;
    return reinterpret_cast<ssize_t (*)(int, const void*, std::size_t, off_t)>(real_pwrite64)(
        fd, buf, n, at);
  }
  static ssize_t pwrite_hook(int fd, const void* buf, std::size_t n, off_t at) {
    if (refuse(n)) return -1;
    return reinterpret_cast<ssize_t (*)(int, const void*, std::size_t, off_t)>(real_pwrite)(fd, buf,
                                                                                            n, at);
  }
  static ssize_t write_hook(int fd, const void* buf, std::size_t n) {
    if (refuse(n)) return -1;
    return reinterpret_cast<ssize_t (*)(int, const void*, std::size_t)>(real_write)(fd, buf, n);
  }

  sqlite3_vfs* root = sqlite3_vfs_find(nullptr);
  WriteHook() {
    writes = 0;
    large_writes = 0;
    fail_above = -1;
    watched = nullptr;
    writes_while_owed = 0;
    real_pwrite64 = root->xGetSystemCall(root, "pwrite64");
    real_pwrite = root->xGetSystemCall(root, "pwrite");
    real_write = root->xGetSystemCall(root, "write");
    if (real_pwrite64)
      root->xSetSystemCall(root, "pwrite64", reinterpret_cast<sqlite3_syscall_ptr>(&pwrite64_hook));
    if (real_pwrite)
      root->xSetSystemCall(root, "pwrite", reinterpret_cast<sqlite3_syscall_ptr>(&pwrite_hook));
    if (real_write)
      root->xSetSystemCall(root, "write", reinterpret_cast<sqlite3_syscall_ptr>(&write_hook));
  }
  ~WriteHook() {
    root->xSetSystemCall(root, nullptr, nullptr);  // all back to the originals
    watched = nullptr;
  }
};

int count_rows(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) return -1;
  const int n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  return n;
}

std::string integrity(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) != SQLITE_OK)
    return "cannot check";
  std::string out = sqlite3_step(stmt) == SQLITE_ROW
                        ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))
                        : "no answer";
  sqlite3_finalize(stmt);
  return out;
}

// What a fresh read-only connection through the default VFS finds in the file at `path`: the
// number `count_sql` counts, and "ok" from the integrity check ("cannot open" if it cannot).
struct ReadBack {
  int count = -1;
  std::string integrity = "cannot open";
};
ReadBack read_back(const std::string& path, const char* count_sql) {
  ReadBack out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    out.count = count_rows(db, count_sql);
    out.integrity = integrity(db);
  }
  sqlite3_close(db);
  return out;
}

// A database in WAL mode with synchronous=FULL, opened through `vfs` (nullptr: the default).
sqlite3* open_wal(const std::string& path, const char* vfs) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) !=
      SQLITE_OK)
    return db;
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
  return db;
}

int checkpoint(sqlite3* db) {
  return sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
}

// One transaction of 200 rows of 2 KB: ~100+ pages, each a WAL frame written as two writes.
const char* kBigInsert =
    "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) "
    "INSERT INTO t SELECT i, randomblob(2000) FROM n; COMMIT";

// The same table in two files, one opened through the default VFS and one through the timed VFS,
// for the tests that compare the two.
struct PlainAndTimed {
  TempDir dir;
  std::string plain_path = (dir.path() / "plain.db").string();
  std::string timed_path = (dir.path() / "timed.db").string();
  sqlite3* plain = open_wal(plain_path, nullptr);
  sqlite3* timed = open_wal(timed_path, register_timed_vfs());

  explicit PlainAndTimed(const std::string& setup_sql) {
    for (sqlite3* db : {plain, timed})
      if (db != nullptr) exec_ok(db, setup_sql);
  }
  ~PlainAndTimed() {
    sqlite3_close(plain);
    sqlite3_close(timed);
  }

  // The writes `step` makes on each connection, counted by the default VFS's system calls.
  struct Writes {
    int plain = 0;
    int timed = 0;
    int timed_large = 0;
  };
  template <typename Step>
  Writes count_writes(Step step) {
    Writes out;
    WriteHook hook;
    step(plain);
    out.plain = hook.writes.exchange(0);
    hook.large_writes = 0;
    step(timed);
    out.timed = hook.writes;
    out.timed_large = hook.large_writes;
    return out;
  }
};

// Issue 8: through the timed VFS a commit's WAL frames reach the file in a few large writes,
// not two writes per frame as through the default VFS; and what was written reads back, through
// either VFS.
TEST(TimedVfs, ACommitsWalFramesReachTheFileInAFewWrites) {
  PlainAndTimed files("CREATE TABLE t(i INTEGER PRIMARY KEY, b BLOB)");
  ASSERT_NE(files.plain, nullptr);
  ASSERT_NE(files.timed, nullptr);
  const auto writes = files.count_writes([](sqlite3* db) { exec_ok(db, kBigInsert); });
  EXPECT_GE(writes.timed_large, 1);
  EXPECT_GE(writes.plain, 200) << "the default VFS: a header and a page per frame";
  EXPECT_LE(writes.timed * 20, writes.plain)
      << "through the timed VFS the frames go in runs of up to 31: " << writes.timed
      << " writes against " << writes.plain;
  EXPECT_EQ(count_rows(files.timed, "SELECT count(*) FROM t"), 200);
  EXPECT_EQ(read_back(files.timed_path, "SELECT count(*) FROM t WHERE length(b) = 2000").count, 200)
      << "another connection, through the default VFS, reads the commit";
}

// A transaction larger than the page cache spills frames into the WAL before its commit and
// reads them back: the held run is written before the read, so the transaction sees its own
// writes, and the file is sound.
TEST(TimedVfs, ATransactionThatSpillsReadsItsOwnFramesBack) {
  TempDir dir;
  const std::string path = (dir.path() / "spill.db").string();
  sqlite3* db = open_wal(path, register_timed_vfs());
  ASSERT_NE(db, nullptr);
  exec_ok(db, "PRAGMA cache_size = 10");
  exec_ok(db, "CREATE TABLE t(i INTEGER PRIMARY KEY, b BLOB)");
  exec_ok(db,
          "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
          "INSERT INTO t SELECT i, zeroblob(1000) FROM n");
  EXPECT_EQ(count_rows(db, "SELECT sum(length(b)) / 1000 FROM t"), 2000);
  exec_ok(db, "UPDATE t SET b = randomblob(900) WHERE i % 3 = 0; COMMIT");
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM t WHERE length(b) = 900"), 666);
  EXPECT_EQ(integrity(db), "ok");
  sqlite3_close(db);
  const ReadBack file = read_back(path, "SELECT count(*) FROM t");
  EXPECT_EQ(file.count, 2000);
  EXPECT_EQ(file.integrity, "ok");
}

// A full disk when the run is written (at the commit's sync): the commit fails with SQLITE_FULL,
// nothing of the transaction is stored, the file stays sound, and the next commit succeeds.
TEST(TimedVfs, AFailedWriteOfTheRunFailsTheCommitAndStoresNothing) {
  TempDir dir;
  const std::string path = (dir.path() / "full.db").string();
  sqlite3* db = open_wal(path, register_timed_vfs());
  ASSERT_NE(db, nullptr);
  exec_ok(db, "CREATE TABLE t(i INTEGER PRIMARY KEY, b BLOB)");
  exec_ok(db, "INSERT INTO t VALUES (0, x'00')");
  {
    WriteHook hook;
    hook.fail_above = 4096 + 24;  // only a combined run is that large
    const int rc = sqlite3_exec(db, kBigInsert, nullptr, nullptr, nullptr);
    EXPECT_EQ(rc, SQLITE_FULL) << sqlite3_errmsg(db);
    if (sqlite3_get_autocommit(db) == 0) exec_ok(db, "ROLLBACK");
  }
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM t"), 1);
  EXPECT_EQ(integrity(db), "ok");
  sqlite3_close(db);
  sqlite3* again = open_wal(path, register_timed_vfs());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(count_rows(again, "SELECT count(*) FROM t"), 1) << "nothing half-stored";
  EXPECT_EQ(integrity(again), "ok");
  exec_ok(again, kBigInsert);
  EXPECT_EQ(count_rows(again, "SELECT count(*) FROM t"), 201);
  sqlite3_close(again);
}

// Issue 8: a checkpoint copies the WAL's pages into the database file in page order; through the
// timed VFS adjacent pages reach the file as one write, and the file reads back sound.
TEST(TimedVfs, ACheckpointsPageCopiesReachTheFileInRuns) {
  PlainAndTimed files(
      std::string(
          "PRAGMA wal_autocheckpoint = 0; CREATE TABLE t(i INTEGER PRIMARY KEY, b BLOB); ") +
      kBigInsert);
  ASSERT_NE(files.plain, nullptr);
  ASSERT_NE(files.timed, nullptr);
  const auto writes = files.count_writes([](sqlite3* db) { ASSERT_EQ(checkpoint(db), SQLITE_OK); });
  EXPECT_GE(writes.plain, 100) << "the default VFS: one write per page copied";
  EXPECT_LE(writes.timed * 10, writes.plain)
      << "through the timed VFS adjacent pages go as one: " << writes.timed << " writes against "
      << writes.plain;
  sqlite3_close(std::exchange(files.timed, nullptr));
  const ReadBack file =
      read_back(files.timed_path, "SELECT count(*) FROM t WHERE length(b) = 2000");
  EXPECT_EQ(file.count, 200);
  EXPECT_EQ(file.integrity, "ok");
}

// A full disk when a checkpoint's run is written: the checkpoint fails, and since the WAL still
// holds every page, nothing committed is lost; the next checkpoint completes.
TEST(TimedVfs, AFailedCheckpointWriteLosesNothingCommitted) {
  TempDir dir;
  const std::string path = (dir.path() / "ckpt.db").string();
  sqlite3* db = open_wal(path, register_timed_vfs());
  ASSERT_NE(db, nullptr);
  exec_ok(db, "PRAGMA wal_autocheckpoint = 0");
  exec_ok(db, "CREATE TABLE t(i INTEGER PRIMARY KEY, b BLOB)");
  exec_ok(db, kBigInsert);
  {
    WriteHook hook;
    hook.fail_above = 4096 + 24;
    EXPECT_EQ(checkpoint(db), SQLITE_FULL);
  }
  EXPECT_EQ(count_rows(db, "SELECT count(*) FROM t"), 200);
  sqlite3_close(db);
  sqlite3* again = open_wal(path, register_timed_vfs());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(count_rows(again, "SELECT count(*) FROM t WHERE length(b) = 2000"), 200);
  EXPECT_EQ(integrity(again), "ok");
  EXPECT_EQ(checkpoint(again), SQLITE_OK);
  EXPECT_EQ(integrity(again), "ok");
  sqlite3_close(again);
  EXPECT_EQ(read_back(path, "SELECT count(*) FROM t").count, 200) << "from the database file";
}

}  // namespace
}  // namespace sektorbro

namespace sektorbro {
namespace {

// Issue 8, "The fsync off the writer's path": a commit whose WAL sync is deferred writes its
// frames out — readers through another connection see it — but syncs nothing; WalSync::sync()
// makes it durable with one fdatasync, and none when nothing is owed. A checkpoint never writes
// a page into the database file while the frame it copies could still be lost: the WAL is
// synced before the first such write.
TEST(TimedVfs, ADeferredCommitSyncsNothingAndACheckpointSyncsTheWalBeforeItCopies) {
  TempDir dir;
  const std::string path = (dir.path() / "deferred.db").string();
  sqlite3* db = open_wal(path, register_timed_vfs());
  ASSERT_NE(db, nullptr);
  exec_ok(db, "PRAGMA wal_autocheckpoint = 0; CREATE TABLE t(i INTEGER PRIMARY KEY, b BLOB)");
  const std::shared_ptr<WalSync> wal = defer_wal_syncs(db);
  ASSERT_NE(wal, nullptr);
  EXPECT_EQ(defer_wal_syncs(db), nullptr) << "one WalSync per connection";
  EXPECT_FALSE(wal->owed());

  // Not deferring yet: a commit syncs itself, as before.
  Syncs syncs;
  exec_ok(db, "INSERT INTO t VALUES (0, 'x')");
  EXPECT_EQ(syncs.count, 1);
  EXPECT_FALSE(wal->owed());

  wal->set_deferring(true);
  exec_ok(db, kBigInsert);
  EXPECT_EQ(syncs.count, 1) << "the deferred commit synced";
  EXPECT_TRUE(wal->owed());
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  EXPECT_EQ(count_rows(reader, "SELECT count(*) FROM t WHERE length(b) = 2000"), 200)
      << "the frames of a commit whose sync is owed are in the file";
  sqlite3_close(reader);

  ASSERT_EQ(wal->sync(), SQLITE_OK);
  EXPECT_EQ(syncs.count, 2);
  EXPECT_FALSE(wal->owed());
  EXPECT_EQ(wal->syncs_made(), 1u);
  ASSERT_EQ(wal->sync(), SQLITE_OK);
  EXPECT_EQ(wal->syncs_made(), 1u) << "nothing owed, yet an fdatasync";

  exec_ok(db, "UPDATE t SET b = randomblob(2000) WHERE i BETWEEN 1 AND 100");
  ASSERT_TRUE(wal->owed());
  {
    WriteHook hook;
    hook.watched = wal.get();
    ASSERT_EQ(checkpoint(db), SQLITE_OK);
    EXPECT_GE(hook.writes.load(), 1) << "the checkpoint copied nothing";
    EXPECT_EQ(hook.writes_while_owed.load(), 0)
        << "a page reached the database file before the WAL it came from was durable";
  }
  EXPECT_FALSE(wal->owed());
  EXPECT_EQ(wal->syncs_made(), 2u);

  // Deferring off again: the next commit syncs itself.
  wal->set_deferring(false);
  const int before = syncs.count;
  exec_ok(db, "INSERT INTO t VALUES (1000, 'y')");
  EXPECT_GT(syncs.count, before);
  EXPECT_FALSE(wal->owed());
  ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
  const ReadBack file = read_back(path, "SELECT count(*) FROM t WHERE length(b) = 2000");
  EXPECT_EQ(file.count, 200);
  EXPECT_EQ(file.integrity, "ok");
}

// A connection through another VFS cannot defer: nothing is attached, every commit syncs.
TEST(TimedVfs, OnlyAConnectionThroughTheTimedVfsDefersItsSyncs) {
  TempDir dir;
  sqlite3* db = open_wal((dir.path() / "plain.db").string(), nullptr);
  ASSERT_NE(db, nullptr);
  exec_ok(db, "CREATE TABLE t(x)");
  EXPECT_EQ(defer_wal_syncs(db), nullptr);
  sqlite3_close(db);
}

}  // namespace
}  // namespace sektorbro
