#include "broker/deadlines/deadline.hpp"

#include <array>
#include <utility>

#include "broker/core/copenhagen_time.hpp"
#include "broker/deadlines/reminder_schedule.hpp"
#include "broker/message/forms.hpp"

namespace sektorbro {
namespace {
using namespace std::chrono;

constexpr std::array<std::pair<DeadlineKind, std::string_view>, 2> kKindNames{{
    {DeadlineKind::kCertificate, "certificate"},
    {DeadlineKind::kMentorResponse, "mentor-response"},
}};

constexpr std::array<std::pair<DeadlineState, std::string_view>, 5> kStateNames{{
    {DeadlineState::kOpen, "open"},
    {DeadlineState::kAnsweredOnTime, "answered-on-time"},
    {DeadlineState::kAnsweredLate, "answered-late"},
    {DeadlineState::kDeclined, "declined"},
    {DeadlineState::kCancelled, "cancelled"},
}};

int days_between(Date from, Date to) {
  return static_cast<int>((sys_days{to} - sys_days{from}).count());
}

// Sets due/due_end and the reminder bookkeeping of a freshly (re)opened deadline. Steps at or
// before the opening instant are counted as done: the request itself tells the unit.
void start_clock(Deadline& d, Date due, const DeadlinePolicy& policy,
                 const WorkingCalendar& calendar) {
  d.due = due;
  d.due_end = copenhagen_end_of_day(due);
  d.overdue = false;
  d.reminder_steps_done = 0;
  const int steps = reminder_step_count(policy.reminders);
  while (d.reminder_steps_done < steps) {
    const auto at = reminder_instant(due, d.reminder_steps_done + 1, policy.reminders, calendar);
    if (!at || *at > d.opened_at) break;
    ++d.reminder_steps_done;
  }
  d.next_action_at = compute_next_action_at(d, policy, calendar);
}

// The due date a CertificateRequest asks for under `rule`, counted from `delivered` (a
// Copenhagen date); nullopt for a form without a deadline.
Result<std::optional<Date>> certificate_due(const CertificateRequest& req, const FormDeadline& rule,
                                            Date delivered, const WorkingCalendar& calendar) {
  switch (rule.rule) {
    case FormDeadline::Rule::kNone:
      return std::optional<Date>{};
    case FormDeadline::Rule::kCalendarDays:
      return std::optional<Date>{calendar.add_calendar_days_rolled(delivered, rule.days)};
    case FormDeadline::Rule::kSetInRequest:
      if (!req.reply_deadline || !req.reply_deadline->ok())
        return make_error(Errc::kInvalid, req.form + " request must set a reply deadline");
      if (days_between(delivered, *req.reply_deadline) < rule.days)
        return make_error(Errc::kInvalid,
                          req.form + " reply deadline " + format_date(*req.reply_deadline) +
                              " is fewer than " + std::to_string(rule.days) +
                              " calendar days after delivery on " + format_date(delivered));
      return std::optional<Date>{calendar.roll_forward(*req.reply_deadline)};
  }
  return make_error(Errc::kInvalid, "unknown deadline rule");
}

Result<const FormDeadline*> rule_for(const DeadlinePolicy& policy, const std::string& form) {
  const FormDeadline* rule = find_form_deadline(policy, form);
  if (!rule) return make_error(Errc::kInvalid, "no deadline rule for form " + form);
  return rule;
}

void record_notice(Deadline& d, const DischargeNotice& notice, TimePoint arrived_at) {
  d.discharge_date = notice.discharge_date;
  d.lead_time_days = days_between(copenhagen_date(arrived_at), notice.discharge_date);
  d.notice_late = *d.lead_time_days < 0;
}

Error closed_error(const Deadline& d) {
  const std::string when = d.closed_at ? format_timestamp(*d.closed_at) : std::string{"?"};
  switch (d.state) {
    case DeadlineState::kAnsweredOnTime:
    case DeadlineState::kAnsweredLate:
      return make_error(Errc::kConflict,
                        "letter " + d.key.letter_id + " was already answered at " + when);
    case DeadlineState::kDeclined:
      return make_error(Errc::kConflict,
                        "letter " + d.key.letter_id + " was already declined at " + when);
    case DeadlineState::kCancelled:
      return make_error(Errc::kConflict, "letter " + d.key.letter_id + " was cancelled at " + when);
    case DeadlineState::kOpen:
      break;
  }
  return make_error(Errc::kConflict, "deadline is open");
}

}  // namespace

std::string_view to_string(DeadlineKind k) {
  for (const auto& [v, name] : kKindNames)
    if (v == k) return name;
  return "?";
}

std::optional<DeadlineKind> parse_deadline_kind(std::string_view s) {
  for (const auto& [v, name] : kKindNames)
    if (name == s) return v;
  return std::nullopt;
}

std::string_view to_string(DeadlineState s) {
  for (const auto& [v, name] : kStateNames)
    if (v == s) return name;
  return "?";
}

std::optional<DeadlineState> parse_deadline_state(std::string_view s) {
  for (const auto& [v, name] : kStateNames)
    if (name == s) return v;
  return std::nullopt;
}

DeadlineKey deadline_key(const Letter& request) {
  return DeadlineKey{request.sender.gln, request.id};
}

Result<DeadlineKey> reply_key(const Letter& reply) {
  if (const auto* c = std::get_if<Certificate>(&reply.body))
    return DeadlineKey{reply.receiver.gln, c->request_letter_id};
  if (const auto* m = std::get_if<MentorResponse>(&reply.body))
    return DeadlineKey{reply.receiver.gln, m->notice_letter_id};
  return make_error(Errc::kInvalid,
                    std::string{to_string(reply.type())} + " does not answer a deadline");
}

Result<std::optional<Deadline>> open_certificate_deadline(const Letter& request,
                                                          TimePoint delivered_at,
                                                          const DeadlineParties& parties,
                                                          const DeadlinePolicy& policy,
                                                          const WorkingCalendar& calendar) {
  const auto* req = std::get_if<CertificateRequest>(&request.body);
  if (!req)
    return make_error(Errc::kInvalid, std::string{to_string(request.type())} +
                                          " does not open a certificate deadline");
  if (request.status == LetterStatus::kCancelled)
    return make_error(Errc::kInvalid, "a cancelled request opens no deadline");
  const auto rule = rule_for(policy, req->form);
  if (!rule) return rule.error();
  const auto due = certificate_due(*req, **rule, copenhagen_date(delivered_at), calendar);
  if (!due) return due.error();
  if (!due->has_value()) return std::optional<Deadline>{};

  Deadline d;
  d.kind = DeadlineKind::kCertificate;
  d.key = deadline_key(request);
  d.owed_by = parties.owed_by;
  d.owed_to = parties.owed_to;
  d.form = req->form;
  d.opened_at = delivered_at;
  start_clock(d, **due, policy, calendar);
  return std::optional<Deadline>{std::move(d)};
}

Result<Deadline> open_mentor_deadline(const Letter& notice, TimePoint arrived_at,
                                      const DeadlineParties& parties, const DeadlinePolicy& policy,
                                      const WorkingCalendar& calendar) {
  const auto* n = std::get_if<DischargeNotice>(&notice.body);
  if (!n)
    return make_error(Errc::kInvalid, std::string{to_string(notice.type())} +
                                          " does not open a mentor-response deadline");
  if (notice.status == LetterStatus::kCancelled)
    return make_error(Errc::kInvalid, "a cancelled notice opens no deadline");
  if (!n->discharge_date.ok())
    return make_error(Errc::kInvalid, "discharge notice has no valid discharge date");

  Deadline d;
  d.kind = DeadlineKind::kMentorResponse;
  d.key = deadline_key(notice);
  d.owed_by = parties.owed_by;
  d.owed_to = parties.owed_to;
  d.opened_at = arrived_at;
  record_notice(d, *n, arrived_at);
  start_clock(
      d,
      calendar.add_working_days(copenhagen_date(arrived_at), policy.mentor_response_working_days),
      policy, calendar);
  return d;
}

Result<Deadline> answer(const Deadline& d, TimePoint at, ReplyKind kind) {
  if (is_closed(d.state)) return closed_error(d);
  if (kind == ReplyKind::kDecline) {
    const auto info = find_form(d.form);
    if (d.kind != DeadlineKind::kCertificate || !info || !info->may_decline)
      return make_error(Errc::kInvalid,
                        (d.kind == DeadlineKind::kCertificate ? "form " + d.form
                                                              : std::string{"a mentor response"}) +
                            " may not be declined");
  }
  Deadline out = d;
  const bool late = past_due(d, at);
  out.answered_at = at;
  out.closed_at = at;
  out.days_late = late ? days_between(d.due, copenhagen_date(at)) : 0;
  if (kind == ReplyKind::kDecline)
    out.state = DeadlineState::kDeclined;
  else
    out.state = late ? DeadlineState::kAnsweredLate : DeadlineState::kAnsweredOnTime;
  out.next_action_at.reset();
  return out;
}

Result<Deadline> answer(const Deadline& d, const Letter& reply, TimePoint at) {
  const auto key = reply_key(reply);
  if (!key) return key.error();
  if (*key != d.key)
    return make_error(Errc::kUnknownReference,
                      "reply refers to letter " + key->letter_id + ", not " + d.key.letter_id);
  if (const auto* c = std::get_if<Certificate>(&reply.body)) {
    if (d.kind != DeadlineKind::kCertificate)
      return make_error(Errc::kInvalid, "letter " + d.key.letter_id + " awaits a MentorResponse");
    if (c->form != d.form)
      return make_error(Errc::kInvalid,
                        "certificate form " + c->form + " does not match the requested " + d.form);
    return answer(d, at, c->declined ? ReplyKind::kDecline : ReplyKind::kAnswer);
  }
  if (d.kind != DeadlineKind::kMentorResponse)
    return make_error(Errc::kInvalid, "letter " + d.key.letter_id + " awaits a Certificate");
  return answer(d, at, ReplyKind::kAnswer);
}

Result<Deadline> cancel(const Deadline& d, TimePoint at) {
  if (is_closed(d.state)) return closed_error(d);
  Deadline out = d;
  out.state = DeadlineState::kCancelled;
  out.closed_at = at;
  out.next_action_at.reset();
  return out;
}

Result<Deadline> correct(const Deadline& d, const Letter& corrected, TimePoint at,
                         const DeadlinePolicy& policy, const WorkingCalendar& calendar) {
  if (is_closed(d.state)) return closed_error(d);
  if (corrected.sender.gln != d.key.requester_gln)
    return make_error(Errc::kInvalid,
                      "correction comes from another sender than letter " + d.key.letter_id);

  if (d.kind == DeadlineKind::kMentorResponse) {
    const auto* n = std::get_if<DischargeNotice>(&corrected.body);
    if (!n)
      return make_error(Errc::kInvalid, "letter " + d.key.letter_id +
                                            " is a discharge notice; the correction is a " +
                                            std::string{to_string(corrected.type())});
    if (!n->discharge_date.ok())
      return make_error(Errc::kInvalid, "discharge notice has no valid discharge date");
    Deadline out = d;
    record_notice(out, *n, at);
    return out;
  }

  const auto* req = std::get_if<CertificateRequest>(&corrected.body);
  if (!req)
    return make_error(Errc::kInvalid, "letter " + d.key.letter_id +
                                          " is a certificate request; the correction is a " +
                                          std::string{to_string(corrected.type())});
  const auto rule = rule_for(policy, req->form);
  if (!rule) return rule.error();
  const Date delivered = copenhagen_date(at);

  if (req->form != d.form) {
    const auto due = certificate_due(*req, **rule, delivered, calendar);
    if (!due) return due.error();
    Deadline out = d;
    out.form = req->form;
    if (!due->has_value()) {
      out.state = DeadlineState::kCancelled;
      out.closed_at = at;
      out.next_action_at.reset();
      return out;
    }
    out.opened_at = at;
    out.generation = d.generation + 1;
    start_clock(out, **due, policy, calendar);
    return out;
  }

  if ((*rule)->rule != FormDeadline::Rule::kSetInRequest) return d;
  if (!req->reply_deadline || !req->reply_deadline->ok())
    return make_error(Errc::kInvalid, req->form + " request must set a reply deadline");
  const Date new_due = calendar.roll_forward(*req->reply_deadline);
  if (new_due == d.due) return d;
  if (new_due < d.due && days_between(delivered, *req->reply_deadline) < (*rule)->days)
    return make_error(Errc::kInvalid,
                      "corrected " + req->form + " reply deadline " +
                          format_date(*req->reply_deadline) +
                          " shortens the deadline to fewer than " + std::to_string((*rule)->days) +
                          " calendar days after the correction on " + format_date(delivered));
  Deadline out = d;
  out.due = new_due;
  out.due_end = copenhagen_end_of_day(new_due);
  // The same request with a moved date: steps already sent stay sent; the overdue flag is kept
  // only if the new deadline has also passed.
  if (out.overdue && !past_due(out, at)) out.overdue = false;
  out.next_action_at = compute_next_action_at(out, policy, calendar);
  return out;
}

int age_days(const Deadline& d, TimePoint now) {
  return days_between(copenhagen_date(d.opened_at), copenhagen_date(now));
}

int days_late_at(const Deadline& d, TimePoint now) {
  if (is_closed(d.state)) return d.days_late;
  return past_due(d, now) ? days_between(d.due, copenhagen_date(now)) : 0;
}

std::optional<int> days_to_answer(const Deadline& d) {
  if (!d.answered_at) return std::nullopt;
  return days_between(copenhagen_date(d.opened_at), copenhagen_date(*d.answered_at));
}

}  // namespace sektorbro
