#include "broker/delivery/delivery_transition.hpp"

#include <gtest/gtest.h>

namespace sektorbro {
namespace {

const TimePoint kT0 = from_millis(1'700'000'000'000);

RetryPolicy policy() {
  RetryPolicy p;
  p.max_attempts = 5;
  p.max_age = std::chrono::hours{1};
  p.initial_backoff = std::chrono::seconds{2};
  p.max_backoff = std::chrono::seconds{60};
  p.jitter = 0.0;
  return p;
}

TEST(DeliveryTransition, EventNamesRoundTrip) {
  for (auto e : {DeliveryEvent::kDelivered, DeliveryEvent::kAttemptFailed, DeliveryEvent::kRefused,
                 DeliveryEvent::kDeadLettered, DeliveryEvent::kRequeued, DeliveryEvent::kResent,
                 DeliveryEvent::kReceiptMissing}) {
    EXPECT_EQ(parse_delivery_event(to_string(e)), e);
  }
  EXPECT_EQ(to_string(DeliveryEvent::kAttemptFailed), "attempt-failed");
  EXPECT_FALSE(parse_delivery_event("stored"));
}

TEST(DeliveryTransition, TwoHundredIsDelivered) {
  const auto step = after_attempt(policy(), "psy", 1, kT0, {200, "", false}, kT0, 0.5);
  EXPECT_EQ(step.state, DeliveryState::kDelivered);
  EXPECT_EQ(step.event, DeliveryEvent::kDelivered);
  EXPECT_EQ(step.attempts, 1);
  EXPECT_TRUE(step.last_error.empty());
  EXPECT_EQ(step.detail, "attempt 1 to psy: HTTP 200");
}

TEST(DeliveryTransition, ANegativeReceiptInA200IsARefusal) {
  const auto step = after_attempt(policy(), "psy", 1, kT0, {200, "", true}, kT0, 0.5);
  EXPECT_EQ(step.state, DeliveryState::kRefused);
  EXPECT_EQ(step.event, DeliveryEvent::kRefused);
  EXPECT_EQ(step.detail, "attempt 1 to psy: HTTP 200 with a negative receipt");
}

TEST(DeliveryTransition, FourHundredsAreRefusedAndFinal) {
  const auto step = after_attempt(policy(), "psy", 3, kT0, {422, "", false}, kT0, 0.5);
  EXPECT_EQ(step.state, DeliveryState::kRefused);
  EXPECT_EQ(step.last_error, "HTTP 422");
}

TEST(DeliveryTransition, TransientFailuresBackOffByDoubling) {
  const auto first = after_attempt(policy(), "psy", 1, kT0, {503, "", false}, kT0, 0.5);
  EXPECT_EQ(first.state, DeliveryState::kPending);
  EXPECT_EQ(first.event, DeliveryEvent::kAttemptFailed);
  EXPECT_EQ(first.next_attempt_at, kT0 + std::chrono::seconds{2});
  const auto third = after_attempt(policy(), "psy", 3, kT0, {0, "connection refused", false},
                                   kT0, 0.5);
  EXPECT_EQ(third.next_attempt_at, kT0 + std::chrono::seconds{8});
  EXPECT_EQ(third.last_error, "connection refused");
}

TEST(DeliveryTransition, RetriesRunOutIntoTheDeadLetters) {
  const auto step = after_attempt(policy(), "psy", 5, kT0, {503, "", false}, kT0, 0.5);
  EXPECT_EQ(step.state, DeliveryState::kDeadLettered);
  EXPECT_EQ(step.event, DeliveryEvent::kDeadLettered);
  const auto old = after_attempt(policy(), "psy", 2, kT0, {503, "", false},
                                 kT0 + std::chrono::minutes{59} + std::chrono::seconds{59}, 0.5);
  EXPECT_EQ(old.state, DeliveryState::kDeadLettered) << "the retry would fall after max_age";
}

TEST(DeliveryTransition, AnUnrecordedAttemptStillBacksOff) {
  // The store refused to record attempt outcomes: each unrecorded attempt doubles the wait, so a
  // broken disk never becomes a delivery storm (hardening: disk full).
  const auto p = policy();
  EXPECT_EQ(after_unrecorded_attempt(p, 0, 1, kT0), kT0 + std::chrono::seconds{2});
  EXPECT_EQ(after_unrecorded_attempt(p, 0, 3, kT0), kT0 + std::chrono::seconds{8});
  EXPECT_EQ(after_unrecorded_attempt(p, 2, 1, kT0), kT0 + std::chrono::seconds{8});
  EXPECT_EQ(after_unrecorded_attempt(p, 0, 50, kT0), kT0 + std::chrono::seconds{60});
}

TEST(DeliveryTransition, ReceiptsAreResentAtMostMaxResendsTimes) {
  EXPECT_EQ(on_receipt_overdue(0, 2), ReceiptOverdue::kResend);
  EXPECT_EQ(on_receipt_overdue(1, 2), ReceiptOverdue::kResend);
  EXPECT_EQ(on_receipt_overdue(2, 2), ReceiptOverdue::kGiveUp);
  EXPECT_EQ(on_receipt_overdue(0, 0), ReceiptOverdue::kGiveUp);
}

}  // namespace
}  // namespace sektorbro
