// The LÆ certificate forms a jobcenter can request from psychiatry (domain.md §5). The default
// deadlines here are defaults only; the deadline engine takes its figures from configuration.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace sektorbro {

struct FormInfo {
  std::string_view code;      // canonical spelling, e.g. "LÆ285" (UTF-8)
  std::string_view what;      // short English description
  bool may_decline;           // a Certificate may be a decline (LÆ135, LÆ145)
  int default_deadline_days;  // calendar days after delivery of the request; 0 = none
  bool deadline_in_request;   // LÆ285: the request itself sets the reply deadline
};

// All forms the broker knows, in code order.
std::span<const FormInfo> known_forms();
// Accepts the canonical code only ("LÆ285"). nullopt for unknown forms.
std::optional<FormInfo> find_form(std::string_view code);

// LÆ285: the deadline a jobcenter sets must be at least this many days out (domain.md §5).
inline constexpr int kMinimumLae285DeadlineDays = 8;

}  // namespace sektorbro
