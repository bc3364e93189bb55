#include "broker/deadlines/calendar.hpp"

#include <gtest/gtest.h>

#include <random>
#include <thread>

namespace sektorbro {
namespace {
using namespace std::chrono;

// Every expected date below was worked out by hand (the reasoning is in the comments) and
// cross-checked against python-dateutil's easter() and datetime.weekday(); none is computed by
// the code under test.

Date plus_days(Date d, int n) { return Date{sys_days{d} + days{n}}; }

// ---------------------------------------------------------------------------------------------
// Easter

TEST(EasterSunday, RecentAndNearYears) {
  EXPECT_EQ(easter_sunday(2023y), Date{2023y / April / 9});
  EXPECT_EQ(easter_sunday(2024y), Date{2024y / March / 31});
  EXPECT_EQ(easter_sunday(2025y), Date{2025y / April / 20});
  EXPECT_EQ(easter_sunday(2026y), Date{2026y / April / 5});
  EXPECT_EQ(easter_sunday(2027y), Date{2027y / March / 28});
  EXPECT_EQ(easter_sunday(2022y), Date{2022y / April / 17});
}

TEST(EasterSunday, HistoricalAndFutureYears) {
  EXPECT_EQ(easter_sunday(2000y), Date{2000y / April / 23});
  EXPECT_EQ(easter_sunday(2008y), Date{2008y / March / 23});
  EXPECT_EQ(easter_sunday(2038y), Date{2038y / April / 25});  // the latest possible date
  EXPECT_EQ(easter_sunday(1943y), Date{1943y / April / 25});  // ditto
  EXPECT_EQ(easter_sunday(1818y), Date{1818y / March / 22});  // the earliest possible date
  EXPECT_EQ(easter_sunday(2285y), Date{2285y / March / 22});  // ditto
  EXPECT_EQ(easter_sunday(2006y), Date{2006y / April / 16});
  EXPECT_EQ(easter_sunday(1583y), Date{1583y / April / 10});  // first full Gregorian year
}

TEST(EasterSunday, IsAlwaysASundayBetween22MarchAnd25April) {
  for (int y = 1583; y <= 4099; ++y) {
    const Date e = easter_sunday(year{y});
    ASSERT_TRUE(e.ok()) << y;
    EXPECT_EQ(weekday{sys_days{e}}, Sunday) << y;
    EXPECT_GE(e, Date{year{y} / March / 22}) << y;
    EXPECT_LE(e, Date{year{y} / April / 25}) << y;
  }
}

// ---------------------------------------------------------------------------------------------
// Day classification

struct DayCase {
  Date date;
  DayKind kind;
  std::string_view name;
};

void expect_days(const WorkingCalendar& cal, const std::vector<DayCase>& cases) {
  for (const DayCase& c : cases) {
    EXPECT_EQ(cal.kind(c.date), c.kind) << format_date(c.date);
    EXPECT_EQ(cal.holiday_name(c.date), c.name) << format_date(c.date);
    EXPECT_EQ(cal.is_working_day(c.date), c.kind == DayKind::kWorkingDay) << format_date(c.date);
  }
}

constexpr DayKind kWork = DayKind::kWorkingDay;
constexpr DayKind kWeekend = DayKind::kWeekend;
constexpr DayKind kHoliday = DayKind::kPublicHoliday;
constexpr DayKind kClosing = DayKind::kClosingDay;

TEST(WorkingCalendar, EasterWeeks2023To2027) {
  const WorkingCalendar cal;
  expect_days(cal, {
                       // Easter 2023 is 9 April: Maundy Thursday 6, Good Friday 7, Saturday 8,
                       // Easter Monday 10; Wednesday 5 and Tuesday 11 are ordinary.
                       {2023y / April / 5, kWork, ""},
                       {2023y / April / 6, kHoliday, "Skærtorsdag"},
                       {2023y / April / 7, kHoliday, "Langfredag"},
                       {2023y / April / 8, kWeekend, ""},
                       {2023y / April / 9, kHoliday, "Påskedag"},
                       {2023y / April / 10, kHoliday, "2. påskedag"},
                       {2023y / April / 11, kWork, ""},
                       // Easter 2024 is 31 March, so Maundy Thursday is 28 March, Good Friday
                       // 29 March, and Easter Monday 1 April.
                       {2024y / March / 27, kWork, ""},
                       {2024y / March / 28, kHoliday, "Skærtorsdag"},
                       {2024y / March / 29, kHoliday, "Langfredag"},
                       {2024y / March / 30, kWeekend, ""},
                       {2024y / March / 31, kHoliday, "Påskedag"},
                       {2024y / April / 1, kHoliday, "2. påskedag"},
                       {2024y / April / 2, kWork, ""},
                       // Easter 2025 is 20 April: 17, 18, (19 Saturday), 20, 21 April.
                       {2025y / April / 16, kWork, ""},
                       {2025y / April / 17, kHoliday, "Skærtorsdag"},
                       {2025y / April / 18, kHoliday, "Langfredag"},
                       {2025y / April / 19, kWeekend, ""},
                       {2025y / April / 20, kHoliday, "Påskedag"},
                       {2025y / April / 21, kHoliday, "2. påskedag"},
                       {2025y / April / 22, kWork, ""},
                       // Easter 2026 is 5 April: 2, 3, (4 Saturday), 5, 6 April.
                       {2026y / April / 1, kWork, ""},
                       {2026y / April / 2, kHoliday, "Skærtorsdag"},
                       {2026y / April / 3, kHoliday, "Langfredag"},
                       {2026y / April / 4, kWeekend, ""},
                       {2026y / April / 5, kHoliday, "Påskedag"},
                       {2026y / April / 6, kHoliday, "2. påskedag"},
                       {2026y / April / 7, kWork, ""},
                       // Easter 2027 is 28 March: 25, 26, (27 Saturday), 28, 29 March.
                       {2027y / March / 24, kWork, ""},
                       {2027y / March / 25, kHoliday, "Skærtorsdag"},
                       {2027y / March / 26, kHoliday, "Langfredag"},
                       {2027y / March / 27, kWeekend, ""},
                       {2027y / March / 28, kHoliday, "Påskedag"},
                       {2027y / March / 29, kHoliday, "2. påskedag"},
                       {2027y / March / 30, kWork, ""},
                   });
}

TEST(WorkingCalendar, StoreBededagOnlyUpTo2023) {
  const WorkingCalendar cal;
  expect_days(cal, {
                       // 2022: Easter 17 April + 26 days = 13 May, a Friday.
                       {2022y / May / 13, kHoliday, "Store bededag"},
                       // 2023: Easter 9 April + 26 = 35 April = 5 May, a Friday: the last one.
                       {2023y / May / 5, kHoliday, "Store bededag"},
                       // 2024: Easter 31 March + 26 = 26 April, a Friday: abolished, worked.
                       {2024y / April / 26, kWork, ""},
                       // 2025: Easter 20 April + 26 = 16 May, a Friday: worked.
                       {2025y / May / 16, kWork, ""},
                       // 2026: Easter 5 April + 26 = 1 May, a Friday: worked (1 May is not a
                       // public holiday either).
                       {2026y / May / 1, kWork, ""},
                   });
}

TEST(WorkingCalendar, AscensionAndWhitsun2024To2027) {
  const WorkingCalendar cal;
  expect_days(cal, {
                       // 2024: Easter 31 March. +39: 1 April is +1, 1 May is +31, so 9 May is
                       // +39 (Thursday). Whit Sunday +49 = 19 May, Whit Monday 20 May.
                       {2024y / May / 9, kHoliday, "Kristi himmelfartsdag"},
                       {2024y / May / 10, kWork, ""},
                       {2024y / May / 19, kHoliday, "Pinsedag"},
                       {2024y / May / 20, kHoliday, "2. pinsedag"},
                       {2024y / May / 21, kWork, ""},
                       // 2025: Easter 20 April. 30 April is +10, 29 May is +39 (Thursday).
                       // Whit Sunday 8 June, Whit Monday 9 June.
                       {2025y / May / 29, kHoliday, "Kristi himmelfartsdag"},
                       {2025y / May / 30, kWork, ""},
                       {2025y / June / 8, kHoliday, "Pinsedag"},
                       {2025y / June / 9, kHoliday, "2. pinsedag"},
                       {2025y / June / 10, kWork, ""},
                       // 2026: Easter 5 April. 30 April is +25, 14 May is +39 (Thursday).
                       // Whit Sunday 24 May, Whit Monday 25 May.
                       {2026y / May / 14, kHoliday, "Kristi himmelfartsdag"},
                       {2026y / May / 15, kWork, ""},
                       {2026y / May / 24, kHoliday, "Pinsedag"},
                       {2026y / May / 25, kHoliday, "2. pinsedag"},
                       {2026y / May / 26, kWork, ""},
                       // 2027: Easter 28 March. 31 March is +3, 30 April +33, 6 May +39
                       // (Thursday). Whit Sunday 16 May, Whit Monday 17 May.
                       {2027y / May / 6, kHoliday, "Kristi himmelfartsdag"},
                       {2027y / May / 7, kWork, ""},
                       {2027y / May / 16, kHoliday, "Pinsedag"},
                       {2027y / May / 17, kHoliday, "2. pinsedag"},
                       {2027y / May / 18, kWork, ""},
                   });
}

TEST(WorkingCalendar, ConstitutionDay) {
  const WorkingCalendar cal;
  expect_days(cal, {
                       // 5 June 2024 is a Wednesday, 5 June 2026 a Friday: closing days.
                       {2024y / June / 4, kWork, ""},
                       {2024y / June / 5, kClosing, "Grundlovsdag"},
                       {2024y / June / 6, kWork, ""},
                       {2026y / June / 5, kClosing, "Grundlovsdag"},
                       // 5 June 2027 is a Saturday: still named, still not worked.
                       {2027y / June / 5, kClosing, "Grundlovsdag"},
                       // Easter 2022 is 17 April: +13 = 30 April, +44 = 31 May, +49 = 5 June,
                       // so Whit Sunday falls on Constitution Day; the public holiday wins.
                       {2022y / June / 5, kHoliday, "Pinsedag"},
                       // Easter 2006 is 16 April: +14 = 30 April, +45 = 31 May, +50 = 5 June:
                       // Whit Monday on Constitution Day.
                       {2006y / June / 5, kHoliday, "2. pinsedag"},
                   });
}

TEST(WorkingCalendar, ChristmasToNewYear) {
  const WorkingCalendar cal;
  expect_days(cal, {
                       // 2026: 1 January is a Thursday, 24 December is day 358, (358-1) mod 7 =
                       // 0 days after a Thursday: Thursday. So 25 Fri, 26 Sat, 27 Sun, 28 Mon.
                       {2026y / December / 23, kWork, ""},
                       {2026y / December / 24, kClosing, "Juleaftensdag"},
                       {2026y / December / 25, kHoliday, "Juledag"},
                       {2026y / December / 26, kHoliday, "2. juledag"},  // a Saturday
                       {2026y / December / 27, kWeekend, ""},
                       {2026y / December / 28, kWork, ""},
                       {2026y / December / 30, kWork, ""},
                       {2026y / December / 31, kClosing, "Nytårsaftensdag"},
                       {2027y / January / 1, kHoliday, "Nytårsdag"},  // a Friday
                       {2027y / January / 2, kWeekend, ""},
                       {2027y / January / 4, kWork, ""},
                       // 2024: 24 Dec Tuesday, 25 Wednesday, 26 Thursday, 27 Friday worked.
                       {2024y / December / 24, kClosing, "Juleaftensdag"},
                       {2024y / December / 25, kHoliday, "Juledag"},
                       {2024y / December / 26, kHoliday, "2. juledag"},
                       {2024y / December / 27, kWork, ""},
                       {2024y / December / 31, kClosing, "Nytårsaftensdag"},
                       {2025y / January / 1, kHoliday, "Nytårsdag"},
                       {2025y / January / 2, kWork, ""},
                   });
}

TEST(WorkingCalendar, OrdinaryDays) {
  const WorkingCalendar cal;
  expect_days(cal, {
                       {2026y / November / 20, kWork, ""},     // Friday
                       {2026y / November / 21, kWeekend, ""},  // Saturday
                       {2026y / November / 22, kWeekend, ""},  // Sunday
                       {2026y / November / 23, kWork, ""},     // Monday
                   });
}

TEST(WorkingCalendar, YearsOutsideThePrecomputedTableUseTheSameRules) {
  const WorkingCalendar cal;
  expect_days(cal, {
                       // Easter 2300 is 8 April (dateutil): Good Friday 6 April, Whit Monday
                       // +50 = 28 May. 5 June 2300 is a Tuesday; 24 Dec 2300 a Monday.
                       {2300y / April / 6, kHoliday, "Langfredag"},
                       {2300y / May / 4, kWork, ""},  // +26, Store Bededag abolished
                       {2300y / May / 28, kHoliday, "2. pinsedag"},
                       {2300y / June / 5, kClosing, "Grundlovsdag"},
                       {2300y / December / 24, kClosing, "Juleaftensdag"},
                       // Easter 1818 is 22 March: Maundy Thursday 19 March; Store Bededag
                       // +26 = 17 April, still a holiday then under the rule for years ≤ 2023.
                       {1818y / March / 19, kHoliday, "Skærtorsdag"},
                       {1818y / April / 17, kHoliday, "Store bededag"},
                   });
}

// Counted by an independent route: the rules list 11 public holidays up to 2023 and 10 from 2024,
// on distinct dates (Easter offsets differ and fixed ones are in January/December).
TEST(WorkingCalendar, PublicHolidaysPerYear) {
  const WorkingCalendar cal;
  for (int y : {1899, 1900, 1950, 2022, 2023, 2024, 2025, 2100, 2199, 2200, 2300}) {
    int holidays = 0;
    int closing = 0;
    for (sys_days d{year{y} / January / 1}; d <= sys_days{year{y} / December / 31}; d += days{1}) {
      holidays += cal.kind(Date{d}) == kHoliday;
      closing += cal.kind(Date{d}) == kClosing;
    }
    EXPECT_EQ(holidays, y <= 2023 ? 11 : 10) << y;
    // 5 June loses to Whitsun in some years.
    const int whitsun_on_5_june = cal.kind(Date{year{y} / June / 5}) == kHoliday;
    EXPECT_EQ(closing, 3 - whitsun_on_5_june) << y;
  }
}

// ---------------------------------------------------------------------------------------------
// Rolling and counting

TEST(WorkingCalendar, RollForwardAcrossYearEnds) {
  const WorkingCalendar cal;
  // 31 Dec 2022 is a Saturday, 1 Jan 2023 a Sunday and New Year's Day: Monday 2 Jan.
  EXPECT_EQ(cal.roll_forward(2022y / December / 31), Date{2023y / January / 2});
  // 31 Dec 2027 is a Friday (closing day), 1-2 Jan 2028 Saturday/Sunday: Monday 3 Jan.
  EXPECT_EQ(cal.roll_forward(2027y / December / 31), Date{2028y / January / 3});
  // 24 Dec 2026 Thursday, 25-27 holiday/holiday-Saturday/Sunday: Monday 28 Dec.
  EXPECT_EQ(cal.roll_forward(2026y / December / 24), Date{2026y / December / 28});
  // 31 Dec 2026 Thursday, 1 Jan Friday, 2-3 Jan weekend: Monday 4 Jan 2027.
  EXPECT_EQ(cal.roll_forward(2026y / December / 31), Date{2027y / January / 4});
  // A working day stays put.
  EXPECT_EQ(cal.roll_forward(2026y / December / 30), Date{2026y / December / 30});
}

TEST(WorkingCalendar, RollForwardAndAddWorkingDaysAcrossEaster2026) {
  const WorkingCalendar cal;
  // Easter 2026: Thursday 2 April to Monday 6 April are all off; Tuesday 7 is worked.
  EXPECT_EQ(cal.roll_forward(2026y / April / 2), Date{2026y / April / 7});
  EXPECT_EQ(cal.roll_forward(2026y / April / 4), Date{2026y / April / 7});
  EXPECT_EQ(cal.roll_forward(2026y / April / 6), Date{2026y / April / 7});
  EXPECT_EQ(cal.roll_forward(2026y / April / 1), Date{2026y / April / 1});
  EXPECT_EQ(cal.add_working_days(2026y / April / 1, 0), Date{2026y / April / 1});
  EXPECT_EQ(cal.add_working_days(2026y / April / 2, 0), Date{2026y / April / 7});
  // From Wednesday 1 April: 1st working day after is 7 April; then 8, 9, 10, Monday 13.
  EXPECT_EQ(cal.add_working_days(2026y / April / 1, 1), Date{2026y / April / 7});
  EXPECT_EQ(cal.add_working_days(2026y / April / 1, 2), Date{2026y / April / 8});
  EXPECT_EQ(cal.add_working_days(2026y / April / 1, 5), Date{2026y / April / 13});
  // From Tuesday 31 March: 1 April, then 7 April.
  EXPECT_EQ(cal.add_working_days(2026y / March / 31, 2), Date{2026y / April / 7});
  // Starting on a holiday: Good Friday + 1 working day is Tuesday 7 April.
  EXPECT_EQ(cal.add_working_days(2026y / April / 3, 1), Date{2026y / April / 7});
  // Five working days from Monday 30 March: 31 Mar, 1 Apr, 7, 8, 9 April.
  EXPECT_EQ(cal.add_working_days(2026y / March / 30, 5), Date{2026y / April / 9});
}

TEST(WorkingCalendar, AddWorkingDaysAcrossChristmas2026) {
  const WorkingCalendar cal;
  // From Wednesday 23 Dec: 24 closed, 25-27 off, so 28, 29, 30; 31 closed, 1 Jan holiday,
  // 2-3 Jan weekend, so the 4th is Monday 4 Jan 2027 and the 5th Tuesday 5 Jan.
  EXPECT_EQ(cal.add_working_days(2026y / December / 23, 1), Date{2026y / December / 28});
  EXPECT_EQ(cal.add_working_days(2026y / December / 23, 3), Date{2026y / December / 30});
  EXPECT_EQ(cal.add_working_days(2026y / December / 23, 4), Date{2027y / January / 4});
  EXPECT_EQ(cal.add_working_days(2026y / December / 23, 5), Date{2027y / January / 5});
  // The mentor reply SLA default (5 working days, domain.md §6) from Friday 18 Dec:
  // 21, 22, 23, 28, 29 December.
  EXPECT_EQ(cal.add_working_days(2026y / December / 18, 5), Date{2026y / December / 29});
}

TEST(WorkingCalendar, WorkingDaysBetween) {
  const WorkingCalendar cal;
  // (23 Dec 2026, 4 Jan 2027] holds 28, 29, 30 Dec and 4 Jan.
  EXPECT_EQ(cal.working_days_between(2026y / December / 23, 2027y / January / 4), 4);
  EXPECT_EQ(cal.working_days_between(2027y / January / 4, 2026y / December / 23), -4);
  // (1 April 2026, 7 April] holds only 7 April.
  EXPECT_EQ(cal.working_days_between(2026y / April / 1, 2026y / April / 7), 1);
  // (Friday 20 March 2026, 3 April]: 23-27 March (5), 30, 31 March, 1 April (3); 2-3 off.
  EXPECT_EQ(cal.working_days_between(2026y / March / 20, 2026y / April / 3), 8);
  EXPECT_EQ(cal.working_days_between(2026y / April / 1, 2026y / April / 1), 0);
  // (Saturday 21 Nov 2026, Monday 23 Nov] holds the Monday.
  EXPECT_EQ(cal.working_days_between(2026y / November / 21, 2026y / November / 23), 1);
}

TEST(WorkingCalendar, AddCalendarDaysRolled) {
  const WorkingCalendar cal;
  // Request delivered Friday 20 March 2026 + 14 days = Friday 3 April, Good Friday; 4, 5, 6 April
  // are Saturday, Easter Sunday and Easter Monday, so the deadline is Tuesday 7 April.
  EXPECT_EQ(cal.add_calendar_days_rolled(2026y / March / 20, 14), Date{2026y / April / 7});
  // 17 Dec 2026 + 14 = 31 Dec (closing day), 1 Jan holiday, 2-3 weekend: Monday 4 Jan 2027.
  EXPECT_EQ(cal.add_calendar_days_rolled(2026y / December / 17, 14), Date{2027y / January / 4});
  // 21 April 2023 + 14 = 5 May 2023, Store Bededag; 6-7 May weekend: Monday 8 May.
  EXPECT_EQ(cal.add_calendar_days_rolled(2023y / April / 21, 14), Date{2023y / May / 8});
  // 12 April 2024 + 14 = 26 April 2024, the former Store Bededag, now a working day.
  EXPECT_EQ(cal.add_calendar_days_rolled(2024y / April / 12, 14), Date{2024y / April / 26});
  // 22 May 2026 + 14 = Friday 5 June (Constitution Day), 6-7 weekend: Monday 8 June.
  EXPECT_EQ(cal.add_calendar_days_rolled(2026y / May / 22, 14), Date{2026y / June / 8});
  // 6 Nov 2026 + 14 = Friday 20 Nov, a working day: no roll.
  EXPECT_EQ(cal.add_calendar_days_rolled(2026y / November / 6, 14), Date{2026y / November / 20});
  // 30 days from 1 Dec 2026 = 31 Dec: Monday 4 Jan 2027.
  EXPECT_EQ(cal.add_calendar_days_rolled(2026y / December / 1, 30), Date{2027y / January / 4});
}

// ---------------------------------------------------------------------------------------------
// Extra closing days from configuration

TEST(WorkingCalendar, ExtraClosingDays) {
  // Friday 15 May 2026 (after Ascension on the 14th) closed by configuration; 26 Dec 2026
  // (already a holiday) and Saturday 21 Nov 2026 listed too; an impossible date is ignored.
  const WorkingCalendar cal({2026y / May / 15, 2026y / May / 15, 2026y / December / 26,
                             2026y / November / 21, 2026y / February / 30});
  const WorkingCalendar plain;

  EXPECT_EQ(cal.kind(2026y / May / 15), DayKind::kExtraClosingDay);
  EXPECT_EQ(cal.holiday_name(2026y / May / 15), "");
  EXPECT_FALSE(cal.is_working_day(2026y / May / 15));
  EXPECT_TRUE(plain.is_working_day(2026y / May / 15));
  // A holiday or weekend keeps its own kind.
  EXPECT_EQ(cal.kind(2026y / December / 26), kHoliday);
  EXPECT_EQ(cal.kind(2026y / November / 21), kWeekend);
  // 2026-02-30 is not a date; 2 March (what it would normalise to) stays a working day.
  EXPECT_TRUE(cal.is_working_day(2026y / March / 2));

  // Ascension 14 May, closed 15 May, weekend 16-17: Monday 18 May.
  EXPECT_EQ(cal.roll_forward(2026y / May / 14), Date{2026y / May / 18});
  EXPECT_EQ(plain.roll_forward(2026y / May / 14), Date{2026y / May / 15});
  EXPECT_EQ(cal.roll_forward(2026y / May / 15), Date{2026y / May / 18});
  EXPECT_EQ(cal.add_working_days(2026y / May / 13, 1), Date{2026y / May / 18});
  EXPECT_EQ(cal.add_working_days(2026y / May / 13, 2), Date{2026y / May / 19});
  EXPECT_EQ(plain.add_working_days(2026y / May / 13, 2), Date{2026y / May / 18});
  EXPECT_EQ(cal.working_days_between(2026y / May / 13, 2026y / May / 18), 1);
  EXPECT_EQ(plain.working_days_between(2026y / May / 13, 2026y / May / 18), 2);
  EXPECT_EQ(cal.working_days_between(2026y / May / 18, 2026y / May / 13), -1);
  // 1 May 2026 + 14 = Friday 15 May, closed: Monday 18 May.
  EXPECT_EQ(cal.add_calendar_days_rolled(2026y / May / 1, 14), Date{2026y / May / 18});
}

TEST(WorkingCalendar, ConsecutiveExtraClosingDays) {
  // Monday 28 Dec to Wednesday 30 Dec 2026 closed: the whole Christmas week is off.
  const WorkingCalendar cal({2026y / December / 30, 2026y / December / 28, 2026y / December / 29});
  // From 23 Dec the first working day is Monday 4 Jan 2027, the second 5 Jan.
  EXPECT_EQ(cal.roll_forward(2026y / December / 24), Date{2027y / January / 4});
  EXPECT_EQ(cal.add_working_days(2026y / December / 23, 1), Date{2027y / January / 4});
  EXPECT_EQ(cal.add_working_days(2026y / December / 23, 2), Date{2027y / January / 5});
  EXPECT_EQ(cal.add_working_days(2026y / December / 18, 3), Date{2026y / December / 23});
  EXPECT_EQ(cal.add_working_days(2026y / December / 18, 4), Date{2027y / January / 4});
  EXPECT_EQ(cal.working_days_between(2026y / December / 18, 2027y / January / 5), 5);
}

TEST(WorkingCalendar, ExtraClosingDayOutsideThePrecomputedTable) {
  // Easter 2300 is 8 April; Friday 13 April 2300 is ordinary. Closing it moves the roll.
  const WorkingCalendar cal({2300y / April / 13});
  EXPECT_EQ(cal.kind(2300y / April / 13), DayKind::kExtraClosingDay);
  // Good Friday 6 April, Easter 8, Easter Monday 9; 10-12 worked, 13 closed, 14-15 weekend.
  EXPECT_EQ(cal.add_working_days(2300y / April / 5, 1), Date{2300y / April / 10});
  EXPECT_EQ(cal.add_working_days(2300y / April / 5, 4), Date{2300y / April / 16});
  EXPECT_EQ(cal.roll_forward(2300y / April / 13), Date{2300y / April / 16});
  EXPECT_EQ(cal.working_days_between(2300y / April / 5, 2300y / April / 16), 4);
}

// ---------------------------------------------------------------------------------------------
// Properties

// The reference: walk day by day with is_working_day, no table arithmetic.
Date naive_add_working_days(const WorkingCalendar& cal, Date d, int n) {
  if (n == 0) {
    while (!cal.is_working_day(d)) d = plus_days(d, 1);
    return d;
  }
  for (int found = 0; found < n;) {
    d = plus_days(d, 1);
    found += cal.is_working_day(d);
  }
  return d;
}

Date random_date(std::mt19937& rng, int first_year, int last_year) {
  std::uniform_int_distribution<int> dist(
      static_cast<int>(sys_days{year{first_year} / January / 1}.time_since_epoch().count()),
      static_cast<int>(sys_days{year{last_year} / December / 31}.time_since_epoch().count()));
  return Date{sys_days{days{dist(rng)}}};
}

void check_properties(const WorkingCalendar& cal, std::uint32_t seed, int first_year, int last_year,
                      int samples) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> n_dist(0, 400);
  for (int i = 0; i < samples; ++i) {
    const Date d = random_date(rng, first_year, last_year);
    const Date r = cal.roll_forward(d);
    ASSERT_TRUE(cal.is_working_day(r)) << format_date(d);
    for (Date x = d; x < r; x = plus_days(x, 1)) {
      ASSERT_FALSE(cal.is_working_day(x)) << format_date(d) << " " << format_date(x);
    }
    const int n = n_dist(rng);
    const Date a = cal.add_working_days(d, n);
    ASSERT_EQ(a, naive_add_working_days(cal, d, n)) << format_date(d) << " + " << n;
    const Date next = cal.add_working_days(d, n + 1);
    if (n >= 1 || cal.is_working_day(d)) {
      ASSERT_LT(a, next) << format_date(d) << " + " << n;
    } else {
      // n == 0 rolls a closed day forward to the first working day, which is also the first
      // working day after it: strictly increasing only from n = 1 on.
      ASSERT_EQ(a, next) << format_date(d);
    }
    if (n >= 1) {
      ASSERT_EQ(cal.working_days_between(d, a), n) << format_date(d) << " + " << n;
      ASSERT_EQ(cal.working_days_between(a, d), -n) << format_date(d) << " + " << n;
    }
    const int c = n - 200;
    const Date rolled = cal.add_calendar_days_rolled(d, c);
    ASSERT_EQ(rolled, cal.roll_forward(plus_days(d, c))) << format_date(d) << " + " << c;
  }
}

TEST(WorkingCalendarProperties, RandomDates2000To2100) {
  check_properties(WorkingCalendar{}, 20260401u, 2000, 2100, 20000);
}

TEST(WorkingCalendarProperties, RandomDatesWithExtraClosingDays) {
  std::mt19937 rng(7u);
  std::vector<Date> extra;
  for (int i = 0; i < 2000; ++i) extra.push_back(random_date(rng, 2000, 2100));
  check_properties(WorkingCalendar{extra}, 20260402u, 2000, 2100, 5000);
}

TEST(WorkingCalendarProperties, AcrossTheEdgesOfThePrecomputedTable) {
  // The table covers 1900-2199; these ranges straddle its ends, so answers mix the fast path
  // with the day-by-day fallback and must still agree with the naive walk.
  const WorkingCalendar cal({2199y / December / 30, 2200y / January / 2, 1899y / December / 29});
  check_properties(cal, 1u, 2198, 2201, 500);
  check_properties(cal, 2u, 1898, 1901, 500);
}

TEST(WorkingCalendarProperties, ConcurrentCallersAgree) {
  // The shared table is built on first use; racing first callers must all see it whole.
  const WorkingCalendar cal;
  std::vector<Date> results(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&cal, &results, i] {
      Date d = 2026y / January / 1;
      for (int k = 0; k < 1000; ++k) d = cal.add_working_days(d, 3);
      results[i] = d;
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Date& r : results) {
    EXPECT_EQ(r, results[0]);
  }
  EXPECT_EQ(results[0], naive_add_working_days(cal, 2026y / January / 1, 3000));
}

}  // namespace
}  // namespace sektorbro
