#include "broker/deadlines/deadline.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "broker/core/copenhagen_time.hpp"
#include "broker/deadlines/deadline_policy.hpp"
#include "broker/deadlines/reminder_schedule.hpp"
#include "broker/deadlines/tests/deadline_test_support.hpp"

namespace sektorbro {
namespace {
using namespace sektorbro::test;

// Easter 2026 is 5 April: Maundy Thursday 2 Apr, Good Friday 3 Apr, Easter Monday 6 Apr,
// Ascension 14 May, Whit Sunday 24 May, Whit Monday 25 May. Weekdays checked with Python's
// datetime.

class DeadlineTest : public ::testing::Test {
 protected:
  DeadlinePolicy policy_ = default_deadline_policy();
  WorkingCalendar calendar_ = calendar_for(policy_);

  Deadline open_cert(const std::string& form, TimePoint delivered,
                     std::optional<Date> reply_deadline = std::nullopt) {
    auto r = open_certificate_deadline(certificate_request("R1", form, reply_deadline), delivered,
                                       kToPsychiatry, policy_, calendar_);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
    EXPECT_TRUE(r->has_value());
    return **r;
  }
  Date due_of(const std::string& form, Date delivered) {
    return open_cert(form, utc(delivered, 9)).due;
  }
};

// ---------------------------------------------------------------------------------------------
// Each form's rule

TEST_F(DeadlineTest, Lae125OverEasterMovesToTheTuesdayAfterEasterMonday) {
  // Friday 20 Mar + 14 = Friday 3 Apr, Good Friday; 4 Sat, 5 Easter Sunday, 6 Easter Monday
  // → Tuesday 7 Apr.
  const Deadline d = open_cert("LÆ125", utc(2026y / March / 20, 9));
  EXPECT_EQ(d.due, Date{2026y / April / 7});
  EXPECT_EQ(d.kind, DeadlineKind::kCertificate);
  EXPECT_EQ(d.state, DeadlineState::kOpen);
  EXPECT_EQ(d.form, "LÆ125");
  EXPECT_EQ(d.key, (DeadlineKey{kJobcenterGln, "R1"}));
  EXPECT_EQ(d.owed_by, "psy-a");
  EXPECT_EQ(d.owed_to, "jc-x");
  EXPECT_EQ(d.opened_at, utc(2026y / March / 20, 9));
  // 7 April is summer time: the day ends at 22:00 UTC.
  EXPECT_EQ(d.due_end, utc(2026y / April / 7, 22));
}

TEST_F(DeadlineTest, CountsFromTheCopenhagenDateOfDelivery) {
  // 23:30 UTC on Thursday 19 March is 00:30 CET on Friday 20 March: same as above.
  EXPECT_EQ(open_cert("LÆ125", utc(2026y / March / 19, 23, 30)).due, Date{2026y / April / 7});
  // 22:59 UTC on 19 March is still Thursday locally: 19 Mar + 14 = Thursday 2 April, Maundy
  // Thursday → Friday 3 (Good Friday) … Monday 6 (Easter Monday) → Tuesday 7 April as well.
  EXPECT_EQ(open_cert("LÆ125", utc(2026y / March / 19, 22, 59)).due, Date{2026y / April / 7});
  // Wednesday 18 March + 14 = Wednesday 1 April, a working day.
  EXPECT_EQ(open_cert("LÆ125", utc(2026y / March / 18, 22, 59)).due, Date{2026y / April / 1});
}

TEST_F(DeadlineTest, FourteenDayForms) {
  // Monday 2 Feb + 14 = Monday 16 Feb, a working day.
  EXPECT_EQ(due_of("LÆ105", 2026y / February / 2), Date{2026y / February / 16});
  // Thursday 10 Dec + 14 = Thursday 24 Dec (Christmas Eve, closed); 25 Christmas Day, 26 Boxing
  // Day (Saturday), 27 Sunday → Monday 28 Dec.
  EXPECT_EQ(due_of("LÆ115", 2026y / December / 10), Date{2026y / December / 28});
  // Friday 22 May + 14 = Friday 5 June, Constitution Day (closed); 6–7 weekend → Monday 8 June.
  EXPECT_EQ(due_of("LÆ225", 2026y / May / 22), Date{2026y / June / 8});
}

TEST_F(DeadlineTest, ThirtyDayForms) {
  // Tuesday 14 Apr + 30 = Thursday 14 May, Ascension Day → Friday 15 May.
  EXPECT_EQ(due_of("LÆ135", 2026y / April / 14), Date{2026y / May / 15});
  // Friday 24 Apr + 30 = Sunday 24 May, Whit Sunday; 25 Whit Monday → Tuesday 26 May.
  EXPECT_EQ(due_of("LÆ145", 2026y / April / 24), Date{2026y / May / 26});
  // Tuesday 10 Nov + 30 = Thursday 10 Dec, a working day.
  EXPECT_EQ(due_of("LÆ265", 2026y / November / 10), Date{2026y / December / 10});
  // Tuesday 1 Dec + 30 = Thursday 31 Dec (closed); 1 Jan 2027 New Year's Day (Friday); 2–3
  // weekend → Monday 4 Jan 2027.
  EXPECT_EQ(due_of("LÆ275", 2026y / December / 1), Date{2027y / January / 4});
}

TEST_F(DeadlineTest, Lae155IsSixtyOneDays) {
  // Thursday 15 Jan + 61: 16 to 31 Jan is 16 days, February 28 (44), 17 more → Tuesday 17 Mar.
  EXPECT_EQ(due_of("LÆ155", 2026y / January / 15), Date{2026y / March / 17});
}

TEST_F(DeadlineTest, Lae165OpensNoDeadline) {
  const auto r =
      open_certificate_deadline(certificate_request("R1", "LÆ165"), utc(2026y / March / 2, 9),
                                kToPsychiatry, policy_, calendar_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST_F(DeadlineTest, Lae285EightDaysIsAcceptedSevenRefused) {
  // Delivered Monday 2 March; 9 March is 7 days out, 10 March (Tuesday) 8.
  const auto seven =
      open_certificate_deadline(certificate_request("R1", "LÆ285", Date{2026y / March / 9}),
                                utc(2026y / March / 2, 9), kToPsychiatry, policy_, calendar_);
  ASSERT_FALSE(seven.ok());
  EXPECT_EQ(seven.error().code, Errc::kInvalid);
  EXPECT_NE(seven.error().detail.find("fewer than 8 calendar days"), std::string::npos)
      << seven.error().detail;
  EXPECT_EQ(open_cert("LÆ285", utc(2026y / March / 2, 9), Date{2026y / March / 10}).due,
            Date{2026y / March / 10});
}

TEST_F(DeadlineTest, Lae285DateOnAWeekendRollsForward) {
  // Saturday 14 March → Monday 16 March.
  EXPECT_EQ(open_cert("LÆ285", utc(2026y / March / 2, 9), Date{2026y / March / 14}).due,
            Date{2026y / March / 16});
}

TEST_F(DeadlineTest, Lae285WithoutADateIsRefused) {
  const auto r =
      open_certificate_deadline(certificate_request("R1", "LÆ285"), utc(2026y / March / 2, 9),
                                kToPsychiatry, policy_, calendar_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInvalid);
}

TEST_F(DeadlineTest, ConfiguredDaysAndExtraClosingDaysApply) {
  policy_.forms["LÆ125"].days = 10;
  policy_.extra_closing_days = {Date{2026y / February / 12}};
  calendar_ = calendar_for(policy_);
  // Monday 2 Feb + 10 = Thursday 12 Feb, closed by configuration → Friday 13 Feb.
  EXPECT_EQ(due_of("LÆ125", 2026y / February / 2), Date{2026y / February / 13});
}

TEST_F(DeadlineTest, OpeningRefusals) {
  const TimePoint t = utc(2026y / March / 2, 9);
  auto wrong_type =
      open_certificate_deadline(certificate("R1", "LÆ125"), t, kToPsychiatry, policy_, calendar_);
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().code, Errc::kInvalid);

  auto cancelled = open_certificate_deadline(
      certificate_request("R1", "LÆ125", std::nullopt, LetterStatus::kCancelled), t, kToPsychiatry,
      policy_, calendar_);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code, Errc::kInvalid);

  policy_.forms.erase("LÆ125");
  auto no_rule = open_certificate_deadline(certificate_request("R1", "LÆ125"), t, kToPsychiatry,
                                           policy_, calendar_);
  ASSERT_FALSE(no_rule.ok());
  EXPECT_EQ(no_rule.error().detail, "no deadline rule for form LÆ125");

  auto notice_as_request =
      open_mentor_deadline(certificate_request("R1", "LÆ125"), t, kToJobcenter, policy_, calendar_);
  ASSERT_FALSE(notice_as_request.ok());
  EXPECT_EQ(notice_as_request.error().code, Errc::kInvalid);
}

// ---------------------------------------------------------------------------------------------
// Mentor responses

TEST_F(DeadlineTest, MentorResponseIsFiveWorkingDaysAcrossChristmas) {
  // Arrives Thursday 17 Dec 10:00 CET. Working days: Fri 18 (1), Mon 21 (2), Tue 22 (3),
  // Wed 23 (4); 24 closed, 25–26 holidays, 27 Sunday; Mon 28 (5).
  auto r = open_mentor_deadline(discharge_notice("N1", Date{2026y / December / 20}),
                                utc(2026y / December / 17, 9), kToJobcenter, policy_, calendar_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, DeadlineKind::kMentorResponse);
  EXPECT_EQ(r->key, (DeadlineKey{kPsychiatryGln, "N1"}));
  EXPECT_EQ(r->owed_by, "jc-x");
  EXPECT_EQ(r->due, Date{2026y / December / 28});
  EXPECT_EQ(r->due_end, utc(2026y / December / 28, 23));
  EXPECT_EQ(r->discharge_date, Date{2026y / December / 20});
  EXPECT_EQ(r->lead_time_days, 3);  // 20 Dec − 17 Dec
  EXPECT_FALSE(r->notice_late);
  EXPECT_TRUE(r->form.empty());
}

TEST_F(DeadlineTest, NoticeArrivingAfterDischargeIsFlaggedLate) {
  // Arrives 21 Dec 00:30 CET (23:30 UTC on the 20th): one day after the discharge on the 20th.
  auto late =
      open_mentor_deadline(discharge_notice("N1", Date{2026y / December / 20}),
                           utc(2026y / December / 20, 23, 30), kToJobcenter, policy_, calendar_);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->lead_time_days, -1);
  EXPECT_TRUE(late->notice_late);
  // Arriving on the discharge day itself is not late.
  auto same_day =
      open_mentor_deadline(discharge_notice("N2", Date{2026y / December / 20}),
                           utc(2026y / December / 20, 22, 30), kToJobcenter, policy_, calendar_);
  ASSERT_TRUE(same_day.ok());
  EXPECT_EQ(same_day->lead_time_days, 0);
  EXPECT_FALSE(same_day->notice_late);
}

TEST_F(DeadlineTest, MentorWorkingDaysAreConfigurable) {
  policy_.mentor_response_working_days = 2;
  // Thursday 17 Dec: Fri 18 (1), Mon 21 (2).
  auto r = open_mentor_deadline(discharge_notice("N1", Date{2026y / December / 20}),
                                utc(2026y / December / 17, 9), kToJobcenter, policy_, calendar_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->due, Date{2026y / December / 21});
}

// ---------------------------------------------------------------------------------------------
// The end of the day across summer time

TEST(DueEnd, SummerTimeDoesNotMoveTheEndOfTheDay) {
  // 29 March 2026: clocks go forward at 02:00 CET; the day ends at 24:00 CEST = 22:00 UTC.
  EXPECT_EQ(copenhagen_end_of_day(2026y / March / 29), utc(2026y / March / 29, 22));
  // 25 October 2026: clocks go back at 03:00 CEST; the day ends at 24:00 CET = 23:00 UTC.
  EXPECT_EQ(copenhagen_end_of_day(2026y / October / 25), utc(2026y / October / 25, 23));
  EXPECT_EQ(copenhagen_end_of_day(2026y / March / 27), utc(2026y / March / 27, 23));
  EXPECT_EQ(copenhagen_end_of_day(2026y / October / 26), utc(2026y / October / 26, 23));
}

TEST_F(DeadlineTest, DeadlinesNextToTheSummerTimeChange) {
  // LÆ285 due Sunday 29 March → Monday 30 March (CEST): ends 22:00 UTC.
  const Deadline spring = open_cert("LÆ285", utc(2026y / March / 16, 9), Date{2026y / March / 29});
  EXPECT_EQ(spring.due, Date{2026y / March / 30});
  EXPECT_EQ(spring.due_end, utc(2026y / March / 30, 22));
  // LÆ285 due Sunday 25 October → Monday 26 October (CET): ends 23:00 UTC.
  const Deadline autumn =
      open_cert("LÆ285", utc(2026y / October / 12, 9), Date{2026y / October / 25});
  EXPECT_EQ(autumn.due, Date{2026y / October / 26});
  EXPECT_EQ(autumn.due_end, utc(2026y / October / 26, 23));
  // A reply at 23:30 local on the due day (21:30 UTC in summer) is on time; at 00:30 local
  // the next day (22:30 UTC) it is one day late.
  EXPECT_EQ(answer(spring, utc(2026y / March / 30, 21, 30))->state, DeadlineState::kAnsweredOnTime);
  const auto late = answer(spring, utc(2026y / March / 30, 22, 30));
  EXPECT_EQ(late->state, DeadlineState::kAnsweredLate);
  EXPECT_EQ(late->days_late, 1);
}

// ---------------------------------------------------------------------------------------------
// Transitions

TEST_F(DeadlineTest, AnsweredOnTimeClosesAndStopsActions) {
  const Deadline d = open_cert("LÆ125", utc(2026y / March / 20, 9));  // due 7 April
  ASSERT_TRUE(d.next_action_at.has_value());
  const auto r = answer(d, utc(2026y / April / 1, 10));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, DeadlineState::kAnsweredOnTime);
  EXPECT_EQ(r->answered_at, utc(2026y / April / 1, 10));
  EXPECT_EQ(r->closed_at, utc(2026y / April / 1, 10));
  EXPECT_EQ(r->days_late, 0);
  EXPECT_FALSE(r->next_action_at.has_value());
  EXPECT_EQ(days_to_answer(*r), 12);  // 20 March → 1 April
}

// Issue 12, item 20: one boundary everywhere. The deadline ends at due_end, the first instant
// after its due day (local midnight); from that instant on it has passed: a reply is late and
// an open deadline is overdue. One millisecond before, neither.
TEST_F(DeadlineTest, TheDueDayEndsAtLocalMidnightForRepliesAndTheOverdueFlagAlike) {
  const Deadline d = open_cert("LÆ125", utc(2026y / March / 20, 9));  // due Tue 7 April (CEST)
  ASSERT_EQ(d.due_end, utc(2026y / April / 7, 22));                   // 8 April 00:00 CEST

  const TimePoint last_instant = d.due_end - milliseconds{1};
  const auto in_time = answer(d, last_instant);
  ASSERT_TRUE(in_time.ok());
  EXPECT_EQ(in_time->state, DeadlineState::kAnsweredOnTime);
  EXPECT_EQ(in_time->days_late, 0);
  EXPECT_FALSE(answered_late(*in_time));
  EXPECT_FALSE(past_due(d, last_instant));
  for (const DueAction& a : due_actions(d, last_instant, policy_, calendar_))
    EXPECT_NE(a.kind, DueAction::Kind::kFlagOverdue);

  const auto at_midnight = answer(d, d.due_end);
  ASSERT_TRUE(at_midnight.ok());
  EXPECT_EQ(at_midnight->state, DeadlineState::kAnsweredLate);
  EXPECT_EQ(at_midnight->days_late, 1);  // 8 April, one day after the due date
  EXPECT_TRUE(answered_late(*at_midnight));
  EXPECT_TRUE(past_due(d, d.due_end));
  const auto actions = due_actions(d, d.due_end, policy_, calendar_);
  EXPECT_TRUE(std::any_of(actions.begin(), actions.end(), [](const DueAction& a) {
    return a.kind == DueAction::Kind::kFlagOverdue;
  }));
}

// Issue 12, item 18: an open overdue deadline has days late too, counted as a reply at that
// instant would be.
TEST_F(DeadlineTest, DaysLateAtNowForOpenAndClosedDeadlines) {
  const Deadline d = open_cert("LÆ125", utc(2026y / March / 20, 9));  // due Tue 7 April
  EXPECT_EQ(days_late_at(d, d.due_end - milliseconds{1}), 0);
  EXPECT_EQ(days_late_at(d, d.due_end), 1);
  EXPECT_EQ(days_late_at(d, utc(2026y / April / 17, 8)), 10);  // Fri 17 April 10:00 CEST
  const auto late = answer(d, utc(2026y / April / 10, 8));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(days_late_at(*late, utc(2026y / May / 1, 8)), 3);  // what it was when answered
  EXPECT_EQ(days_late_at(*answer(d, utc(2026y / April / 1, 8)), utc(2026y / May / 1, 8)), 0);
  EXPECT_EQ(days_late_at(*cancel(d, utc(2026y / April / 1, 8)), utc(2026y / May / 1, 8)), 0);
  for (const TimePoint at : {d.due_end - milliseconds{1}, d.due_end, utc(2026y / April / 17, 8)})
    EXPECT_EQ(days_late_at(d, at), answer(d, at)->days_late);
}

TEST_F(DeadlineTest, DaysLateCountsCalendarDaysFromTheDueDate) {
  const Deadline d = open_cert("LÆ125", utc(2026y / March / 20, 9));  // due Tue 7 April
  // Friday 17 April 10:00 CEST: 10 days after 7 April.
  const auto r = answer(d, utc(2026y / April / 17, 8));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, DeadlineState::kAnsweredLate);
  EXPECT_EQ(r->days_late, 10);
  EXPECT_TRUE(answered_late(*r));
}

TEST_F(DeadlineTest, SecondAnswerIsRefusedWithTheFirstTime) {
  const Deadline d = open_cert("LÆ125", utc(2026y / March / 20, 9));
  const auto first = answer(d, utc(2026y / April / 1, 10));
  const auto second = answer(*first, utc(2026y / April / 2, 10));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Errc::kConflict);
  EXPECT_EQ(second.error().detail, "letter R1 was already answered at 2026-04-01T10:00:00.000Z");
}

TEST_F(DeadlineTest, DeclineWhereTheFormAllowsIt) {
  // LÆ135 delivered Tuesday 14 April → due Friday 15 May (see ThirtyDayForms).
  const Deadline d = open_cert("LÆ135", utc(2026y / April / 14, 8));
  const auto on_time = answer(d, utc(2026y / April / 20, 8), ReplyKind::kDecline);
  ASSERT_TRUE(on_time.ok());
  EXPECT_EQ(on_time->state, DeadlineState::kDeclined);
  EXPECT_EQ(on_time->days_late, 0);
  EXPECT_FALSE(answered_late(*on_time));
  // Declined on Tuesday 19 May: 4 days late, and recorded as such.
  const auto late = answer(d, utc(2026y / May / 19, 8), ReplyKind::kDecline);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->state, DeadlineState::kDeclined);
  EXPECT_EQ(late->days_late, 4);
  EXPECT_TRUE(answered_late(*late));
  // Answering a declined deadline is refused.
  const auto again = answer(*late, utc(2026y / May / 20, 8));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().detail, "letter R1 was already declined at 2026-05-19T08:00:00.000Z");
}

TEST_F(DeadlineTest, DeclineRefusedWhereTheFormDoesNotAllowIt) {
  const Deadline d = open_cert("LÆ125", utc(2026y / March / 20, 9));
  const auto r = answer(d, utc(2026y / March / 25, 9), ReplyKind::kDecline);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInvalid);
  EXPECT_EQ(r.error().detail, "form LÆ125 may not be declined");

  auto m = open_mentor_deadline(discharge_notice("N1", Date{2026y / December / 20}),
                                utc(2026y / December / 17, 9), kToJobcenter, policy_, calendar_);
  const auto rm = answer(*m, utc(2026y / December / 18, 9), ReplyKind::kDecline);
  ASSERT_FALSE(rm.ok());
  EXPECT_EQ(rm.error().code, Errc::kInvalid);
}

TEST_F(DeadlineTest, AnswerWithLetters) {
  const Deadline d = open_cert("LÆ135", utc(2026y / April / 14, 8));
  const TimePoint t = utc(2026y / April / 20, 8);

  const auto key = reply_key(certificate("R1", "LÆ135"));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, d.key);
  EXPECT_EQ(answer(d, certificate("R1", "LÆ135"), t)->state, DeadlineState::kAnsweredOnTime);
  EXPECT_EQ(answer(d, certificate("R1", "LÆ135", true), t)->state, DeadlineState::kDeclined);

  const auto other = answer(d, certificate("R9", "LÆ135"), t);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, Errc::kUnknownReference);

  const auto wrong_form = answer(d, certificate("R1", "LÆ145"), t);
  ASSERT_FALSE(wrong_form.ok());
  EXPECT_EQ(wrong_form.error().detail, "certificate form LÆ145 does not match the requested LÆ135");

  Letter mentor = mentor_response("R1");
  mentor.receiver = party(kJobcenterGln);  // same key as the request
  const auto wrong_type = answer(d, mentor, t);
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().code, Errc::kInvalid);

  Letter reminder;
  reminder.body = Reminder{};
  EXPECT_FALSE(reply_key(reminder).ok());
}

TEST_F(DeadlineTest, MentorResponseLetterClosesTheNoticeDeadline) {
  auto m = open_mentor_deadline(discharge_notice("N1", Date{2026y / December / 20}),
                                utc(2026y / December / 17, 9), kToJobcenter, policy_, calendar_);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*reply_key(mentor_response("N1")), m->key);
  // Tuesday 29 Dec: one day after the due date 28 Dec.
  const auto r = answer(*m, mentor_response("N1"), utc(2026y / December / 29, 9));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, DeadlineState::kAnsweredLate);
  EXPECT_EQ(r->days_late, 1);
  const auto cert = answer(*m, certificate("N1", "LÆ125"), utc(2026y / December / 18, 9));
  // A Certificate naming N1 is addressed to the jobcenter: key {jobcenter GLN, N1}, not ours.
  ASSERT_FALSE(cert.ok());
  EXPECT_EQ(cert.error().code, Errc::kUnknownReference);
}

TEST_F(DeadlineTest, CancelClosesAndRefusesLaterReplies) {
  const Deadline d = open_cert("LÆ125", utc(2026y / March / 20, 9));
  const auto c = cancel(d, utc(2026y / March / 23, 9));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->state, DeadlineState::kCancelled);
  EXPECT_EQ(c->closed_at, utc(2026y / March / 23, 9));
  EXPECT_FALSE(c->answered_at.has_value());
  EXPECT_FALSE(c->next_action_at.has_value());
  EXPECT_FALSE(days_to_answer(*c).has_value());

  const auto again = cancel(*c, utc(2026y / March / 24, 9));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::kConflict);
  const auto reply = answer(*c, utc(2026y / March / 24, 9));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().detail, "letter R1 was cancelled at 2026-03-23T09:00:00.000Z");

  const auto answered = answer(d, utc(2026y / March / 24, 9));
  const auto cancel_answered = cancel(*answered, utc(2026y / March / 25, 9));
  ASSERT_FALSE(cancel_answered.ok());
  EXPECT_EQ(cancel_answered.error().code, Errc::kConflict);
}

TEST_F(DeadlineTest, CorrectionWithTheSameFormKeepsTheClock) {
  const Deadline d = open_cert("LÆ125", utc(2026y / March / 20, 9));
  // Corrected ten days later: the due date stays 7 April.
  const auto r =
      correct(d, certificate_request("R1b", "LÆ125", std::nullopt, LetterStatus::kCorrected),
              utc(2026y / March / 30, 9), policy_, calendar_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, d);
}

TEST_F(DeadlineTest, CorrectionToAnotherFormReopensFromTheCorrection) {
  const Deadline d = open_cert("LÆ125", utc(2026y / March / 20, 9));
  // LÆ145 corrected on Tuesday 24 March: + 30 = Thursday 23 April, a working day.
  const auto r =
      correct(d, certificate_request("R1b", "LÆ145", std::nullopt, LetterStatus::kCorrected),
              utc(2026y / March / 24, 9), policy_, calendar_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->form, "LÆ145");
  EXPECT_EQ(r->due, Date{2026y / April / 23});
  EXPECT_EQ(r->opened_at, utc(2026y / March / 24, 9));
  EXPECT_EQ(r->generation, 1);
  EXPECT_EQ(r->reminder_steps_done, 0);
  EXPECT_EQ(r->key, d.key);
  EXPECT_EQ(r->state, DeadlineState::kOpen);
}

TEST_F(DeadlineTest, CorrectionToAFormWithoutDeadlineCancels) {
  const Deadline d = open_cert("LÆ125", utc(2026y / March / 20, 9));
  const auto r =
      correct(d, certificate_request("R1b", "LÆ165", std::nullopt, LetterStatus::kCorrected),
              utc(2026y / March / 24, 9), policy_, calendar_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, DeadlineState::kCancelled);
  EXPECT_FALSE(r->next_action_at.has_value());
}

TEST_F(DeadlineTest, CorrectionRefusals) {
  const Deadline d = open_cert("LÆ125", utc(2026y / March / 20, 9));
  Letter foreign = certificate_request("R1b", "LÆ145", std::nullopt, LetterStatus::kCorrected);
  foreign.sender = party(kPsychiatryGln);
  const auto r1 = correct(d, foreign, utc(2026y / March / 24, 9), policy_, calendar_);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, Errc::kInvalid);

  Letter notice = discharge_notice("N1", Date{2026y / April / 1});
  notice.sender = party(kJobcenterGln);
  const auto r2 = correct(d, notice, utc(2026y / March / 24, 9), policy_, calendar_);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, Errc::kInvalid);

  const auto answered = answer(d, utc(2026y / March / 24, 9));
  const auto r3 = correct(*answered, certificate_request("R1b", "LÆ145"),
                          utc(2026y / March / 25, 9), policy_, calendar_);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, Errc::kConflict);
}

// Issue 12, item 19: the 8-day rule is for a new LÆ285 request. In the last 8 days before its
// deadline a request can still be cancelled, and corrected in the same form keeping (or
// extending) its date; the broker's intake checks (validation.cpp) leave both to this engine.
TEST_F(DeadlineTest, Lae285CancelAndSameFormCorrectionInTheLastEightDays) {
  // Delivered Monday 2 March with Friday 13 March; on Thursday 12 March one day is left.
  const Deadline d = open_cert("LÆ285", utc(2026y / March / 2, 9), Date{2026y / March / 13});
  const TimePoint late_in_the_day = utc(2026y / March / 12, 9);
  const auto cancelled = cancel(d, late_in_the_day);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().detail;
  EXPECT_EQ(cancelled->state, DeadlineState::kCancelled);

  const auto kept = correct(
      d, certificate_request("R1", "LÆ285", Date{2026y / March / 13}, LetterStatus::kCorrected),
      late_in_the_day, policy_, calendar_);
  ASSERT_TRUE(kept.ok()) << kept.error().detail;
  EXPECT_EQ(kept->due, d.due);
  EXPECT_EQ(kept->state, DeadlineState::kOpen);

  const auto extended = correct(
      d, certificate_request("R1", "LÆ285", Date{2026y / March / 16}, LetterStatus::kCorrected),
      late_in_the_day, policy_, calendar_);
  ASSERT_TRUE(extended.ok()) << extended.error().detail;
  EXPECT_EQ(extended->due, Date{2026y / March / 16});
}

TEST_F(DeadlineTest, Lae285CorrectedDate) {
  // Delivered Monday 2 March with 16 March (Monday).
  const Deadline d = open_cert("LÆ285", utc(2026y / March / 2, 9), Date{2026y / March / 16});
  const TimePoint corrected_at = utc(2026y / March / 5, 9);  // Thursday 5 March
  auto with_date = [&](Date date) {
    return correct(d, certificate_request("R1b", "LÆ285", date, LetterStatus::kCorrected),
                   corrected_at, policy_, calendar_);
  };
  // Extension to Friday 20 March: accepted.
  EXPECT_EQ(with_date(2026y / March / 20)->due, Date{2026y / March / 20});
  // Shortened to Friday 13 March, 8 days after 5 March: accepted.
  EXPECT_EQ(with_date(2026y / March / 13)->due, Date{2026y / March / 13});
  EXPECT_EQ(with_date(2026y / March / 13)->due_end, utc(2026y / March / 13, 23));
  // Shortened to Thursday 12 March, 7 days after the correction: refused.
  const auto too_short = with_date(2026y / March / 12);
  ASSERT_FALSE(too_short.ok());
  EXPECT_EQ(too_short.error().code, Errc::kInvalid);
  // Missing date: refused.
  const auto none =
      correct(d, certificate_request("R1b", "LÆ285"), corrected_at, policy_, calendar_);
  EXPECT_FALSE(none.ok());
}

TEST_F(DeadlineTest, CorrectedDischargeNoticeUpdatesLeadTimeKeepsClock) {
  auto m = open_mentor_deadline(discharge_notice("N1", Date{2026y / December / 20}),
                                utc(2026y / December / 17, 9), kToJobcenter, policy_, calendar_);
  // Corrected on 21 Dec: discharge was really on the 19th → lead −2, late; due stays 28 Dec.
  const auto r =
      correct(*m, discharge_notice("N1b", Date{2026y / December / 19}, LetterStatus::kCorrected),
              utc(2026y / December / 21, 9), policy_, calendar_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->discharge_date, Date{2026y / December / 19});
  EXPECT_EQ(r->lead_time_days, -2);
  EXPECT_TRUE(r->notice_late);
  EXPECT_EQ(r->due, m->due);
  EXPECT_EQ(r->opened_at, m->opened_at);
}

TEST(DeadlineNames, RoundTrip) {
  for (auto s : {DeadlineState::kOpen, DeadlineState::kAnsweredOnTime, DeadlineState::kAnsweredLate,
                 DeadlineState::kDeclined, DeadlineState::kCancelled})
    EXPECT_EQ(parse_deadline_state(to_string(s)), s);
  EXPECT_EQ(to_string(DeadlineState::kAnsweredLate), "answered-late");
  for (auto k : {DeadlineKind::kCertificate, DeadlineKind::kMentorResponse})
    EXPECT_EQ(parse_deadline_kind(to_string(k)), k);
  EXPECT_EQ(to_string(DeadlineKind::kMentorResponse), "mentor-response");
  EXPECT_FALSE(parse_deadline_state("late").has_value());
}

// ---------------------------------------------------------------------------------------------
// Policy

TEST(DeadlinePolicyTest, DefaultsAreDomainFigures) {
  const DeadlinePolicy p = default_deadline_policy();
  ASSERT_TRUE(validate(p).ok());
  using R = FormDeadline::Rule;
  EXPECT_EQ(p.forms.at("LÆ105"), (FormDeadline{R::kCalendarDays, 14}));
  EXPECT_EQ(p.forms.at("LÆ155"), (FormDeadline{R::kCalendarDays, 61}));
  EXPECT_EQ(p.forms.at("LÆ165").rule, R::kNone);
  EXPECT_EQ(p.forms.at("LÆ275"), (FormDeadline{R::kCalendarDays, 30}));
  EXPECT_EQ(p.forms.at("LÆ285"), (FormDeadline{R::kSetInRequest, 8}));
  EXPECT_EQ(p.forms.size(), 11u);
  EXPECT_EQ(p.mentor_response_working_days, 5);
  EXPECT_EQ(p.reminders.offsets_working_days, (std::vector<int>{-2, 0}));
  EXPECT_EQ(p.reminders.repeat_every_working_days, 3);
  EXPECT_EQ(p.reminders.max_reminders, 5);
  EXPECT_EQ(p.reminders.send_at, hours{8});
}

TEST(DeadlinePolicyTest, ValidateNamesTheBadField) {
  auto bad = [](auto change) {
    DeadlinePolicy p = default_deadline_policy();
    change(p);
    const auto r = validate(p);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string{} : r.error().detail;
  };
  EXPECT_EQ(bad([](DeadlinePolicy& p) { p.forms["LÆ125"].days = 0; }),
            "deadline days for LÆ125 must be at least 1");
  bad([](DeadlinePolicy& p) { p.forms["LÆ285"].days = -1; });
  bad([](DeadlinePolicy& p) { p.mentor_response_working_days = -1; });
  EXPECT_EQ(bad([](DeadlinePolicy& p) {
              p.reminders.offsets_working_days = {0, 0};
            }),
            "reminder offsets must be strictly increasing");
  bad([](DeadlinePolicy& p) { p.reminders.repeat_every_working_days = -3; });
  bad([](DeadlinePolicy& p) { p.reminders.max_reminders = -1; });
  bad([](DeadlinePolicy& p) { p.reminders.send_at = hours{24}; });
  bad([](DeadlinePolicy& p) { p.extra_closing_days = {Date{2026y / February / 30}}; });
}

}  // namespace
}  // namespace sektorbro
