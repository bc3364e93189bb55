#include "broker/message/forms.hpp"

#include <array>

namespace sektorbro {
namespace {
// Figures from domain.md §5 ("Socialt-lægeligt samarbejde"); 2 months is counted as 61 days.
constexpr std::array<FormInfo, 11> kForms{{
    {"LÆ105", "hospital record extract", false, 14, false},
    {"LÆ115", "specialist record extract", false, 14, false},
    {"LÆ125", "status certificate from records", false, 14, false},
    {"LÆ135", "specific health certificate", true, 30, false},
    {"LÆ145", "general health certificate", true, 30, false},
    {"LÆ155", "specialist certificate", false, 61, false},
    {"LÆ165", "doctor's own proposal", false, 0, false},
    {"LÆ225", "chronic illness", false, 14, false},
    {"LÆ265", "for the rehabilitation team", false, 30, false},
    {"LÆ275", "regional clinical function", false, 30, false},
    {"LÆ285", "sickness-benefit follow-up", false, 0, true},
}};
}  // namespace

std::span<const FormInfo> known_forms() { return kForms; }

std::optional<FormInfo> find_form(std::string_view code) {
  for (const auto& f : kForms)
    if (f.code == code) return f;
  return std::nullopt;
}

}  // namespace sektorbro
