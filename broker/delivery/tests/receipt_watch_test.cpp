#include "broker/delivery/receipt_watch.hpp"

#include <gtest/gtest.h>

namespace sektorbro {
namespace {
using namespace std::chrono;

const TimePoint kT0 = sys_days{2026y / November / 23} + hours{9};

TEST(ReceiptWatch, ReportsWhatIsDueEarliestFirst) {
  ReceiptWatch w;
  w.watch(2, kT0 + minutes{20});
  w.watch(1, kT0 + minutes{15});
  EXPECT_TRUE(w.due(kT0 + minutes{14}).empty());
  auto due = w.due(kT0 + minutes{20});
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].message_id, 1);
  EXPECT_EQ(due[1].message_id, 2);
}

TEST(ReceiptWatch, WatchingAgainMovesTheDueTimeAndKeepsTheCount) {
  ReceiptWatch w;
  w.watch(1, kT0);
  w.watch(1, kT0 + minutes{15}, 1);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_TRUE(w.due(kT0).empty());
  ASSERT_EQ(w.due(kT0 + minutes{15}).size(), 1u);
  EXPECT_EQ(w.due(kT0 + minutes{15})[0].resends, 1);
}

TEST(ReceiptWatch, ForgetStopsWatching) {
  ReceiptWatch w;
  w.watch(1, kT0);
  w.forget(1);
  w.forget(7);  // unknown: harmless
  EXPECT_TRUE(w.due(kT0 + hours{1}).empty());
  EXPECT_EQ(w.size(), 0u);
}

}  // namespace
}  // namespace sektorbro
