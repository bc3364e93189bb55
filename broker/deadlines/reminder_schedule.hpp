// Reminders and the overdue flag of an open Deadline (issue 3, "Reminders and alerts"): when
// each reminder step falls, which actions are due at a given instant, and applying one.
// Pure functions; `now` is an argument. Any thread.
//
// Sweep rule (a decision): when `now` has passed several reminder steps since the last sweep
// (broker down, or a sweep running late), only the LATEST passed step is sent; the earlier ones
// are superseded and counted as done without a letter. A unit that owes a reply gets one reminder
// saying where things stand now, not a burst of stale ones. So: a step is sent at most once,
// steps are sent in increasing order, every step is sent when sweeps are frequent enough, and
// nothing is sent for a closed deadline. The overdue flag is raised exactly once, at the first
// sweep at or after due_end while the deadline is open.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"
#include "broker/deadlines/calendar.hpp"
#include "broker/deadlines/deadline.hpp"
#include "broker/deadlines/deadline_policy.hpp"
#include "broker/message/message.hpp"

namespace sektorbro {

// The number of steps the schedule has (max_reminders, fewer if it has no repeats).
int reminder_step_count(const ReminderSchedule& schedule);

// The Copenhagen date of step `step` (1-based) for a deadline due on `due`, per ReminderSchedule;
// nullopt if the schedule has no such step.
std::optional<Date> reminder_date(Date due, int step, const ReminderSchedule& schedule,
                                  const WorkingCalendar& calendar);

// The instant of step `step`: send_at local time on reminder_date (Europe/Copenhagen; on a
// summer-time change day a time that does not exist locally is taken one hour later).
std::optional<TimePoint> reminder_instant(Date due, int step, const ReminderSchedule& schedule,
                                          const WorkingCalendar& calendar);

// The instant `minutes_after_midnight` local time on `d` in Europe/Copenhagen.
TimePoint copenhagen_local_time(Date d, std::chrono::minutes minutes_after_midnight);

struct DueAction {
  enum class Kind { kReminder, kFlagOverdue };
  Kind kind = Kind::kReminder;
  TimePoint at{};  // when the action was scheduled (≤ the sweep's `now`)
  int step = 0;    // kReminder: the step sent; steps below it that were not done are superseded
  std::optional<Reminder> reminder;  // kReminder: the Reminder letter body for owed_by
  bool operator==(const DueAction&) const = default;
};

// The actions due at `now` for `d`, in order of their scheduled instants: at most one reminder
// (the latest step with instant <= now above reminder_steps_done) and at most one overdue flag
// (if !overdue and now >= due_end). Empty for a closed deadline. Computed from due and the
// policy, not from next_action_at, so a changed schedule takes effect at the next sweep.
std::vector<DueAction> due_actions(const Deadline& d, TimePoint now, const DeadlinePolicy& policy,
                                   const WorkingCalendar& calendar);

// Records that `action` was carried out: a reminder sets reminder_steps_done = step, the flag
// sets overdue; next_action_at is recomputed. kConflict if the deadline is closed, the step is
// already done (a reminder is never sent twice), or overdue is already flagged.
Result<Deadline> apply(const Deadline& d, const DueAction& action, const DeadlinePolicy& policy,
                       const WorkingCalendar& calendar);

// The earliest of the next undone reminder step's instant and (if not yet flagged) due_end;
// nullopt for a closed deadline. The engine keeps Deadline::next_action_at equal to this.
std::optional<TimePoint> compute_next_action_at(const Deadline& d, const DeadlinePolicy& policy,
                                                const WorkingCalendar& calendar);

// The reminder letter body for step `step`: original letter id, owed letter type, due date,
// step, and a Danish + English text that names only the form, letter id and dates (no personal
// data, no health content).
Reminder make_reminder(const Deadline& d, int step, TimePoint at);

}  // namespace sektorbro
