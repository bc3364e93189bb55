#include "broker/deadlines/reminder_schedule.hpp"

#include <algorithm>

#include "broker/core/copenhagen_time.hpp"

namespace sektorbro {
namespace {
using namespace std::chrono;

// The n-th working day before d (n >= 1). Reminder offsets are a handful of days, so walking
// back day by day is cheap.
Date working_days_before(const WorkingCalendar& calendar, Date d, int n) {
  sys_days day{d};
  while (n > 0) {
    day -= days{1};
    if (calendar.is_working_day(Date{day})) --n;
  }
  return Date{day};
}

Date shift_working_days(const WorkingCalendar& calendar, Date d, int offset) {
  if (offset > 0) return calendar.add_working_days(d, offset);
  if (offset < 0) return working_days_before(calendar, d, -offset);
  return d;
}

}  // namespace

int reminder_step_count(const ReminderSchedule& schedule) {
  const int listed = static_cast<int>(schedule.offsets_working_days.size());
  if (schedule.repeat_every_working_days > 0) return std::max(schedule.max_reminders, 0);
  return std::clamp(listed, 0, std::max(schedule.max_reminders, 0));
}

std::optional<Date> reminder_date(Date due, int step, const ReminderSchedule& schedule,
                                  const WorkingCalendar& calendar) {
  if (step < 1 || step > reminder_step_count(schedule)) return std::nullopt;
  const auto& offsets = schedule.offsets_working_days;
  const int listed = static_cast<int>(offsets.size());
  if (step <= listed) return shift_working_days(calendar, due, offsets[step - 1]);
  const Date base = listed == 0 ? due : shift_working_days(calendar, due, offsets.back());
  return calendar.add_working_days(base, schedule.repeat_every_working_days * (step - listed));
}

TimePoint copenhagen_local_time(Date d, minutes minutes_after_midnight) {
  const TimePoint local = sys_days{d} + minutes_after_midnight;
  // Try summer time first: if the instant local − 2 h is in summer time, that is the answer;
  // otherwise it is winter time (local − 1 h). In the autumn overlap this picks the first of
  // the two instants, in the spring gap the hour after.
  const TimePoint summer = local - hours{2};
  if (copenhagen_offset(summer) == minutes{120}) return summer;
  return local - hours{1};
}

std::optional<TimePoint> reminder_instant(Date due, int step, const ReminderSchedule& schedule,
                                          const WorkingCalendar& calendar) {
  const auto date = reminder_date(due, step, schedule, calendar);
  if (!date) return std::nullopt;
  return copenhagen_local_time(*date, schedule.send_at);
}

std::optional<TimePoint> compute_next_action_at(const Deadline& d, const DeadlinePolicy& policy,
                                                const WorkingCalendar& calendar) {
  if (is_closed(d.state)) return std::nullopt;
  std::optional<TimePoint> next;
  if (!d.overdue) next = d.due_end;
  const auto reminder =
      reminder_instant(d.due, d.reminder_steps_done + 1, policy.reminders, calendar);
  if (reminder && (!next || *reminder < *next)) next = reminder;
  return next;
}

Reminder make_reminder(const Deadline& d, int step, TimePoint at) {
  Reminder r;
  r.original_letter_id = d.key.letter_id;
  r.due = d.due;
  r.step = step;
  const std::string due = format_date(d.due);
  std::string what_da;
  std::string what_en;
  if (d.kind == DeadlineKind::kCertificate) {
    r.owed = LetterType::kCertificate;
    what_da = "Svar på anmodning om " + d.form + " (brev " + d.key.letter_id + ")";
    what_en = "The " + d.form + " certificate requested in letter " + d.key.letter_id;
  } else {
    r.owed = LetterType::kMentorResponse;
    what_da = "Svar om udskrivningsmentor på udskrivningsmeddelelse (brev " + d.key.letter_id + ")";
    what_en = "The mentor response to discharge notice " + d.key.letter_id;
  }
  const bool passed = past_due(d, at);
  r.text = "Påmindelse " + std::to_string(step) + ": " + what_da +
           (passed ? " skulle være sendt senest " : " skal sendes senest ") + due + ". " +
           "Reminder " + std::to_string(step) + ": " + what_en +
           (passed ? " was due on " : " is due on ") + due + ".";
  return r;
}

std::vector<DueAction> due_actions(const Deadline& d, TimePoint now, const DeadlinePolicy& policy,
                                   const WorkingCalendar& calendar) {
  std::vector<DueAction> out;
  if (is_closed(d.state)) return out;
  // The latest step whose instant has passed. Step instants increase with the step, so scan
  // upwards from the first undone step and stop at the first one still in the future.
  const int steps = reminder_step_count(policy.reminders);
  int latest = 0;
  TimePoint latest_at{};
  for (int k = d.reminder_steps_done + 1; k <= steps; ++k) {
    const auto at = reminder_instant(d.due, k, policy.reminders, calendar);
    if (!at || *at > now) break;
    latest = k;
    latest_at = *at;
  }
  if (latest > 0) {
    out.push_back(
        DueAction{DueAction::Kind::kReminder, latest_at, latest, make_reminder(d, latest, now)});
  }
  if (!d.overdue && past_due(d, now)) {
    DueAction flag{DueAction::Kind::kFlagOverdue, d.due_end, 0, std::nullopt};
    if (!out.empty() && out.front().at > d.due_end)
      out.insert(out.begin(), flag);
    else
      out.push_back(flag);
  }
  return out;
}

Result<Deadline> apply(const Deadline& d, const DueAction& action, const DeadlinePolicy& policy,
                       const WorkingCalendar& calendar) {
  if (is_closed(d.state))
    return make_error(Errc::kConflict, "deadline for letter " + d.key.letter_id + " is " +
                                           std::string{to_string(d.state)});
  Deadline out = d;
  if (action.kind == DueAction::Kind::kReminder) {
    if (action.step <= d.reminder_steps_done)
      return make_error(Errc::kConflict, "reminder step " + std::to_string(action.step) +
                                             " for letter " + d.key.letter_id + " already done");
    if (action.step > reminder_step_count(policy.reminders))
      return make_error(Errc::kInvalid,
                        "the reminder schedule has no step " + std::to_string(action.step));
    out.reminder_steps_done = action.step;
  } else {
    if (d.overdue)
      return make_error(Errc::kConflict,
                        "deadline for letter " + d.key.letter_id + " already flagged overdue");
    out.overdue = true;
  }
  out.next_action_at = compute_next_action_at(out, policy, calendar);
  return out;
}

}  // namespace sektorbro
