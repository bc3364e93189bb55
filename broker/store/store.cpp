#include "broker/store/store.hpp"

namespace sektorbro {

Result<std::vector<Deadline>> Store::deadlines_opened_between(TimePoint from, TimePoint to) {
  std::vector<Deadline> out;
  auto read = each_deadline_opened_between(from, to, [&](const Deadline& d) { out.push_back(d); });
  if (!read) return read.error();
  return out;
}

std::string_view to_string(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kRefused:
      return "refused";
    case DeliveryState::kDeadLettered:
      return "dead-lettered";
  }
  return "?";
}

std::optional<DeliveryState> parse_delivery_state(std::string_view s) {
  for (const auto state : {DeliveryState::kPending, DeliveryState::kDelivered,
                           DeliveryState::kRefused, DeliveryState::kDeadLettered})
    if (to_string(state) == s) return state;
  return std::nullopt;
}

std::string_view to_string(ReceiptState s) {
  switch (s) {
    case ReceiptState::kNone:
      return "none";
    case ReceiptState::kPositive:
      return "positive";
    case ReceiptState::kNegative:
      return "negative";
  }
  return "?";
}

std::string_view to_string(HoldKind k) { return k == HoldKind::kMessage ? "message" : "citizen"; }

std::optional<HoldKind> parse_hold_kind(std::string_view s) {
  if (s == "message") return HoldKind::kMessage;
  if (s == "citizen") return HoldKind::kCitizen;
  return std::nullopt;
}

Result<void> write_deadline_change(Store& store, const DeadlineWrite& w, std::int64_t message_id) {
  if (!w.if_absent) return store.put_deadline(w.deadline, message_id, w.event);
  auto opened = store.open_deadline(w.deadline, message_id, w.event);
  if (!opened) return opened.error();
  return {};
}

}  // namespace sektorbro
