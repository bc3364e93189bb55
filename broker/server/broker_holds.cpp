// Legal holds through the operators' API (issue 11, item 4; docs/retention.md). While a hold is
// in place, retention deletes neither the body nor the minimal record it covers.
//
//   POST   /v1/messages/<sender GLN>/<letter id>/hold   {"reason": "..."}   hold the message
//   DELETE /v1/messages/<sender GLN>/<letter id>/hold                       lift it
//   POST   /v1/citizens/hold   {"cpr": "DDMMYY-SSSS", "reason": "..."}      hold every message
//   DELETE /v1/citizens/hold   {"cpr": "DDMMYY-SSSS"}                       about the citizen
//   GET    /v1/holds                                                        the holds in place
//
// Acting operators only (Broker::handle refuses a read-only role anything but GET). A citizen's
// hold is keyed by the citizen index's keyed CPR hash (privacy.cpr_index_key_file,
// CitizenKeyer): the CPR number is never stored, logged, audited or answered; the number
// travels in the body, not the URL. Each hold placed or lifted is on the audit chain (the store
// writes it with the hold). A reason holding a CPR-shaped number is refused.
#include <memory>
#include <string>

#include "broker/core/log.hpp"
#include "broker/server/broker.hpp"
#include "broker/server/commit.hpp"
#include "broker/server/http_util.hpp"

namespace sektorbro {
namespace {

http::status status_of(const Error& e) {
  switch (e.code) {
    case Errc::kNotFound:
      return http::status::not_found;
    case Errc::kConflict:
      return http::status::conflict;
    case Errc::kInvalid:
      return http::status::bad_request;
    default:
      return http::status::service_unavailable;
  }
}

// The body's "reason" (optional, one line, no CPR-shaped number) into `reason`; an error text
// for the operator otherwise.
std::optional<std::string> read_reason(const nlohmann::json& body, std::string& reason) {
  if (!body.contains("reason")) return std::nullopt;
  if (!body["reason"].is_string()) return "reason must be a string";
  reason = body["reason"].get<std::string>();
  if (reason.size() > 500 || reason.find('\n') != std::string::npos)
    return "reason must be one line of at most 500 bytes";
  if (without_cpr_shaped_numbers(reason) != reason)
    return "reason must not hold a CPR number (or any 10-digit number)";
  return std::nullopt;
}

}  // namespace

asio::awaitable<HttpResponse> Broker::hold_message(const HttpRequest& request,
                                                   const std::string& sender_gln,
                                                   const std::string& letter_id,
                                                   const std::string& actor) {
  auto where = store_.find_letter(sender_gln, letter_id);
  if (!where) co_return json_error(http::status::service_unavailable, "store unavailable");
  if (!*where)
    co_return json_error(http::status::not_found, "no letter " + letter_id + " from " + sender_gln);
  const std::int64_t id = (*where)->message_id;
  const bool place = request.method() == http::verb::post;
  std::string reason;
  if (place && !request.body().empty()) {
    const auto body = nlohmann::json::parse(request.body(), nullptr, false);
    if (!body.is_object()) co_return json_error(http::status::bad_request, "send {\"reason\": …}");
    if (auto bad = read_reason(body, reason)) co_return json_error(http::status::bad_request, *bad);
  }
  const TimePoint now = clock_.now();
  auto hold = std::make_shared<const LegalHold>(
      LegalHold{HoldKind::kMessage, std::to_string(id), now, actor, reason});
  auto store_job = [hold, place](Store& store) -> Result<void> {
    if (place) return store.put_hold(*hold);
    return store.remove_hold(hold->kind, hold->key, hold->at, hold->actor);
  };
  auto committing = commit<void>(writer_, std::move(store_job));
  auto done = co_await std::move(committing);
  if (!done) co_return json_error(status_of(done.error()), done.error().detail);
  log_info(actor + (place ? " placed a legal hold on #" : " lifted the legal hold on #") +
           std::to_string(id));
  co_return json_response(http::status::ok,
                          {{place ? "held" : "released", id}, {"kind", "message"}});
}

asio::awaitable<HttpResponse> Broker::hold_citizen(const HttpRequest& request,
                                                   const std::string& actor) {
  if (!citizen_keyer_)
    co_return json_error(http::status::not_implemented,
                         "citizen holds need the citizen index key (privacy.cpr_index_key_file)");
  const auto body = nlohmann::json::parse(request.body(), nullptr, false);
  if (!body.is_object() || !body.contains("cpr") || !body["cpr"].is_string())
    co_return json_error(http::status::bad_request,
                         "send a JSON object {\"cpr\": \"DDMMYY-SSSS\"} (optional: reason)");
  const bool place = request.method() == http::verb::post;
  std::string reason;
  if (auto bad = read_reason(body, reason)) co_return json_error(http::status::bad_request, *bad);
  const auto key = citizen_keyer_->key_of(body["cpr"].get<std::string>());
  if (!key)
    co_return json_error(http::status::bad_request,
                         "cpr must be ten digits, DDMMYYSSSS or DDMMYY-SSSS");
  const TimePoint now = clock_.now();
  auto hold =
      std::make_shared<const LegalHold>(LegalHold{HoldKind::kCitizen, *key, now, actor, reason});
  auto store_job = [hold, place](Store& store) -> Result<void> {
    if (place) return store.put_hold(*hold);
    return store.remove_hold(hold->kind, hold->key, hold->at, hold->actor);
  };
  auto committing = commit<void>(writer_, std::move(store_job));
  auto done = co_await std::move(committing);
  if (!done) co_return json_error(status_of(done.error()), done.error().detail);
  log_info(actor + (place ? " placed a legal hold on a citizen" : " lifted a citizen's hold"));
  // The key is a pseudonym, not the number: it names the hold in GET /v1/holds.
  co_return json_response(http::status::ok,
                          {{place ? "held" : "released", *key}, {"kind", "citizen"}});
}

HttpResponse Broker::list_holds() {
  auto holds = store_.list_holds();
  if (!holds) return json_error(http::status::service_unavailable, "store unavailable");
  nlohmann::json items = nlohmann::json::array();
  for (const LegalHold& h : *holds)
    items.push_back({{"kind", std::string(to_string(h.kind))},
                     {"key", h.key},
                     {"at", format_timestamp(h.at)},
                     {"by", h.actor},
                     {"reason", h.reason}});
  return json_response(http::status::ok, {{"holds", items}});
}

}  // namespace sektorbro
