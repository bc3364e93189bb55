// Europe/Copenhagen local time without a tz database (GCC 12 has no std::chrono::tzdb):
// CET (UTC+1) in winter, CEST (UTC+2) from the last Sunday of March 01:00 UTC to the last
// Sunday of October 01:00 UTC (the EU rule in force since 1996).
#pragma once

#include "broker/core/time.hpp"

namespace sektorbro {

// The UTC offset in force at instant t.
std::chrono::minutes copenhagen_offset(TimePoint t);
// The local calendar date at instant t.
Date copenhagen_date(TimePoint t);
// The first instant after the local day `d` ends (local midnight of the next day, as UTC).
TimePoint copenhagen_end_of_day(Date d);

}  // namespace sektorbro
