#include "broker/server/broker.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "broker/codec/codec.hpp"
#include "broker/codec/validation.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/core/log.hpp"
#include "broker/delivery/retry_policy.hpp"
#include "broker/edge/edge_codec.hpp"
#include "broker/http/async_bridge.hpp"
#include "broker/server/http_util.hpp"

namespace sektorbro {
namespace {

constexpr std::string_view kXml = "application/xml; charset=utf-8";
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
               GroupCommitWriter& writer, Transport& transport, const Clock& clock,
               ManualClock* manual_clock)
    : io_(io),
      config_(config),
      store_(store),
      writer_(writer),
      transport_(transport),
      clock_(clock),
      manual_clock_(manual_clock),
      directory_(config.endpoints),
      queue_(config.delivery.per_endpoint_concurrency),
      calendar_(calendar_for(config.deadlines.policy)),
      timer_(io),
      sweep_timer_(io),
      random_state_(static_cast<std::uint64_t>(to_millis(clock.now())) | 1) {}

Result<void> Broker::start() {
  auto pending = store_.pending_deliveries();
  if (!pending) return pending.error();
  for (const auto& p : *pending)
    queue_.schedule(p.message_id, p.receiver_endpoint, p.next_attempt_at);
  log_info("broker ready: " + std::to_string(pending->size()) + " pending deliveries resumed, " +
           std::to_string(directory_.all().size()) + " endpoints");
  if (auto rebuilt = rebuild_receipt_watch(); !rebuilt) return rebuilt.error();
  // File drop (issue 4): each file in an endpoint's inbox goes the way of a POST from it; the
  // answer (acceptance or negative receipt, in the endpoint's dialect) is written beside it.
  for (const Endpoint& e : directory_.all()) {
    if (e.inbox.empty()) continue;
    InboxOptions options;
    options.folder = e.inbox;
    options.max_file_bytes = config_.limits.max_body_bytes;
    options.drain_timeout = std::chrono::seconds{1};
    const std::string id = e.id;
    auto watcher = InboxWatcher::start(options, [this, id](std::string bytes, FileAnswerFn answer) {
      auto shared_bytes = std::make_shared<std::string>(std::move(bytes));
      auto shared_answer = std::make_shared<FileAnswerFn>(std::move(answer));
      asio::post(io_, [this, id, shared_bytes, shared_answer] {
        asio::co_spawn(io_, ingest_file(id, shared_bytes, shared_answer), LogExceptions{});
      });
    });
    if (!watcher) return watcher.error();
    log_info("file drop: taking " + e.id + "'s files from its inbox");
    inboxes_.push_back(std::move(*watcher));
  }
  ready_ = true;
  asio::post(io_, [this] {
    pump();
    arm_sweep();
  });
  return {};
}

asio::awaitable<void> Broker::ingest_file(std::string endpoint, std::shared_ptr<std::string> bytes,
                                          std::shared_ptr<FileAnswerFn> answer) {
  auto ingesting = ingest(std::move(*bytes), endpoint, endpoint);
  Answer result = co_await std::move(ingesting);
  (*answer)(FileAnswer{static_cast<int>(result.status), std::move(result.body)});
}

void Broker::stop() {
  // Files whose answer is not given yet stay in the inbox and are taken again: harmless, the
  // duplicate rule answers a resend with the first answer.
  for (auto& inbox : inboxes_) inbox->stop();
  stopping_ = true;
  timer_.cancel();
  sweep_timer_.cancel();
}

std::string Broker::next_broker_id() {
  // "SB" + 8 base-36 digits of the millisecond clock + 2 of a counter: 12 characters, within
  // MedCom's 14, unique while fewer than 1,296 ids are made in one millisecond.
  const auto ms = static_cast<std::uint64_t>(to_millis(clock_.now()));
  return "SB" + base36(ms, 8) + base36(id_counter_++ % 1296, 2);
}

// ---------------------------------------------------------------------------------------------
// Receiving

Broker::Answer Broker::refuse(TimePoint now, const Envelope* envelope, const Error& error,
                              std::string_view via, const Inbound* inbound) {
  NegativeReceipt body;
  body.level = ReceiptLevel::kNetwork;  // written by the broker itself, like MedCom's XCTL01
  body.code = refuse_code_for(error.code);
  body.text = error.detail;
  body.original.original_envelope_id = envelope ? envelope->id : "ukendt";
  if (envelope)
    for (const auto& l : envelope->letters) body.original.original_letter_ids.push_back(l.id);
  // For the sender named in the envelope when it could be read at all; never receipted itself.
  const Party& to =
      (envelope && !envelope->letters.empty()) ? envelope->sender() : config_.identity;
  const Envelope receipt = broker_envelope(to, std::move(body), now);

  const std::string what = std::string(errc_name(error.code)) + " envelope " +
                           (envelope ? envelope->id : std::string("?")) + " via " +
                           std::string(via) + ": " + error.detail;
  log_warn("refused " + what);
  writer_.submit(
      GroupCommitWriter::Job{[now, what](Store& store) { (void)store.audit(now, "refused", what); },
                             [](const Result<void>&) {}});
  // In the sender's dialect: an XCTL01 for OIOXML, an EHMI ReceiptException for SBDH.
  const Dialect dialect = inbound ? inbound->dialect : Dialect::kNative;
  return Answer{status_for(error.code), refused_answer(dialect, inbound, receipt, now, receipt.id)};
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

asio::awaitable<Broker::Answer> Broker::ingest(std::string bytes, std::string_view via,
                                               std::string authenticated) {
  const TimePoint now = clock_.now();
  auto decoded = decode_inbound(bytes, now);
  if (!decoded) {
    Inbound unread;
    unread.dialect = sniff_dialect(bytes);
    co_return refuse(now, nullptr, decoded.error(), via, &unread);
  }
  const Inbound& in = *decoded;
  if (in.signal) {
    // EHMI's envelope-level receipt between message handlers: nothing to route or store.
    log_info(std::string("EHMI ") +
             (in.signal->exception ? "ReceiptException" : "ReceiptAcknowledgement") +
             " for envelope " + in.signal->original_message_id + " via " + std::string(via));
    co_return Answer{http::status::accepted, "", false, true};
  }
  Envelope envelope = *in.envelope;
  // OIOXML names parties by EAN (GLN) only; the directory knows their SOR codes.
  for (auto& letter : envelope.letters) {
    for (Party* party : {&letter.sender, &letter.receiver}) {
      if (!party->sor.empty()) continue;
      if (const Endpoint* e = directory_.by_gln(party->gln)) party->sor = e->party.sor;
      if (party->gln == config_.identity.gln) party->sor = config_.identity.sor;
    }
  }
  if (auto valid = validate_envelope(envelope, now); !valid)
    co_return refuse(now, &envelope, valid.error(), via, &in);
  auto route = route_envelope(envelope, directory_);
  if (!route) co_return refuse(now, &envelope, route.error(), via, &in);
  // A spoofed sender: the certificate says one endpoint, the letters name another (issue 5).
  if (!authenticated.empty() && route->sender->id != authenticated) {
    co_return refuse(
        now, &envelope,
        make_error(Errc::kUnknownSender, "the sender GLN " + envelope.sender().gln +
                                             " is not the authenticated endpoint " + authenticated),
        via, &in);
  }
  // Each endpoint speaks its own dialect (issue 4); what the receiver's cannot express is refused
  // here, never dropped later.
  if (route->sender->dialect != in.dialect) {
    co_return refuse(
        now, &envelope,
        make_error(Errc::kInvalid, "endpoint " + route->sender->id + " speaks " +
                                       std::string(to_string(route->sender->dialect)) +
                                       ", this document is " + std::string(to_string(in.dialect))),
        via, &in);
  }
  for (const auto& letter : envelope.letters) {
    if (!expressible(letter.type(), route->receiver->dialect)) {
      co_return refuse(
          now, &envelope,
          make_error(Errc::kUnsupportedType, "receiver " + route->receiver->id + " speaks " +
                                                 std::string(to_string(route->receiver->dialect)) +
                                                 ", which cannot carry a " +
                                                 std::string(to_string(letter.type()))),
          via, &in);
    }
  }
  auto matches = check_references(envelope);
  if (!matches) co_return refuse(now, &envelope, matches.error(), via, &in);
  auto changes = deadline_changes_on_arrival(envelope, *route, now);
  if (!changes) co_return refuse(now, &envelope, changes.error(), via, &in);
  // One reply per deadline: a second reply racing the first is refused, not stored.
  std::vector<DeadlineKey> guarded;
  for (const auto& c : *changes) {
    if (c.event != "deadline-answered") continue;
    if (replies_in_flight_.contains(c.deadline.key)) {
      co_return refuse(now, &envelope,
                       make_error(Errc::kConflict, "a reply to letter " + c.deadline.key.letter_id +
                                                       " is already being stored"),
                       via, &in);
    }
    guarded.push_back(c.deadline.key);
  }
  for (const auto& key : guarded) replies_in_flight_.insert(key);

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
    message.letters.push_back(
        {letter.id, letter.type(), sha256_hex(encode_letter(letter)), letter.status});
    message.contains_cpr = message.contains_cpr || letter.patient.has_value();
    acceptance.letter_ids.push_back(letter.id);
  }
  message.body = encode_envelope(envelope);
  message.acceptance = encode_acceptance(acceptance);

  // GCC 12 destroys temporaries in a statement with co_await twice: every awaitable is built
  // in a statement of its own, and only a named local is awaited (see docs/architecture.md).
  auto shared_message = std::make_shared<const NewMessage>(std::move(message));
  auto shared_matches = std::make_shared<const std::vector<ReceiptMatch>>(std::move(*matches));
  auto shared_changes = std::make_shared<const std::vector<DeadlineChange>>(std::move(*changes));
  auto store_job = [shared_message, shared_matches, shared_changes,
                    now](Store& store) -> Result<AcceptOutcome> {
    auto accepted = store.accept(*shared_message);
    if (accepted && accepted->kind == AcceptOutcome::Kind::kStored) {
      for (const auto& m : *shared_matches) {
        auto r = store.set_receipt(m.message_id, m.state,
                                   MessageEvent{m.message_id, now, "receipt", m.detail});
        if (!r) return r.error();
      }
      if (auto r = apply_deadline_changes(store, *shared_changes, accepted->message_id, now); !r)
        return r.error();
    }
    return accepted;
  };
  auto committing = write<AcceptOutcome>(std::move(store_job));
  auto outcome = co_await std::move(committing);
  for (const auto& key : guarded) replies_in_flight_.erase(key);
  if (outcome && outcome->kind == AcceptOutcome::Kind::kStored)
    for (const auto& m : *shared_matches) receipts_.forget(m.message_id);
  if (!outcome) {
    log_error("store failed, envelope " + envelope.id + " not accepted: " + outcome.error().detail);
    co_return Answer{http::status::service_unavailable,
                     refuse(now, &envelope,
                            make_error(Errc::kStorage,
                                       "the broker could not store "
                                       "the message; send it again"),
                            via, &in)
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
      co_return Answer{http::status::accepted,
                       accepted_answer(in, message_stored.acceptance, now, next_broker_id()), true,
                       false};
    case AcceptOutcome::Kind::kDuplicate:
      log_info("duplicate envelope " + envelope.id + " from " + message_stored.sender_endpoint +
               ": answered as #" + std::to_string(outcome->message_id) + " was");
      co_return Answer{http::status::accepted,
                       accepted_answer(in, outcome->acceptance, now, next_broker_id()), false,
                       true};
    case AcceptOutcome::Kind::kConflict:
      co_return refuse(now, &envelope,
                       make_error(Errc::kDuplicateConflict,
                                  "letter id " + outcome->conflicting_letter_id +
                                      " was already used by this sender for different content"),
                       via, &in);
    case AcceptOutcome::Kind::kMixed:
      co_return refuse(now, &envelope,
                       make_error(Errc::kDuplicateConflict,
                                  "the envelope mixes letters already received with new ones; "
                                  "resend the original envelope's letters unchanged, new letters "
                                  "in an envelope of their own"),
                       via, &in);
  }
  co_return refuse(now, &envelope, make_error(Errc::kStorage, "unexpected store outcome"), via,
                   &in);
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
  // Wake at least once a minute so a clock that jumps is noticed. The wait is in real time: a
  // demo clock runs faster, a test clock only moves when told (and then pumps at once).
  const Duration delay = std::clamp<Duration>(clock_.real_delay(*next - clock_.now()), Duration{0},
                                              std::chrono::minutes{1});
  timer_.expires_after(delay);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) pump();
  });
}

asio::awaitable<Broker::ResponseReceipts> Broker::receipts_in_response(
    const TransportResponse& response, const Endpoint& receiver, std::int64_t message_id,
    bool expects_receipt, TimePoint now) {
  ResponseReceipts out;
  if (response.body.empty() || response.http_status < 200 || response.http_status >= 500)
    co_return out;
  auto in = decode_inbound(response.body, now);
  const bool receipts_only = in && in->envelope &&
                             std::all_of(in->envelope->letters.begin(), in->envelope->letters.end(),
                                         [](const Letter& l) { return is_receipt(l.type()); });
  if (in && in->signal) {
    // EHMI's envelope-level answer: the handler took the envelope (or could not).
    out.negative = in->signal->exception;
    log_info("#" + std::to_string(message_id) + " " + receiver.id + " answered with an EHMI " +
             (in->signal->exception ? "ReceiptException" : "ReceiptAcknowledgement"));
  } else if (expects_receipt && receipts_only && in->envelope->sender().gln == receiver.party.gln) {
    const Envelope& envelope = *in->envelope;
    out.negative =
        std::any_of(envelope.letters.begin(), envelope.letters.end(),
                    [](const Letter& l) { return l.type() == LetterType::kNegativeReceipt; });
    auto ingesting = ingest(response.body, receiver.id);
    const Answer answer = co_await std::move(ingesting);
    out.relayed = answer.stored || answer.duplicate;
  } else if (expects_receipt) {
    log_warn("delivery of #" + std::to_string(message_id) + " to " + receiver.id +
             ": response body is not a receipt from the receiver; ignored");
  }
  co_return out;
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
  if (receiver && receiver->pulls_from_mailbox()) {
    // Waits in the store until the endpoint fetches and confirms it (broker_mailbox.cpp).
    queue_.finished(message_id);
    pump();
    co_return;
  }
  const int attempts = message.attempts + 1;
  TransportResponse response;
  // The stored body is native; the receiver gets it in its own dialect.
  auto body = receiver ? outbound_body(message.body, *receiver, clock_.now())
                       : Result<std::string>(std::string());
  if (!body) {
    response.error = "cannot write the message in " + std::string(to_string(receiver->dialect)) +
                     ": " + body.error().detail;
  } else if (receiver) {
    auto transfer = post_to(*receiver, std::move(*body));
    response = co_await std::move(transfer);
  } else {
    response.error = "endpoint " + message.receiver_endpoint + " is no longer configured";
  }
  const TimePoint now = clock_.now();

  // A receipt may come back in the response (MedCom: the receiving system's receipt). Receipts
  // themselves are never receipted, and broker-written messages get none.
  const bool expects_receipt =
      !is_receipt(message.letters.front().type) && message.sender_endpoint != kBrokerEndpoint;
  ResponseReceipts in_response;
  if (receiver) {
    auto reading = receipts_in_response(response, *receiver, message_id, expects_receipt, now);
    in_response = co_await std::move(reading);
  }
  const bool negative_in_body = in_response.negative;
  const bool receipt_relayed = in_response.relayed;

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
  auto changes = std::make_shared<const std::vector<DeadlineChange>>(
      state == DeliveryState::kDelivered ? deadline_changes_on_delivery(message, now)
                                         : std::vector<DeadlineChange>{});
  auto store_job = [event, error_text, changes, state, attempts, next_at, now](Store& store) {
    auto updated =
        store.update_delivery(event->message_id, state, attempts, next_at, *error_text, *event);
    if (!updated) return updated;
    return apply_deadline_changes(store, *changes, event->message_id, now);
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
    if (state == DeliveryState::kDelivered && expects_receipt && message.receipt_requested &&
        !receipt_relayed)
      receipts_.watch(message_id, now + receipt_timeout_for(message.receiver_endpoint));
    if (state == DeliveryState::kRefused && expects_receipt && !receipt_relayed) {
      const std::string reason =
          message.receiver_endpoint + " refused the delivery: " + outcome_text;
      auto relaying = relay_refusal(message, reason);
      co_await std::move(relaying);
    }
  }
  pump();
}

Envelope Broker::broker_envelope(const Party& to, LetterBody body, TimePoint now) {
  Envelope envelope;
  envelope.id = next_broker_id();
  envelope.sent = now;
  Letter letter;
  letter.id = envelope.id;
  letter.authorised = now;
  letter.sender = config_.identity;
  letter.receiver = to;
  letter.body = std::move(body);
  envelope.letters.push_back(std::move(letter));
  return envelope;
}

NewMessage Broker::broker_message(const Envelope& envelope, const Endpoint& to, TimePoint now) {
  NewMessage message;
  message.envelope_id = envelope.id;
  message.sender_gln = config_.identity.gln;
  message.receiver_gln = to.party.gln;
  message.sender_endpoint = std::string(kBrokerEndpoint);
  message.receiver_endpoint = to.id;
  for (const auto& letter : envelope.letters) {
    message.letters.push_back(
        {letter.id, letter.type(), sha256_hex(encode_letter(letter)), letter.status});
    message.contains_cpr = message.contains_cpr || letter.patient.has_value();
  }
  message.body = encode_envelope(envelope);
  message.acceptance =
      encode_acceptance({envelope.id, config_.identity.gln, {envelope.letters.front().id}, now});
  message.received_at = now;
  return message;
}

Result<std::string> Broker::outbound_body(const std::string& stored, const Endpoint& to,
                                          TimePoint now,
                                          const std::optional<std::string>& resend_envelope_id) {
  if (to.dialect == Dialect::kNative && !resend_envelope_id) return stored;
  auto envelope = decode_envelope(stored);
  if (!envelope) return envelope.error();
  if (resend_envelope_id) {
    // MedCom resends keep the letters and get a new envelope id and time (domain.md §3).
    envelope->id = *resend_envelope_id;
    envelope->sent = now;
  }
  return encode_outbound(*envelope, to.dialect, now, next_broker_id());
}

// Not a coroutine (see write()): the awaitable resumes when the transport has an answer.
asio::awaitable<TransportResponse> Broker::post_to(const Endpoint& to, std::string body) {
  auto request = std::make_shared<OutboundRequest>(OutboundRequest{
      to.url, std::move(body),
      to.dialect == Dialect::kNative ? std::string(kXml) : std::string("application/xml"),
      config_.delivery.timeout});
  auto start_transfer = [this, request](auto done) {
    transport_.post(std::move(*request), std::move(done));
  };
  return await_callback<TransportResponse>(std::move(start_transfer));
}

asio::awaitable<void> Broker::relay_refusal(const MessageRecord& original,
                                            const std::string& reason) {
  const Endpoint* sender = directory_.by_id(original.sender_endpoint);
  if (!sender) co_return;
  const TimePoint now = clock_.now();
  NegativeReceipt body;
  body.level = ReceiptLevel::kNetwork;
  body.code = RefuseCode::kUnspecified;
  body.text = reason;
  body.original.original_envelope_id = original.envelope_id;
  for (const auto& l : original.letters) body.original.original_letter_ids.push_back(l.letter_id);
  const Envelope receipt = broker_envelope(sender->party, std::move(body), now);
  const Letter& letter = receipt.letters.front();
  NewMessage message = broker_message(receipt, *sender, now);
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

}  // namespace sektorbro
