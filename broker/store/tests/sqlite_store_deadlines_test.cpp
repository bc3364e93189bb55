// SqliteStore's deadlines table (issue 3) across a restart: every deadline and every query
// answer survive closing and reopening the file. The deadline queries themselves (round trips,
// the due query, the operators' filters and paging) are in store_contract_test.cpp.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sektorbro
