// The receipt rule (MedCom reliable messaging, domain.md §3): which delivered messages the
// receiver owes a receipt for, and which of them the broker watches until it comes. Pure; used
// by every way a message reaches its receiver — a push (Dispatcher::attempt) and a confirmed
// mailbox fetch (broker_mailbox.cpp) — so both watch exactly the same messages.
#pragma once

#include "broker/message/message.hpp"

namespace sektorbro {

// What the rule needs to know about a message.
struct ReceiptFacts {
  LetterType first_letter = LetterType::kCertificateRequest;  // a message's letters share a kind
  bool receipt_requested = false;  // the sender asked for one (pluspositivkvitt)
  bool written_by_broker = false;  // a letter the broker itself wrote (reminders, its receipts)
};

// A receipt from the receiver belongs to this message at all: receipts are never receipted
// (they carry minuspositivkvitt, domain.md §1), and letters the broker writes ask for none.
// Also what decides whether a delivery's answer is read for a receipt.
bool receiver_owes_receipt(const ReceiptFacts& m);

// Whether the message, once delivered, is watched for its receipt (resent when none comes in
// time, at most max_resends times, then alerted): the receiver owes one, the sender asked for
// it, and it did not already come with the delivery itself (in the push's HTTP answer).
bool watch_receipt_after_delivery(const ReceiptFacts& m, bool receipt_came_with_delivery);

}  // namespace sektorbro
