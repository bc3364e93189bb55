// The delivery state machine (issue 8): what one event does to a stored message's delivery —
// an attempt's outcome, a store that could not record it, a receipt that did not come. Pure:
// time and randomness are passed in, so every path is tested without sockets or clocks.
//
// The delivery module is the outbox: this transition function, the retry policy
// (retry_policy.hpp), the per-endpoint queue of due attempts (delivery_queue.hpp), the watch on
// receipts still owed (receipt_watch.hpp) and the transports. The dispatcher
// (broker/server/dispatcher.cpp) only moves bytes and commits what these decide.
#pragma once

#include <optional>
#include <string>

#include "broker/core/time.hpp"
#include "broker/delivery/retry_policy.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

// The kinds of events delivery writes on a message's timeline (names as stored).
enum class DeliveryEvent {
  kDelivered,       // the receiver took it (2xx, no negative receipt in the answer)
  kAttemptFailed,   // transient failure: retried at next_attempt_at
  kRefused,         // 4xx or a negative receipt in the answer: final, relayed to the sender
  kDeadLettered,    // retries ran out (max_age, or max_attempts when set): an operator acts
  kRequeued,        // an operator gave a dead-lettered or refused message a fresh start
  kResent,          // no receipt in time: the same letters in a new envelope (MedCom)
  kReceiptMissing,  // no receipt after the last resend: a person must act
};
std::string_view to_string(DeliveryEvent e);  // "delivered", "attempt-failed", …
std::optional<DeliveryEvent> parse_delivery_event(std::string_view s);

// What an attempt returned, as the transport saw it.
struct AttemptOutcome {
  int http_status = 0;            // 0: no HTTP response
  std::string error;              // the transport's text when there was no response
  bool negative_receipt = false;  // the answer carried a negative receipt / ReceiptException
};

// Where a message stands after an attempt: what to store, and what to put on its timeline.
struct DeliveryStep {
  DeliveryState state = DeliveryState::kPending;
  int attempts = 0;             // attempts made, this one included
  TimePoint next_attempt_at{};  // kPending: when to try again
  DeliveryEvent event = DeliveryEvent::kAttemptFailed;
  std::string detail;      // for the timeline: no content, no CPR
  std::string last_error;  // empty once delivered
};

// After attempt number `attempts` (≥ 1) to `endpoint` of a message received at `received_at`.
// 2xx without a negative receipt: delivered. 4xx or a negative receipt: refused. Otherwise
// retried with backoff (retry_policy.hpp) until the policy gives up: dead-lettered.
DeliveryStep after_attempt(const RetryPolicy& policy, const std::string& endpoint, int attempts,
                           TimePoint received_at, const AttemptOutcome& outcome, TimePoint now,
                           double random01);

// The store could not record an attempt's outcome (disk full, I/O error): nothing changed in the
// store, so the message stays pending with its stored attempt count. The next attempt must still
// respect the backoff of the attempts actually made since the broker started trying, kept in
// memory by the caller (`unrecorded` counts them), or a broken disk turns into a delivery storm.
TimePoint after_unrecorded_attempt(const RetryPolicy& policy, int stored_attempts, int unrecorded,
                                   TimePoint now);

// A receipt owed for a delivered message did not come in time. MedCom reliable messaging
// (domain.md §3): resend the same letters in a new envelope, at most `max_resends` times, then
// stop and alert.
enum class ReceiptOverdue { kResend, kGiveUp };
ReceiptOverdue on_receipt_overdue(int resends_done, int max_resends);

}  // namespace sektorbro
