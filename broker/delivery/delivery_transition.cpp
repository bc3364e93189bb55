#include "broker/delivery/delivery_transition.hpp"

#include <array>
#include <utility>

namespace sektorbro {
namespace {

constexpr std::array<std::pair<DeliveryEvent, std::string_view>, 7> kNames = {{
    {DeliveryEvent::kDelivered, "delivered"},
    {DeliveryEvent::kAttemptFailed, "attempt-failed"},
    {DeliveryEvent::kRefused, "refused"},
    {DeliveryEvent::kDeadLettered, "dead-lettered"},
    {DeliveryEvent::kRequeued, "requeued"},
    {DeliveryEvent::kResent, "resent"},
    {DeliveryEvent::kReceiptMissing, "receipt-missing"},
}};

}  // namespace

std::string_view to_string(DeliveryEvent e) {
  for (const auto& [event, name] : kNames)
    if (event == e) return name;
  return "unknown";
}

std::optional<DeliveryEvent> parse_delivery_event(std::string_view s) {
  for (const auto& [event, name] : kNames)
    if (name == s) return event;
  return std::nullopt;
}

DeliveryStep after_attempt(const RetryPolicy& policy, const std::string& endpoint, int attempts,
                           TimePoint received_at, const AttemptOutcome& outcome, TimePoint now,
                           double random01) {
  const std::string outcome_text = outcome.http_status != 0
                                       ? "HTTP " + std::to_string(outcome.http_status)
                                       : (outcome.error.empty() ? "no response" : outcome.error);
  DeliveryStep step;
  step.attempts = attempts;
  step.next_attempt_at = now;
  step.detail = "attempt " + std::to_string(attempts) + " to " + endpoint + ": " + outcome_text +
                (outcome.negative_receipt ? " with a negative receipt" : "");
  AttemptResult result = classify_http_status(outcome.http_status);
  if (result == AttemptResult::kDelivered && outcome.negative_receipt)
    result = AttemptResult::kRefused;
  if (result == AttemptResult::kDelivered) {
    step.state = DeliveryState::kDelivered;
    step.event = DeliveryEvent::kDelivered;
    return step;
  }
  step.last_error = outcome_text;
  if (result == AttemptResult::kRefused) {
    step.state = DeliveryState::kRefused;
    step.event = DeliveryEvent::kRefused;
    return step;
  }
  const RetryDecision decision =
      decide_after_attempt(policy, result, attempts, received_at, now, random01);
  if (decision.step == NextStep::kRetry) {
    step.event = DeliveryEvent::kAttemptFailed;
    step.next_attempt_at = *decision.retry_at;
    step.detail += "; next attempt at " + format_timestamp(step.next_attempt_at);
    return step;
  }
  step.state = DeliveryState::kDeadLettered;
  step.event = DeliveryEvent::kDeadLettered;
  step.detail += "; giving up";
  return step;
}

TimePoint after_unrecorded_attempt(const RetryPolicy& policy, int stored_attempts, int unrecorded,
                                   TimePoint now) {
  return now + backoff_delay(policy, stored_attempts + std::max(unrecorded, 1));
}

ReceiptOverdue on_receipt_overdue(int resends_done, int max_resends) {
  return resends_done >= max_resends ? ReceiptOverdue::kGiveUp : ReceiptOverdue::kResend;
}

}  // namespace sektorbro
