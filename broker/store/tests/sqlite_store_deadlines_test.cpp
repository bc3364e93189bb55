// SqliteStore's deadlines table (issue 3) across a restart: every deadline and every query
// answer survive closing and reopening the file; and the plans of the operators' deadline lists.
// The deadline queries themselves (round trips, the due query, the operators' filters and
// paging) are in store_contract_test.cpp.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "broker/store/sqlite_store.hpp"
#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using store_test::at_ms;
using store_test::full_deadline;
using store_test::kDayMs;
using store_test::make_deadline;
using store_test::TempDir;

class SqliteStoreDeadlinesTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    store_.reset();
    auto opened = SqliteStore::open(path_);
    ASSERT_TRUE(opened) << opened.error().detail;
    store_ = std::move(*opened);
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

  TempDir dir_;
  std::string path_ = dir_.file("broker.db");
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreDeadlinesTest, ARestartChangesNothing) {
  std::vector<Deadline> all = {full_deadline()};
  for (int i = 0; i < 20; ++i) {
    Deadline d = make_deadline("r" + std::to_string(i), at_ms(i * 500), at_ms((i % 7) * kDayMs));
    d.next_action_at = i % 3 == 0 ? std::nullopt : std::optional(at_ms((i * 37 % 11) * 1000));
    d.state = i % 4 == 0 ? DeadlineState::kCancelled : DeadlineState::kOpen;
    d.reminder_steps_done = i % 3;
    d.generation = i % 2;
    all.push_back(d);
  }
  ASSERT_TRUE(store_->begin_batch());
  for (const auto& d : all) put(d);
  ASSERT_TRUE(store_->commit_batch());

  DeadlineFilter overdue;
  overdue.overdue_only = true;
  overdue.now = at_ms(4 * kDayMs);
  auto due_before = store_->due_deadlines(at_ms(6000), 100);
  auto overdue_before = store_->list_deadlines(overdue);
  auto month_before = store_->deadlines_opened_between(at_ms(0), at_ms(10'000));
  ASSERT_TRUE(due_before && overdue_before && month_before);
  EXPECT_FALSE(due_before->empty());
  EXPECT_FALSE(overdue_before->empty());

  reopen();

  for (const auto& d : all) EXPECT_EQ(find(d.key), d) << d.key.letter_id;
  auto due_after = store_->due_deadlines(at_ms(6000), 100);
  auto overdue_after = store_->list_deadlines(overdue);
  auto month_after = store_->deadlines_opened_between(at_ms(0), at_ms(10'000));
  ASSERT_TRUE(due_after && overdue_after && month_after);
  EXPECT_EQ(*due_after, *due_before);
  EXPECT_EQ(*overdue_after, *overdue_before);
  EXPECT_EQ(*month_after, *month_before);
}

// Every combination of the console's deadline filters reads index ranges, never the whole table:
// at a million deadlines a full scan and sort of view=all took ~160 ms on the thread that reads for
// the console (docs/performance.md, "The console's view=all").
TEST_F(SqliteStoreDeadlinesTest, EveryListFilterReadsIndexRangesNotTheTable) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  int checked = 0;
  for (unsigned bits = 0; bits < (1u << 8); ++bits) {
    const DeadlineFilter f = store_test::filter_of_shape(bits, "psyk");
    const std::string sql = "EXPLAIN QUERY PLAN " + SqliteStore::deadline_list_statement(f);
    sqlite3_stmt* raw_stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &raw_stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db.get()) << "\n"
        << sql;
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw_stmt, sqlite3_finalize);
    std::vector<std::pair<int, std::string>> plan;  // (parent step, what it does)
    while (sqlite3_step(stmt.get()) == SQLITE_ROW)
      plan.emplace_back(sqlite3_column_int(stmt.get(), 1),
                        reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 3)));
    ASSERT_FALSE(plan.empty()) << sql;
    bool searches = false;
    bool merges = false;
    for (const auto& [parent, step] : plan) merges = merges || step.rfind("LIST SUBQUERY", 0) == 0;
    for (const auto& [parent, step] : plan) {
      EXPECT_NE(step.rfind("SCAN deadlines", 0), 0u) << "filter bits " << bits << ": " << step;
      // Only the outer merge of at most offset + limit ids per range may sort; a range, or a
      // single-range statement, that sorts has read all its rows first.
      if (step == "USE TEMP B-TREE FOR ORDER BY") {
        EXPECT_TRUE(parent == 0 && merges) << "filter bits " << bits << ": a range is sorted";
      }
      searches = searches || step.rfind("SEARCH deadlines USING", 0) == 0;
    }
    EXPECT_TRUE(searches) << "filter bits " << bits;
    ++checked;
  }
  EXPECT_EQ(checked, 256);
}

}  // namespace
}  // namespace sektorbro
