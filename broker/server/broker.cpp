#include "broker/server/broker.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "broker/codec/codec.hpp"
#include "broker/codec/validation.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/core/log.hpp"
#include "broker/delivery/retry_policy.hpp"
#include "broker/http/async_bridge.hpp"

namespace sektorbro {
namespace {

constexpr std::string_view kXml = "application/xml; charset=utf-8";
constexpr std::string_view kJson = "application/json";
constexpr std::string_view kBrokerEndpoint = "broker";

// Where each kind of refusal leads: the HTTP status of the answer and the MedCom refuse code of
// the network negative receipt in it (domain.md §3).
http::status status_for(Errc code) {
  switch (code) {
    case Errc::kMalformed:
      return http::status::bad_request;
    case Errc::kTooLarge:
      return http::status::payload_too_large;
    case Errc::kUnknownSender:
      return http::status::forbidden;
    case Errc::kDuplicateConflict:
      return http::status::conflict;
    case Errc::kConflict:
      return http::status::conflict;
    case Errc::kStorage:
      return http::status::service_unavailable;
    default:
      return http::status::unprocessable_entity;
  }
}

RefuseCode refuse_code_for(Errc code) {
  switch (code) {
    case Errc::kMalformed:
    case Errc::kInvalid:
      return RefuseCode::kSyntaxError;
    case Errc::kUnknownReceiver:
      return RefuseCode::kUnknownLocation;
    case Errc::kReceiverMismatch:
      return RefuseCode::kReceiverIdProblem;
    case Errc::kUnsupportedType:
      return RefuseCode::kVersionProblem;
    default:
      return RefuseCode::kUnspecified;
  }
}

std::string base36(std::uint64_t v, std::size_t width) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out(width, '0');
  for (std::size_t i = width; i-- > 0;) {
    out[i] = kDigits[v % 36];
    v /= 36;
  }
  return out;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < query.size()) {
    const std::size_t end = std::min(query.find('&', start), query.size());
    const std::string_view item = query.substr(start, end - start);
    const std::size_t eq = item.find('=');
    if (!item.empty()) {
      out[percent_decode(item.substr(0, eq))] =
          eq == std::string_view::npos ? "" : percent_decode(item.substr(eq + 1));
    }
    start = end + 1;
  }
  return out;
}

HttpResponse json_response(http::status status, const nlohmann::json& body) {
  return make_response(status, body.dump(2) + "\n", std::string(kJson));
}

HttpResponse json_error(http::status status, std::string_view message) {
  return json_response(status, nlohmann::json{{"error", message}});
}

struct LogExceptions {
  void operator()(const std::exception_ptr& e) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log_error(std::string("internal error in a background task: ") + ex.what());
    }
  }
};

std::string letter_ids(const std::vector<NewLetter>& letters) {
  std::string out;
  for (const auto& l : letters) {
    if (!out.empty()) out += ',';
    out += l.letter_id;
  }
  return out;
}

}  // namespace

Broker::Broker(asio::io_context& io, const BrokerConfig& config, Store& store,
               GroupCommitWriter& writer, Transport& transport, const Clock& clock)
    : io_(io),
      config_(config),
      store_(store),
      writer_(writer),
      transport_(transport),
      clock_(clock),
      directory_(config.endpoints),
      queue_(config.delivery.per_endpoint_concurrency),
      timer_(io),
      random_state_(static_cast<std::uint64_t>(to_millis(clock.now())) | 1) {}

Result<void> Broker::start() {
  auto pending = store_.pending_deliveries();
  if (!pending) return pending.error();
  for (const auto& p : *pending)
    queue_.schedule(p.message_id, p.receiver_endpoint, p.next_attempt_at);
  log_info("broker ready: " + std::to_string(pending->size()) + " pending deliveries resumed, " +
           std::to_string(directory_.all().size()) + " endpoints");
  ready_ = true;
  asio::post(io_, [this] { pump(); });
  return {};
}

void Broker::stop() {
  stopping_ = true;
  timer_.cancel();
}

std::string Broker::next_broker_id() {
  // "SB" + 8 base-36 digits of the millisecond clock + 2 of a counter: 12 characters, within
  // MedCom's 14, unique while fewer than 1,296 ids are made in one millisecond.
  const auto ms = static_cast<std::uint64_t>(to_millis(clock_.now()));
  return "SB" + base36(ms, 8) + base36(id_counter_++ % 1296, 2);
}

// Not a coroutine itself (GCC 12 mishandles non-trivial coroutine parameters such as lambdas):
// it returns the awaitable that resumes once the writer has committed the job's group.
template <typename T, typename Op>
asio::awaitable<Result<T>> Broker::write(Op op) {
  auto shared_op = std::make_shared<Op>(std::move(op));
  return await_callback<Result<T>>([this, shared_op](auto done) {
    auto out = std::make_shared<std::optional<Result<T>>>();
    writer_.submit(GroupCommitWriter::Job{
        [shared_op, out](Store& store) { out->emplace((*shared_op)(store)); },
        [out, done](const Result<void>& committed) mutable {
          if (!committed) {
            done(Result<T>(committed.error()));
          } else {
            done(std::move(**out));
          }
        }});
  });
}

// ---------------------------------------------------------------------------------------------
// Receiving

Broker::Answer Broker::refuse(TimePoint now, const Envelope* envelope, const Error& error,
                              std::string_view via) {
  Envelope receipt;
  receipt.id = next_broker_id();
  receipt.sent = now;
  receipt.positive_receipt_requested = false;  // receipts are never receipted
  Letter letter;
  letter.id = receipt.id;
  letter.status = LetterStatus::kNew;
  letter.authorised = now;
  letter.sender = config_.identity;
  // Whom the receipt is for: the sender named in the envelope when it could be read at all.
  letter.receiver =
      (envelope && !envelope->letters.empty()) ? envelope->sender() : config_.identity;
  NegativeReceipt body;
  body.level = ReceiptLevel::kNetwork;  // written by the broker itself, like MedCom's XCTL01
  body.code = refuse_code_for(error.code);
  body.text = error.detail;
  body.original.original_envelope_id = envelope ? envelope->id : "ukendt";
  if (envelope)
    for (const auto& l : envelope->letters) body.original.original_letter_ids.push_back(l.id);
  letter.body = std::move(body);
  receipt.letters.push_back(std::move(letter));

  const std::string what = std::string(errc_name(error.code)) + " envelope " +
                           (envelope ? envelope->id : std::string("?")) + " via " +
                           std::string(via) + ": " + error.detail;
  log_warn("refused " + what);
  writer_.submit(
      GroupCommitWriter::Job{[now, what](Store& store) { (void)store.audit(now, "refused", what); },
                             [](const Result<void>&) {}});
  return Answer{status_for(error.code), encode_envelope(receipt)};
}

Result<std::vector<Broker::ReceiptMatch>> Broker::check_references(const Envelope& envelope) {
  std::vector<ReceiptMatch> matches;
  const std::string& sender = envelope.sender().gln;
  const std::string& receiver = envelope.receiver().gln;
  // `owner` sent letter `id` to the sender of this envelope, and it has type `want` (if given).
  auto expect = [&](std::size_t index, const std::string& id,
                    std::optional<LetterType> want) -> Result<LetterLocation> {
    const std::string where = "Letter[" + std::to_string(index + 1) + "]";
    auto found = store_.find_letter(receiver, id);
    if (!found) return found.error();
    if (!*found || (*found)->receiver_gln != sender) {
      return make_error(Errc::kUnknownReference, where + ": refers to letter " + id + " which " +
                                                     receiver + " did not send to " + sender);
    }
    if (want && (*found)->type != *want) {
      return make_error(Errc::kUnknownReference, where + ": letter " + id + " is a " +
                                                     std::string(to_string((*found)->type)) +
                                                     ", expected a " +
                                                     std::string(to_string(*want)));
    }
    return **found;
  };
  for (std::size_t i = 0; i < envelope.letters.size(); ++i) {
    const Letter& letter = envelope.letters[i];
    if (const auto* c = std::get_if<Certificate>(&letter.body)) {
      auto r = expect(i, c->request_letter_id, LetterType::kCertificateRequest);
      if (!r) return r.error();
    } else if (const auto* m = std::get_if<MentorResponse>(&letter.body)) {
      auto r = expect(i, m->notice_letter_id, LetterType::kDischargeNotice);
      if (!r) return r.error();
    } else if (is_receipt(letter.type())) {
      const bool positive = letter.type() == LetterType::kPositiveReceipt;
      const ReceiptReference& ref = positive ? std::get<PositiveReceipt>(letter.body).original
                                             : std::get<NegativeReceipt>(letter.body).original;
      if (ref.original_letter_ids.empty()) {
        return make_error(Errc::kUnknownReference, "Letter[" + std::to_string(i + 1) +
                                                       "]: a receipt must name the letters it "
                                                       "answers");
      }
      for (const auto& id : ref.original_letter_ids) {
        auto r = expect(i, id, std::nullopt);
        if (!r) return r.error();
        std::string detail = std::string(positive ? "positive" : "negative") + " receipt " +
                             letter.id + " from " + sender;
        if (!positive) {
          const auto& n = std::get<NegativeReceipt>(letter.body);
          detail += " (" + std::string(to_string(n.code)) + ")";
        }
        const bool seen = std::any_of(
            matches.begin(), matches.end(),
            [&](const ReceiptMatch& match) { return match.message_id == r->message_id; });
        if (!seen) {
          matches.push_back({r->message_id,
                             positive ? ReceiptState::kPositive : ReceiptState::kNegative, detail});
        }
      }
    }
  }
  return matches;
}

asio::awaitable<Broker::Answer> Broker::ingest(std::string bytes, std::string_view via) {
  const TimePoint now = clock_.now();
  auto decoded = decode_envelope(bytes);
  if (!decoded) co_return refuse(now, nullptr, decoded.error(), via);
  const Envelope& envelope = *decoded;
  if (auto valid = validate_envelope(envelope, now); !valid)
    co_return refuse(now, &envelope, valid.error(), via);
  auto route = route_envelope(envelope, directory_);
  if (!route) co_return refuse(now, &envelope, route.error(), via);
  auto matches = check_references(envelope);
  if (!matches) co_return refuse(now, &envelope, matches.error(), via);

  NewMessage message;
  message.envelope_id = envelope.id;
  message.sender_gln = envelope.sender().gln;
  message.receiver_gln = envelope.receiver().gln;
  message.sender_endpoint = route->sender->id;
  message.receiver_endpoint = route->receiver->id;
  message.receipt_requested = envelope.positive_receipt_requested;
  message.received_at = now;
  Acceptance acceptance{envelope.id, envelope.sender().gln, {}, now};
  for (const auto& letter : envelope.letters) {
    message.letters.push_back({letter.id, letter.type(), sha256_hex(encode_letter(letter))});
    message.contains_cpr = message.contains_cpr || letter.patient.has_value();
    acceptance.letter_ids.push_back(letter.id);
  }
  message.body = encode_envelope(envelope);
  message.acceptance = encode_acceptance(acceptance);

  // GCC 12 destroys temporaries in a statement with co_await twice: every awaitable is built
  // in a statement of its own, and only a named local is awaited (see docs/architecture.md).
  auto shared_message = std::make_shared<const NewMessage>(std::move(message));
  auto shared_matches = std::make_shared<const std::vector<ReceiptMatch>>(std::move(*matches));
  auto store_job = [shared_message, shared_matches, now](Store& store) -> Result<AcceptOutcome> {
    auto accepted = store.accept(*shared_message);
    if (accepted && accepted->kind == AcceptOutcome::Kind::kStored) {
      for (const auto& m : *shared_matches) {
        auto r = store.set_receipt(m.message_id, m.state,
                                   MessageEvent{m.message_id, now, "receipt", m.detail});
        if (!r) return r.error();
      }
    }
    return accepted;
  };
  auto committing = write<AcceptOutcome>(std::move(store_job));
  auto outcome = co_await std::move(committing);
  if (!outcome) {
    log_error("store failed, envelope " + envelope.id + " not accepted: " + outcome.error().detail);
    co_return Answer{http::status::service_unavailable,
                     refuse(now, &envelope,
                            make_error(Errc::kStorage,
                                       "the broker could not store "
                                       "the message; send it again"),
                            via)
                         .body};
  }
  const NewMessage& message_stored = *shared_message;
  switch (outcome->kind) {
    case AcceptOutcome::Kind::kStored:
      log_info("accepted envelope " + envelope.id + " (" + letter_ids(message_stored.letters) +
               ") from " + message_stored.sender_endpoint + " for " +
               message_stored.receiver_endpoint + " as #" + std::to_string(outcome->message_id));
      queue_.schedule(outcome->message_id, message_stored.receiver_endpoint, now);
      pump();
      co_return Answer{http::status::accepted, message_stored.acceptance, true, false};
    case AcceptOutcome::Kind::kDuplicate:
      log_info("duplicate envelope " + envelope.id + " from " + message_stored.sender_endpoint +
               ": answered as #" + std::to_string(outcome->message_id) + " was");
      co_return Answer{http::status::accepted, outcome->acceptance, false, true};
    case AcceptOutcome::Kind::kConflict:
      co_return refuse(now, &envelope,
                       make_error(Errc::kDuplicateConflict,
                                  "letter id " + outcome->conflicting_letter_id +
                                      " was already used by this sender for different content"),
                       via);
    case AcceptOutcome::Kind::kMixed:
      co_return refuse(now, &envelope,
                       make_error(Errc::kDuplicateConflict,
                                  "the envelope mixes letters already received with new ones; "
                                  "resend the original envelope's letters unchanged, new letters "
                                  "in an envelope of their own"),
                       via);
  }
  co_return refuse(now, &envelope, make_error(Errc::kStorage, "unexpected store outcome"), via);
}

// ---------------------------------------------------------------------------------------------
// Delivering

void Broker::pump() {
  if (stopping_) return;
  for (const auto& due : queue_.take_due(clock_.now()))
    asio::co_spawn(io_, attempt(due.message_id), LogExceptions{});
  arm_timer();
}

void Broker::arm_timer() {
  timer_.cancel();
  const auto next = queue_.next_due();
  if (!next || stopping_) return;
  // Wake at least once a minute so a clock that jumps is noticed.
  const Duration delay =
      std::clamp<Duration>(*next - clock_.now(), Duration{0}, std::chrono::minutes{1});
  timer_.expires_after(delay);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) pump();
  });
}

asio::awaitable<void> Broker::attempt(std::int64_t message_id) {
  auto loaded = store_.get_message(message_id);
  if (!loaded || !*loaded) {
    log_error("delivery of #" + std::to_string(message_id) +
              " skipped: " + (loaded ? std::string("message not found") : loaded.error().detail));
    queue_.finished(message_id);
    pump();
    co_return;
  }
  const MessageRecord message = std::move(**loaded);
  if (message.state != DeliveryState::kPending) {  // e.g. a requeue raced with an attempt
    queue_.finished(message_id);
    pump();
    co_return;
  }
  const Endpoint* receiver = directory_.by_id(message.receiver_endpoint);
  const int attempts = message.attempts + 1;
  TransportResponse response;
  if (receiver) {
    OutboundRequest request{receiver->url, message.body, std::string(kXml),
                            config_.delivery.timeout};
    auto shared_request = std::make_shared<OutboundRequest>(std::move(request));
    auto start_transfer = [this, shared_request](auto done) {
      transport_.post(std::move(*shared_request), std::move(done));
    };
    auto transfer = await_callback<TransportResponse>(std::move(start_transfer));
    response = co_await std::move(transfer);
  } else {
    response.error = "endpoint " + message.receiver_endpoint + " is no longer configured";
  }
  const TimePoint now = clock_.now();

  // A receipt may come back in the response (MedCom: the receiving system's receipt). Receipts
  // themselves are never receipted, and broker-written messages get none.
  const bool expects_receipt =
      !is_receipt(message.letters.front().type) && message.sender_endpoint != kBrokerEndpoint;
  bool negative_in_body = false;
  bool receipt_relayed = false;
  if (expects_receipt && receiver && !response.body.empty() && response.http_status >= 200 &&
      response.http_status < 500) {
    auto envelope = decode_envelope(response.body);
    const bool receipts_only =
        envelope && std::all_of(envelope->letters.begin(), envelope->letters.end(),
                                [](const Letter& l) { return is_receipt(l.type()); });
    if (receipts_only && envelope->sender().gln == receiver->party.gln) {
      negative_in_body =
          std::any_of(envelope->letters.begin(), envelope->letters.end(),
                      [](const Letter& l) { return l.type() == LetterType::kNegativeReceipt; });
      auto ingesting = ingest(response.body, receiver->id);
      const Answer answer = co_await std::move(ingesting);
      receipt_relayed = answer.stored || answer.duplicate;
    } else {
      log_warn("delivery of #" + std::to_string(message_id) + " to " + receiver->id +
               ": response body is not a receipt from the receiver; ignored");
    }
  }

  AttemptResult result = classify_http_status(response.http_status);
  if (result == AttemptResult::kDelivered && negative_in_body) result = AttemptResult::kRefused;
  const double random01 = [this] {
    random_state_ ^= random_state_ << 13;
    random_state_ ^= random_state_ >> 7;
    random_state_ ^= random_state_ << 17;
    return static_cast<double>(random_state_ >> 11) / static_cast<double>(1ULL << 53);
  }();
  const RetryDecision decision = decide_after_attempt(config_.delivery.retry, result, attempts,
                                                      message.received_at, now, random01);
  const std::string outcome_text = response.http_status != 0
                                       ? "HTTP " + std::to_string(response.http_status)
                                       : (response.error.empty() ? "no response" : response.error);
  DeliveryState state = DeliveryState::kPending;
  TimePoint next_at = now;
  std::string kind;
  std::string detail = "attempt " + std::to_string(attempts) + " to " + message.receiver_endpoint +
                       ": " + outcome_text + (negative_in_body ? " with a negative receipt" : "");
  std::string last_error;
  if (result == AttemptResult::kDelivered) {
    state = DeliveryState::kDelivered;
    kind = "delivered";
  } else if (result == AttemptResult::kRefused) {
    state = DeliveryState::kRefused;
    kind = "refused";
    last_error = outcome_text;
  } else if (decision.step == NextStep::kRetry) {
    kind = "attempt-failed";
    next_at = *decision.retry_at;
    detail += "; next attempt at " + format_timestamp(next_at);
    last_error = outcome_text;
  } else {
    state = DeliveryState::kDeadLettered;
    kind = "dead-lettered";
    detail += "; giving up";
    last_error = outcome_text;
  }
  auto event = std::make_shared<const MessageEvent>(MessageEvent{message_id, now, kind, detail});
  auto error_text = std::make_shared<const std::string>(last_error);
  auto store_job = [event, error_text, state, attempts, next_at](Store& store) {
    return store.update_delivery(event->message_id, state, attempts, next_at, *error_text, *event);
  };
  auto committing = write<void>(std::move(store_job));
  auto written = co_await std::move(committing);
  queue_.finished(message_id);
  if (!written) {
    // Nothing recorded: try again later, as if the attempt had failed. The receiver may see the
    // message twice; MedCom receivers drop duplicates by letter id (domain.md §3).
    log_error("could not record delivery of #" + std::to_string(message_id) + ": " +
              written.error().detail);
    queue_.schedule(message_id, message.receiver_endpoint,
                    now + backoff_delay(config_.delivery.retry, attempts));
  } else {
    (state == DeliveryState::kPending ? log_warn : log_info)("#" + std::to_string(message_id) +
                                                             " " + kind + ": " + detail);
    if (state == DeliveryState::kPending)
      queue_.schedule(message_id, message.receiver_endpoint, next_at);
    if (state == DeliveryState::kRefused && expects_receipt && !receipt_relayed) {
      const std::string reason =
          message.receiver_endpoint + " refused the delivery: " + outcome_text;
      auto relaying = relay_refusal(message, reason);
      co_await std::move(relaying);
    }
  }
  pump();
}

asio::awaitable<void> Broker::relay_refusal(const MessageRecord& original,
                                            const std::string& reason) {
  const Endpoint* sender = directory_.by_id(original.sender_endpoint);
  if (!sender) co_return;
  const TimePoint now = clock_.now();
  Envelope receipt;
  receipt.id = next_broker_id();
  receipt.sent = now;
  Letter letter;
  letter.id = receipt.id;
  letter.authorised = now;
  letter.sender = config_.identity;
  letter.receiver = sender->party;
  NegativeReceipt body;
  body.level = ReceiptLevel::kNetwork;
  body.code = RefuseCode::kUnspecified;
  body.text = reason;
  body.original.original_envelope_id = original.envelope_id;
  for (const auto& l : original.letters) body.original.original_letter_ids.push_back(l.letter_id);
  letter.body = std::move(body);
  receipt.letters.push_back(letter);

  NewMessage message;
  message.envelope_id = receipt.id;
  message.sender_gln = config_.identity.gln;
  message.receiver_gln = sender->party.gln;
  message.sender_endpoint = std::string(kBrokerEndpoint);
  message.receiver_endpoint = sender->id;
  message.letters.push_back({letter.id, letter.type(), sha256_hex(encode_letter(letter))});
  message.body = encode_envelope(receipt);
  message.acceptance = encode_acceptance({receipt.id, config_.identity.gln, {letter.id}, now});
  message.received_at = now;
  const std::int64_t original_id = original.id;
  auto shared_message = std::make_shared<const NewMessage>(std::move(message));
  auto event = std::make_shared<const MessageEvent>(
      MessageEvent{original_id, now, "receipt",
                   "negative receipt " + letter.id + " written by the broker: " + reason});
  auto store_job = [shared_message, event](Store& store) -> Result<AcceptOutcome> {
    auto accepted = store.accept(*shared_message);
    if (accepted && accepted->kind == AcceptOutcome::Kind::kStored) {
      auto r = store.set_receipt(event->message_id, ReceiptState::kNegative, *event);
      if (!r) return r.error();
    }
    return accepted;
  };
  auto committing = write<AcceptOutcome>(std::move(store_job));
  auto stored = co_await std::move(committing);
  if (stored && stored->kind == AcceptOutcome::Kind::kStored) {
    queue_.schedule(stored->message_id, sender->id, now);
  } else {
    log_error("could not store the negative receipt for #" + std::to_string(original_id));
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

asio::awaitable<HttpResponse> Broker::handle(HttpRequest request) {
  const std::string target(request.target());
  const std::string path = target.substr(0, target.find('?'));
  const std::vector<std::string> parts = split_path(path);
  try {
    if (parts.size() < 2 || parts[0] != "v1")
      co_return json_error(http::status::not_found, "no such resource");
    if (parts[1] == "health" && parts.size() == 2) {
      if (request.method() != http::verb::get)
        co_return json_error(http::status::method_not_allowed, "use GET");
      if (!ready_) co_return json_error(http::status::service_unavailable, "starting");
      co_return json_response(http::status::ok, {{"status", "ready"},
                                                 {"waiting_deliveries", queue_.waiting()},
                                                 {"deliveries_in_flight", queue_.in_flight()},
                                                 {"commit_groups", writer_.batches_committed()},
                                                 {"commit_jobs", writer_.jobs_committed()}});
    }
    if (parts[1] == "messages" && parts.size() == 2 && request.method() == http::verb::post) {
      if (!ready_) co_return json_error(http::status::service_unavailable, "starting");
      const auto type = request[http::field::content_type];
      if (!type.empty() && type.find("xml") == std::string_view::npos) {
        co_return json_error(http::status::unsupported_media_type,
                             "send the message as application/xml");
      }
      auto ingesting = ingest(std::move(request.body()), "http");
      Answer answer = co_await std::move(ingesting);
      co_return make_response(answer.status, std::move(answer.body), std::string(kXml));
    }
    auto handling = handle_operator(request, parts);
    co_return co_await std::move(handling);
  } catch (const std::exception& e) {
    log_error(std::string("internal error handling a request: ") + e.what());
    co_return json_error(http::status::internal_server_error, "internal error");
  }
}

asio::awaitable<HttpResponse> Broker::handle_operator(const HttpRequest& request,
                                                      const std::vector<std::string>& parts) {
  const bool get = request.method() == http::verb::get;
  const bool post = request.method() == http::verb::post;
  if (parts[1] == "messages") {
    if (parts.size() == 2 && get) co_return list_messages(request, std::nullopt);
    if (parts.size() == 4 && get) co_return show_message(parts[2], parts[3]);
    if (parts.size() == 5 && parts[4] == "requeue" && post) {
      auto requeueing = requeue(parts[2], parts[3]);
      co_return co_await std::move(requeueing);
    }
  } else if (parts[1] == "dead-letters" && parts.size() == 2 && get) {
    co_return list_messages(request, DeliveryState::kDeadLettered);
  }
  co_return json_error(http::status::not_found, "no such resource");
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
  const std::string target(request.target());
  const auto q = target.find('?');
  const auto query =
      parse_query(q == std::string::npos ? "" : std::string_view(target).substr(q + 1));
  MessageFilter filter;
  filter.state = forced;
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
    } else if (key == "after" || key == "limit") {
      char* end = nullptr;
      const long long n = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 0 || (key == "limit" && (n < 1 || n > 1000)))
        return json_error(http::status::bad_request,
                          key + " must be a number" + (key == "limit" ? " from 1 to 1000" : ""));
      if (key == "after") {
        filter.after_id = n;
      } else {
        filter.limit = static_cast<int>(n);
      }
    } else {
      return json_error(http::status::bad_request, "unknown parameter '" + key + "'");
    }
  }
  auto found = store_.list_messages(filter);
  if (!found) return json_error(http::status::service_unavailable, "store unavailable");
  nlohmann::json items = nlohmann::json::array();
  for (const auto& m : *found) items.push_back(summary_json(m));
  nlohmann::json body{{"messages", items}};
  if (static_cast<int>(found->size()) == filter.limit && !found->empty())
    body["next_after"] = found->back().id;
  return json_response(http::status::ok, body);
}

HttpResponse Broker::show_message(const std::string& sender_gln, const std::string& letter_id) {
  auto where = store_.find_letter(sender_gln, letter_id);
  if (!where) return json_error(http::status::service_unavailable, "store unavailable");
  if (!*where)
    return json_error(http::status::not_found, "no letter " + letter_id + " from " + sender_gln);
  auto message = store_.get_message((*where)->message_id);
  auto events = store_.timeline((*where)->message_id);
  if (!message || !*message || !events)
    return json_error(http::status::service_unavailable, "store unavailable");
  nlohmann::json j = summary_json(**message);
  // CPR numbers are masked in everything operators see (special-category personal data).
  if (auto envelope = decode_envelope((*message)->body)) {
    for (std::size_t i = 0; i < envelope->letters.size() && i < j["letters"].size(); ++i) {
      const Letter& l = envelope->letters[i];
      if (l.patient) j["letters"][i]["patient"] = mask_cpr(l.patient->cpr);
      j["letters"][i]["status"] = to_string(l.status);
    }
  }
  nlohmann::json timeline = nlohmann::json::array();
  for (const auto& e : *events)
    timeline.push_back({{"at", format_timestamp(e.at)}, {"event", e.kind}, {"detail", e.detail}});
  j["timeline"] = timeline;
  return json_response(http::status::ok, j);
}

asio::awaitable<HttpResponse> Broker::requeue(const std::string& sender_gln,
                                              const std::string& letter_id) {
  auto where = store_.find_letter(sender_gln, letter_id);
  if (!where) co_return json_error(http::status::service_unavailable, "store unavailable");
  if (!*where)
    co_return json_error(http::status::not_found, "no letter " + letter_id + " from " + sender_gln);
  const std::int64_t id = (*where)->message_id;
  const TimePoint now = clock_.now();
  auto store_job = [id, now](Store& store) { return store.requeue(id, now); };
  auto committing = write<void>(std::move(store_job));
  auto done = co_await std::move(committing);
  if (!done) {
    const auto status = done.error().code == Errc::kConflict   ? http::status::conflict
                        : done.error().code == Errc::kNotFound ? http::status::not_found
                                                               : http::status::service_unavailable;
    co_return json_error(status, done.error().detail);
  }
  auto message = store_.get_message(id);
  if (message && *message) queue_.schedule(id, (*message)->receiver_endpoint, now);
  log_info("operator requeued #" + std::to_string(id));
  pump();
  co_return json_response(http::status::ok, {{"requeued", id}});
}

}  // namespace sektorbro
