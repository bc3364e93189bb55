#include "broker/delivery/retry_policy.hpp"

#include <gtest/gtest.h>

namespace sektorbro {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kReceived = from_millis(1'780'000'000'000);

RetryPolicy no_jitter() {
  RetryPolicy p;
  p.jitter = 0.0;
  return p;
}

TEST(ClassifyHttpStatus, Table) {
  const struct {
    int status;
    AttemptResult expected;
  } kCases[] = {
      {200, AttemptResult::kDelivered}, {201, AttemptResult::kDelivered},
      {202, AttemptResult::kDelivered}, {204, AttemptResult::kDelivered},
      {299, AttemptResult::kDelivered}, {400, AttemptResult::kRefused},
      {404, AttemptResult::kRefused},   {409, AttemptResult::kRefused},
      {422, AttemptResult::kRefused},   {499, AttemptResult::kRefused},
      {0, AttemptResult::kTransient},   {100, AttemptResult::kTransient},
      {199, AttemptResult::kTransient}, {301, AttemptResult::kTransient},
      {302, AttemptResult::kTransient}, {399, AttemptResult::kTransient},
      {500, AttemptResult::kTransient}, {502, AttemptResult::kTransient},
      {503, AttemptResult::kTransient}, {599, AttemptResult::kTransient},
      {-1, AttemptResult::kTransient},  {600, AttemptResult::kTransient},
  };
  for (const auto& c : kCases)
    EXPECT_EQ(classify_http_status(c.status), c.expected) << "status " << c.status;
}

TEST(BackoffDelay, DoublesFromTheInitialDelayAndCaps) {
  const RetryPolicy p = no_jitter();  // 2 s initial, 10 min cap
  EXPECT_EQ(backoff_delay(p, 1), seconds{2});
  EXPECT_EQ(backoff_delay(p, 2), seconds{4});
  EXPECT_EQ(backoff_delay(p, 3), seconds{8});
  EXPECT_EQ(backoff_delay(p, 8), seconds{256});
  EXPECT_EQ(backoff_delay(p, 9), seconds{512});
  EXPECT_EQ(backoff_delay(p, 10), minutes{10});  // 1024 s capped at 600 s
  EXPECT_EQ(backoff_delay(p, 11), minutes{10});
  EXPECT_EQ(backoff_delay(p, 1'000'000), minutes{10});  // no overflow
}

TEST(BackoffDelay, InitialAboveCapIsCapped) {
  RetryPolicy p = no_jitter();
  p.initial_backoff = minutes{20};
  EXPECT_EQ(backoff_delay(p, 1), minutes{10});
}

TEST(DecideAfterAttempt, DeliveredAndRefusedAreFinal) {
  const RetryPolicy p;
  for (const AttemptResult r : {AttemptResult::kDelivered, AttemptResult::kRefused}) {
    for (const int attempts : {1, 5, 10, 11}) {
      const auto d = decide_after_attempt(p, r, attempts, kReceived, kReceived, 0.5);
      EXPECT_EQ(d.step, NextStep::kDone);
      EXPECT_FALSE(d.retry_at.has_value());
    }
  }
}

TEST(DecideAfterAttempt, TransientRetriesAfterTheBackoff) {
  const RetryPolicy p = no_jitter();
  const TimePoint now = kReceived + minutes{3};
  const auto first = decide_after_attempt(p, AttemptResult::kTransient, 1, kReceived, now, 0.5);
  ASSERT_EQ(first.step, NextStep::kRetry);
  EXPECT_EQ(*first.retry_at, now + seconds{2});
  const auto fourth = decide_after_attempt(p, AttemptResult::kTransient, 4, kReceived, now, 0.5);
  ASSERT_EQ(fourth.step, NextStep::kRetry);
  EXPECT_EQ(*fourth.retry_at, now + seconds{16});
  const auto ninth = decide_after_attempt(p, AttemptResult::kTransient, 9, kReceived, now, 0.5);
  ASSERT_EQ(ninth.step, NextStep::kRetry);
  EXPECT_EQ(*ninth.retry_at, now + seconds{512});
}

TEST(DecideAfterAttempt, JitterStaysWithinBounds) {
  RetryPolicy p;
  p.jitter = 0.2;
  p.max_attempts = 100;
  const TimePoint now = kReceived;
  for (const int attempts : {1, 3, 12}) {
    const Duration base = backoff_delay(p, attempts);
    const Duration low{static_cast<std::int64_t>(base.count() * 0.8)};
    const Duration high{static_cast<std::int64_t>(base.count() * 1.2)};
    for (const double r : {0.0, 0.5, 0.999}) {
      const auto d =
          decide_after_attempt(p, AttemptResult::kTransient, attempts, kReceived, now, r);
      ASSERT_EQ(d.step, NextStep::kRetry);
      const Duration delay = *d.retry_at - now;
      EXPECT_GE(delay, low) << "attempts " << attempts << " r " << r;
      EXPECT_LE(delay, high) << "attempts " << attempts << " r " << r;
    }
    // The ends and the middle of the range, exactly.
    EXPECT_EQ(
        *decide_after_attempt(p, AttemptResult::kTransient, attempts, kReceived, now, 0.0).retry_at,
        now + low);
    EXPECT_EQ(
        *decide_after_attempt(p, AttemptResult::kTransient, attempts, kReceived, now, 0.5).retry_at,
        now + base);
  }
  // 2 s * (0.8 + 0.4 * 0.999) = 2399.2 ms: just under the upper bound.
  EXPECT_EQ(*decide_after_attempt(p, AttemptResult::kTransient, 1, kReceived, now, 0.999).retry_at,
            now + milliseconds{2399});
}

TEST(DecideAfterAttempt, BadRandomNumbersAreClamped) {
  RetryPolicy p;
  p.jitter = 0.2;
  const auto below =
      decide_after_attempt(p, AttemptResult::kTransient, 1, kReceived, kReceived, -3);
  EXPECT_EQ(*below.retry_at, kReceived + milliseconds{1600});
  const auto above = decide_after_attempt(p, AttemptResult::kTransient, 1, kReceived, kReceived, 7);
  EXPECT_EQ(*above.retry_at, kReceived + milliseconds{2400});
}

TEST(DecideAfterAttempt, DeadLetterAtMaxAttempts) {
  RetryPolicy p = no_jitter();
  p.max_attempts = 3;
  const TimePoint now = kReceived + seconds{10};
  EXPECT_EQ(decide_after_attempt(p, AttemptResult::kTransient, 2, kReceived, now, 0.5).step,
            NextStep::kRetry);
  const auto d = decide_after_attempt(p, AttemptResult::kTransient, 3, kReceived, now, 0.5);
  EXPECT_EQ(d.step, NextStep::kDeadLetter);
  EXPECT_FALSE(d.retry_at.has_value());
  EXPECT_EQ(decide_after_attempt(p, AttemptResult::kTransient, 4, kReceived, now, 0.5).step,
            NextStep::kDeadLetter);
}

// Issue 12, item 11: with the shipped settings the age binds, not a count of attempts. Before,
// max_attempts 10 dead-lettered every outage longer than ~17 minutes.
TEST(DecideAfterAttempt, ByDefaultRetriesAtTheCapUntilTheAgeRunsOut) {
  const RetryPolicy p = no_jitter();
  EXPECT_EQ(p.max_attempts, 0) << "no limit on attempts unless configured";
  EXPECT_GE(p.max_age, hours{72}) << "a receiver down over a long weekend needs no operator";
  for (const int attempts : {10, 11, 100, 1000, 100'000}) {
    const TimePoint now = kReceived + hours{71};
    const auto d = decide_after_attempt(p, AttemptResult::kTransient, attempts, kReceived, now, 0.5);
    ASSERT_EQ(d.step, NextStep::kRetry) << attempts;
    EXPECT_EQ(*d.retry_at, now + minutes{10}) << "at the capped interval";
  }
  const TimePoint last = kReceived + p.max_age - minutes{10};
  EXPECT_EQ(decide_after_attempt(p, AttemptResult::kTransient, 1000, kReceived, last, 0.5).step,
            NextStep::kRetry);
  EXPECT_EQ(decide_after_attempt(p, AttemptResult::kTransient, 1000, kReceived, last + seconds{1},
                                 0.5)
                .step,
            NextStep::kDeadLetter);
}

TEST(DecideAfterAttempt, OneAttemptOnlyNeverRetries) {
  RetryPolicy p = no_jitter();
  p.max_attempts = 1;
  EXPECT_EQ(decide_after_attempt(p, AttemptResult::kTransient, 1, kReceived, kReceived, 0.5).step,
            NextStep::kDeadLetter);
}

TEST(DecideAfterAttempt, DeadLetterWhenTheRetryWouldPassMaxAge) {
  RetryPolicy p = no_jitter();
  p.max_age = hours{1};
  // After attempt 5 the next delay is 32 s.
  const TimePoint fits = kReceived + hours{1} - seconds{32};
  const auto ok = decide_after_attempt(p, AttemptResult::kTransient, 5, kReceived, fits, 0.5);
  ASSERT_EQ(ok.step, NextStep::kRetry);
  EXPECT_EQ(*ok.retry_at, kReceived + hours{1});  // exactly at the limit is still allowed

  const TimePoint late = fits + milliseconds{1};
  const auto dead = decide_after_attempt(p, AttemptResult::kTransient, 5, kReceived, late, 0.5);
  EXPECT_EQ(dead.step, NextStep::kDeadLetter);
  EXPECT_FALSE(dead.retry_at.has_value());
}

TEST(DecideAfterAttempt, MaxAgeCountsTheJitteredDelay) {
  RetryPolicy p;
  p.jitter = 0.5;
  p.max_age = seconds{10};
  // Base delay 2 s; jittered between 1 s and 3 s. 8.5 s after receipt only the short one fits.
  const TimePoint now = kReceived + milliseconds{8500};
  EXPECT_EQ(decide_after_attempt(p, AttemptResult::kTransient, 1, kReceived, now, 0.0).step,
            NextStep::kRetry);
  EXPECT_EQ(decide_after_attempt(p, AttemptResult::kTransient, 1, kReceived, now, 0.9).step,
            NextStep::kDeadLetter);
}

}  // namespace
}  // namespace sektorbro
