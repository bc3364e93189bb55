#include "broker/core/time.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sektorbro
