// The retention rule, pure (issue 11, item 4; broker/store/retention_rule.hpp): when a
// message's business is finished and when its body, then its minimal record, are due.
#include "broker/store/retention_rule.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using store_test::at_ms;
constexpr std::int64_t kDay = 24LL * 3600 * 1000;

// A delivered certificate request whose positive receipt came and whose deadline is closed,
// last touched at day 0.
RetentionFacts finished() {
  RetentionFacts f;
  f.message_id = 7;
  f.type = LetterType::kCertificateRequest;
  f.state = DeliveryState::kDelivered;
  f.receipt_requested = true;
  f.receipt = ReceiptState::kPositive;
  f.received_at = at_ms(0);
  f.last_event_at = at_ms(0);
  return f;
}

RetentionPolicy policy() {
  RetentionPolicy p;
  p.body_days = 365;
  p.record_days = 3650;
  return p;
}

TEST(RetentionRule, TheBodyIsDueExactlyBodyDaysAfterTheLastEvent) {
  const auto f = finished();
  EXPECT_EQ(retention_due(f, policy(), at_ms(365 * kDay - 1)), RetentionAction::kKeep);
  EXPECT_EQ(retention_due(f, policy(), at_ms(365 * kDay)), RetentionAction::kDeleteBody);
}

TEST(RetentionRule, ALaterEventMovesTheDueDate) {
  auto f = finished();
  f.last_event_at = at_ms(30 * kDay);  // e.g. the deadline closed a month later
  EXPECT_EQ(retention_due(f, policy(), at_ms(365 * kDay)), RetentionAction::kKeep);
  EXPECT_EQ(retention_due(f, policy(), at_ms(395 * kDay)), RetentionAction::kDeleteBody);
}

TEST(RetentionRule, UnfinishedBusinessIsKept) {
  const auto late = at_ms(5000 * kDay);
  for (const auto state : {DeliveryState::kPending, DeliveryState::kDeadLettered}) {
    auto f = finished();
    f.state = state;
    EXPECT_FALSE(business_finished(f));
    EXPECT_EQ(retention_due(f, policy(), late), RetentionAction::kKeep);
  }
  auto awaited = finished();  // a receipt asked for, still awaited
  awaited.receipt = ReceiptState::kNone;
  awaited.receipt_watched = true;
  EXPECT_EQ(retention_due(awaited, policy(), late), RetentionAction::kKeep);
  auto open = finished();  // its deadline is still open
  open.deadline_open = true;
  EXPECT_EQ(retention_due(open, policy(), late), RetentionAction::kKeep);
}

TEST(RetentionRule, SettledWithoutAReceiptIsFinished) {
  auto refused = finished();
  refused.state = DeliveryState::kRefused;
  refused.receipt = ReceiptState::kNone;
  EXPECT_TRUE(business_finished(refused));  // the watch is not running: given up or never asked
  auto unasked = finished();
  unasked.receipt_requested = false;
  unasked.receipt = ReceiptState::kNone;
  unasked.receipt_watched = false;
  EXPECT_TRUE(business_finished(unasked));
  auto negative = finished();
  negative.receipt = ReceiptState::kNegative;
  EXPECT_TRUE(business_finished(negative));
}

TEST(RetentionRule, AHoldStopsBothDeletions) {
  auto f = finished();
  f.held = true;
  EXPECT_EQ(retention_due(f, policy(), at_ms(400 * kDay)), RetentionAction::kKeep);
  f.body_deleted_at = at_ms(365 * kDay);
  EXPECT_EQ(retention_due(f, policy(), at_ms(4000 * kDay)), RetentionAction::kKeep);
}

TEST(RetentionRule, TheRecordIsDueRecordDaysAfterTheLastEventOnceTheBodyIsGone) {
  auto f = finished();
  EXPECT_EQ(retention_due(f, policy(), at_ms(3650 * kDay)), RetentionAction::kDeleteBody);
  f.body_deleted_at = at_ms(365 * kDay);
  EXPECT_EQ(retention_due(f, policy(), at_ms(3650 * kDay - 1)), RetentionAction::kKeep);
  EXPECT_EQ(retention_due(f, policy(), at_ms(3650 * kDay)), RetentionAction::kDeleteRecord);
}

TEST(RetentionRule, PerTypePeriodsOverrideTheDefault) {
  auto p = policy();
  p.body_days_per_type[LetterType::kCorrespondence] = 30;
  auto f = finished();
  f.type = LetterType::kCorrespondence;
  EXPECT_EQ(body_days_for(p, LetterType::kCorrespondence), 30);
  EXPECT_EQ(body_days_for(p, LetterType::kCertificate), 365);
  EXPECT_EQ(retention_due(f, p, at_ms(30 * kDay)), RetentionAction::kDeleteBody);
  EXPECT_EQ(shortest_body_days(p), 30);
}

TEST(RetentionRule, DueForPicksTheIdsOfOneActionInOrder) {
  auto a = finished();
  a.message_id = 1;
  auto b = finished();
  b.message_id = 2;
  b.held = true;
  auto c = finished();
  c.message_id = 3;
  c.body_deleted_at = at_ms(1);
  const auto now = at_ms(4000 * kDay);
  EXPECT_EQ(due_for({a, b, c}, policy(), now, RetentionAction::kDeleteBody),
            (std::vector<std::int64_t>{1}));
  EXPECT_EQ(due_for({a, b, c}, policy(), now, RetentionAction::kDeleteRecord),
            (std::vector<std::int64_t>{3}));
}

}  // namespace
}  // namespace sektorbro
