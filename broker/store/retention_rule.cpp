#include "broker/store/retention_rule.hpp"

#include <algorithm>
#include <chrono>

namespace sektorbro {
namespace {

bool passed(TimePoint from, int days, TimePoint now) {
  return days > 0 && from + std::chrono::hours{24} * days <= now;
}

}  // namespace

std::string_view to_string(RetentionAction a) {
  switch (a) {
    case RetentionAction::kKeep:
      return "keep";
    case RetentionAction::kDeleteBody:
      return "delete-body";
    case RetentionAction::kDeleteRecord:
      return "delete-record";
  }
  return "?";
}

bool business_finished(const RetentionFacts& f) {
  const bool settled = f.state == DeliveryState::kDelivered || f.state == DeliveryState::kRefused;
  const bool receipt_settled =
      !f.receipt_requested || f.receipt != ReceiptState::kNone || !f.receipt_watched;
  return settled && receipt_settled && !f.deadline_open;
}

int body_days_for(const RetentionPolicy& policy, LetterType type) {
  const auto it = policy.body_days_per_type.find(type);
  return it == policy.body_days_per_type.end() ? policy.body_days : it->second;
}

RetentionAction retention_due(const RetentionFacts& f, const RetentionPolicy& policy,
                              TimePoint now) {
  if (f.held || !business_finished(f)) return RetentionAction::kKeep;
  if (!f.body_deleted_at)
    return passed(f.last_event_at, body_days_for(policy, f.type), now)
               ? RetentionAction::kDeleteBody
               : RetentionAction::kKeep;
  return passed(f.last_event_at, policy.record_days, now) ? RetentionAction::kDeleteRecord
                                                          : RetentionAction::kKeep;
}

std::vector<std::int64_t> due_for(const std::vector<RetentionFacts>& candidates,
                                  const RetentionPolicy& policy, TimePoint now,
                                  RetentionAction action) {
  std::vector<std::int64_t> out;
  for (const RetentionFacts& f : candidates)
    if (retention_due(f, policy, now) == action) out.push_back(f.message_id);
  return out;
}

int shortest_body_days(const RetentionPolicy& policy) {
  int shortest = policy.body_days > 0 ? policy.body_days : 0;
  for (const auto& [type, days] : policy.body_days_per_type)
    if (days > 0 && (shortest == 0 || days < shortest)) shortest = days;
  return shortest;
}

}  // namespace sektorbro
