#include "broker/core/time.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

namespace sektorbro {
namespace {
using namespace std::chrono;

TEST(Time, TimestampRoundTripsInUtc) {
  const TimePoint t = sys_days{2026y / November / 20} + hours{8} + minutes{30} + milliseconds{7};
  EXPECT_EQ(format_timestamp(t), "2026-11-20T08:30:00.007Z");
  EXPECT_EQ(parse_timestamp(format_timestamp(t)), t);
}

TEST(Time, OffsetsAreNormalisedToUtc) {
  const auto a = parse_timestamp("2026-11-20T09:30:00+01:00");
  const auto b = parse_timestamp("2026-11-20T08:30:00Z");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(parse_timestamp("2026-11-20T03:30:00-05:00"), b);
}

TEST(Time, RejectsZonelessAndImpossibleTimestamps) {
  EXPECT_FALSE(parse_timestamp("2026-11-20T09:30:00"));
  EXPECT_FALSE(parse_timestamp("2026-02-30T09:30:00Z"));
  EXPECT_FALSE(parse_timestamp("2026-11-20T24:00:00Z"));
  EXPECT_FALSE(parse_timestamp("2026-11-20 09:30:00Z"));
  EXPECT_FALSE(parse_timestamp("2026-11-20T09:30:00.Z"));
  EXPECT_FALSE(parse_timestamp("2026-11-20T09:30:00Zjunk"));
}

TEST(Time, DatesAreStrict) {
  EXPECT_EQ(parse_date("2024-02-29"), Date{2024y / February / 29});
  EXPECT_FALSE(parse_date("2023-02-29"));
  EXPECT_FALSE(parse_date("2023-13-01"));
  EXPECT_FALSE(parse_date("2023-1-01"));
  EXPECT_EQ(format_date(Date{2027y / March / 5}), "2027-03-05");
}

// format_timestamp / format_date write their digits by hand (issue 8): the same text as the
// printf formats they replaced, for every field value and on both sides of the four-digit years.
std::string printf_timestamp(TimePoint t) {
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<Duration> tod{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), long(tod.hours().count()),
                long(tod.minutes().count()), long(tod.seconds().count()),
                long(tod.subseconds().count()));
  return buf;
}

TEST(Time, TimestampsAndDatesAreWrittenAsPrintfWroteThem) {
  const std::vector<TimePoint> days_to_try = {
      sys_days{1970y / January / 1},    sys_days{2024y / February / 29},
      sys_days{1999y / December / 31},  sys_days{0y / January / 1},
      sys_days{9999y / December / 31},  sys_days{year{-1} / June / 9},
      sys_days{year{10000} / May / 17}, sys_days{1900y / March / 1},
      sys_days{2026y / November / 20}};
  int compared = 0;
  for (const TimePoint day : days_to_try) {
    for (const auto tod :
         {milliseconds{0}, milliseconds{7}, milliseconds{999},
          hours{23} + minutes{59} + seconds{59} + milliseconds{999},
          hours{8} + minutes{30} + seconds{5} + milliseconds{120}, hours{12} + milliseconds{10}}) {
      const TimePoint t = day + tod;
      EXPECT_EQ(format_timestamp(t), printf_timestamp(t));
      ++compared;
    }
    const Date d{floor<days>(day)};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(d.year()), unsigned(d.month()),
                  unsigned(d.day()));
    EXPECT_EQ(format_date(d), buf);
  }
  // Every millisecond of a second, every second of a day's last minute.
  const TimePoint base = sys_days{2026y / December / 2} + hours{23} + minutes{59};
  for (int ms = 0; ms < 60000; ms += 7) {
    const TimePoint t = base + milliseconds{ms};
    EXPECT_EQ(format_timestamp(t), printf_timestamp(t));
    ++compared;
  }
  EXPECT_EQ(format_timestamp(sys_days{2026y / December / 2} + milliseconds{45296789}),
            "2026-12-02T12:34:56.789Z");
  EXPECT_EQ(format_timestamp(sys_days{year{-1} / June / 9}), "-001-06-09T00:00:00.000Z");
  EXPECT_EQ(format_date(Date{year{12345} / January / 2}), "12345-01-02");
  EXPECT_GT(compared, 8000);
}

}  // namespace
}  // namespace sektorbro
