// DeadlinePolicy: the configurable figures of the deadline engine (domain.md §5–7) — how long
// each LÆ form gives psychiatry, how many working days a jobcenter has for a MentorResponse, the
// reminder schedule, and extra closing days. A plain value; the configuration loader fills it,
// default_deadline_policy() holds the defaults. No I/O; any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"
#include "broker/deadlines/calendar.hpp"

namespace sektorbro {

// How a certificate form's deadline is set.
struct FormDeadline {
  enum class Rule {
    kCalendarDays,  // due = delivery date + `days` calendar days, rolled to a working day
    kNone,          // no reply owed by a date (LÆ165, the doctor's own proposal)
    kSetInRequest,  // the request's reply_deadline, which must be at least `days` calendar days
                    // after the delivery date (LÆ285: 8), rolled to a working day
  };
  Rule rule = Rule::kCalendarDays;
  int days = 0;
  bool operator==(const FormDeadline&) const = default;
};

// When reminders go to the unit that owes a reply. Step k (1-based) falls on:
//   k <= offsets.size():  the due date moved by offsets[k-1] working days (negative = before;
//                         "n working days before" is the n-th working day before the due date);
//   k >  offsets.size():  repeat_every_working_days * (k - offsets.size()) working days after the
//                         date of the last offset (after the due date if `offsets` is empty);
// at `send_at` local time (Europe/Copenhagen) on that date, for steps 1..max_reminders. There
// are no repeats when repeat_every_working_days == 0.
struct ReminderSchedule {
  std::vector<int> offsets_working_days{-2, 0};  // strictly increasing
  int repeat_every_working_days = 3;
  int max_reminders = 5;                 // steps in all, the offsets included
  std::chrono::minutes send_at{8 * 60};  // minutes after local midnight, [0, 24 h)
  bool operator==(const ReminderSchedule&) const = default;
};

struct DeadlinePolicy {
  // Keyed by canonical form code ("LÆ125"); a form absent here cannot open a deadline.
  std::map<std::string, FormDeadline, std::less<>> forms;
  // MentorResponse due this many working days after the DischargeNotice arrived (domain.md §6:
  // a local agreement, 5 by default); 0 = the arrival date rolled to a working day.
  int mentor_response_working_days = 5;
  ReminderSchedule reminders;
  // Closing days beyond the statutory ones; they take effect through the WorkingCalendar that
  // calendar_for() builds, which is what every engine function takes.
  std::vector<Date> extra_closing_days;
  bool operator==(const DeadlinePolicy&) const = default;
};

// The defaults of domain.md §5/§6: LÆ105/115/125/225 14 days; LÆ135/145/265/275 30 days;
// LÆ155 61 days ("2 months"); LÆ165 none; LÆ285 set in the request, at least 8 days; mentor
// response 5 working days; reminders 2 working days before due, on the due date, then every 3
// working days, at most 5, at 08:00 Copenhagen time; no extra closing days.
DeadlinePolicy default_deadline_policy();

// kConfig with a reason naming the offending field if: a calendar-day rule has days < 1, a
// set-in-request minimum is < 0, mentor_response_working_days < 0, offsets are not strictly
// increasing, repeat_every_working_days < 0, max_reminders < 0, send_at outside [0, 24 h), or
// an extra closing day is not a valid date.
Result<void> validate(const DeadlinePolicy& policy);

// The calendar the policy's extra closing days call for.
WorkingCalendar calendar_for(const DeadlinePolicy& policy);

// The rule for `form`, or nullptr if the policy has none.
const FormDeadline* find_form_deadline(const DeadlinePolicy& policy, std::string_view form);

}  // namespace sektorbro
