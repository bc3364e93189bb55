// Property tests: random sequences of (advance the time by a random amount; sweep; maybe answer;
// maybe cancel; maybe restart) with a seeded RNG, checking the engine's promises after each run.
// Time is a plain variable moved forward — no clock, no sleeping.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "broker/core/copenhagen_time.hpp"
#include "broker/deadlines/deadline.hpp"
#include "broker/deadlines/reminder_schedule.hpp"
#include "broker/deadlines/tests/deadline_test_support.hpp"

namespace sektorbro {
namespace {
using namespace sektorbro::test;

// A store restart: every field through the text/integer forms a store would keep, then back.
std::string opt_ms(const std::optional<TimePoint>& t) {
  return t ? std::to_string(to_millis(*t)) : "-";
}
std::optional<TimePoint> parse_opt_ms(const std::string& s) {
  if (s == "-") return std::nullopt;
  return from_millis(std::stoll(s));
}

Deadline reload(const Deadline& d) {
  std::ostringstream out;
  out << to_string(d.kind) << ' ' << d.key.requester_gln << ' ' << d.key.letter_id << ' '
      << d.owed_by << ' ' << d.owed_to << ' ' << (d.form.empty() ? "-" : d.form) << ' '
      << to_millis(d.opened_at) << ' ' << format_date(d.due) << ' ' << to_millis(d.due_end) << ' '
      << to_string(d.state) << ' ' << opt_ms(d.answered_at) << ' ' << opt_ms(d.closed_at) << ' '
      << d.days_late << ' ' << d.overdue << ' ' << d.reminder_steps_done << ' '
      << opt_ms(d.next_action_at) << ' ' << d.generation << ' '
      << (d.discharge_date ? format_date(*d.discharge_date) : "-") << ' '
      << (d.lead_time_days ? std::to_string(*d.lead_time_days) : "-") << ' ' << d.notice_late;
  std::istringstream in(out.str());
  std::string kind, form, due, state, answered, closed, next, discharge, lead;
  long long opened = 0, due_end = 0;
  Deadline r;
  in >> kind >> r.key.requester_gln >> r.key.letter_id >> r.owed_by >> r.owed_to >> form >>
      opened >> due >> due_end >> state >> answered >> closed >> r.days_late >> r.overdue >>
      r.reminder_steps_done >> next >> r.generation >> discharge >> lead >> r.notice_late;
  r.kind = *parse_deadline_kind(kind);
  r.form = form == "-" ? "" : form;
  r.opened_at = from_millis(opened);
  r.due = *parse_date(due);
  r.due_end = from_millis(due_end);
  r.state = *parse_deadline_state(state);
  r.answered_at = parse_opt_ms(answered);
  r.closed_at = parse_opt_ms(closed);
  r.next_action_at = parse_opt_ms(next);
  if (discharge != "-") r.discharge_date = parse_date(discharge);
  if (lead != "-") r.lead_time_days = std::stoi(lead);
  return r;
}

struct SequenceRun {
  Deadline final;
  std::vector<DueAction> actions;
  std::vector<TimePoint> sweep_times;  // `now` of the sweep that produced each action
  TimePoint last_now{};
};

struct Scenario {
  std::uint32_t seed;
  bool small_steps;  // every advance < 12 h: sweeps never skip a reminder step
};

// One random sequence. The decisions come from `rng`; restarts from `restart_rng` so that runs
// with and without restarts see the same sequence.
SequenceRun run(const Scenario& sc, bool with_restarts, const DeadlinePolicy& policy,
                const WorkingCalendar& calendar) {
  std::mt19937 rng(sc.seed);
  std::mt19937 restart_rng(sc.seed ^ 0x9e3779b9u);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  static const char* kForms[] = {"LÆ105", "LÆ125", "LÆ135", "LÆ145", "LÆ155", "LÆ225", "LÆ285"};

  // Opened at a random instant in 2025–2028 (covers both summer-time changes and Christmas).
  const TimePoint opened =
      utc(2025y / January / 1, 0) + milliseconds{uniform(0, 4LL * 365 * 86400000)};
  Deadline d;
  if (uniform(0, 3) == 0) {
    auto r = open_mentor_deadline(discharge_notice("N1", copenhagen_date(opened)), opened,
                                  kToJobcenter, policy, calendar);
    EXPECT_TRUE(r.ok());
    d = *r;
  } else {
    const std::string form = kForms[uniform(0, 6)];
    std::optional<Date> reply;
    if (form == "LÆ285") reply = Date{sys_days{copenhagen_date(opened)} + days{uniform(8, 40)}};
    auto r = open_certificate_deadline(certificate_request("R1", form, reply), opened,
                                       kToPsychiatry, policy, calendar);
    EXPECT_TRUE(r.ok() && r->has_value());
    d = **r;
  }

  SequenceRun out;
  TimePoint now = opened;
  for (int i = 0; i < 400; ++i) {
    std::int64_t step_ms = 0;
    const auto pick = uniform(0, 99);
    if (sc.small_steps || pick < 50)
      step_ms = uniform(1, 12LL * 3600 * 1000 - 1);
    else if (pick < 85)
      step_ms = uniform(1, 4LL * 86400 * 1000);
    else
      step_ms = uniform(1, 40LL * 86400 * 1000);
    now += milliseconds{step_ms};

    for (const DueAction& a : due_actions(d, now, policy, calendar)) {
      auto applied = apply(d, a, policy, calendar);
      EXPECT_TRUE(applied.ok()) << applied.error().detail;
      d = *applied;
      out.actions.push_back(a);
      out.sweep_times.push_back(now);
    }
    // After a sweep nothing is due before the next action.
    if (d.next_action_at) {
      EXPECT_GT(*d.next_action_at, now);
    }
    EXPECT_EQ(d.next_action_at, compute_next_action_at(d, policy, calendar));

    if (!is_closed(d.state)) {
      const auto act = uniform(0, 99);
      if (act < 4) {
        auto r = answer(d, now, ReplyKind::kAnswer);
        EXPECT_TRUE(r.ok());
        d = *r;
      } else if (act == 4) {
        auto r = cancel(d, now);
        EXPECT_TRUE(r.ok());
        d = *r;
      }
    }
    if (with_restarts && std::uniform_int_distribution<int>(0, 9)(restart_rng) == 0) {
      const Deadline reloaded = reload(d);
      EXPECT_EQ(reloaded, d);
      d = reloaded;
    }
    if (is_closed(d.state) && now > *d.closed_at + days{30}) break;
  }
  out.final = d;
  out.last_now = now;
  return out;
}

void check(const Scenario& sc, const SequenceRun& r, const DeadlinePolicy& policy,
           const WorkingCalendar& calendar) {
  SCOPED_TRACE("seed " + std::to_string(sc.seed));
  const Deadline& d = r.final;

  // A reply is late exactly when it arrives at or after due_end (the instant the overdue flag is
  // raised: one boundary, issue 12 item 20), and days_late counts from due.
  if (d.state == DeadlineState::kAnsweredOnTime || d.state == DeadlineState::kAnsweredLate) {
    ASSERT_TRUE(d.answered_at.has_value());
    EXPECT_EQ(d.state == DeadlineState::kAnsweredLate, *d.answered_at >= d.due_end);
    if (*d.answered_at >= d.due_end) {
      EXPECT_EQ(d.days_late, (sys_days{copenhagen_date(*d.answered_at)} - sys_days{d.due}).count());
      EXPECT_GE(d.days_late, 1);
    } else {
      EXPECT_EQ(d.days_late, 0);
    }
  }

  // The overdue flag: raised exactly once iff the deadline was open at a sweep at or after
  // due_end (sweeps run before a reply at the same instant), never if answered in time.
  int flags = 0;
  for (const DueAction& a : r.actions)
    if (a.kind == DueAction::Kind::kFlagOverdue) {
      ++flags;
      EXPECT_EQ(a.at, d.due_end);
    }
  const TimePoint open_until = d.closed_at ? *d.closed_at : r.last_now;
  const bool expect_flag = open_until >= d.due_end;
  EXPECT_EQ(flags, expect_flag ? 1 : 0);
  EXPECT_EQ(d.overdue, expect_flag);
  if (d.state == DeadlineState::kAnsweredOnTime && *d.answered_at < d.due_end) {
    EXPECT_EQ(flags, 0);
  }

  // Reminders: steps strictly increasing (never repeated), never before their instant, never
  // after closing; the steps done are exactly those whose instant passed while open.
  int last_step = 0;
  for (std::size_t i = 0; i < r.actions.size(); ++i) {
    const DueAction& a = r.actions[i];
    if (a.kind != DueAction::Kind::kReminder) continue;
    EXPECT_GT(a.step, last_step);
    last_step = a.step;
    EXPECT_LE(a.at, r.sweep_times[i]);
    EXPECT_EQ(a.at, reminder_instant(d.due, a.step, policy.reminders, calendar));
    if (d.closed_at) {
      EXPECT_LE(r.sweep_times[i], *d.closed_at);
    }
    ASSERT_TRUE(a.reminder.has_value());
    EXPECT_EQ(a.reminder->step, a.step);
    EXPECT_EQ(a.reminder->original_letter_id, d.key.letter_id);
  }
  int passed = 0;
  for (int k = 1; k <= reminder_step_count(policy.reminders); ++k)
    if (*reminder_instant(d.due, k, policy.reminders, calendar) <= open_until) passed = k;
  EXPECT_EQ(d.reminder_steps_done, passed);

  // With sweeps at least every 12 hours (reminder steps are whole working days apart) no step
  // is superseded: every step after the opening is sent.
  if (sc.small_steps) {
    int first = 1;
    while (first <= passed &&
           *reminder_instant(d.due, first, policy.reminders, calendar) <= d.opened_at)
      ++first;
    std::vector<int> sent;
    for (const DueAction& a : r.actions)
      if (a.kind == DueAction::Kind::kReminder) sent.push_back(a.step);
    std::vector<int> expected;
    for (int k = first; k <= passed; ++k) expected.push_back(k);
    EXPECT_EQ(sent, expected);
  }
}

TEST(DeadlineProperty, RandomSequences) {
  const DeadlinePolicy policy = default_deadline_policy();
  const WorkingCalendar calendar = calendar_for(policy);
  int late = 0, on_time = 0, cancelled = 0, open = 0, flagged = 0;
  for (std::uint32_t seed = 1; seed <= 1500; ++seed) {
    const Scenario sc{seed, seed % 3 == 0};
    const SequenceRun plain = run(sc, false, policy, calendar);
    check(sc, plain, policy, calendar);
    // A restart (store round trip) mid-sequence changes nothing.
    const SequenceRun restarted = run(sc, true, policy, calendar);
    EXPECT_EQ(restarted.final, plain.final) << "seed " << seed;
    EXPECT_EQ(restarted.actions, plain.actions) << "seed " << seed;
    switch (plain.final.state) {
      case DeadlineState::kAnsweredLate:
        ++late;
        break;
      case DeadlineState::kAnsweredOnTime:
        ++on_time;
        break;
      case DeadlineState::kCancelled:
        ++cancelled;
        break;
      case DeadlineState::kOpen:
        ++open;
        break;
      default:
        break;
    }
    flagged += plain.final.overdue;
  }
  // The sequences reach every outcome, so the properties above were exercised.
  EXPECT_GT(late, 50);
  EXPECT_GT(on_time, 50);
  EXPECT_GT(cancelled, 10);
  EXPECT_GT(flagged, 50);
  RecordProperty("late", late);
  RecordProperty("on_time", on_time);
  RecordProperty("open", open);
}

TEST(DeadlineProperty, ScheduleWithoutRepeatsOrWithManySteps) {
  DeadlinePolicy policy = default_deadline_policy();
  const WorkingCalendar calendar = calendar_for(policy);
  for (const ReminderSchedule& s :
       {ReminderSchedule{{}, 1, 12, minutes{0}}, ReminderSchedule{{-5, -1, 0, 2}, 0, 9, hours{23}},
        ReminderSchedule{{-3}, 2, 7, minutes{7 * 60 + 45}}}) {
    policy.reminders = s;
    ASSERT_TRUE(validate(policy).ok());
    for (std::uint32_t seed = 1; seed <= 300; ++seed) {
      const Scenario sc{seed, seed % 2 == 0};
      const SequenceRun plain = run(sc, false, policy, calendar);
      check(sc, plain, policy, calendar);
      EXPECT_EQ(run(sc, true, policy, calendar).final, plain.final);
    }
  }
}

}  // namespace
}  // namespace sektorbro
