#include "broker/deadlines/deadline_policy.hpp"

#include "broker/message/forms.hpp"

namespace sektorbro {

DeadlinePolicy default_deadline_policy() {
  DeadlinePolicy p;
  using R = FormDeadline::Rule;
  // domain.md §5. forms.hpp carries the same figures for display; the policy is the authority.
  for (const char* f : {"LÆ105", "LÆ115", "LÆ125", "LÆ225"}) p.forms[f] = {R::kCalendarDays, 14};
  for (const char* f : {"LÆ135", "LÆ145", "LÆ265", "LÆ275"}) p.forms[f] = {R::kCalendarDays, 30};
  p.forms["LÆ155"] = {R::kCalendarDays, 61};
  p.forms["LÆ165"] = {R::kNone, 0};
  p.forms["LÆ285"] = {R::kSetInRequest, kMinimumLae285DeadlineDays};
  return p;
}

Result<void> validate(const DeadlinePolicy& policy) {
  for (const auto& [form, rule] : policy.forms) {
    if (rule.rule == FormDeadline::Rule::kCalendarDays && rule.days < 1)
      return make_error(Errc::kConfig, "deadline days for " + form + " must be at least 1");
    if (rule.rule == FormDeadline::Rule::kSetInRequest && rule.days < 0)
      return make_error(Errc::kConfig, "minimum deadline days for " + form + " must be >= 0");
  }
  if (policy.mentor_response_working_days < 0)
    return make_error(Errc::kConfig, "mentor_response_working_days must be >= 0");
  const ReminderSchedule& r = policy.reminders;
  for (std::size_t i = 1; i < r.offsets_working_days.size(); ++i)
    if (r.offsets_working_days[i] <= r.offsets_working_days[i - 1])
      return make_error(Errc::kConfig, "reminder offsets must be strictly increasing");
  if (r.repeat_every_working_days < 0)
    return make_error(Errc::kConfig, "reminder repeat_every_working_days must be >= 0");
  if (r.max_reminders < 0) return make_error(Errc::kConfig, "max_reminders must be >= 0");
  if (r.send_at < std::chrono::minutes{0} || r.send_at >= std::chrono::hours{24})
    return make_error(Errc::kConfig, "reminder send_at must lie within one day");
  for (const Date& d : policy.extra_closing_days)
    if (!d.ok()) return make_error(Errc::kConfig, "extra closing day is not a valid date");
  return {};
}

WorkingCalendar calendar_for(const DeadlinePolicy& policy) {
  return WorkingCalendar{policy.extra_closing_days};
}

const FormDeadline* find_form_deadline(const DeadlinePolicy& policy, std::string_view form) {
  const auto it = policy.forms.find(form);
  return it == policy.forms.end() ? nullptr : &it->second;
}

}  // namespace sektorbro
