#include "broker/core/copenhagen_time.hpp"

#include <gtest/gtest.h>

namespace sektorbro {
namespace {
using namespace std::chrono;

TimePoint utc(Date d, int h, int m = 0) { return sys_days{d} + hours{h} + minutes{m}; }

TEST(CopenhagenTime, SummerTimeStartsLastSundayOfMarchAt0100Utc) {
  // 2026-03-29 is the last Sunday of March.
  EXPECT_EQ(copenhagen_offset(utc(2026y / March / 29, 0, 59)), minutes{60});
  EXPECT_EQ(copenhagen_offset(utc(2026y / March / 29, 1, 0)), minutes{120});
}

TEST(CopenhagenTime, SummerTimeEndsLastSundayOfOctoberAt0100Utc) {
  // 2026-10-25 is the last Sunday of October.
  EXPECT_EQ(copenhagen_offset(utc(2026y / October / 25, 0, 59)), minutes{120});
  EXPECT_EQ(copenhagen_offset(utc(2026y / October / 25, 1, 0)), minutes{60});
}

TEST(CopenhagenTime, LocalDateCrossesMidnightBeforeUtc) {
  EXPECT_EQ(copenhagen_date(utc(2026y / November / 20, 23, 30)), Date{2026y / November / 21});
  EXPECT_EQ(copenhagen_date(utc(2026y / July / 20, 22, 0)), Date{2026y / July / 21});
  EXPECT_EQ(copenhagen_date(utc(2026y / July / 20, 21, 59)), Date{2026y / July / 20});
}

TEST(CopenhagenTime, EndOfDayIsLocalMidnightInWinterAndSummer) {
  EXPECT_EQ(copenhagen_end_of_day(2026y / November / 20), utc(2026y / November / 20, 23));
  EXPECT_EQ(copenhagen_end_of_day(2026y / July / 20), utc(2026y / July / 20, 22));
  // The day summer time starts still ends at local midnight.
  EXPECT_EQ(copenhagen_end_of_day(2026y / March / 29), utc(2026y / March / 29, 22));
  EXPECT_EQ(copenhagen_end_of_day(2026y / October / 25), utc(2026y / October / 25, 23));
}

}  // namespace
}  // namespace sektorbro
