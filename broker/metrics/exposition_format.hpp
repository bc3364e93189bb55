// The Prometheus text exposition format, version 0.0.4: the pieces a metrics page is written
// from. Pure functions: strings in, strings out.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sektorbro::metrics {

// The Content-Type of a page in this format.
inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

using Label = std::pair<std::string, std::string>;  // name, value

// A sample value: integers without a fraction ("3"), others in the shortest form that reads
// back exactly ("0.005"), and "+Inf", "-Inf", "NaN".
std::string format_value(double v);

// Label values escape '\\', '"' and newline; HELP texts escape '\\' and newline.
std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);

// One sample line: name{l1="v1",l2="v2"} value\n (no braces when there are no labels).
std::string sample_line(std::string_view name, const std::vector<Label>& labels, double value);

}  // namespace sektorbro::metrics
