// MedCom reliable messaging on the broker's delivering side (domain.md §3, issue 4): when the
// receiver's receipt for a message whose sender asked for one (pluspositivkvitt) does not come
// within the receiver's receipt_timeout_seconds (delivery.receipt_timeout_seconds by default), the
// broker sends the message again — the same letters, a new
// envelope id and sent time — at most delivery.max_resends times; then it raises an operator
// alert, because a person must act. Receivers drop the resend as a duplicate by letter id and
// answer with their first receipt.
#include "broker/codec/codec.hpp"
#include "broker/core/log.hpp"
#include "broker/server/broker.hpp"

namespace sektorbro {

// The watch lives in memory; after a restart it is rebuilt from the store: every delivered
// message still waiting for its receipt, with the resends its timeline records. This reads the
// delivered messages once at start-up (a cost in proportion to them; an index on
// (state, receipt) in the store would make it proportional to those waiting).
Duration Broker::receipt_timeout_for(const std::string& endpoint_id) const {
  const Endpoint* e = directory_.by_id(endpoint_id);
  return e && e->receipt_timeout ? *e->receipt_timeout : config_.delivery.receipt_timeout;
}

Result<void> Broker::rebuild_receipt_watch() {
  MessageFilter filter;
  filter.state = DeliveryState::kDelivered;
  filter.limit = 500;
  while (true) {
    auto page = store_.list_messages(filter);
    if (!page) return page.error();
    for (const auto& m : *page) {
      if (!m.receipt_requested || m.receipt != ReceiptState::kNone ||
          m.sender_endpoint == "broker" || is_receipt(m.letters.front().type))
        continue;
      auto events = store_.timeline(m.id);
      if (!events) return events.error();
      int resends = 0;
      TimePoint last_sent = m.received_at;
      for (const auto& e : *events) {
        if (e.kind == "receipt-missing") resends = -1;  // already given up on
        if (resends >= 0 && e.kind == "resent") ++resends;
        if (e.kind == "delivered" || e.kind == "resent") last_sent = std::max(last_sent, e.at);
      }
      if (resends >= 0)
        receipts_.watch(m.id, last_sent + receipt_timeout_for(m.receiver_endpoint), resends);
    }
    if (static_cast<int>(page->size()) < filter.limit) break;
    filter.after_id = page->back().id;
  }
  return {};
}

asio::awaitable<void> Broker::resend_due(TimePoint now) {
  const std::vector<ReceiptWatch::Entry> due = receipts_.due(now);  // a named local (GCC 12)
  for (const ReceiptWatch::Entry& entry : due) {
    const std::int64_t id = entry.message_id;
    auto loaded = store_.get_message(id);
    if (!loaded || !*loaded || (*loaded)->receipt != ReceiptState::kNone ||
        (*loaded)->state != DeliveryState::kDelivered) {
      receipts_.forget(id);
      continue;
    }
    const MessageRecord message = std::move(**loaded);
    const Endpoint* receiver = directory_.by_id(message.receiver_endpoint);
    if (entry.resends >= config_.delivery.max_resends || receiver == nullptr) {
      const std::string detail = "no receipt from " + message.receiver_endpoint + " after " +
                                 std::to_string(entry.resends) +
                                 " resend(s); a person must act (MedCom reliable messaging)";
      auto event =
          std::make_shared<const MessageEvent>(MessageEvent{id, now, "receipt-missing", detail});
      auto store_job = [event](Store& store) { return store.append_event(*event); };
      auto committing = write<void>(std::move(store_job));
      auto written = co_await std::move(committing);
      if (written) {
        log_warn("ALERT receipt missing: #" + std::to_string(id) + " " + detail);
        receipts_.forget(id);
      }
      continue;
    }
    // The same letters in a new envelope with a new id and time (domain.md §3).
    const std::string new_envelope_id = next_broker_id();
    auto bytes = outbound_body(message.body, *receiver, now, new_envelope_id);
    if (!bytes) {
      receipts_.forget(id);
      continue;
    }
    auto transfer = post_to(*receiver, std::move(*bytes));
    const TransportResponse response = co_await std::move(transfer);
    auto reading = receipts_in_response(response, *receiver, id, true, now);
    const ResponseReceipts receipts = co_await std::move(reading);
    const std::string outcome =
        response.http_status != 0 ? "HTTP " + std::to_string(response.http_status) : response.error;
    auto event = std::make_shared<const MessageEvent>(
        MessageEvent{id, now, "resent",
                     "resend " + std::to_string(entry.resends + 1) + " of " +
                         std::to_string(config_.delivery.max_resends) + " to " + receiver->id +
                         " in envelope " + new_envelope_id + ": " + outcome});
    auto store_job = [event](Store& store) { return store.append_event(*event); };
    auto committing = write<void>(std::move(store_job));
    auto written = co_await std::move(committing);
    if (!written) continue;  // tried again at the next sweep
    log_warn("#" + std::to_string(id) + " " + event->detail);
    if (receipts.relayed) {
      receipts_.forget(id);
    } else {
      receipts_.watch(id, now + receipt_timeout_for(message.receiver_endpoint), entry.resends + 1);
    }
  }
}

}  // namespace sektorbro
