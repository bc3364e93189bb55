// SqliteStore's deadlines table (issue 3): round trips of every Deadline field, the due query,
// the operators' filters, restarts.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "broker/store/sqlite_store.hpp"
#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using namespace std::chrono_literals;
using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using store_test::at_ms;
using store_test::kJobcenterGln;
using store_test::kPsychiatryGln;
using store_test::make_message;
using store_test::TempDir;

constexpr std::int64_t kDayMs = 24 * 3600 * 1000;

// An open certificate deadline whose next action is its due_end.
Deadline make_deadline(const std::string& letter_id, TimePoint opened_at, TimePoint due_end) {
  Deadline d;
  d.kind = DeadlineKind::kCertificate;
  d.key = DeadlineKey{kJobcenterGln, letter_id};
  d.owed_by = "psyk";
  d.owed_to = "jc";
  d.form = "LÆ125";
  d.opened_at = opened_at;
  d.due = year{2026} / month{11} / day{20};
  d.due_end = due_end;
  d.next_action_at = due_end;
  return d;
}

// Every field set, every optional engaged, no field at its default.
Deadline full_deadline() {
  Deadline d;
  d.kind = DeadlineKind::kMentorResponse;
  d.key = DeadlineKey{kPsychiatryGln, "Udskr-77"};
  d.owed_by = "jc-aarhus";
  d.owed_to = "psyk-risskov";
  d.form = "x";
  d.opened_at = at_ms(1'234);
  d.due = year{2027} / month{3} / day{31};
  d.due_end = at_ms(9 * kDayMs + 999);
  d.state = DeadlineState::kAnsweredLate;
  d.answered_at = at_ms(11 * kDayMs + 7);
  d.closed_at = at_ms(11 * kDayMs + 8);
  d.days_late = 2;
  d.overdue = true;
  d.reminder_steps_done = 3;
  d.next_action_at = at_ms(12 * kDayMs);
  d.generation = 4;
  d.discharge_date = year{2027} / month{3} / day{24};
  d.lead_time_days = -2;
  d.notice_late = true;
  return d;
}

std::vector<std::string> letter_ids(const std::vector<Deadline>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.push_back(d.key.letter_id);
  return out;
}

class SqliteStoreDeadlinesTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    store_.reset();
    auto opened = SqliteStore::open(path_);
    ASSERT_TRUE(opened) << opened.error().detail;
    store_ = std::move(*opened);
  }

  std::int64_t store_request(const std::string& letter_id) {
    auto out = store_->accept(make_message("E-" + letter_id, {letter_id}));
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
  std::string path_ = dir_.file("broker.db");
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreDeadlinesTest, EveryFieldRoundTripsWithOptionalsEmptyAndSet) {
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

TEST_F(SqliteStoreDeadlinesTest, PutReplacesTheDeadlineWithTheSameKey) {
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

TEST_F(SqliteStoreDeadlinesTest, PutAppendsTheEventAtomically) {
  const auto msg = store_request("Brev1");
  const Deadline d = make_deadline("Brev1", at_ms(0), at_ms(14 * kDayMs));
  ASSERT_TRUE(store_->put_deadline(
      d, msg, MessageEvent{msg, at_ms(60'000), "deadline-opened", "LÆ125 due 2026-11-20"}));
  auto tl = store_->timeline(msg);
  ASSERT_TRUE(tl);
  ASSERT_EQ(tl->size(), 3u);
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
  EXPECT_EQ(tl->size(), 3u);
}

TEST_F(SqliteStoreDeadlinesTest, InvalidDatesAreRefused) {
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

TEST_F(SqliteStoreDeadlinesTest, DueDeadlinesInOrderUpToTheLimit) {
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

TEST_F(SqliteStoreDeadlinesTest, ListFiltersCombineAndPage) {
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
  f.now = at_ms(20 * kDayMs);  // due_end == now is not overdue yet
  EXPECT_EQ(listed(f), (std::vector<std::string>{"o3"}));
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

TEST_F(SqliteStoreDeadlinesTest, OpenedBetweenIsHalfOpen) {
  for (int i = 0; i < 5; ++i)
    put(make_deadline("d" + std::to_string(i), at_ms(i * 1000), at_ms(kDayMs)));
  auto got = store_->deadlines_opened_between(at_ms(1000), at_ms(4000));
  ASSERT_TRUE(got);
  EXPECT_EQ(letter_ids(*got), (std::vector<std::string>{"d1", "d2", "d3"}));
  auto empty = store_->deadlines_opened_between(at_ms(4000), at_ms(4000));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

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

TEST_F(SqliteStoreDeadlinesTest, ARolledBackBatchLeavesNoDeadline) {
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

}  // namespace
}  // namespace sektorbro
