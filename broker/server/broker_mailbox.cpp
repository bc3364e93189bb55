// Mailbox pull (issue 4), for systems that cannot receive calls: messages for an endpoint whose
// URL is "mailbox:" wait in the store as pending; the endpoint fetches them over HTTPS and
// confirms each. A fetched message is leased for delivery.mailbox_lease, in the store, so with
// several brokers on one database (issue 11) one message goes to one fetcher at a time;
// unconfirmed, it is offered again after that. An endpoint reads only its own mailbox (issue 5).
//
//   GET  /v1/mailbox                       up to `limit` waiting messages, in the endpoint's
//   dialect POST /v1/mailbox/<message id>/confirm  taken: the message is delivered
//
// Over TLS the endpoint is the one its client certificate names. No message body leaves without
// an authenticated reader (issue 12, item 4): on plain HTTP nobody is authenticated, so with
// operators configured (a broker run for real) the mailbox is refused there. Only the demo and
// tests (plain loopback, no operators, the operators' API open as well) name the endpoint with
// ?endpoint=<id>.
#include <nlohmann/json.hpp>

#include "broker/codec/codec.hpp"
#include "broker/core/log.hpp"
#include "broker/delivery/receipt_rule.hpp"
#include "broker/server/broker.hpp"
#include "broker/server/commit.hpp"
#include "broker/server/http_util.hpp"

namespace sektorbro {

asio::awaitable<HttpResponse> Broker::handle_mailbox(const HttpRequest& request,
                                                     const std::vector<std::string>& parts,
                                                     const Caller& caller) {
  const auto query =
      parse_query(query_of(std::string_view(request.target().data(), request.target().size())));
  if (caller.plain_loopback && !config_.operators.empty())
    co_return json_error(http::status::forbidden,
                         "a mailbox is read over TLS with the endpoint's own client certificate");
  std::string endpoint_id = caller.endpoint;
  if (caller.plain_loopback && query.contains("endpoint")) endpoint_id = query.at("endpoint");
  const Endpoint* endpoint = directory_.by_id(endpoint_id);
  if (endpoint == nullptr)
    co_return json_error(http::status::forbidden, "a mailbox is read by its own endpoint only");
  if (!endpoint->pulls_from_mailbox())
    co_return json_error(http::status::not_found,
                         "endpoint " + endpoint->id + " receives deliveries; it has no mailbox");
  const TimePoint now = clock_.now();

  if (parts.size() == 2 && request.method() == http::verb::get) {
    int limit = 20;
    if (query.contains("limit")) {
      const int n = std::atoi(query.at("limit").c_str());
      if (n < 1 || n > 100) co_return json_error(http::status::bad_request, "limit: 1 to 100");
      limit = n;
    }
    // Several brokers on one database (issue 11): the fetch leases what it hands out in the
    // store (Store::claim_mailbox), so no other fetch — through this broker or another — gets
    // the same message until the lease ends; a message never confirmed comes back after that.
    // The lease is measured on the lease clock (real time), not the business clock.
    const TimePoint lease_now = dispatcher_.lease_now();
    const TimePoint lease_end = lease_now + config_.delivery.mailbox_lease;
    auto claim_job = [mailbox = endpoint->id, node = dispatcher_.node(), lease_now, lease_end,
                      limit](Store& store) {
      return store.claim_mailbox(mailbox, node, lease_now, lease_end, limit);
    };
    auto claiming = commit<std::vector<std::int64_t>>(writer_, std::move(claim_job));
    auto claimed = co_await std::move(claiming);
    if (!claimed) co_return json_error(http::status::service_unavailable, "store unavailable");
    nlohmann::json items = nlohmann::json::array();
    for (const std::int64_t id : *claimed) {
      auto loaded = store_.get_message(id);
      if (!loaded) co_return json_error(http::status::service_unavailable, "store unavailable");
      if (!*loaded || (*loaded)->state != DeliveryState::kPending) continue;  // confirmed since
      const MessageRecord& m = **loaded;
      std::string sbdh_instance;
      std::string fhir_key;
      auto body = dispatcher_.outbound_body(m.body, *endpoint, now, {}, &sbdh_instance, &fhir_key);
      if (!body) continue;  // kept leased: offered again when the lease ends
      if (endpoint->dialect == Dialect::kSbdh || !fhir_key.empty()) {
        // EHMI (issue 9): as for a pushed delivery, the envelope handed out is recorded first,
        // so that its envelope-level receipt finds the message it carried; so is the FHIR
        // message's MessageHeader.id, which its Acknowledgement names (a key already recorded
        // for another message keeps the first, as in Dispatcher::attempt).
        const std::int64_t message_id = m.id;
        const bool sbdh = endpoint->dialect == Dialect::kSbdh;
        auto job = [message_id, sbdh, sbdh_instance, fhir_key, now](Store& store) -> Result<void> {
          if (sbdh)
            if (auto r = store.record_sent_envelope(sbdh_instance, message_id, now); !r) return r;
          if (fhir_key.empty()) return {};
          auto r = store.record_sent_envelope(fhir_key, message_id, now);
          if (!r && r.error().code == Errc::kConflict) return {};
          return r;
        };
        auto committing = commit<void>(writer_, std::move(job));
        if (auto recorded = co_await std::move(committing); !recorded) {
          co_return json_error(http::status::service_unavailable, "store unavailable");
        }
      }
      items.push_back({{"message_id", m.id},
                       {"letters",
                        [&] {
                          nlohmann::json ids = nlohmann::json::array();
                          for (const auto& l : m.letters) ids.push_back(l.letter_id);
                          return ids;
                        }()},
                       {"body", *body}});
    }
    co_return json_response(
        http::status::ok,
        {{"endpoint", endpoint->id},
         {"lease_seconds",
          std::chrono::duration_cast<std::chrono::seconds>(config_.delivery.mailbox_lease).count()},
         {"messages", items}});
  }

  if (parts.size() == 4 && parts[3] == "confirm" && request.method() == http::verb::post) {
    const std::int64_t id = std::atoll(parts[2].c_str());
    auto loaded = store_.get_message(id);
    if (!loaded) co_return json_error(http::status::service_unavailable, "store unavailable");
    if (!*loaded || (*loaded)->receiver_endpoint != endpoint->id)
      co_return json_error(http::status::not_found, "no message " + parts[2] + " in this mailbox");
    const MessageRecord message = std::move(**loaded);
    if (message.state != DeliveryState::kPending)
      co_return json_error(http::status::conflict,
                           "message " + parts[2] + " is " + std::string(to_string(message.state)));
    auto event = std::make_shared<const MessageEvent>(MessageEvent{
        id, now, "delivered", "fetched from the mailbox of " + endpoint->id + " and confirmed"});
    auto changes = std::make_shared<const std::vector<DeadlineWrite>>(
        dispatcher_.deadlines_on_delivery(message, now));
    const int attempts = message.attempts + 1;
    // Watched for its receipt as a pushed delivery would be (receipt_rule.hpp); a mailbox has
    // no HTTP answer for a receipt to come with.
    const bool watch = watch_receipt_after_delivery(
        ReceiptFacts{message.letters.front().type, message.receipt_requested,
                     message.sender_endpoint == kBrokerEndpoint},
        false);
    // Two confirms of one message at once (two clients, or one client's retry through another
    // broker on the same database) have both read it pending above: the store decides which one
    // delivers it — the first to commit; the other finds it delivered (kStale) and writes nothing,
    // so the timeline says "delivered" once and the deadline opens once.
    auto store_job = [event, changes, attempts, now, watch](Store& store) {
      if (auto r = store.expect_delivery_state(event->message_id, DeliveryState::kPending); !r)
        return r;
      auto updated =
          store.update_delivery(event->message_id, DeliveryState::kDelivered, attempts, now, "",
                                *event, watch ? std::optional<TimePoint>(now) : std::nullopt);
      if (!updated) return updated;
      for (const DeadlineWrite& w : *changes)
        if (auto r = write_deadline_change(store, w, event->message_id); !r) return r;
      return Result<void>();
    };
    auto committing = commit<void>(writer_, std::move(store_job));
    auto written = co_await std::move(committing);
    if (!written && written.error().code == Errc::kStale) {
      // Lost the race: answered as a confirm that came after the winner's commit.
      auto current = store_.get_message(id);
      const std::string state = current && *current ? std::string(to_string((*current)->state))
                                                    : std::string("no longer pending");
      co_return json_error(http::status::conflict, "message " + parts[2] + " is " + state);
    }
    if (!written) co_return json_error(http::status::service_unavailable, "store unavailable");
    if (watch) dispatcher_.watch_receipt(id, message.receiver_endpoint, now);
    log_info("#" + std::to_string(id) + " delivered: fetched and confirmed by " + endpoint->id);
    co_return json_response(http::status::ok, {{"confirmed", id}});
  }
  co_return json_error(http::status::not_found, "no such resource");
}

}  // namespace sektorbro
