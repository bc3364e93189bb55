#include "broker/deadlines/reminder_schedule.hpp"

#include <gtest/gtest.h>

#include "broker/deadlines/tests/deadline_test_support.hpp"

namespace sektorbro {
namespace {
using namespace sektorbro::test;
using Kind = DueAction::Kind;

class ReminderTest : public ::testing::Test {
 protected:
  DeadlinePolicy policy_ = default_deadline_policy();
  WorkingCalendar calendar_ = calendar_for(policy_);

  // Notice arriving Thursday 17 Dec 2026 10:00 CET; due Monday 28 Dec (see deadline_test).
  Deadline christmas_deadline() {
    auto r = open_mentor_deadline(discharge_notice("N1", Date{2026y / December / 20}),
                                  utc(2026y / December / 17, 9), kToJobcenter, policy_, calendar_);
    EXPECT_TRUE(r.ok());
    return *r;
  }

  Deadline sweep(const Deadline& d, TimePoint now, std::vector<DueAction>* log = nullptr) {
    Deadline out = d;
    for (const DueAction& a : due_actions(d, now, policy_, calendar_)) {
      auto r = apply(out, a, policy_, calendar_);
      EXPECT_TRUE(r.ok()) << r.error().detail;
      out = *r;
      if (log) log->push_back(a);
    }
    return out;
  }
};

// Due Monday 28 Dec 2026, schedule −2, 0, then every 3 working days, 5 in all, 08:00 CET:
//  1: two working days before: 27 Sun, 26 Sat (Boxing Day), 25 (Christmas Day), 24 (closed),
//     Wed 23 (1), Tue 22 (2) → Tuesday 22 Dec;
//  2: the due date, Monday 28 Dec;
//  3: +3 working days from 28 Dec: Tue 29 (1), Wed 30 (2), 31 closed, 1 Jan holiday, 2–3
//     weekend, Mon 4 Jan (3) → Monday 4 Jan 2027;
//  4: +6: Tue 5 (4), Wed 6 (5), Thu 7 (6) → Thursday 7 Jan;
//  5: +9: Fri 8 (7), Mon 11 (8), Tue 12 (9) → Tuesday 12 Jan;
//  no step 6.
TEST_F(ReminderTest, ScheduleAcrossChristmas2026) {
  const Date due{2026y / December / 28};
  const auto& s = policy_.reminders;
  EXPECT_EQ(reminder_step_count(s), 5);
  EXPECT_EQ(reminder_date(due, 1, s, calendar_), Date{2026y / December / 22});
  EXPECT_EQ(reminder_date(due, 2, s, calendar_), Date{2026y / December / 28});
  EXPECT_EQ(reminder_date(due, 3, s, calendar_), Date{2027y / January / 4});
  EXPECT_EQ(reminder_date(due, 4, s, calendar_), Date{2027y / January / 7});
  EXPECT_EQ(reminder_date(due, 5, s, calendar_), Date{2027y / January / 12});
  EXPECT_FALSE(reminder_date(due, 6, s, calendar_).has_value());
  EXPECT_FALSE(reminder_date(due, 0, s, calendar_).has_value());
  // 08:00 CET = 07:00 UTC.
  EXPECT_EQ(reminder_instant(due, 1, s, calendar_), utc(2026y / December / 22, 7));
  EXPECT_EQ(reminder_instant(due, 5, s, calendar_), utc(2027y / January / 12, 7));
}

TEST_F(ReminderTest, SummerTimeReminderAtEightLocal) {
  // LÆ125 due Tuesday 7 April 2026. Step 1: 6 Easter Monday, 5 Sunday, 4 Saturday, 3 Good
  // Friday, 2 Maundy Thursday, Wed 1 April (1), Tue 31 March (2) → 31 March, 08:00 CEST =
  // 06:00 UTC.
  EXPECT_EQ(reminder_instant(Date{2026y / April / 7}, 1, policy_.reminders, calendar_),
            utc(2026y / March / 31, 6));
  EXPECT_EQ(copenhagen_local_time(Date{2026y / March / 29}, hours{8}), utc(2026y / March / 29, 6));
  EXPECT_EQ(copenhagen_local_time(Date{2026y / March / 28}, hours{8}), utc(2026y / March / 28, 7));
  EXPECT_EQ(copenhagen_local_time(Date{2026y / October / 25}, hours{8}),
            utc(2026y / October / 25, 7));
  // 02:30 on 29 March does not exist locally: taken as 03:30 CEST = 01:30 UTC.
  EXPECT_EQ(copenhagen_local_time(Date{2026y / March / 29}, minutes{150}),
            utc(2026y / March / 29, 1, 30));
}

TEST_F(ReminderTest, ConfiguredScheduleWithoutRepeats) {
  policy_.reminders = ReminderSchedule{{-1, 0, 1}, 0, 5, minutes{9 * 60 + 30}};
  ASSERT_TRUE(validate(policy_).ok());
  EXPECT_EQ(reminder_step_count(policy_.reminders), 3);
  const Date due{2026y / December / 28};
  EXPECT_EQ(reminder_date(due, 1, policy_.reminders, calendar_), Date{2026y / December / 23});
  EXPECT_EQ(reminder_date(due, 3, policy_.reminders, calendar_), Date{2026y / December / 29});
  EXPECT_EQ(reminder_instant(due, 3, policy_.reminders, calendar_),
            utc(2026y / December / 29, 8, 30));
  policy_.reminders.max_reminders = 2;
  EXPECT_EQ(reminder_step_count(policy_.reminders), 2);
  EXPECT_FALSE(reminder_date(due, 3, policy_.reminders, calendar_).has_value());
}

TEST_F(ReminderTest, OpeningSetsTheFirstAction) {
  const Deadline d = christmas_deadline();
  EXPECT_EQ(d.reminder_steps_done, 0);
  EXPECT_EQ(d.next_action_at, utc(2026y / December / 22, 7));
}

TEST_F(ReminderTest, FrequentSweepsSendEveryStepOnceAndFlagOverdueOnce) {
  Deadline d = christmas_deadline();
  std::vector<DueAction> log;
  // Sweep every hour from arrival to the end of January.
  for (TimePoint now = d.opened_at; now < utc(2027y / January / 31, 0); now += hours{1}) {
    d = sweep(d, now, &log);
    if (d.next_action_at) {
      EXPECT_GT(*d.next_action_at, now);
    }
  }
  ASSERT_EQ(log.size(), 6u);
  EXPECT_EQ(log[0].step, 1);
  EXPECT_EQ(log[0].at, utc(2026y / December / 22, 7));
  EXPECT_EQ(log[1].step, 2);
  EXPECT_EQ(log[1].at, utc(2026y / December / 28, 7));
  EXPECT_EQ(log[2].kind, Kind::kFlagOverdue);
  EXPECT_EQ(log[2].at, utc(2026y / December / 28, 23));  // end of 28 Dec, CET
  EXPECT_EQ(log[3].step, 3);
  EXPECT_EQ(log[4].step, 4);
  EXPECT_EQ(log[5].step, 5);
  EXPECT_EQ(log[5].at, utc(2027y / January / 12, 7));
  EXPECT_TRUE(d.overdue);
  EXPECT_EQ(d.reminder_steps_done, 5);
  EXPECT_FALSE(d.next_action_at.has_value());
  EXPECT_TRUE(due_actions(d, utc(2027y / June / 1, 0), policy_, calendar_).empty());
}

TEST_F(ReminderTest, LongDowntimeSendsOnlyTheLatestStepOnce) {
  const Deadline d = christmas_deadline();
  // Nothing before step 1.
  EXPECT_TRUE(due_actions(d, utc(2026y / December / 22, 6, 59), policy_, calendar_).empty());
  // Down from before step 1 until 8 January: steps 1–4 have passed and so has due_end.
  const TimePoint now = utc(2027y / January / 8, 12);
  const auto actions = due_actions(d, now, policy_, calendar_);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].kind, Kind::kFlagOverdue);
  EXPECT_EQ(actions[1].kind, Kind::kReminder);
  EXPECT_EQ(actions[1].step, 4);
  EXPECT_EQ(actions[1].at, utc(2027y / January / 7, 7));
  const Deadline after = sweep(d, now);
  EXPECT_EQ(after.reminder_steps_done, 4);
  EXPECT_TRUE(after.overdue);
  EXPECT_EQ(after.next_action_at, utc(2027y / January / 12, 7));
  // The same sweep again produces nothing.
  EXPECT_TRUE(due_actions(after, now, policy_, calendar_).empty());
}

TEST_F(ReminderTest, ReminderOnTheDueDateComesBeforeTheOverdueFlag) {
  // Down from 21 Dec to 29 Dec 06:00 UTC: step 2 (28 Dec 08:00) and due_end (28 Dec 24:00)
  // passed, step 3 (4 Jan) not yet.
  const auto actions =
      due_actions(christmas_deadline(), utc(2026y / December / 29, 6), policy_, calendar_);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].kind, Kind::kReminder);
  EXPECT_EQ(actions[0].step, 2);
  EXPECT_EQ(actions[1].kind, Kind::kFlagOverdue);
}

TEST_F(ReminderTest, ApplyRefusesRepeats) {
  const Deadline d = christmas_deadline();
  const auto actions = due_actions(d, utc(2026y / December / 22, 7), policy_, calendar_);
  ASSERT_EQ(actions.size(), 1u);
  const auto once = apply(d, actions[0], policy_, calendar_);
  ASSERT_TRUE(once.ok());
  EXPECT_EQ(once->reminder_steps_done, 1);
  EXPECT_EQ(once->next_action_at, utc(2026y / December / 28, 7));
  const auto twice = apply(*once, actions[0], policy_, calendar_);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, Errc::kConflict);

  const DueAction flag{Kind::kFlagOverdue, d.due_end, 0, std::nullopt};
  const auto flagged = apply(d, flag, policy_, calendar_);
  ASSERT_TRUE(flagged.ok());
  EXPECT_TRUE(flagged->overdue);
  EXPECT_EQ(apply(*flagged, flag, policy_, calendar_).error().code, Errc::kConflict);

  const DueAction beyond{Kind::kReminder, d.due_end, 6, std::nullopt};
  EXPECT_EQ(apply(d, beyond, policy_, calendar_).error().code, Errc::kInvalid);
}

TEST_F(ReminderTest, ClosedDeadlinesGetNoActions) {
  const Deadline d = christmas_deadline();
  const auto answered = answer(d, utc(2026y / December / 23, 9));
  ASSERT_TRUE(answered.ok());
  EXPECT_TRUE(due_actions(*answered, utc(2027y / February / 1, 0), policy_, calendar_).empty());
  EXPECT_FALSE(compute_next_action_at(*answered, policy_, calendar_).has_value());
  const DueAction step2{Kind::kReminder, utc(2026y / December / 28, 7), 2, std::nullopt};
  EXPECT_EQ(apply(*answered, step2, policy_, calendar_).error().code, Errc::kConflict);
  const auto cancelled = cancel(d, utc(2026y / December / 23, 9));
  EXPECT_TRUE(due_actions(*cancelled, utc(2027y / February / 1, 0), policy_, calendar_).empty());
}

TEST_F(ReminderTest, StepsBeforeOpeningAreNotSent) {
  policy_.mentor_response_working_days = 1;
  // Arrives Monday 2 March 10:00 CET; due Tuesday 3 March. Step 1 (two working days before,
  // Friday 27 February) lies before the arrival, so it counts as done; step 2 is 3 March 08:00.
  auto d = open_mentor_deadline(discharge_notice("N1", Date{2026y / March / 10}),
                                utc(2026y / March / 2, 9), kToJobcenter, policy_, calendar_);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->reminder_steps_done, 1);
  EXPECT_EQ(d->next_action_at, utc(2026y / March / 3, 7));
  EXPECT_TRUE(due_actions(*d, utc(2026y / March / 2, 12), policy_, calendar_).empty());
}

TEST_F(ReminderTest, ReminderLetterContent) {
  const Deadline d = christmas_deadline();
  const auto before = due_actions(d, utc(2026y / December / 22, 7), policy_, calendar_);
  ASSERT_EQ(before.size(), 1u);
  ASSERT_TRUE(before[0].reminder.has_value());
  const Reminder& r = *before[0].reminder;
  EXPECT_EQ(r.original_letter_id, "N1");
  EXPECT_EQ(r.owed, LetterType::kMentorResponse);
  EXPECT_EQ(r.due, Date{2026y / December / 28});
  EXPECT_EQ(r.step, 1);
  EXPECT_EQ(r.text,
            "Påmindelse 1: Svar om udskrivningsmentor på udskrivningsmeddelelse (brev N1) skal "
            "sendes senest 2026-12-28. Reminder 1: The mentor response to discharge notice N1 is "
            "due on 2026-12-28.");
  EXPECT_EQ(r.text.find(kTestCpr), std::string::npos);

  auto cert =
      open_certificate_deadline(certificate_request("R7", "LÆ125"), utc(2026y / March / 20, 9),
                                kToPsychiatry, policy_, calendar_);
  const Reminder late = make_reminder(**cert, 3, utc(2026y / April / 10, 6));
  EXPECT_EQ(late.owed, LetterType::kCertificate);
  EXPECT_EQ(late.text,
            "Påmindelse 3: Svar på anmodning om LÆ125 (brev R7) skulle være sendt senest "
            "2026-04-07. Reminder 3: The LÆ125 certificate requested in letter R7 was due on "
            "2026-04-07.");
}

}  // namespace
}  // namespace sektorbro
