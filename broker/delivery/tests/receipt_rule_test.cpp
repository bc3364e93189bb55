#include "broker/delivery/receipt_rule.hpp"

#include <gtest/gtest.h>

namespace sektorbro {
namespace {

ReceiptFacts facts(LetterType t, bool requested, bool by_broker) {
  return ReceiptFacts{t, requested, by_broker};
}

TEST(ReceiptRule, AReceiverOwesAReceiptForEveryLetterButReceiptsAndTheBrokersOwn) {
  for (const LetterType t : kAllLetterTypes) {
    EXPECT_EQ(receiver_owes_receipt(facts(t, true, false)), !is_receipt(t)) << to_string(t);
    EXPECT_FALSE(receiver_owes_receipt(facts(t, true, true))) << to_string(t) << " by the broker";
  }
}

TEST(ReceiptRule, ADeliveredMessageIsWatchedOnlyWhenItsSenderAskedAndNoneCameWithIt) {
  const ReceiptFacts asked = facts(LetterType::kCertificateRequest, true, false);
  EXPECT_TRUE(watch_receipt_after_delivery(asked, false));
  EXPECT_FALSE(watch_receipt_after_delivery(asked, true)) << "it came in the delivery's answer";
  EXPECT_FALSE(watch_receipt_after_delivery(facts(LetterType::kCertificateRequest, false, false),
                                            false))
      << "minuspositivkvitt: the sender did not ask";
  EXPECT_FALSE(watch_receipt_after_delivery(facts(LetterType::kPositiveReceipt, true, false),
                                            false))
      << "receipts are never receipted";
  EXPECT_FALSE(watch_receipt_after_delivery(facts(LetterType::kNegativeReceipt, true, false),
                                            false));
  EXPECT_FALSE(watch_receipt_after_delivery(facts(LetterType::kReminder, true, true), false))
      << "the broker's own letters";
  EXPECT_TRUE(watch_receipt_after_delivery(facts(LetterType::kDischargeNotice, true, false),
                                           false));
}

}  // namespace
}  // namespace sektorbro
