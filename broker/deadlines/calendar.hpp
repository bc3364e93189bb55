// The Danish working-day calendar used for deadlines (domain.md §7): public holidays (computed
// from Easter, Store Bededag only up to 2023), the usual closing days 5 June, 24 Dec and 31 Dec,
// weekends, and extra closing days from configuration. Pure date arithmetic, no I/O and no clock:
// turning an instant into a Copenhagen date is copenhagen_date()'s job (broker/core).
//
// Thread rules: a WorkingCalendar is an immutable value; every const member may be called from any
// number of threads at once. The holiday table it reads is shared by all instances, built once on
// first use (thread-safe static initialisation) and never changed.
//
// Performance: dates from 1900-01-01 to 2199-12-31 are answered from a precomputed table in
// O(1) plus O(log k) for k extra closing days; add_working_days does not walk day by day. Dates
// outside that range fall back to computing each day's kind directly (same answers, slower).
//
// All Date arguments must be valid (d.ok()); the same present-day rule set is applied to every
// year except the Store Bededag abolition.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "broker/core/time.hpp"

namespace sektorbro {

// Western Easter Sunday of year y (anonymous Gregorian algorithm, Meeus/Jones/Butcher).
Date easter_sunday(std::chrono::year y);

// Why a day is or is not a working day. When several apply, the first in this order wins:
// public holiday, usual closing day, weekend, extra closing day (an extra closing day only
// matters on a day that would otherwise be worked).
enum class DayKind {
  kWorkingDay,
  kWeekend,          // Saturday or Sunday
  kPublicHoliday,    // helligdag, domain.md §7
  kClosingDay,       // 5 June (Grundlovsdag), 24 Dec, 31 Dec
  kExtraClosingDay,  // from configuration
};

class WorkingCalendar {
 public:
  // Invalid dates (!ok()) in `extra_closing_days` are ignored; duplicates are harmless.
  explicit WorkingCalendar(std::vector<Date> extra_closing_days = {});

  DayKind kind(Date d) const;
  bool is_working_day(Date d) const { return kind(d) == DayKind::kWorkingDay; }

  // The Danish name of the public holiday or usual closing day on d ("Skærtorsdag",
  // "Grundlovsdag", …, UTF-8, static storage); "" for working days, weekends and extra closing
  // days (configuration gives those no name).
  std::string_view holiday_name(Date d) const;

  // d if d is a working day, otherwise the next working day after it.
  Date roll_forward(Date d) const;

  // The n-th working day after d, for n >= 1 (d itself never counts); n == 0 gives
  // roll_forward(d). Precondition: n >= 0 (a negative n is treated as 0) and the result lies
  // within std::chrono::year's range.
  Date add_working_days(Date d, int n) const;

  // d + n calendar days, moved to the next working day if it is not one: the statutory
  // convention (Limitation Act § 27, domain.md §7) for deadlines counted in calendar days.
  Date add_calendar_days_rolled(Date d, int n) const;

  // The number of working days in (from, to]; if to < from, minus the number in (to, from].
  int working_days_between(Date from, Date to) const;

 private:
  // Day numbers (days since 1970-01-01).
  // Valid extra closing days that would otherwise be working days, as day numbers, sorted,
  // without duplicates.
  std::vector<std::int32_t> extra_closing_days_;

  bool is_extra_closing_day(std::int32_t day) const;
  bool is_working_day_number(std::int32_t day) const;
  // The number of extra closing days in (lo, hi].
  std::int64_t extra_closing_days_in(std::int32_t lo, std::int32_t hi) const;
};

}  // namespace sektorbro
