// sektorbro-wal-pages (wal_pages.hpp): the frames of a real SQLite WAL, counted by commit and
// named by the B-tree that owns each page, and a log torn by a crash read only up to the last
// commit that is whole.
#include "bench/wal_pages.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro::bench {
namespace {

using store_test::exec_ok;

// A WAL database as the broker keeps one (auto_vacuum=INCREMENTAL, so it has pointer-map
// pages), never checkpointed while the test holds it open: three commits, the second writing
// ~40 KB into a table and its index, the third one row of another table.
class WalPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db_), SQLITE_OK);
    exec_ok(db_, "PRAGMA auto_vacuum = INCREMENTAL");
    exec_ok(db_, "PRAGMA journal_mode = WAL");
    exec_ok(db_, "PRAGMA wal_autocheckpoint = 0");
    exec_ok(db_,
            "BEGIN; CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);"
            "CREATE INDEX notes_text ON notes (text); CREATE TABLE other (x INTEGER); COMMIT");
    exec_ok(db_,
            "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) "
            "INSERT INTO notes (text) SELECT printf('%06d', i) || hex(randomblob(97)) FROM n; "
            "COMMIT");
    exec_ok(db_, "INSERT INTO other VALUES (1)");
  }
  void TearDown() override { sqlite3_close(db_); }

  store_test::TempDir dir_;
  std::string path_ = dir_.file("store.db");
  sqlite3* db_ = nullptr;
};

TEST_F(WalPagesTest, CountsEachCommitsFramesByTheBTreeThatOwnsThePage) {
  auto pages = count_wal_pages(path_);
  ASSERT_TRUE(pages) << pages.error().detail;
  EXPECT_EQ(pages->page_size, 4096u);
  ASSERT_EQ(pages->frames_per_commit.size(), 3u);
  std::size_t in_commits = 0;
  for (const std::size_t n : pages->frames_per_commit) in_commits += n;
  EXPECT_EQ(in_commits, pages->frames());
  // 200 rows of ~200 bytes: ~40 KB, so at least ten pages of the table and of its index.
  EXPECT_GE(pages->frames_by_btree["notes"], 10u);
  EXPECT_GE(pages->frames_by_btree["notes_text"], 10u);
  EXPECT_GE(pages->frames_by_btree["other"], 1u);
  EXPECT_GE(pages->frames_by_btree[kPointerMapPages], 1u);
  EXPECT_EQ(pages->frames_by_btree.count(kFreePages), 0u);
  // The last commit wrote one row of `other`: its page, and at most the header page and a
  // pointer-map page besides.
  EXPECT_LE(pages->frames_per_commit.back(), 3u);
  const std::string text = format_wal_pages(*pages);
  EXPECT_NE(text.find("in 3 complete commits"), std::string::npos) << text;
  EXPECT_NE(text.find("notes_text"), std::string::npos) << text;
}

TEST_F(WalPagesTest, ALogTornInItsLastCommitIsReadUpToTheCommitBefore) {
  auto whole = count_wal_pages(path_);
  ASSERT_TRUE(whole) << whole.error().detail;
  // A copy as a crash could leave it: one byte of the last frame's page changed.
  store_test::TempDir copy;
  const std::string torn = copy.file("store.db");
  std::filesystem::copy_file(path_, torn);
  std::filesystem::copy_file(path_ + "-wal", torn + "-wal");
  const auto size = std::filesystem::file_size(torn + "-wal");
  {
    std::fstream wal(torn + "-wal", std::ios::in | std::ios::out | std::ios::binary);
    wal.seekg(static_cast<std::streamoff>(size - 100));
    const char byte = static_cast<char>(wal.get() ^ 0x5a);
    wal.seekp(static_cast<std::streamoff>(size - 100));
    wal.put(byte);
  }
  auto pages = count_wal_pages(torn);
  ASSERT_TRUE(pages) << pages.error().detail;
  ASSERT_EQ(pages->frames_per_commit.size(), 2u);
  EXPECT_EQ(pages->frames(), whole->frames() - whole->frames_per_commit.back());
  // `other`'s root page was written by the first commit; its row, by the torn one only.
  EXPECT_EQ(pages->frames_by_btree["other"] + 1, whole->frames_by_btree["other"]);
}

TEST_F(WalPagesTest, AWalTruncatedByACheckpointHasNothingToCount) {
  exec_ok(db_, "PRAGMA wal_checkpoint(TRUNCATE)");
  ASSERT_EQ(std::filesystem::file_size(path_ + "-wal"), 0u);
  auto pages = count_wal_pages(path_);
  ASSERT_TRUE(pages) << pages.error().detail;
  EXPECT_EQ(pages->frames(), 0u);
  EXPECT_TRUE(pages->frames_per_commit.empty());
  EXPECT_NE(format_wal_pages(*pages).find("WAL: 0 frames"), std::string::npos);
}

TEST(WalPages, NamesWhatIsMissingOrNotAWal) {
  store_test::TempDir dir;
  auto missing = count_wal_pages(dir.file("none.db"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  std::ofstream(dir.file("x.db-wal")) << "not a write-ahead log, only some text of 40 bytes";
  auto not_wal = count_wal_pages(dir.file("x.db"));
  ASSERT_FALSE(not_wal);
  EXPECT_EQ(not_wal.error().code, Errc::kMalformed);
}

}  // namespace
}  // namespace sektorbro::bench
