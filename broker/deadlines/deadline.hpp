// Deadline: one reply that one sector owes the other (domain.md §5–6, issue 3), as a plain value,
// and the pure functions that open and close it. A CertificateRequest opens a certificate
// deadline for the psychiatry unit that receives it; a DischargeNotice opens a mentor-response
// deadline for the jobcenter that receives it.
//
// No I/O and no clock: every instant comes in as an argument, every function returns a new value
// or an Error (never throws), so the broker can persist a Deadline field by field, reload it after
// a restart and continue exactly where it was. Reminders and the overdue flag are in
// reminder_schedule.hpp. Any thread.
//
// Time: `due` is a date in Europe/Copenhagen; the deadline ends at due_end =
// copenhagen_end_of_day(due), the first instant after that working day local time, so summer
// time never moves it (domain.md §7). A reply is on time iff it arrives before due_end
// (past_due below: one boundary for replies and the overdue flag).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"
#include "broker/deadlines/calendar.hpp"
#include "broker/deadlines/deadline_policy.hpp"
#include "broker/message/message.hpp"

namespace sektorbro {

enum class DeadlineKind {
  kCertificate,     // psychiatry owes a Certificate to a CertificateRequest
  kMentorResponse,  // a jobcenter owes a MentorResponse to a DischargeNotice
};
std::string_view to_string(DeadlineKind k);  // "certificate", "mentor-response"
std::optional<DeadlineKind> parse_deadline_kind(std::string_view s);

enum class DeadlineState {
  kOpen,
  kAnsweredOnTime,
  kAnsweredLate,
  kDeclined,   // a Certificate that declines (only forms that allow it); on time or late: days_late
  kCancelled,  // the request was cancelled (status annulleretbrev)
};
// "open", "answered-on-time", "answered-late", "declined", "cancelled"
std::string_view to_string(DeadlineState s);
// Every state, in the order above (a store that reads one index range per state).
inline constexpr std::array<DeadlineState, 5> kDeadlineStates{
    DeadlineState::kOpen, DeadlineState::kAnsweredOnTime, DeadlineState::kAnsweredLate,
    DeadlineState::kDeclined, DeadlineState::kCancelled};
std::optional<DeadlineState> parse_deadline_state(std::string_view s);
inline bool is_closed(DeadlineState s) { return s != DeadlineState::kOpen; }

// Identifies a deadline: the letter that opened it, as MedCom identifies a letter (letter ids
// are unique per sender). A reply names the letter id and is addressed to the requester's GLN.
struct DeadlineKey {
  std::string requester_gln;  // sender of the request / notice
  std::string letter_id;      // the request's / notice's letter id
  auto operator<=>(const DeadlineKey&) const = default;
};

// The endpoint ids (routing's Endpoint::id) of the two sides; the broker resolves them from the
// letter's sender and receiver before opening the deadline.
struct DeadlineParties {
  std::string owed_by;  // the unit that must answer: the letter's receiver
  std::string owed_to;  // the unit that waits: the letter's sender
};

struct Deadline {
  DeadlineKind kind = DeadlineKind::kCertificate;
  DeadlineKey key;
  std::string owed_by;
  std::string owed_to;
  std::string form;  // certificates: the requested form ("LÆ125"); empty for mentor responses

  TimePoint opened_at{};  // delivery of the request / arrival of the notice
  Date due{};             // Copenhagen date, a working day
  TimePoint due_end{};    // copenhagen_end_of_day(due)

  DeadlineState state = DeadlineState::kOpen;
  std::optional<TimePoint> answered_at;  // answered or declined
  std::optional<TimePoint> closed_at;    // answered, declined or cancelled
  int days_late = 0;  // calendar days from due to the Copenhagen date of the reply; 0 if on time

  // Raised once, by the sweep (reminder_schedule.hpp), when due_end passes while still open.
  // Stays true after a late answer: it records that the alert was raised.
  bool overdue = false;
  // Reminder steps done (1..reminder_steps_done were sent or superseded, see due_actions).
  int reminder_steps_done = 0;
  // The instant of the next reminder or of the overdue flag, whichever is first; none once
  // closed or when nothing is left to do. The broker indexes open deadlines on it so a sweep
  // costs in proportion to what falls due.
  std::optional<TimePoint> next_action_at;
  // Incremented when a correction reopens the deadline under a new form (reminder steps start
  // over); (key, generation, step) identifies a reminder, so none is ever sent twice.
  int generation = 0;

  // Discharge notices (kMentorResponse) only.
  std::optional<Date> discharge_date;
  std::optional<int> lead_time_days;  // discharge date − Copenhagen date of arrival; < 0: late
  bool notice_late = false;           // the notice arrived after the discharge date

  bool operator==(const Deadline&) const = default;
};

// The key of the deadline a request or notice opens: {sender GLN, letter id}.
DeadlineKey deadline_key(const Letter& request);

// The key of the deadline a Certificate or MentorResponse answers: {receiver GLN, the letter id
// it refers to}. kInvalid for any other letter type.
Result<DeadlineKey> reply_key(const Letter& reply);

// Opens the deadline a CertificateRequest gives the receiving psychiatry unit, counted from the
// request's delivery to that unit (`delivered_at`), by the policy's rule for its form:
//  - calendar days: due = calendar.add_calendar_days_rolled(copenhagen_date(delivered_at), days);
//  - set in request (LÆ285): due = calendar.roll_forward(reply_deadline); kInvalid if the request
//    has no reply_deadline or it is fewer than the rule's days (8) after the delivery date;
//  - none (LÆ165): nullopt — no deadline is opened.
// kInvalid if the letter is not a CertificateRequest, is a cancellation, or names a form the
// policy has no rule for. Reminder steps whose instant is at or before delivery are counted as
// done (the request itself is the notice). `calendar` should be calendar_for(policy).
Result<std::optional<Deadline>> open_certificate_deadline(const Letter& request,
                                                          TimePoint delivered_at,
                                                          const DeadlineParties& parties,
                                                          const DeadlinePolicy& policy,
                                                          const WorkingCalendar& calendar);

// Opens the MentorResponse deadline a DischargeNotice gives the receiving jobcenter:
// due = calendar.add_working_days(copenhagen_date(arrived_at), mentor_response_working_days),
// and records the notice's lead time (discharge date − copenhagen_date(arrived_at)) and whether
// it arrived after the discharge date (domain.md §6). Every notice opens one, whatever
// mentor_entitled says: the jobcenter owes an answer either way. kInvalid if the letter is not a
// DischargeNotice or is a cancellation.
Result<Deadline> open_mentor_deadline(const Letter& notice, TimePoint arrived_at,
                                      const DeadlineParties& parties, const DeadlinePolicy& policy,
                                      const WorkingCalendar& calendar);

enum class ReplyKind { kAnswer, kDecline };

// Closes an open deadline with a reply that arrived at `at`: on time iff at < due_end;
// otherwise days_late = copenhagen_date(at) − due (≥ 1). A decline closes it as kDeclined (its
// lateness recorded the same way) and is allowed only for certificate forms whose FormInfo says
// may_decline (LÆ135, LÆ145). Errors: kConflict "already answered at …" / "already declined
// at …" / "cancelled at …" for a closed deadline; kInvalid for a decline the form does not allow.
Result<Deadline> answer(const Deadline& d, TimePoint at, ReplyKind kind = ReplyKind::kAnswer);

// answer() for a reply letter: checks that it is the reply this deadline owes (Certificate for
// certificates, MentorResponse for mentor responses; kInvalid otherwise), that it refers to this
// deadline (kUnknownReference otherwise), and for certificates that its form is the one requested
// (kInvalid otherwise); a Certificate with declined = true is a decline.
Result<Deadline> answer(const Deadline& d, const Letter& reply, TimePoint at);

// The request (or notice) was cancelled at `at`: closes an open deadline as kCancelled.
// kConflict if it is already closed.
Result<Deadline> cancel(const Deadline& d, TimePoint at);

// A corrected request (status rettetbrev) from the same requester, delivered at `at`.
// Rule: the deadline keeps its clock (opened_at, due, reminders, overdue flag) unless the form
// changes. Why: a jobcenter fixing a typo in its questions must not buy psychiatry more time, and
// must not restart reminders; a different form is a different request with its own agreed
// deadline, so it reopens under the new form's rule counted from the correction's delivery
// (generation + 1, reminder steps and overdue flag reset). A change to a form without a deadline
// (LÆ165) closes it as kCancelled.
// LÆ285 exception: its due date is the request's own content, so a corrected reply_deadline is
// taken (rolled forward) if it does not shorten the current due date or if it is at least the
// rule's days (8) after the correction's delivery date; otherwise kInvalid. Reminder steps already
// done stay done; if the new due_end lies after `at`, the overdue flag is cleared (it is raised
// again at the new due_end if the deadline is still open then).
// For a mentor-response deadline a corrected DischargeNotice keeps the clock and updates the
// discharge date, lead time and notice_late (measured from the correction's arrival: that is when
// the right date became known to the jobcenter).
// Errors: kConflict if the deadline is closed; kInvalid if the letter is not of the kind that
// opened it or comes from another requester GLN. The letter's id is not compared with key: the
// broker decides which deadline a correction belongs to.
Result<Deadline> correct(const Deadline& d, const Letter& corrected, TimePoint at,
                         const DeadlinePolicy& policy, const WorkingCalendar& calendar);

// Calendar days between the Copenhagen dates of opened_at and answered_at; nullopt if not
// answered (cancelled or open).
std::optional<int> days_to_answer(const Deadline& d);

// How old a deadline is at `now`: Copenhagen calendar days from the date it opened to the date
// of `now` (issue 12, item 21: counted like due dates, days_late and days to answer, never in
// elapsed 24-hour periods). 0 on the day it opened.
int age_days(const Deadline& d, TimePoint now);

// Days late as the operators' views show them at `now` (issue 12, item 18): for a closed
// deadline its recorded days_late; for an open one that has passed (past_due), calendar days from
// the due date to the Copenhagen date of `now` (≥ 1), else 0. The same count a reply arriving
// at `now` would get.
int days_late_at(const Deadline& d, TimePoint now);

// The one boundary of a deadline (issue 12, item 20), used for replies, the overdue flag, the
// figures and the operators' views alike: the due day ends at due_end, the first instant after
// it (local midnight), and from that instant on the deadline has passed. A reply at due_end is
// late by one day; an open deadline is overdue at due_end.
inline bool past_due(const Deadline& d, TimePoint at) { return at >= d.due_end; }

// Whether the reply (answer or decline) came when the deadline had passed (past_due).
inline bool answered_late(const Deadline& d) {
  return d.answered_at.has_value() && past_due(d, *d.answered_at);
}

}  // namespace sektorbro
