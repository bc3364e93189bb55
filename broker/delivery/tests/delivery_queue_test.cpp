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

namespace sektorbro {
namespace {

TEST(DeliveryQueueWindow, GrowsWhileTheReceiverTakesMessagesAndHalvesOnFailure) {
  DeliveryQueue q(64);
  const TimePoint t0 = from_millis(0);
  for (std::int64_t id = 1; id <= 200; ++id) q.schedule(id, "psy", t0);
  EXPECT_EQ(q.window("psy"), 4);
  auto due = q.take_due(t0);
  ASSERT_EQ(due.size(), 4u) << "the initial window";
  // Every message taken widens the window by one: a backlog is drained ever faster.
  for (const auto& d : due) q.finished(d.message_id, DeliveryQueue::Outcome::kTaken);
  EXPECT_EQ(q.window("psy"), 8);
  due = q.take_due(t0);
  ASSERT_EQ(due.size(), 8u);
  // A failure halves it: a failing receiver is not flooded.
  q.finished(due[0].message_id, DeliveryQueue::Outcome::kFailed);
  EXPECT_EQ(q.window("psy"), 4);
  for (std::size_t i = 1; i < due.size(); ++i)
    q.finished(due[i].message_id, DeliveryQueue::Outcome::kFailed);
  EXPECT_EQ(q.window("psy"), 1) << "never below one";
  q.finished(12345, DeliveryQueue::Outcome::kFailed);  // unknown: no effect
  EXPECT_EQ(q.window("psy"), 1);
}

TEST(DeliveryQueueWindow, NeverWiderThanTheConfiguredMaximum) {
  DeliveryQueue q(6);
  const TimePoint t0 = from_millis(0);
  for (std::int64_t id = 1; id <= 100; ++id) q.schedule(id, "psy", t0);
  for (int round = 0; round < 10; ++round)
    for (const auto& d : q.take_due(t0)) q.finished(d.message_id, DeliveryQueue::Outcome::kTaken);
  EXPECT_EQ(q.window("psy"), 6);
  EXPECT_EQ(q.take_due(t0).size(), 6u);
  // Nothing sent (e.g. the body could not be written): the window stays.
  DeliveryQueue small(2);
  EXPECT_EQ(small.window("x"), 2) << "the initial window is capped by the maximum too";
}

}  // namespace
}  // namespace sektorbro
