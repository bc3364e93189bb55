// Time values used across the broker. Instants are UTC milliseconds; calendar dates are
// std::chrono::year_month_day. Text forms are ISO 8601 (xs:dateTime / xs:date).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sektorbro {

using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::sys_time<Duration>;
using Date = std::chrono::year_month_day;

// "2026-11-20T09:30:00.000Z" (always UTC, millisecond precision).
std::string format_timestamp(TimePoint t);
// Accepts xs:dateTime with 'Z' or a +hh:mm / -hh:mm offset, optional fractional seconds.
// A dateTime without a zone is rejected: an instant must be unambiguous.
std::optional<TimePoint> parse_timestamp(std::string_view text);

// "2026-11-20"
std::string format_date(Date d);
// Strict YYYY-MM-DD; rejects impossible dates such as 2026-02-30.
std::optional<Date> parse_date(std::string_view text);

inline std::int64_t to_millis(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint from_millis(std::int64_t ms) { return TimePoint{Duration{ms}}; }

}  // namespace sektorbro
