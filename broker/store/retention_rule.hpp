// The retention rule (issue 11, item 4; docs/retention.md): is a message due for the deletion of
// its body, or of its minimal record, at time T? A pure function of the message's facts
// (store.hpp RetentionFacts) and the policy; the shell (broker/server/retention_sweeper.hpp)
// asks the store for candidates and deletes what this says.
//
// When a message's business is finished (all must hold):
//   - delivery is settled: `delivered`, or `refused` by the receiver (a negative receipt went
//     back to the sender). `pending` is still being delivered and `dead-lettered` waits for an
//     operator (requeue), so neither is finished;
//   - no receipt is still awaited (MedCom reliable messaging, domain.md §3): none was asked for,
//     one came (positive or negative), or the broker gave up after its resends (the watch ended
//     and the operators were alerted);
//   - no deadline its letters opened is still open (domain.md §5–7: the certificate a request
//     asks for, the mentor response a discharge notice asks for): answered, declined or
//     cancelled all close it.
// It finished at its last timeline event (the delivery, the receipt, the deadline's closing —
// the deadline events are on the request's timeline).
//
// Days are 24-hour periods from that instant (the law speaks of years; a day's drift is
// immaterial, and counting elapsed time makes the rule independent of time zones).
//   body:   finished and last_event_at + body_days(type) <= T;
//   record: the body is gone and last_event_at + record_days <= T.
// A legal hold (on the message or on a citizen it names) stops both. Policy values of 0 or less
// mean "never".
//
// Pure; any thread.
#pragma once

#include <map>
#include <string_view>
#include <vector>

#include "broker/core/time.hpp"
#include "broker/message/message.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

struct RetentionPolicy {
  int body_days = 365;     // default for every letter type
  int record_days = 3650;  // the minimal record; at least every body period
  std::map<LetterType, int> body_days_per_type;  // overrides body_days for that type
};

enum class RetentionAction { kKeep, kDeleteBody, kDeleteRecord };
std::string_view to_string(RetentionAction a);  // "keep", "delete-body", "delete-record"

// Whether the message's business is finished (the rules above).
bool business_finished(const RetentionFacts& f);

// The body period for a letter type.
int body_days_for(const RetentionPolicy& policy, LetterType type);

// What is due for this message at `now`.
RetentionAction retention_due(const RetentionFacts& f, const RetentionPolicy& policy,
                              TimePoint now);

// The ids among `candidates` for which retention_due() is `action`, in their order.
std::vector<std::int64_t> due_for(const std::vector<RetentionFacts>& candidates,
                                  const RetentionPolicy& policy, TimePoint now,
                                  RetentionAction action);

// The shortest body period of the policy, in days (what a scan's received_before starts from):
// no message received later than now minus this can be due for anything.
int shortest_body_days(const RetentionPolicy& policy);

}  // namespace sektorbro
