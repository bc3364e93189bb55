// The delivery state machine, without I/O: given what an attempt returned, decide whether the
// message is delivered, refused, retried (and when) or dead-lettered. Pure; any thread.
#pragma once

#include <optional>

#include "broker/core/time.hpp"

namespace sektorbro {

// Issue 12, item 11: the age is the limit that binds by default. Retries back off to
// max_backoff and then go on at that interval until max_age has passed, so a receiver that is
// down for a long weekend gets everything afterwards without an operator; max_attempts is an
// extra limit only when configured.
struct RetryPolicy {
  int max_attempts = 0;  // attempts in all, the first included; 0: no limit (max_age binds)
  // Since the message was received, or since an operator requeued it (a fresh budget).
  Duration max_age = std::chrono::days{7};
  Duration initial_backoff = std::chrono::seconds{2};
  Duration max_backoff = std::chrono::minutes{10};
  double jitter = 0.2;  // each delay is scaled by a factor in [1 - jitter, 1 + jitter]
};

// How one attempt ended, as the transport saw it.
enum class AttemptResult {
  kDelivered,  // 2xx without a negative receipt in the body
  kRefused,    // 4xx, or a negative receipt in the body: permanent, relayed to the sender
  kTransient,  // 5xx, connection error, timeout: retry
};

// 2xx → kDelivered, 4xx → kRefused, everything else (5xx, 1xx, 3xx, 0 = no response) → kTransient.
AttemptResult classify_http_status(int http_status);

enum class NextStep { kDone, kRetry, kDeadLetter };

struct RetryDecision {
  NextStep step;
  std::optional<TimePoint> retry_at;  // kRetry only
};

// `attempts` counts the attempts made so far, this one included (≥ 1). `random01` is a number in
// [0, 1) supplied by the caller so the function stays deterministic under test.
// Backoff before attempt n+1 is initial_backoff * 2^(n-1), capped at max_backoff, then jittered.
// Dead-letter when the retry would fall after received_at + max_age, or when max_attempts is set
// (> 0) and attempts ≥ max_attempts. `received_at` is when the budget started: when the message
// was received, or when an operator last requeued it.
RetryDecision decide_after_attempt(const RetryPolicy& policy, AttemptResult result, int attempts,
                                   TimePoint received_at, TimePoint now, double random01);

// The un-jittered delay before attempt `attempts + 1`.
Duration backoff_delay(const RetryPolicy& policy, int attempts);

}  // namespace sektorbro
