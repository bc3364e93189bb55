#include "broker/delivery/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace sektorbro {
namespace {

// The delay scaled by a factor in [1 - jitter, 1 + jitter), chosen by random01 in [0, 1).
// Out-of-range inputs are clamped so a caller's bad random source cannot produce a negative
// or unbounded delay.
Duration jittered(Duration delay, double jitter, double random01) {
  if (!(random01 >= 0.0)) random01 = 0.0;  // also catches NaN
  random01 = std::min(random01, 1.0);
  if (!(jitter >= 0.0)) jitter = 0.0;
  jitter = std::min(jitter, 1.0);
  const double factor = 1.0 - jitter + 2.0 * jitter * random01;
  return Duration{std::llround(static_cast<double>(delay.count()) * factor)};
}

}  // namespace

AttemptResult classify_http_status(int http_status) {
  if (http_status >= 200 && http_status <= 299) return AttemptResult::kDelivered;
  if (http_status >= 400 && http_status <= 499) return AttemptResult::kRefused;
  return AttemptResult::kTransient;
}

Duration backoff_delay(const RetryPolicy& policy, int attempts) {
  const Duration cap = std::max(policy.max_backoff, Duration::zero());
  Duration delay = std::clamp(policy.initial_backoff, Duration::zero(), cap);
  // Doubling stops at the cap, so a large attempt count cannot overflow.
  for (int n = 1; n < attempts && delay < cap && delay > Duration::zero(); ++n)
    delay = std::min(delay * 2, cap);
  return delay;
}

RetryDecision decide_after_attempt(const RetryPolicy& policy, AttemptResult result, int attempts,
                                   TimePoint received_at, TimePoint now, double random01) {
  switch (result) {
    case AttemptResult::kDelivered:
    case AttemptResult::kRefused:
      // Both are final: a refusal is permanent and goes back to the sender as a receipt.
      return RetryDecision{NextStep::kDone, std::nullopt};
    case AttemptResult::kTransient:
      break;
  }
  if (policy.max_attempts > 0 && attempts >= policy.max_attempts)
    return RetryDecision{NextStep::kDeadLetter, std::nullopt};
  const TimePoint retry_at =
      now + jittered(backoff_delay(policy, attempts), policy.jitter, random01);
  if (retry_at > received_at + policy.max_age) {
    return RetryDecision{NextStep::kDeadLetter, std::nullopt};
  }
  return RetryDecision{NextStep::kRetry, retry_at};
}

}  // namespace sektorbro
