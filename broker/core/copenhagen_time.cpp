#include "broker/core/copenhagen_time.hpp"

namespace sektorbro {
namespace {
using namespace std::chrono;

sys_days last_sunday(year y, month m) {
  return sys_days{year_month_weekday_last{y, m, weekday_last{Sunday}}};
}
}  // namespace

minutes copenhagen_offset(TimePoint t) {
  const year y = year_month_day{floor<days>(t)}.year();
  const TimePoint summer_starts = last_sunday(y, March) + hours{1};
  const TimePoint summer_ends = last_sunday(y, October) + hours{1};
  return (t >= summer_starts && t < summer_ends) ? minutes{120} : minutes{60};
}

Date copenhagen_date(TimePoint t) { return year_month_day{floor<days>(t + copenhagen_offset(t))}; }

TimePoint copenhagen_end_of_day(Date d) {
  const TimePoint next_local_midnight = sys_days{d} + days{1};
  // The offset at local midnight; DST changes happen at 02:00/03:00 local, never at midnight.
  const TimePoint guess = next_local_midnight - minutes{60};
  return next_local_midnight - copenhagen_offset(guess);
}

}  // namespace sektorbro
