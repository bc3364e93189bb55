// WalCheckpointer (wal_checkpointer.hpp) on real SQLite files in WAL mode with synchronous=FULL:
// the background copies the bulk, the writer only the tail, after which SQLite starts the WAL
// from its beginning; under a writer that never pauses the WAL stays bounded; nothing written is
// lost; a SqliteStore runs with it when SqliteTuning asks.
#include "broker/store/wal_checkpointer.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "broker/store/sqlite_store.hpp"
#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using store_test::TempDir;

constexpr std::uintmax_t kFrameBytes = 24 + 4096;  // frame header + a 4 KiB page
constexpr std::uintmax_t kWalHeaderBytes = 32;

sqlite3* open_db(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr),
      SQLITE_OK);
  return db;
}

using store_test::exec_ok;

std::int64_t count_rows(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &stmt, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  const std::int64_t n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return n;
}

// One transaction: a row with 3 KB that no other row shares a page with (one or two frames).
void write_row(sqlite3* db) { exec_ok(db, "INSERT INTO t(body) VALUES (randomblob(3000))"); }

struct Files {
  std::string db, wal;
  explicit Files(const TempDir& dir)
      : db((dir.path() / "c.db").string()), wal((dir.path() / "c.db-wal").string()) {}
  std::uintmax_t wal_bytes() const { return std::filesystem::file_size(wal); }
  // Frames in the WAL, read from its size: right only until SQLite first starts it again.
  int frames_before_any_restart() const {
    return static_cast<int>((wal_bytes() - kWalHeaderBytes) / kFrameBytes);
  }
  // Salt-1 of the WAL header: SQLite changes it each time it starts the WAL from its beginning.
  std::array<char, 4> salt() const {
    std::ifstream in(wal, std::ios::binary);
    std::array<char, 4> s{};
    in.seekg(16);
    in.read(s.data(), 4);
    return s;
  }
};

sqlite3* open_writer(const Files& f) {
  sqlite3* db = open_db(f.db);
  exec_ok(db, "PRAGMA journal_mode = WAL");
  exec_ok(db, "PRAGMA synchronous = FULL");
  exec_ok(db, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, body BLOB)");
  return db;
}

TEST(WalCheckpointer, TheBackgroundCopiesTheBulkTheWriterTheTailAndTheWalStartsAgain) {
  TempDir dir;
  const Files f(dir);
  sqlite3* writer = open_writer(f);
  std::int64_t written = 0;
  {
    WalCheckpointer::Limits limits;
    limits.start_pages = 64;
    limits.tail_pages = 32;
    limits.inline_pages = 100000;
    WalCheckpointer checkpointer(writer, open_db(f.db), limits);
    // A reader's snapshot at ~50 frames bounds what a checkpoint may copy, so the background
    // pass copies exactly the frames before it while the writer commits on past 64.
    while (f.frames_before_any_restart() < 50) write_row(writer), ++written;
    const int pinned = f.frames_before_any_restart();
    sqlite3* reader = open_db(f.db);
    exec_ok(reader, "BEGIN");
    EXPECT_EQ(count_rows(reader), written);
    while (f.frames_before_any_restart() < limits.start_pages) write_row(writer), ++written;
    ASSERT_TRUE(checkpointer.wait_for_passes(1, std::chrono::seconds{10}));
    auto stats = checkpointer.stats();
    EXPECT_EQ(stats.background_passes, 1u);
    EXPECT_EQ(stats.background_frames, static_cast<std::uint64_t>(pinned));
    EXPECT_EQ(stats.writer_tails, 0u);
    exec_ok(reader, "COMMIT");
    sqlite3_close(reader);

    // The next commit finds the pass done and the rest short: the writer copies the tail.
    write_row(writer), ++written;
    const int frames = f.frames_before_any_restart();
    stats = checkpointer.stats();
    EXPECT_EQ(stats.writer_tails, 1u);
    EXPECT_EQ(stats.writer_tail_frames, static_cast<std::uint64_t>(frames - pinned));
    EXPECT_LE(stats.writer_tail_frames, static_cast<std::uint64_t>(limits.tail_pages));
    EXPECT_EQ(stats.writer_whole, 0u);
    EXPECT_EQ(stats.background_passes, 1u);

    // Everything is copied, so the next transaction starts the WAL from its beginning: a new
    // salt, and the file does not grow.
    const auto salt = f.salt();
    const auto bytes = f.wal_bytes();
    write_row(writer), ++written;
    EXPECT_NE(f.salt(), salt);
    EXPECT_EQ(f.wal_bytes(), bytes);
  }
  EXPECT_EQ(count_rows(writer), written);
  ASSERT_EQ(sqlite3_close(writer), SQLITE_OK);
  // Reopened: every committed row is there.
  sqlite3* again = open_db(f.db);
  EXPECT_EQ(count_rows(again), written);
  sqlite3_close(again);
}

TEST(WalCheckpointer, UnderAWriterThatNeverPausesTheWalStaysBoundedAndNothingIsLost) {
  TempDir dir;
  const Files f(dir);
  sqlite3* writer = open_writer(f);
  WalCheckpointer::Limits limits;
  limits.start_pages = 64;
  limits.tail_pages = 16;
  limits.inline_pages = 512;
  constexpr int kRows = 3000;  // ~3,000-6,000 frames: the WAL must start again many times
  {
    WalCheckpointer checkpointer(writer, open_db(f.db), limits);
    std::uintmax_t largest = 0;
    for (int i = 0; i < kRows; ++i) {
      write_row(writer);
      largest = std::max(largest, f.wal_bytes());
    }
    // At most the limit at which the writer copies everything itself, plus the commit that
    // crossed it.
    EXPECT_LE(largest, kWalHeaderBytes + (limits.inline_pages + 4) * kFrameBytes);
    const auto stats = checkpointer.stats();
    EXPECT_GE(stats.background_passes, 1u);
    EXPECT_GT(stats.background_frames, 0u) << "the background copied nothing";
    EXPECT_GE(stats.writer_tails + stats.writer_whole, 1u);
  }
  EXPECT_EQ(count_rows(writer), kRows);
  char* error = nullptr;
  std::string integrity;
  ASSERT_EQ(sqlite3_exec(
                writer, "PRAGMA integrity_check",
                [](void* out, int, char** values, char**) {
                  *static_cast<std::string*>(out) += values[0] ? values[0] : "";
                  return 0;
                },
                &integrity, &error),
            SQLITE_OK);
  EXPECT_EQ(integrity, "ok");
  ASSERT_EQ(sqlite3_close(writer), SQLITE_OK);
}

TEST(WalCheckpointer, ASqliteStoreThatChecksPointsInTheBackgroundStaysBounded) {
  TempDir dir;
  const auto path = dir.path() / "store.db";
  SqliteTuning tuning;
  tuning.checkpoint_in_background = true;
  tuning.wal_autocheckpoint = 64;
  auto store = SqliteStore::open(path.string(), tuning);
  ASSERT_TRUE(store) << store.error().detail;
  std::uintmax_t largest = 0;
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE((*store)->audit_action(store_test::at_ms(i + 1), "operator:test", "view-message",
                                       "message " + std::to_string(i), std::string(3000, 'x')));
    largest = std::max(largest, std::filesystem::file_size(path.string() + "-wal"));
  }
  EXPECT_LE(largest, kWalHeaderBytes + (64 * 8 + 8) * kFrameBytes);
  auto head = (*store)->audit_head();
  ASSERT_TRUE(head) << head.error().detail;
  EXPECT_EQ(head->seq, 400);
}

}  // namespace
}  // namespace sektorbro
