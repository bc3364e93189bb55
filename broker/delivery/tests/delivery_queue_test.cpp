#include "broker/delivery/delivery_queue.hpp"

#include <gtest/gtest.h>

namespace sektorbro {
namespace {
using namespace std::chrono;

const TimePoint kT0 = sys_days{2026y / November / 20} + hours{9};

TEST(DeliveryQueue, TakesOnlyWhatIsDue) {
  DeliveryQueue q(4);
  q.schedule(1, "a", kT0);
  q.schedule(2, "a", kT0 + seconds{5});
  const auto due = q.take_due(kT0);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].message_id, 1);
  EXPECT_EQ(q.next_due(), kT0 + seconds{5});
  EXPECT_TRUE(q.take_due(kT0 + seconds{4}).empty());
  EXPECT_EQ(q.take_due(kT0 + seconds{5}).size(), 1u);
}

TEST(DeliveryQueue, ASlowEndpointCannotTakeOtherEndpointsSlots) {
  DeliveryQueue q(2);
  for (int i = 1; i <= 5; ++i) q.schedule(i, "slow", kT0);
  q.schedule(10, "fast", kT0);
  const auto due = q.take_due(kT0);
  ASSERT_EQ(due.size(), 3u);  // two for "slow" (its limit), one for "fast"
  int fast = 0;
  for (const auto& d : due) fast += d.endpoint == "fast";
  EXPECT_EQ(fast, 1);
  EXPECT_TRUE(q.take_due(kT0).empty());
  EXPECT_FALSE(q.next_due().has_value());  // "slow" is full, "fast" is empty
  q.finished(due[0].endpoint == "slow" ? due[0].message_id : due[1].message_id);
  EXPECT_EQ(q.next_due(), kT0);
  EXPECT_EQ(q.take_due(kT0).size(), 1u);
}

TEST(DeliveryQueue, RescheduleMovesAWaitingMessage) {
  DeliveryQueue q(1);
  q.schedule(7, "a", kT0 + hours{1});
  q.schedule(7, "a", kT0);
  EXPECT_EQ(q.waiting(), 1u);
  EXPECT_EQ(q.take_due(kT0).size(), 1u);
  q.schedule(7, "a", kT0);  // in flight: ignored
  EXPECT_EQ(q.waiting(), 0u);
  q.finished(7);
  EXPECT_EQ(q.in_flight(), 0u);
}

}  // namespace
}  // namespace sektorbro
