#include <algorithm>
#include <nlohmann/json.hpp>

#include "broker/codec/codec.hpp"
#include "broker/console/console_http.hpp"
#include "broker/console/openapi_document.hpp"
#include "broker/core/copenhagen_time.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/core/log.hpp"
#include "broker/deadlines/deadline_stats.hpp"
#include "broker/http/async_bridge.hpp"
#include "broker/http/media_type.hpp"
#include "broker/message/forms.hpp"
#include "broker/metrics/exposition_format.hpp"
#include "broker/server/api_routes.hpp"
#include "broker/server/broker.hpp"
#include "broker/server/commit.hpp"
#include "broker/server/http_util.hpp"

// The operators' API and the routing of every HTTP request. CPR numbers are masked in everything
// operators see (special-category personal data); no answer carries message content.

namespace sektorbro {
namespace {

constexpr std::string_view kXml = "application/xml; charset=utf-8";

// project(VERSION) of the top-level CMakeLists.txt (a compile definition of this file).
#ifndef SEKTORBRO_VERSION
#define SEKTORBRO_VERSION "0.0.0"
#endif
constexpr const char* kVersion = SEKTORBRO_VERSION;

// GET /v1/store (operators; issue 10, the Overview's "store and audit-chain state"): which store,
// and the audit chain as the broker knows it — its head (the last entry: one indexed row), keyed
// or not, checkpointed or not (docs/audit.md). Verifying the chain is `sektorbro-audit verify`'s
// job: it reads every entry. Behind operator authentication, unlike /v1/health.
nlohmann::json store_state(const BrokerConfig& config, Store& store) {
  nlohmann::json audit{{"keyed", !config.audit.key_file.empty()},
                       {"checkpointed", !config.audit.checkpoint_file.empty()}};
  if (!config.audit.checkpoint_file.empty())
    audit["checkpoint_interval_ms"] = config.audit.checkpoint_interval.count();
  if (auto head = store.audit_head()) {
    audit["entries"] = head->seq;
    audit["head_hash"] = head->hash;
  } else {
    audit["error"] = head.error().detail;
  }
  return {{"kind", config.store.kind == StoreConfig::Kind::kPostgres ? "postgres" : "sqlite"},
          {"audit", std::move(audit)}};
}

std::optional<std::int64_t> read_number(const std::string& value, std::int64_t lo,
                                        std::int64_t hi) {
  char* end = nullptr;
  const std::int64_t n = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < lo || n > hi) return std::nullopt;
  return n;
}

nlohmann::json deadline_json(const Deadline& d, TimePoint now) {
  nlohmann::json j{
      {"kind", to_string(d.kind)},
      {"request", {{"sender_gln", d.key.requester_gln}, {"letter_id", d.key.letter_id}}},
      {"owed_by", d.owed_by},
      {"owed_to", d.owed_to},
      {"opened_at", format_timestamp(d.opened_at)},
      {"due", format_date(d.due)},
      {"due_end", format_timestamp(d.due_end)},
      {"state", to_string(d.state)},
      {"overdue", d.state == DeadlineState::kOpen && past_due(d, now)},
      {"overdue_flagged", d.overdue},
      {"reminders_sent", d.reminder_steps_done},
      {"age_days", age_days(d, now)}};
  if (!d.form.empty()) j["form"] = d.form;
  if (d.answered_at) j["answered_at"] = format_timestamp(*d.answered_at);
  // Issue 12, item 18: an open deadline past its due day shows how late it is already.
  if (const int late = days_late_at(d, now); d.state == DeadlineState::kAnsweredLate || late > 0)
    j["days_late"] = late;
  if (d.next_action_at) j["next_action_at"] = format_timestamp(*d.next_action_at);
  if (d.discharge_date) j["discharge_date"] = format_date(*d.discharge_date);
  if (d.lead_time_days) j["lead_time_days"] = *d.lead_time_days;
  if (d.kind == DeadlineKind::kMentorResponse) j["notice_late"] = d.notice_late;
  return j;
}

nlohmann::json figures_json(const ReplyFigures& f) {
  nlohmann::json j{{"received", f.received},
                   {"answered_on_time", f.answered_on_time},
                   {"answered_late", f.answered_late},
                   {"declined", f.declined},
                   {"cancelled", f.cancelled},
                   {"open", f.open},
                   {"overdue", f.overdue}};
  j["late_share"] = f.late_share ? nlohmann::json(*f.late_share) : nlohmann::json(nullptr);
  j["median_days_to_answer"] =
      f.median_days_to_answer ? nlohmann::json(*f.median_days_to_answer) : nlohmann::json(nullptr);
  j["p90_days_to_answer"] =
      f.p90_days_to_answer ? nlohmann::json(*f.p90_days_to_answer) : nlohmann::json(nullptr);
  return j;
}

std::string month_text(std::chrono::year_month m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", int(m.year()), unsigned(m.month()));
  return buf;
}

// "2026-11" → the instant the month starts in Copenhagen.
std::optional<TimePoint> month_start(const std::string& text) {
  const auto date = parse_date(text + "-01");
  if (text.size() != 7 || !date) return std::nullopt;
  return copenhagen_end_of_day(Date{std::chrono::sys_days{*date} - std::chrono::days{1}});
}

}  // namespace

// Who is calling (issue 5). Over TLS, a verified client certificate names an endpoint or an
// operator; an operator may instead present "Authorization: Bearer <token>" (tokens are stored
// hashed). Plain HTTP exists only on loopback and only when the configuration allows it (the demo
// and tests): there nobody is authenticated and, unless operators are configured, the
// operators' API is open.
Broker::Caller Broker::identify(const HttpRequest& request, const PeerIdentity& peer) const {
  Caller caller;
  caller.plain_loopback = !peer.tls;
  if (peer.tls && peer.client_verified) {
    for (const auto& e : config_.endpoint_certificates)
      if (e.certificate.matches(peer.subject_cn, peer.fingerprint_sha256))
        caller.endpoint = e.endpoint_id;
    for (const auto& op : config_.operators)
      if (op.certificate.matches(peer.subject_cn, peer.fingerprint_sha256)) caller.op = &op;
  }
  const auto authorization = request[http::field::authorization];
  constexpr std::string_view kBearer = "Bearer ";
  if (!caller.op && authorization.size() > kBearer.size() &&
      std::string_view(authorization.data(), kBearer.size()) == kBearer) {
    caller.op =
        find_operator_by_token(config_, std::string_view(authorization.data() + kBearer.size(),
                                                         authorization.size() - kBearer.size()));
  }
  return caller;
}

asio::awaitable<HttpResponse> Broker::handle(HttpRequest request, PeerIdentity peer) {
  const std::string target(request.target());
  const std::vector<std::string> parts = split_path(target.substr(0, target.find('?')));
  try {
    // The console's files hold no data (every figure comes from this API, authenticated), so
    // they are answered to anyone who reaches the operators' listener.
    if (console_ && console::is_console_target(target))
      co_return console::answer_console(*console_, request);
    // Prometheus scrapes with an operator's credentials (any role), like the operators' API,
    // unless the configuration opens it explicitly ("metrics": {"unauthenticated": true}).
    if (parts.size() == 1 && parts[0] == "metrics" && request.method() == http::verb::get) {
      const Caller caller = identify(request, peer);
      if (!config_.metrics.unauthenticated && caller.op == nullptr &&
          (!config_.operators.empty() || !caller.plain_loopback))
        co_return json_error(http::status::unauthorized, "operator credentials required");
      auto page = metrics_page();
      co_return co_await std::move(page);
    }
    // The API's description (docs/openapi.yaml, embedded at build time) holds no data.
    if (parts.size() == 2 && parts[0] == "v1" && parts[1] == "openapi.yaml" &&
        request.method() == http::verb::get)
      co_return make_response(http::status::ok, std::string(console::openapi_yaml()),
                              "application/yaml; charset=utf-8");
    if (parts.size() < 2 || parts[0] != "v1")
      co_return json_error(http::status::not_found, "no such resource");
    // Only what the route table lists is served (api_routes.hpp: the OpenAPI test holds the
    // table and docs/openapi.yaml to each other).
    if (!match_api_route(
            std::string_view(request.method_string().data(), request.method_string().size()),
            parts))
      co_return json_error(http::status::not_found, "no such resource");
    if (parts[1] == "messages" && parts.size() == 2 && request.method() == http::verb::post) {
      if (!ready_) co_return json_error(http::status::service_unavailable, "starting");
      const auto type = request[http::field::content_type];
      const std::string_view declared(type.data(), type.size());
      // XML, or MedCom FHIR as application/fhir+json (issue 9).
      if (!type.empty() && !accepts_xml_content_type(declared) &&
          !accepts_fhir_json_content_type(declared)) {
        co_return json_error(http::status::unsupported_media_type,
                             "send the message as application/xml");
      }
      const Caller caller = identify(request, peer);
      // Over TLS only an endpoint's own certificate may send; its messages must name it as sender.
      if (!caller.plain_loopback && caller.endpoint.empty()) {
        log_warn("refused a message from " + peer.remote_address +
                 ": no endpoint certificate (operators' credentials cannot send)");
        co_return json_error(http::status::forbidden,
                             "a client certificate of a configured endpoint is required");
      }
      // A named string: the coroutine keeps a view of it until it is done.
      const std::string via = caller.plain_loopback ? std::string("http") : caller.endpoint;
      const auto started = std::chrono::steady_clock::now();
      auto receiving = intake_.receive(std::move(request.body()), via, caller.endpoint);
      Intake::Answer answer = co_await std::move(receiving);
      metrics_.receive_seconds.with({answer.stored || answer.duplicate ? "accepted" : "refused"})
          .observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      // In the sender's format: JSON to a FHIR JSON sender (edge answer_content_type).
      const std::string answer_type(answer_content_type(answer.body));
      co_return make_response(answer.status, std::move(answer.body), answer_type);
    }
    if (parts[1] == "health" && parts.size() == 2 && request.method() == http::verb::get)
      co_return health();
    // Liveness and readiness for orchestrators (issue 10): unauthenticated, no data.
    if (parts[1] == "health" && parts.size() == 3 && request.method() == http::verb::get) {
      if (parts[2] == "live") co_return health_live();
      if (parts[2] == "ready") {
        auto checking = health_ready();
        co_return co_await std::move(checking);
      }
    }
    const Caller caller = identify(request, peer);
    if (parts[1] == "mailbox") {
      if (!ready_) co_return json_error(http::status::service_unavailable, "starting");
      auto fetching = handle_mailbox(request, parts, caller);
      co_return co_await std::move(fetching);
    }
    // The operators' API: never with an endpoint's credentials; with operators configured, only
    // for them; without, only on the plain loopback listener of the demo and tests.
    if (!caller.endpoint.empty() && caller.op == nullptr)
      co_return json_error(http::status::forbidden,
                           "endpoint credentials cannot open the "
                           "operators' API");
    if (caller.op == nullptr && (!config_.operators.empty() || !caller.plain_loopback))
      co_return json_error(http::status::unauthorized, "operator credentials required");
    const bool acting = caller.op == nullptr || caller.op->role == OperatorRole::kActing;
    if (request.method() != http::verb::get && !acting)
      co_return json_error(http::status::forbidden, "the read-only role cannot act");
    const std::string actor =
        caller.op ? "operator:" + caller.op->name : std::string("operator:loopback");
    // Who is asking and with which role: the console shows what the role may do (issue 10).
    if (parts[1] == "whoami" && parts.size() == 2 && request.method() == http::verb::get)
      co_return json_response(http::status::ok,
                              {{"operator", caller.op ? caller.op->name : std::string("loopback")},
                               {"role", acting ? "acting" : "read-only"}});
    auto handling = handle_operator(request, parts, actor);
    co_return co_await std::move(handling);
  } catch (const std::exception& e) {
    log_error(std::string("internal error handling a request: ") + e.what());
    co_return json_error(http::status::internal_server_error, "internal error");
  }
}

asio::awaitable<HttpResponse> Broker::handle_operator(const HttpRequest& request,
                                                      const std::vector<std::string>& parts,
                                                      const std::string& actor) {
  const bool get = request.method() == http::verb::get;
  const bool post = request.method() == http::verb::post;
  if (!ready_) co_return json_error(http::status::service_unavailable, "starting");
  if (parts[1] == "messages") {
    if (parts.size() == 2 && get) co_return list_messages(request, std::nullopt);
    if (parts.size() == 4 && get) {
      std::optional<std::int64_t> holds_cpr;
      HttpResponse shown = show_message(parts[2], parts[3], holds_cpr);
      if (holds_cpr) {
        // Every view of a message that holds a CPR number is on the audit record (issue 5).
        const TimePoint now = clock_.now();
        auto subject = std::make_shared<const std::string>("message " + std::to_string(*holds_cpr));
        auto who = std::make_shared<const std::string>(actor);
        auto store_job = [subject, who, now](Store& store) {
          return store.audit_action(now, *who, "view-message", *subject, "CPR masked");
        };
        auto committing = commit<void>(writer_, std::move(store_job));
        auto recorded = co_await std::move(committing);
        if (!recorded)
          co_return json_error(http::status::service_unavailable, "audit record unavailable");
      }
      co_return shown;
    }
    if (parts.size() == 3 && parts[2] == "search-by-cpr" && post) {
      auto searching = search_by_cpr(request, actor);
      co_return co_await std::move(searching);
    }
    if (parts.size() == 5 && parts[4] == "requeue" && post) {
      auto requeueing = requeue(parts[2], parts[3], actor);
      co_return co_await std::move(requeueing);
    }
    if (parts.size() == 5 && parts[4] == "hold" &&
        (post || request.method() == http::verb::delete_)) {
      auto holding = hold_message(request, parts[2], parts[3], actor);  // broker_holds.cpp
      co_return co_await std::move(holding);
    }
  } else if (parts[1] == "citizens" && parts.size() == 3 && parts[2] == "hold" &&
             (post || request.method() == http::verb::delete_)) {
    auto holding = hold_citizen(request, actor);  // broker_holds.cpp
    co_return co_await std::move(holding);
  } else if (parts[1] == "holds" && parts.size() == 2 && get) {
    co_return list_holds();
  } else if (parts[1] == "store" && parts.size() == 2 && get) {
    co_return json_response(http::status::ok, store_state(config_, store_));
  } else if (parts[1] == "counts" && parts.size() == 2 && get) {
    auto counting = overview_counts();
    co_return co_await std::move(counting);
  } else if (parts[1] == "letters" && parts.size() == 3 && get) {
    co_return find_letters(parts[2]);
  } else if (parts[1] == "dead-letters" && parts.size() == 2 && get) {
    co_return list_messages(request, DeliveryState::kDeadLettered);
  } else if (parts[1] == "deadlines" && parts.size() == 2 && get) {
    co_return list_deadlines(request);
  } else if (parts[1] == "stats" && parts.size() == 3 && get) {
    if (parts[2] == "certificates") {
      auto reporting = statistics(request, DeadlineKind::kCertificate);
      co_return co_await std::move(reporting);
    }
    if (parts[2] == "mentor-responses") {
      auto reporting = statistics(request, DeadlineKind::kMentorResponse);
      co_return co_await std::move(reporting);
    }
  } else if (parts[1] == "test" && parts.size() == 4 && parts[2] == "clock" &&
             parts[3] == "advance" && post && manual_clock_ != nullptr) {
    // Exists only when the broker was started on a manual clock (tests).
    auto advancing = advance_clock(request);
    co_return co_await std::move(advancing);
  }
  co_return json_error(http::status::not_found, "no such resource");
}

asio::awaitable<HttpResponse> Broker::metrics_page() {
  auto counting = counts_.current();  // the last count, or a new one awaited off this thread
  const std::shared_ptr<const OperatorCountsCache::Snapshot> counted = co_await std::move(counting);
  metrics_.ready.get().set(ready_ && !draining_ ? 1 : 0);
  dispatcher_.report_load();
  set_scrape_gauges(*counted);
  metrics_.build_info.with({std::string(kVersion)}).set(1);
  co_return make_response(http::status::ok, metrics_registry_.exposition(),
                          std::string(metrics::kExpositionContentType));
}

asio::awaitable<HttpResponse> Broker::overview_counts() {
  auto counting = counts_.recent();
  const std::shared_ptr<const OperatorCountsCache::Snapshot> counted = co_await std::move(counting);
  if (!counted->error.empty())
    co_return json_error(http::status::service_unavailable, "store counts unavailable");
  dispatcher_.report_load();  // the per-endpoint queue gauges, read back below
  std::vector<OperatorCountsCache::EndpointLoad> loads;
  for (const Endpoint& e : directory_.all())
    loads.push_back(
        {e.id, static_cast<std::int64_t>(metrics_.deliveries_waiting.with({e.id}).value()),
         static_cast<std::int64_t>(metrics_.deliveries_in_flight.with({e.id}).value())});
  co_return json_response(http::status::ok,
                          OperatorCountsCache::counts_json(*counted, clock_.now(), loads));
}

HttpResponse Broker::health() {
  if (!ready_) return json_error(http::status::service_unavailable, "starting");
  nlohmann::json j{{"status", "ready"},
                   {"clock", clock_.name()},
                   {"now", format_timestamp(clock_.now())},
                   {"waiting_deliveries", dispatcher_.waiting()},
                   {"deliveries_in_flight", dispatcher_.in_flight()},
                   {"receipts_owed", dispatcher_.receipts_owed()},
                   {"commit_groups", writer_.batches_committed()},
                   {"commit_jobs", writer_.jobs_committed()},
                   {"version", kVersion}};
  if (clock_.name() != "system") j["warning"] = "not the real time: for tests and demos only";
  return json_response(http::status::ok, j);
}

// Live: the process runs and its io loop answers (this answer is that proof).
HttpResponse Broker::health_live() {
  return json_response(http::status::ok, {{"status", "live"}, {"version", kVersion}});
}

// Ready: started (the listeners are bound before start(), main.cpp), not draining, and the
// store takes a write transaction through the writer thread now (a stuck writer or a store
// whose write lock cannot be had shows here). 503 with the reasons otherwise.
asio::awaitable<HttpResponse> Broker::health_ready() {
  nlohmann::json reasons = nlohmann::json::array();
  if (!ready_) reasons.push_back("starting");
  if (draining_) reasons.push_back("draining: shutting down");
  bool writable = false;
  if (ready_ && !draining_) {
    // A job through the writer thread: it must take the store's write transaction (BEGIN
    // IMMEDIATE: the write lock) and commit it. Writes nothing.
    auto probe = [](Store&) -> Result<void> { return {}; };
    auto committing = commit<void>(writer_, std::move(probe));
    auto committed = co_await std::move(committing);
    writable = committed.ok();
    if (!writable) reasons.push_back("store not writable: " + committed.error().detail);
    // A shutdown that began while the store was asked: not ready either (and this answer
    // closes the connection, so the caller asks nothing else here).
    if (draining_) reasons.push_back("draining: shutting down");
  }
  nlohmann::json j{{"status", reasons.empty() ? "ready" : "not ready"},
                   {"version", kVersion},
                   {"store_writable", writable},
                   {"listening", ready_},
                   {"draining", draining_}};
  if (!reasons.empty()) j["reasons"] = reasons;
  co_return json_response(reasons.empty() ? http::status::ok : http::status::service_unavailable,
                          j);
}

// The gauges counted in the store (issue 10), from its last count (OperatorCountsCache: at most
// 2 x metrics.store_counts_interval_ms old on the broker's clock). A series seen at an earlier
// scrape whose group is gone now shows 0, not its last value.
void Broker::set_scrape_gauges(const OperatorCountsCache::Snapshot& counted) {
  if (!counted.error.empty()) return;  // logged by the cache; the gauges keep their last values
  metrics_.store_counts_age.get().set(
      std::chrono::duration<double>(clock_.now() - counted.counted_at).count());
  const OperatorCounts* counts = &counted.counts;
  std::set<metrics::LabelValues> deadline_series;
  for (const DeadlineCount& c : counts->deadlines) {
    metrics::LabelValues labels{c.unit, c.form.empty() ? std::string("mentor-response") : c.form};
    metrics_.deadlines_open.with(labels).set(static_cast<double>(c.open));
    metrics_.deadlines_overdue.with(labels).set(static_cast<double>(c.overdue));
    deadline_series.insert(std::move(labels));
  }
  for (const auto& gone : deadline_series_) {
    if (deadline_series.contains(gone)) continue;
    metrics_.deadlines_open.with(gone).set(0);
    metrics_.deadlines_overdue.with(gone).set(0);
  }
  deadline_series_ = std::move(deadline_series);
  std::int64_t dead = 0;
  for (const EndpointCount& c : counts->dead_letters) dead += c.count;
  metrics_.dead_letters.get().set(static_cast<double>(dead));
  std::set<metrics::LabelValues> without_receipt;
  for (const EndpointCount& c : counts->receipts_missing) {
    metrics_.messages_without_receipt.with({c.endpoint}).set(static_cast<double>(c.count));
    without_receipt.insert({c.endpoint});
  }
  for (const auto& gone : without_receipt_series_)
    if (!without_receipt.contains(gone)) metrics_.messages_without_receipt.with(gone).set(0);
  without_receipt_series_ = std::move(without_receipt);
}

namespace {

nlohmann::json summary_json(const MessageRecord& m) {
  nlohmann::json letters = nlohmann::json::array();
  for (const auto& l : m.letters)
    letters.push_back({{"id", l.letter_id}, {"type", to_string(l.type)}});
  nlohmann::json j{{"message_id", m.id},
                   {"envelope_id", m.envelope_id},
                   {"sender", {{"gln", m.sender_gln}, {"endpoint", m.sender_endpoint}}},
                   {"receiver", {{"gln", m.receiver_gln}, {"endpoint", m.receiver_endpoint}}},
                   {"letters", letters},
                   {"state", to_string(m.state)},
                   {"attempts", m.attempts},
                   {"receipt", to_string(m.receipt)},
                   {"receipt_requested", m.receipt_requested},
                   {"received_at", format_timestamp(m.received_at)}};
  if (m.state == DeliveryState::kPending)
    j["next_attempt_at"] = format_timestamp(m.next_attempt_at);
  if (!m.last_error.empty()) j["last_error"] = m.last_error;
  return j;
}

}  // namespace

HttpResponse Broker::list_messages(const HttpRequest& request,
                                   std::optional<DeliveryState> forced) {
  const auto query =
      parse_query(query_of(std::string_view(request.target().data(), request.target().size())));
  // Newest first (issue 12, item 14), paged on with before=<the last id shown>; after=<id> reads
  // forward instead, oldest first from that id (to follow what arrives).
  MessageFilter filter;
  filter.state = forced;
  filter.newest_first = true;
  bool before_given = false;
  for (const auto& [key, value] : query) {
    if (key == "state" && !forced) {
      filter.state = parse_delivery_state(value);
      if (!filter.state)
        return json_error(http::status::bad_request,
                          "state must be pending, delivered, refused or dead-lettered");
    } else if (key == "endpoint") {
      if (!directory_.by_id(value) && value != kBrokerEndpoint)
        return json_error(http::status::bad_request, "no endpoint with id '" + value + "'");
      filter.endpoint = value;
    } else if (key == "after") {
      const auto n = read_number(value, 0, std::numeric_limits<std::int64_t>::max());
      if (!n) return json_error(http::status::bad_request, "after must be a message id");
      filter.after_id = *n;
      filter.newest_first = false;
    } else if (key == "before") {
      const auto n = read_number(value, 1, std::numeric_limits<std::int64_t>::max());
      if (!n) return json_error(http::status::bad_request, "before must be a message id");
      filter.before_id = *n;
      before_given = true;
    } else if (key == "from" || key == "to") {
      // Search by the time received (issue 10): [from, to), instants with a zone.
      const auto t = parse_timestamp(value);
      if (!t)
        return json_error(http::status::bad_request,
                          key + " must be a time with a zone, e.g. 2026-11-20T09:30:00Z");
      (key == "from" ? filter.received_from : filter.received_to) = *t;
    } else if (key == "envelope") {
      if (value.empty() || value.size() > 64)
        return json_error(http::status::bad_request, "envelope must be an envelope id");
      filter.envelope_id = value;
    } else if (key == "receipt") {
      // Delivered messages whose receipt never came after the last resend (the MedCom alert).
      if (value != "missing")
        return json_error(http::status::bad_request, "receipt must be missing");
      filter.receipt_missing = true;
    } else if (key == "limit") {
      const auto n = read_number(value, 1, 1000);
      if (!n) return json_error(http::status::bad_request, "limit must be a number from 1 to 1000");
      filter.limit = static_cast<int>(*n);
    } else {
      return json_error(http::status::bad_request, "unknown parameter '" + key + "'");
    }
  }
  if (before_given && !filter.newest_first)
    return json_error(http::status::bad_request, "give before or after, not both");
  auto found = store_.list_messages(filter);
  if (!found) return json_error(http::status::service_unavailable, "store unavailable");
  nlohmann::json items = nlohmann::json::array();
  for (const auto& m : *found) items.push_back(summary_json(m));
  nlohmann::json body{{"messages", items}};
  if (static_cast<int>(found->size()) == filter.limit && !found->empty())
    body[filter.newest_first ? "next_before" : "next_after"] = found->back().id;
  return json_response(http::status::ok, body);
}

HttpResponse Broker::show_message(const std::string& sender_gln, const std::string& letter_id,
                                  std::optional<std::int64_t>& holds_cpr) {
  auto where = store_.find_letter(sender_gln, letter_id);
  if (!where) return json_error(http::status::service_unavailable, "store unavailable");
  if (!*where)
    return json_error(http::status::not_found, "no letter " + letter_id + " from " + sender_gln);
  auto message = store_.get_message((*where)->message_id);
  auto events = store_.timeline((*where)->message_id);
  if (!message || !*message || !events)
    return json_error(http::status::service_unavailable, "store unavailable");
  nlohmann::json j = summary_json(**message);
  if ((*message)->contains_cpr) holds_cpr = (*message)->id;
  // CPR numbers are masked in everything operators see (special-category personal data).
  if (auto envelope = decode_envelope((*message)->body)) {
    for (std::size_t i = 0; i < envelope->letters.size() && i < j["letters"].size(); ++i) {
      const Letter& l = envelope->letters[i];
      if (l.patient) j["letters"][i]["patient"] = mask_cpr(l.patient->cpr);
      j["letters"][i]["status"] = to_string(l.status);
    }
  }
  // In time order (issue 12, item 14): a receipt that came in a delivery's answer is committed
  // before the delivery's outcome, so the store's order of writing is not the order it happened.
  // At the same instant a receipt comes after what it answers.
  std::stable_sort(events->begin(), events->end(),
                   [](const MessageEvent& a, const MessageEvent& b) {
                     const auto receipt = [](const MessageEvent& e) {
                       return e.kind == "receipt" || e.kind.starts_with("receipt-");
                     };
                     return a.at != b.at ? a.at < b.at : !receipt(a) && receipt(b);
                   });
  nlohmann::json timeline = nlohmann::json::array();
  for (const auto& e : *events)
    timeline.push_back({{"at", format_timestamp(e.at)}, {"event", e.kind}, {"detail", e.detail}});
  j["timeline"] = timeline;
  for (const auto& l : (*message)->letters) {
    auto deadline = store_.find_deadline(DeadlineKey{(*message)->sender_gln, l.letter_id});
    if (deadline && *deadline) j["deadline"] = deadline_json(**deadline, clock_.now());
  }
  return json_response(http::status::ok, j);
}

asio::awaitable<HttpResponse> Broker::requeue(const std::string& sender_gln,
                                              const std::string& letter_id,
                                              const std::string& actor) {
  auto where = store_.find_letter(sender_gln, letter_id);
  if (!where) co_return json_error(http::status::service_unavailable, "store unavailable");
  if (!*where)
    co_return json_error(http::status::not_found, "no letter " + letter_id + " from " + sender_gln);
  const std::int64_t id = (*where)->message_id;
  const TimePoint now = clock_.now();
  auto who = std::make_shared<const std::string>(actor);
  auto node = std::make_shared<const std::string>(dispatcher_.node());
  const TimePoint leased = dispatcher_.lease_end();
  auto store_job = [id, now, who, node, leased](Store& store) -> Result<void> {
    auto requeued = store.requeue(id, now);
    if (!requeued) return requeued;
    // Leased afresh to this broker, which attempts it (issue 11, item 2).
    if (auto r = store.lease_delivery(id, *node, leased); !r) return r;
    return store.audit_action(now, *who, "requeue", "message " + std::to_string(id), "");
  };
  auto committing = commit<void>(writer_, std::move(store_job));
  auto done = co_await std::move(committing);
  metrics_.operator_requeues.with({done ? "requeued" : "refused"}).inc();
  if (!done) {
    const auto status = done.error().code == Errc::kConflict   ? http::status::conflict
                        : done.error().code == Errc::kNotFound ? http::status::not_found
                                                               : http::status::service_unavailable;
    co_return json_error(status, done.error().detail);
  }
  auto message = store_.get_message(id);
  if (message && *message)
    dispatcher_.schedule_leased(id, (*message)->receiver_endpoint, now, leased);
  log_info(actor + " requeued #" + std::to_string(id));
  co_return json_response(http::status::ok, {{"requeued", id}});
}

// POST /v1/messages/search-by-cpr {"cpr": "DDMMYY-SSSS", "before": <id>, "limit": <n>}: the
// messages whose letters name this citizen, newest first, through the citizen index (keyed
// hashes: Store::messages_of_citizen). Acting operators only (handle() refuses a read-only one:
// every POST is an act). Each search is on the audit chain before anything is answered — who,
// when, which messages it showed — never the CPR number, which is also never in an answer, an
// error text or the log. The number travels in the body, not the URL (URLs end up in logs).
asio::awaitable<HttpResponse> Broker::search_by_cpr(const HttpRequest& request,
                                                    const std::string& actor) {
  if (!citizen_keyer_)
    co_return json_error(http::status::not_implemented,
                         "CPR search is not configured: the broker has no citizen index key "
                         "(privacy.cpr_index_key_file)");
  const auto body = nlohmann::json::parse(request.body(), nullptr, false);
  if (!body.is_object() || !body.contains("cpr") || !body["cpr"].is_string())
    co_return json_error(http::status::bad_request,
                         "send a JSON object {\"cpr\": \"DDMMYY-SSSS\"} (optional: before, limit)");
  std::int64_t before = 0;
  int limit = 50;
  for (const auto& [key, value] : body.items()) {
    if (key == "cpr") continue;
    if (key == "before" && value.is_number_integer() && value.get<std::int64_t>() > 0) {
      before = value.get<std::int64_t>();
    } else if (key == "limit" && value.is_number_integer() && value.get<std::int64_t>() >= 1 &&
               value.get<std::int64_t>() <= 200) {
      limit = static_cast<int>(value.get<std::int64_t>());
    } else {
      co_return json_error(http::status::bad_request,
                           "before must be a message id and limit a number from 1 to 200; no "
                           "other keys");
    }
  }
  const auto key = citizen_keyer_->key_of(body["cpr"].get<std::string>());
  if (!key)
    co_return json_error(http::status::bad_request,
                         "cpr must be ten digits, DDMMYYSSSS or DDMMYY-SSSS");
  auto ids = store_.messages_of_citizen(*key, before, limit);
  if (!ids) co_return json_error(http::status::service_unavailable, "store unavailable");
  std::string shown;
  for (const std::int64_t id : *ids) shown += (shown.empty() ? "" : ", ") + std::to_string(id);
  const TimePoint now = clock_.now();
  auto who = std::make_shared<const std::string>(actor);
  auto detail = std::make_shared<const std::string>(ids->empty() ? std::string("no messages found")
                                                                 : "showed messages " + shown);
  auto store_job = [who, detail, now](Store& store) {
    return store.audit_action(now, *who, "search-by-cpr", "citizen index", *detail);
  };
  auto committing = commit<void>(writer_, std::move(store_job));
  auto recorded = co_await std::move(committing);
  if (!recorded)
    co_return json_error(http::status::service_unavailable, "audit record unavailable");
  log_info(actor + " searched by CPR: " + std::to_string(ids->size()) + " message(s)");
  nlohmann::json items = nlohmann::json::array();
  for (const std::int64_t id : *ids) {
    auto message = store_.get_message(id);
    if (!message) co_return json_error(http::status::service_unavailable, "store unavailable");
    if (*message) items.push_back(summary_json(**message));
  }
  nlohmann::json answer{{"messages", items}};
  if (static_cast<int>(ids->size()) == limit && !ids->empty()) answer["next_before"] = ids->back();
  co_return json_response(http::status::ok, answer);
}

// GET /v1/letters/<letter id>: every message holding a letter with that id. Letter ids are
// unique per sender only, so this asks each configured sender (an indexed lookup apiece).
HttpResponse Broker::find_letters(const std::string& letter_id) {
  nlohmann::json items = nlohmann::json::array();
  std::vector<std::string> senders{config_.identity.gln};
  for (const auto& e : directory_.all()) senders.push_back(e.party.gln);
  for (const auto& gln : senders) {
    auto where = store_.find_letter(gln, letter_id);
    if (!where) return json_error(http::status::service_unavailable, "store unavailable");
    if (!*where) continue;
    auto message = store_.get_message((*where)->message_id);
    if (message && *message) items.push_back(summary_json(**message));
  }
  return json_response(http::status::ok, {{"letter_id", letter_id}, {"messages", items}});
}

// GET /v1/deadlines?view=open|due-soon|overdue|answered-late|all&endpoint=&form=&kind=
//                   &older_than_days=&within_days=&limit=&offset=
HttpResponse Broker::list_deadlines(const HttpRequest& request) {
  const TimePoint now = clock_.now();
  DeadlineFilter filter;
  filter.now = now;
  std::string view = "open";
  int within_days = 2;
  for (const auto& [key, value] :
       parse_query(query_of(std::string_view(request.target().data(), request.target().size())))) {
    if (key == "view") {
      view = value;
    } else if (key == "endpoint") {
      if (!directory_.by_id(value))
        return json_error(http::status::bad_request, "no endpoint with id '" + value + "'");
      filter.endpoint = value;
    } else if (key == "form") {
      if (!find_form(value))
        return json_error(http::status::bad_request, "unknown form '" + value + "'");
      filter.form = value;
    } else if (key == "kind") {
      filter.kind = parse_deadline_kind(value);
      if (!filter.kind)
        return json_error(http::status::bad_request, "kind must be certificate or mentor-response");
    } else if (key == "older_than_days") {
      const auto n = read_number(value, 0, 3650);
      if (!n) return json_error(http::status::bad_request, "older_than_days must be 0 to 3650");
      filter.opened_before = now - std::chrono::days{*n};
    } else if (key == "within_days") {
      const auto n = read_number(value, 0, 365);
      if (!n) return json_error(http::status::bad_request, "within_days must be 0 to 365");
      within_days = static_cast<int>(*n);
    } else if (key == "limit") {
      const auto n = read_number(value, 1, 1000);
      if (!n) return json_error(http::status::bad_request, "limit must be a number from 1 to 1000");
      filter.limit = static_cast<int>(*n);
    } else if (key == "offset") {
      const auto n = read_number(value, 0, 100'000'000);
      if (!n) return json_error(http::status::bad_request, "offset must be a number");
      filter.offset = static_cast<int>(*n);
    } else {
      return json_error(http::status::bad_request, "unknown parameter '" + key + "'");
    }
  }
  if (view == "open") {
    filter.state = DeadlineState::kOpen;
  } else if (view == "due-soon") {
    filter.state = DeadlineState::kOpen;
    filter.due_before = now + std::chrono::days{within_days};
  } else if (view == "overdue") {
    filter.state = DeadlineState::kOpen;
    filter.overdue_only = true;
  } else if (view == "answered-late") {
    filter.state = DeadlineState::kAnsweredLate;
  } else if (view != "all") {
    return json_error(http::status::bad_request,
                      "view must be open, due-soon, overdue, answered-late or all");
  }
  auto found = store_.list_deadlines(filter);
  if (!found) return json_error(http::status::service_unavailable, "store unavailable");
  nlohmann::json items = nlohmann::json::array();
  for (const auto& d : *found) items.push_back(deadline_json(d, now));
  return json_response(http::status::ok,
                       {{"view", view}, {"now", format_timestamp(now)}, {"deadlines", items}});
}

// GET /v1/stats/certificates?from=YYYY-MM&to=YYYY-MM&format=json|csv (to is inclusive)
namespace {

// The operators' figures (deadline_stats.hpp) as counted, as JSON or CSV. Pure: runs on the
// reports worker.
HttpResponse statistics_response(const DeadlineStatsCounter& counted, const std::string& from,
                                 const std::string& to, const std::string& format) {
  if (counted.kind() == DeadlineKind::kCertificate) {
    const auto rows = counted.certificate_rows();
    if (format == "csv")
      return make_response(http::status::ok, certificate_stats_csv(rows), "text/csv");
    nlohmann::json items = nlohmann::json::array();
    for (const auto& r : rows) {
      nlohmann::json row = figures_json(r.replies);
      row["unit"] = r.unit;
      row["month"] = month_text(r.month);
      items.push_back(row);
    }
    return json_response(http::status::ok, {{"from", from}, {"to", to}, {"rows", items}});
  }
  const auto rows = counted.mentor_rows();
  if (format == "csv") return make_response(http::status::ok, mentor_stats_csv(rows), "text/csv");
  nlohmann::json items = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json row = figures_json(r.replies);
    row["jobcenter"] = r.jobcenter;
    row["month"] = month_text(r.month);
    row["median_lead_time_days"] = r.median_lead_time_days
                                       ? nlohmann::json(*r.median_lead_time_days)
                                       : nlohmann::json(nullptr);
    row["notices_after_discharge"] = r.notices_after_discharge;
    row["share_after_discharge"] = r.share_after_discharge
                                       ? nlohmann::json(*r.share_after_discharge)
                                       : nlohmann::json(nullptr);
    items.push_back(row);
  }
  return json_response(http::status::ok, {{"from", from}, {"to", to}, {"rows", items}});
}

}  // namespace

// The months' deadlines are read and counted on reports_, not here: a year of them is ~150,000
// rows at the scale bench's million deadlines, ~0.6 s of reading and counting that held up
// intake and delivery on the io thread (docs/performance.md, "Statistics off the io thread").
asio::awaitable<HttpResponse> Broker::statistics(const HttpRequest& request, DeadlineKind kind) {
  const TimePoint now = clock_.now();
  const Date today = copenhagen_date(now);
  std::string from = month_text(today.year() / today.month() - std::chrono::months{11});
  std::string to = month_text(today.year() / today.month());
  std::string format = "json";
  for (const auto& [key, value] :
       parse_query(query_of(std::string_view(request.target().data(), request.target().size())))) {
    if (key == "from") {
      from = value;
    } else if (key == "to") {
      to = value;
    } else if (key == "format" && (value == "json" || value == "csv")) {
      format = value;
    } else {
      co_return json_error(http::status::bad_request,
                           "parameters: from=YYYY-MM, to=YYYY-MM, format=json|csv");
    }
  }
  const auto begin = month_start(from);
  const auto last = month_start(to);
  if (!begin || !last || *last < *begin)
    co_return json_error(http::status::bad_request,
                         "from and to must be months YYYY-MM, from <= to");
  const Date last_day = copenhagen_date(*last);
  const auto after = last_day.year() / last_day.month() + std::chrono::months{1};
  const TimePoint end = *month_start(month_text(after));
  auto reporting = run_on<HttpResponse>(
      reports_.get_executor(),
      [&store = store_, begin = *begin, end, kind, now, from, to, format]() -> HttpResponse {
        DeadlineStatsCounter counter(kind, now);
        auto read = store.each_deadline_opened_between(
            begin, end, [&counter](const Deadline& d) { counter.add(d); });
        if (!read) return json_error(http::status::service_unavailable, "store unavailable");
        return statistics_response(counter, from, to, format);
      });
  co_return co_await std::move(reporting);
}

// POST /v1/test/clock/advance?seconds=N — manual clock only. Answers after the deadline sweep
// and the deliveries that fell due have been started, so a test can look at the result.
asio::awaitable<HttpResponse> Broker::advance_clock(const HttpRequest& request) {
  const auto query =
      parse_query(query_of(std::string_view(request.target().data(), request.target().size())));
  const auto it = query.find("seconds");
  const auto seconds =
      it == query.end() ? std::nullopt : read_number(it->second, 0, 10LL * 365 * 24 * 3600);
  if (!seconds) co_return json_error(http::status::bad_request, "seconds=N is required");
  manual_clock_->advance(std::chrono::seconds{*seconds});
  log_warn("manual clock advanced by " + std::to_string(*seconds) + " s to " +
           format_timestamp(clock_.now()));
  dispatcher_.pump();
  auto sweeping = sweeper_.sweep();
  co_await std::move(sweeping);
  co_return json_response(http::status::ok, {{"now", format_timestamp(clock_.now())}});
}

}  // namespace sektorbro
