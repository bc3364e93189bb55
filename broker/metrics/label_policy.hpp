// LabelPolicy: which strings may become a Prometheus label value. Metrics leave the broker for
// monitoring systems with wider access than the store, so a label value is a name from the
// configuration or a code from a closed list — an endpoint id, a MedCom refuse code, a form code
// (LÆ125), a unit — never a CPR number, a letter id or message content (special-category personal
// data stays inside the broker: issue 5, issue 10).
#pragma once

#include <string_view>

namespace sektorbro::metrics {

// The longest label value accepted, in bytes.
inline constexpr std::size_t kMaxLabelValueBytes = 64;

// True if `value` may be used as a label value: 1 to kMaxLabelValueBytes bytes of ASCII letters,
// digits, '_', '-', '.', ':', '/' or well-formed non-ASCII UTF-8 letters (Æ, Ø, Å in form codes),
// and no run of six or more digits (CPR numbers, GLNs, letter ids and timestamps all have one).
bool acceptable_label_value(std::string_view value);

// True if `name` is a valid metric or label name ([a-zA-Z_][a-zA-Z0-9_]*; no "__" prefix).
bool valid_metric_name(std::string_view name);

}  // namespace sektorbro::metrics
