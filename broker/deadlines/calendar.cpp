#include "broker/deadlines/calendar.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace sektorbro {
namespace {
using namespace std::chrono;

// Days with a name, public holidays first. kNone: an ordinary weekday or weekend day.
enum NamedDay : std::uint8_t {
  kNone,
  kNytaarsdag,
  kSkaertorsdag,
  kLangfredag,
  kPaaskedag,
  kAndenPaaskedag,
  kStoreBededag,
  kKristiHimmelfartsdag,
  kPinsedag,
  kAndenPinsedag,
  kJuledag,
  kAndenJuledag,
  kGrundlovsdag,  // first usual closing day
  kJuleaftensdag,
  kNytaarsaftensdag,
  kNamedDayCount,
};

constexpr std::array<std::string_view, kNamedDayCount> kNames = {
    "",
    "Nytårsdag",
    "Skærtorsdag",
    "Langfredag",
    "Påskedag",
    "2. påskedag",
    "Store bededag",
    "Kristi himmelfartsdag",
    "Pinsedag",
    "2. pinsedag",
    "Juledag",
    "2. juledag",
    "Grundlovsdag",
    "Juleaftensdag",
    "Nytårsaftensdag",
};

// Store Bededag was abolished from 1 January 2024 (domain.md §7).
constexpr year kLastStoreBededagYear{2023};

struct EasterOffset {
  int offset;
  NamedDay day;
};
// Movable public holidays, in days from Easter Sunday (domain.md §7).
constexpr std::array<EasterOffset, 8> kEasterHolidays = {{
    {-3, kSkaertorsdag},
    {-2, kLangfredag},
    {0, kPaaskedag},
    {1, kAndenPaaskedag},
    {26, kStoreBededag},
    {39, kKristiHimmelfartsdag},
    {49, kPinsedag},
    {50, kAndenPinsedag},
}};

struct FixedDay {
  month m;
  day d;
  NamedDay named;
};
// Fixed-date public holidays and usual closing days.
constexpr std::array<FixedDay, 6> kFixedDays = {{
    {January, day{1}, kNytaarsdag},
    {December, day{25}, kJuledag},
    {December, day{26}, kAndenJuledag},
    {June, day{5}, kGrundlovsdag},
    {December, day{24}, kJuleaftensdag},
    {December, day{31}, kNytaarsaftensdag},
}};

using DayNumber = std::int32_t;  // days since 1970-01-01

DayNumber to_day_number(Date d) {
  return static_cast<DayNumber>(sys_days{d}.time_since_epoch().count());
}
Date to_date(DayNumber n) { return Date{sys_days{days{n}}}; }

bool is_weekend(DayNumber n) {
  const weekday w{sys_days{days{n}}};
  return w == Saturday || w == Sunday;
}

constexpr bool is_public_holiday(NamedDay n) { return n != kNone && n < kGrundlovsdag; }

// The named day on day n, computed from the rules without the table.
NamedDay named_day_direct(DayNumber n) {
  const Date d = to_date(n);
  const DayNumber offset = n - to_day_number(easter_sunday(d.year()));
  for (const EasterOffset& e : kEasterHolidays) {
    if (e.offset == offset && (e.day != kStoreBededag || d.year() <= kLastStoreBededagYear)) {
      return e.day;
    }
  }
  for (const FixedDay& f : kFixedDays) {
    if (f.m == d.month() && f.d == d.day()) return f.named;
  }
  return kNone;
}

// Named days and working-day counts for every day of [kFirstYear, kEndYear), ignoring extra
// closing days (those belong to a WorkingCalendar instance).
class HolidayTable {
 public:
  static constexpr year kFirstYear{1900};
  static constexpr year kEndYear{2200};

  HolidayTable()
      : first_(to_day_number(kFirstYear / January / 1)),
        size_(to_day_number(kEndYear / January / 1) - first_),
        named_(static_cast<std::size_t>(size_), kNone),
        working_before_(static_cast<std::size_t>(size_) + 1, 0) {
    for (year y = kFirstYear; y < kEndYear; ++y) {
      // Closing days first so that a public holiday on the same date wins (Whit Sunday or Whit
      // Monday can fall on 5 June, e.g. 2022 and 2006).
      for (const FixedDay& f : kFixedDays) set(to_day_number(y / f.m / f.d), f.named);
      const DayNumber easter = to_day_number(easter_sunday(y));
      for (const EasterOffset& e : kEasterHolidays) {
        if (e.day == kStoreBededag && y > kLastStoreBededagYear) continue;
        set(easter + e.offset, e.day);
      }
    }
    working_days_.reserve(static_cast<std::size_t>(size_) * 5 / 7);
    for (DayNumber i = 0; i < size_; ++i) {
      const DayNumber n = first_ + i;
      const bool working = named_[static_cast<std::size_t>(i)] == kNone && !is_weekend(n);
      if (working) working_days_.push_back(n);
      working_before_[static_cast<std::size_t>(i) + 1] =
          static_cast<DayNumber>(working_days_.size());
    }
  }

  bool contains(DayNumber n) const { return n >= first_ && n < first_ + size_; }
  DayNumber first() const { return first_; }
  DayNumber last() const { return first_ + size_ - 1; }

  // Precondition for the following: contains(n).
  NamedDay named(DayNumber n) const { return named_[index(n)]; }
  // The number of working days in the table strictly before n.
  DayNumber working_before(DayNumber n) const { return working_before_[index(n)]; }
  // The number of working days in the table up to and including n.
  DayNumber working_through(DayNumber n) const { return working_before_[index(n) + 1]; }

  // The k-th working day of the table (0-based), if there is one.
  bool has_working_day(std::int64_t k) const {
    return k >= 0 && k < static_cast<std::int64_t>(working_days_.size());
  }
  DayNumber working_day(std::int64_t k) const { return working_days_[static_cast<std::size_t>(k)]; }

 private:
  std::size_t index(DayNumber n) const { return static_cast<std::size_t>(n - first_); }
  void set(DayNumber n, NamedDay d) {
    if (contains(n)) named_[index(n)] = d;
  }

  DayNumber first_;
  DayNumber size_;
  std::vector<NamedDay> named_;
  std::vector<DayNumber> working_before_;
  std::vector<DayNumber> working_days_;
};

const HolidayTable& holiday_table() {
  static const HolidayTable table;
  return table;
}

NamedDay named_day(DayNumber n) {
  const HolidayTable& t = holiday_table();
  return t.contains(n) ? t.named(n) : named_day_direct(n);
}

// A working day unless extra closing days say otherwise.
bool is_base_working_day(DayNumber n) { return named_day(n) == kNone && !is_weekend(n); }

// Floor division and modulo, so the computus is well defined for years before 1 AD too.
constexpr int floor_div(int a, int b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
constexpr int floor_mod(int a, int b) { return a - floor_div(a, b) * b; }

}  // namespace

Date easter_sunday(year y) {
  const int yy = static_cast<int>(y);
  const int a = floor_mod(yy, 19);
  const int b = floor_div(yy, 100);
  const int c = floor_mod(yy, 100);
  const int d = floor_div(b, 4);
  const int e = floor_mod(b, 4);
  const int f = floor_div(b + 8, 25);
  const int g = floor_div(b - f + 1, 3);
  const int h = floor_mod(19 * a + b - d - g + 15, 30);
  const int i = c / 4;
  const int k = c % 4;
  const int l = floor_mod(32 + 2 * e + 2 * i - h - k, 7);
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month_number = (h + l - 7 * m + 114) / 31;
  const int day_number = (h + l - 7 * m + 114) % 31 + 1;
  return y / month{static_cast<unsigned>(month_number)} / day{static_cast<unsigned>(day_number)};
}

WorkingCalendar::WorkingCalendar(std::vector<Date> extra_closing_days) {
  extra_closing_days_.reserve(extra_closing_days.size());
  for (const Date& d : extra_closing_days) {
    if (!d.ok()) continue;
    const DayNumber n = to_day_number(d);
    if (is_base_working_day(n)) extra_closing_days_.push_back(n);
  }
  std::sort(extra_closing_days_.begin(), extra_closing_days_.end());
  extra_closing_days_.erase(std::unique(extra_closing_days_.begin(), extra_closing_days_.end()),
                            extra_closing_days_.end());
}

bool WorkingCalendar::is_extra_closing_day(std::int32_t n) const {
  return std::binary_search(extra_closing_days_.begin(), extra_closing_days_.end(), n);
}

bool WorkingCalendar::is_working_day_number(std::int32_t n) const {
  return is_base_working_day(n) && !is_extra_closing_day(n);
}

std::int64_t WorkingCalendar::extra_closing_days_in(std::int32_t lo, std::int32_t hi) const {
  const auto first = std::upper_bound(extra_closing_days_.begin(), extra_closing_days_.end(), lo);
  const auto last = std::upper_bound(first, extra_closing_days_.end(), hi);
  return last - first;
}

DayKind WorkingCalendar::kind(Date d) const {
  const DayNumber n = to_day_number(d);
  const NamedDay named = named_day(n);
  if (named != kNone) {
    return is_public_holiday(named) ? DayKind::kPublicHoliday : DayKind::kClosingDay;
  }
  if (is_weekend(n)) return DayKind::kWeekend;
  if (is_extra_closing_day(n)) return DayKind::kExtraClosingDay;
  return DayKind::kWorkingDay;
}

std::string_view WorkingCalendar::holiday_name(Date d) const {
  return kNames[named_day(to_day_number(d))];
}

Date WorkingCalendar::roll_forward(Date d) const { return add_working_days(d, 0); }

Date WorkingCalendar::add_working_days(Date d, int n) const {
  n = std::max(n, 0);
  const DayNumber start = to_day_number(d);
  const HolidayTable& t = holiday_table();
  if (t.contains(start)) {
    // Index of the answer among the table's working days, before extra closing days; every
    // extra closing day passed on the way pushes the answer one working day further.
    std::int64_t k = n == 0 ? t.working_before(start)
                            : static_cast<std::int64_t>(t.working_through(start)) + n - 1;
    auto extra =
        n == 0 ? std::lower_bound(extra_closing_days_.begin(), extra_closing_days_.end(), start)
               : std::upper_bound(extra_closing_days_.begin(), extra_closing_days_.end(), start);
    while (t.has_working_day(k)) {
      const DayNumber candidate = t.working_day(k);
      if (extra == extra_closing_days_.end() || *extra > candidate) return to_date(candidate);
      // Extra closing days are base working days, so *extra <= candidate passes one of them.
      ++extra;
      ++k;
    }
  }
  // Outside the table: walk day by day.
  DayNumber day = start;
  if (n == 0) {
    while (!is_working_day_number(day)) ++day;
    return to_date(day);
  }
  for (int found = 0; found < n;) {
    ++day;
    if (is_working_day_number(day)) ++found;
  }
  return to_date(day);
}

Date WorkingCalendar::add_calendar_days_rolled(Date d, int n) const {
  return roll_forward(Date{sys_days{d} + days{n}});
}

int WorkingCalendar::working_days_between(Date from, Date to) const {
  const DayNumber a = to_day_number(from);
  const DayNumber b = to_day_number(to);
  const DayNumber lo = std::min(a, b);
  const DayNumber hi = std::max(a, b);

  // Base working days in (lo, hi]: the part inside the table from its prefix counts, the parts
  // before and after it day by day.
  const HolidayTable& t = holiday_table();
  std::int64_t count = 0;
  const DayNumber table_lo = std::max(lo, t.first() - 1);
  const DayNumber table_hi = std::min(hi, t.last());
  if (table_lo < table_hi) {
    count += t.working_through(table_hi) - (table_lo < t.first() ? 0 : t.working_through(table_lo));
  }
  for (DayNumber n = lo + 1; n <= std::min(hi, t.first() - 1); ++n) count += is_base_working_day(n);
  for (DayNumber n = std::max(lo, t.last()) + 1; n <= hi; ++n) count += is_base_working_day(n);

  count -= extra_closing_days_in(lo, hi);
  return static_cast<int>(a <= b ? count : -count);
}

}  // namespace sektorbro
