#include "broker/server/intake.hpp"

#include <algorithm>
#include <utility>

#include "broker/codec/codec.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/core/log.hpp"
#include "broker/http/async_bridge.hpp"
#include "broker/server/answered_message.hpp"
#include "broker/server/commit.hpp"

namespace sektorbro {
namespace {

// The stored message a FHIR Acknowledgement answers, found by the MessageHeader.id it names
// among the FHIR messages the broker delivered to the Acknowledgement's sender (recorded under
// sent_fhir_message_key by the dispatcher). Issue 9: a revise-/cancel- HospitalNotification has
// a MessageHeader.id of its own but is the same native letter as the notification it revises,
// so the id alone names no letter, and the letter alone names only its latest version.
struct PinnedReceipt {
  std::int64_t message_id = 0;
  std::string original_sender_gln;  // the answered letter's sender: the receipt's receiver
  std::string letter_id;
  std::string envelope_id;  // the answered message's: named in the stored receipt
};

// A receipt that names one letter and the envelope it came in (native, OIOXML, SBDH-native
// receipts) answers the message stored under that envelope id, which need not be the letter's
// latest version (issue 9: a receipt of a first notification that comes after its revision).
Result<std::optional<PinnedReceipt>> pinned_by_envelope(Store& store, const Envelope& envelope) {
  const Letter& receipt = envelope.letters.front();
  const ReceiptReference& ref = receipt.type() == LetterType::kPositiveReceipt
                                    ? std::get<PositiveReceipt>(receipt.body).original
                                    : std::get<NegativeReceipt>(receipt.body).original;
  if (ref.original_letter_ids.size() != 1) return std::optional<PinnedReceipt>{};
  const std::string& letter_id = ref.original_letter_ids.front();
  auto named = answered_message(store, ref.original_envelope_id, envelope.receiver().gln,
                                envelope.sender().gln, letter_id);
  if (!named) return named.error();
  if (!*named) return std::optional<PinnedReceipt>{};
  return std::optional<PinnedReceipt>{
      PinnedReceipt{**named, envelope.receiver().gln, letter_id, ref.original_envelope_id}};
}

// nullopt when no such delivery was recorded (the receipt names its letter by the id, as
// before) or the message no longer reads as one letter sent to this Acknowledgement's sender.
Result<std::optional<PinnedReceipt>> pinned_fhir_receipt(Store& store, const Inbound& in,
                                                         const Envelope& envelope) {
  if (envelope.letters.size() != 1 || !is_receipt(envelope.letters.front().type()))
    return std::optional<PinnedReceipt>{};
  if (!in.fhir_ack) return pinned_by_envelope(store, envelope);
  const std::string& acknowledger = envelope.sender().gln;
  const std::string key = sent_fhir_message_key(acknowledger, in.fhir_ack->response_identifier);
  auto sent = store.find_sent_envelope(key);
  if (!sent) return sent.error();
  if (!*sent) return std::optional<PinnedReceipt>{};
  auto message = store.get_message((*sent)->message_id);
  if (!message) return message.error();
  if (!*message || (*message)->receiver_gln != acknowledger) return std::optional<PinnedReceipt>{};
  auto stored = decode_envelope((*message)->body);
  if (!stored || stored->letters.size() != 1) return std::optional<PinnedReceipt>{};
  return std::optional<PinnedReceipt>{PinnedReceipt{
      (*message)->id, (*message)->sender_gln, stored->letters.front().id, (*message)->envelope_id}};
}

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
    case Errc::kConflict:
      return http::status::conflict;
    case Errc::kStorage:
    case Errc::kStale:
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

// What receive() computes from the bytes alone (pure, so it may run on the codec executor): the
// decoded document, and for a document with letters the envelope with the parties the directory
// completes, its letters as the store keys them and its canonical encoding (the body an accepted
// message stores: made here, not on the io thread in decide_intake). The envelope is moved out
// of `decoded` (whose envelope is then empty): nothing reads it there afterwards.
struct Prepared {
  Result<Inbound> decoded;
  std::optional<Envelope> envelope;
  std::vector<NewLetter> letters;
  PreparedBody body;  // made here rather than on the io or the writer thread
};

Prepared prepare(std::string_view bytes, TimePoint now, const Directory& directory,
                 const Party& broker) {
  Prepared p{decode_inbound(bytes, now), std::nullopt, {}, {}};
  if (p.decoded && !p.decoded->signal && !p.decoded->fhir_transient && p.decoded->envelope) {
    p.envelope = std::move(*p.decoded->envelope);
    p.decoded->envelope.reset();
    complete_parties(*p.envelope, directory, broker);
    p.letters = letters_of(*p.envelope);
    p.body.canonical = encode_envelope(*p.envelope);
    p.body.packed = pack_body(p.body.canonical);
    p.body.sha256 = sha256_hex(p.body.canonical);
  }
  return p;
}

// Whether every letter is sent as new (status nytbrev): the case in which intake decides first
// without reading the letters (Intake::receive).
bool all_sent_as_new(const std::vector<NewLetter>& letters) {
  return std::all_of(letters.begin(), letters.end(),
                     [](const NewLetter& l) { return l.status == LetterStatus::kNew; });
}

// How often a plan found stale is decided again before the sender is asked to resend (503).
// Each retry reads facts committed by the writer meanwhile, so one retry settles any race
// between this broker's own requests; more are for other brokers on a shared database.
constexpr int kMaxDecisions = 4;

}  // namespace

Intake::Intake(const BrokerConfig& config, const Directory& directory,
               const WorkingCalendar& calendar, Store& store, GroupCommitWriter& writer,
               const Clock& clock, BrokerIds& ids, metrics::BrokerMetrics& metrics, StoredFn stored)
    : config_(config),
      directory_(directory),
      calendar_(calendar),
      store_(store),
      writer_(writer),
      clock_(clock),
      ids_(ids),
      metrics_(metrics),
      stored_(std::move(stored)) {}

Intake::Answer Intake::refuse(TimePoint now, const Envelope* envelope, const Error& error,
                              std::string_view via, const Inbound* inbound,
                              std::string_view authenticated) {
  NegativeReceipt body;
  body.level = ReceiptLevel::kNetwork;  // written by the broker itself, like MedCom's XCTL01
  const RefuseCode code = refuse_code_for(error.code);
  body.code = code;
  body.text = error.detail;
  // Issue 9: a refusal names the original envelope and letters and goes to the original sender
  // — read leniently from the bytes when the envelope could not be decoded (read_leniently) —
  // and to the broker itself only when not even the sender can be read. Never receipted itself.
  Party to = config_.identity;
  if (envelope) {
    body.original.original_envelope_id = envelope->id;
    for (const auto& l : envelope->letters) body.original.original_letter_ids.push_back(l.id);
    if (!envelope->letters.empty()) to = envelope->sender();
  } else if (inbound) {
    // Read leniently from a document that did not decode: only ids a receipt may carry are
    // named (an id the refusal is about — too long, a '/' in it — would make the receipt itself
    // invalid), and only a GLN with a valid check digit is an address.
    if (is_valid_message_id(inbound->original.envelope_id))
      body.original.original_envelope_id = inbound->original.envelope_id;
    for (const auto& letter_id : inbound->original.letter_ids)
      if (is_valid_message_id(letter_id)) body.original.original_letter_ids.push_back(letter_id);
    if (is_valid_gln(inbound->original.sender_gln)) {
      to = Party{};
      to.gln = inbound->original.sender_gln;
      const Endpoint* known = directory_.by_gln(to.gln);
      to.sor = known ? known->party.sor : inbound->original.sender_sor;
      if (known) to.name = known->party.name;
    }
  }
  // Not even the sender could be read (a FHIR message cut off before the Organization its
  // MessageHeader names): the endpoint the transport authenticated — its certificate, or the
  // inbox the file was dropped in — sent it.
  if (to.gln == config_.identity.gln && !authenticated.empty())
    if (const Endpoint* sender = directory_.by_id(std::string(authenticated))) to = sender->party;
  if (body.original.original_envelope_id.empty()) body.original.original_envelope_id = "ukendt";
  const std::string id = ids_.next();
  const Envelope receipt = broker_envelope(config_.identity, to, std::move(body), now, id);

  const std::string what = std::string(errc_name(error.code)) + " envelope " +
                           (envelope ? envelope->id : std::string("?")) + " via " +
                           std::string(via) + ": " + error.detail;
  log_warn("refused " + what);
  // Label values: a configured endpoint id and the MedCom code, never what the sender wrote.
  const Endpoint* from =
      envelope && !envelope->letters.empty() ? directory_.by_gln(envelope->sender().gln) : nullptr;
  metrics_.messages_refused.with({from ? from->id : "unknown", std::string(to_string(code))}).inc();
  writer_.submit(
      GroupCommitWriter::Job{[now, what](Store& store) { (void)store.audit(now, "refused", what); },
                             [](const Result<void>&) {}});
  // In the sender's dialect: an XCTL01 for OIOXML, an EHMI ReceiptException for SBDH.
  const Dialect dialect = inbound ? inbound->dialect : Dialect::kNative;
  return Answer{status_for(error.code),
                refused_answer(dialect, inbound, receipt, now, id, error.code)};
}

Result<IntakeFacts> Intake::read_facts(const Envelope& envelope,
                                       const std::vector<NewLetter>& letters, bool read_own) {
  IntakeFacts facts;
  const std::string& sender = envelope.sender().gln;
  if (!read_own) facts.own.resize(letters.size());  // each taken as never stored
  for (std::size_t i = 0; read_own && i < letters.size(); ++i) {
    const NewLetter& letter = letters[i];
    StoredVersions versions;
    auto latest = store_.find_letter(sender, letter.letter_id);
    if (!latest) return latest.error();
    versions.latest = std::move(*latest);
    if (versions.latest && versions.latest->content_hash != letter.content_hash) {
      auto earlier = store_.find_letter_version(sender, letter.letter_id, letter.content_hash);
      if (!earlier) return earlier.error();
      versions.earlier_same = *earlier;
    }
    facts.own.push_back(std::move(versions));
  }
  const FactsNeeded needed = facts_needed(envelope);
  for (const LetterKey& key : needed.referenced) {
    if (facts.referenced.contains(key)) continue;
    auto found = store_.find_letter(key.sender_gln, key.letter_id);
    if (!found) return found.error();
    if (*found) facts.referenced.emplace(key, std::move(**found));
  }
  // Issue 9: what the envelope id a receipt names says about each letter it names (the
  // message it answers, or that it never carried the letter): decide_intake applies it.
  for (const NamedEnvelope& named : needed.receipt_envelopes) {
    if (facts.answered.contains(named.letter)) continue;
    auto answered = answered_by_envelope(store_, named.envelope_id, named.letter.sender_gln,
                                         envelope.sender().gln, named.letter.letter_id);
    if (!answered) return answered.error();
    facts.answered.emplace(named.letter, *answered);
  }
  for (const DeadlineKey& key : needed.deadlines) {
    if (facts.deadlines.contains(key)) continue;
    auto found = store_.find_deadline(key);
    if (!found) return found.error();
    if (*found) facts.deadlines.emplace(key, std::move(**found));
  }
  return facts;
}

Intake::Answer Intake::refuse_unreadable(TimePoint now, const Error& error, std::string_view bytes,
                                         std::string_view via, std::string_view authenticated) {
  const Inbound unread = read_leniently(bytes);
  return refuse(now, nullptr, error, via, &unread, authenticated);
}

asio::awaitable<Intake::Answer> Intake::receive_signal(const Inbound& in, TimePoint now,
                                                       const std::string& via) {
  // It must answer an SBDH envelope the broker sent (Store::find_sent_envelope), and is then
  // recorded on the timeline of the message that envelope carried; one for any other envelope
  // is refused.
  std::optional<SentEnvelope> sent;
  for (const std::string& id : signal_envelope_candidates(in)) {
    auto found = store_.find_sent_envelope(id);
    if (!found)
      co_return refuse(now, nullptr,
                       make_error(Errc::kStorage,
                                  "the broker could not read its store; send "
                                  "it again"),
                       via, &in);
    if (*found) {
      sent = std::move(**found);
      break;
    }
  }
  if (sent) {
    // Only the handler the envelope went to answers it: the signal's SBDH sender must be that
    // message's receiver.
    auto message = store_.get_message(sent->message_id);
    if (message && *message && in.sbdh && (*message)->receiver_gln != in.sbdh->sender_gln)
      sent.reset();
  }
  if (auto known = check_signal_reference(in, sent.has_value()); !known)
    co_return refuse(now, nullptr, known.error(), via, &in);
  const std::string kind(in.signal->exception ? "ReceiptException" : "ReceiptAcknowledgement");
  std::string detail =
      "EHMI " + kind + " for SBDH envelope " + sent->instance_identifier + " from " + via;
  if (in.signal->exception) detail += " (" + in.signal->exception_type + "): " + in.signal->reason;
  auto event = std::make_shared<const MessageEvent>(
      MessageEvent{sent->message_id, now,
                   in.signal->exception ? "ehmi-receipt-exception" : "ehmi-receipt-acknowledgement",
                   detail, via});
  auto job = [event](Store& store) { return store.append_event(*event); };
  auto committing = commit<void>(writer_, std::move(job));
  if (auto written = co_await std::move(committing); !written)
    co_return refuse(now, nullptr,
                     make_error(Errc::kStorage,
                                "the broker could not store the receipt; send "
                                "it again"),
                     via, &in);
  if (in.signal->exception)
    log_warn(kind + " for #" + std::to_string(sent->message_id) + " from " + via);
  co_return Answer{http::status::accepted, "", false, true, sent->message_id};
}

Intake::Round Intake::decide_round(const Envelope& envelope, const std::vector<NewLetter>& letters,
                                   const IntakeContext& context, TimePoint now,
                                   const std::optional<std::pair<LetterKey, std::int64_t>>& pinned,
                                   PreparedBody& body, bool read_own) {
  Round round;
  auto facts = read_facts(envelope, letters, read_own);
  if (!facts) {
    log_error("store read failed, envelope " + envelope.id +
              " not accepted: " + facts.error().detail);
    round.refusal =
        make_error(Errc::kStorage, "the broker could not read its store; send it again");
    return round;
  }
  if (pinned) {
    // The receipt is for the very message delivered, not the letter's latest version.
    auto it = facts->referenced.find(pinned->first);
    if (it != facts->referenced.end()) it->second.message_id = pinned->second;
  }
  // Only the first decision takes the prepared body; one made again encodes its own.
  PreparedBody prepared = std::exchange(body, {});
  const bool body_prepared = !prepared.canonical.empty();
  IntakeDecision decision =
      decide_intake(envelope, letters, *facts, context, now, std::move(prepared.canonical));
  if (auto* refusal = std::get_if<IntakeRefusal>(&decision)) {
    round.refusal = std::move(refusal->error);
    return round;
  }
  if (auto* duplicate = std::get_if<IntakeDuplicate>(&decision)) {
    round.duplicate = std::make_shared<const MessageEvent>(std::move(duplicate->event));
    round.original_message_id = duplicate->original_message_id;
    return round;
  }
  auto& accept = std::get<IntakeAccept>(decision);
  accept.plan.letters_unread = !read_own;
  if (body_prepared) {
    accept.plan.message.packed_body = std::move(prepared.packed);
    accept.plan.message.body_sha256 = std::move(prepared.sha256);
  }
  if (citizen_keyer_ != nullptr) {  // the citizen index: keyed hashes, never the numbers
    std::vector<std::string> cprs;
    for (const Letter& letter : envelope.letters)
      if (letter.patient) cprs.push_back(letter.patient->cpr);
    accept.plan.message.citizen_keys = citizen_keyer_->keys_of(cprs);
  }
  round.alerts = std::move(accept.alerts);
  round.plan = std::make_shared<const MessagePlan>(std::move(accept.plan));
  return round;
}

asio::awaitable<Intake::Answer> Intake::receive(std::string bytes, std::string via,
                                                std::string authenticated) {
  const TimePoint now = clock_.now();
  std::optional<Prepared> prepared;
  if (codec_) {
    auto preparing = run_on<Prepared>(
        *codec_, [&bytes, now, this] { return prepare(bytes, now, directory_, config_.identity); });
    prepared.emplace(co_await std::move(preparing));
  } else {
    prepared.emplace(prepare(bytes, now, directory_, config_.identity));
  }
  if (!prepared->decoded)
    co_return refuse_unreadable(now, prepared->decoded.error(), bytes, via, authenticated);
  const Inbound& in = *prepared->decoded;
  if (in.signal) {
    auto signalling = receive_signal(in, now, via);
    co_return co_await std::move(signalling);
  }
  if (in.fhir_transient || !prepared->envelope) {
    // MedCom FHIR: a transient-error Acknowledgement says "send it again later"; it is no
    // receipt, so nothing is recorded and the receipt watch resends as for silence.
    log_info("FHIR transient-error Acknowledgement via " + via + ": no receipt recorded");
    co_return Answer{http::status::accepted, "", false, true};
  }
  // Taken by the first decision (decide_round): the prepared envelope, its letters, and its body
  // encoded, packed and hashed.
  Envelope& envelope = *prepared->envelope;
  std::vector<NewLetter>& letters = prepared->letters;
  PreparedBody& body = prepared->body;
  std::optional<std::pair<LetterKey, std::int64_t>> pinned;
  if (auto found = pinned_fhir_receipt(store_, in, envelope); !found) {
    co_return refuse(now, &envelope,
                     make_error(Errc::kStorage,
                                "the broker could not read its store; send it "
                                "again"),
                     via, &in);
  } else if (*found) {
    const PinnedReceipt& receipt_of = **found;
    Letter& receipt = envelope.letters.front();
    ReceiptReference& ref = receipt.type() == LetterType::kPositiveReceipt
                                ? std::get<PositiveReceipt>(receipt.body).original
                                : std::get<NegativeReceipt>(receipt.body).original;
    ref.original_letter_ids = {receipt_of.letter_id};
    // FHIR names the message, not its envelope: the stored receipt names the answered message's
    // envelope, so the receipt relayed to its sender names that message (answered_message).
    ref.original_envelope_id = receipt_of.envelope_id;
    letters = letters_of(envelope);  // the receipt's reference changed: hash it again
    body = {};                       // and encode it again
    pinned.emplace(LetterKey{receipt_of.original_sender_gln, receipt_of.letter_id},
                   receipt_of.message_id);
  }
  const IntakeContext context{
      directory_, config_.deadlines.policy, calendar_, in.dialect, authenticated, in.fhir};

  // Issue 8: letters sent as new are, as a rule, new to the store. The first decision then
  // leaves them unread and the store checks them before it writes (Store::checks_unread_letters);
  // a resend comes back kStale and is decided again with them read, as is a refusal.
  bool read_own = !store_.checks_unread_letters() || !all_sent_as_new(letters);
  for (int attempt = 0; attempt < kMaxDecisions; ++attempt) {
    Round round = decide_round(envelope, letters, context, now, pinned, body, read_own);
    if (!read_own && !round.plan)
      round = decide_round(envelope, letters, context, now, pinned, body, true);
    read_own = true;
    if (round.refusal) co_return refuse(now, &envelope, *round.refusal, via, &in);

    if (round.duplicate) {
      auto event = round.duplicate;
      auto job = [event](Store& store) -> Result<std::string> {
        if (auto r = store.append_event(*event); !r) return r.error();
        auto original = store.get_message(event->message_id);
        if (!original) return original.error();
        if (!*original) return make_error(Errc::kNotFound, "original message is gone");
        return (*original)->acceptance;
      };
      auto committing = commit<std::string>(writer_, std::move(job));
      auto acceptance = co_await std::move(committing);
      if (!acceptance) {
        co_return refuse(now, &envelope,
                         make_error(Errc::kStorage,
                                    "the broker could not store the message; "
                                    "send it again"),
                         via, &in);
      }
      // MedCom: a resend gets exactly the first answer (domain.md §3).
      co_return Answer{http::status::accepted,
                       accepted_answer(in, *acceptance, now, ids_.next(), config_.identity), false,
                       true, round.original_message_id};
    }

    auto plan = round.plan;
    // The message starts leased to this broker (issue 11, item 2), in the same commit, so its
    // first attempt needs no other round trip; Broker's stored callback grants the same lease.
    auto node = shared_node_;
    const TimePoint lease_end = lease_until(
        (lease_clock_ != nullptr ? *lease_clock_ : clock_).now(), config_.cluster.lease);
    auto job = [plan, node, lease_end](Store& store) -> Result<std::int64_t> {
      auto id = store.store_message(*plan);
      if (!id) return id;
      if (auto leased = store.lease_delivery(*id, *node, lease_end); !leased) return leased.error();
      return id;
    };
    auto committing = commit<std::int64_t>(writer_, std::move(job));
    auto stored = co_await std::move(committing);
    if (!stored && stored.error().code == Errc::kStale) continue;  // decide again, fresh facts
    if (!stored) {
      log_error("store failed, envelope " + envelope.id +
                " not accepted: " + stored.error().detail);
      co_return refuse(now, &envelope,
                       make_error(Errc::kStorage,
                                  "the broker could not store the message; "
                                  "send it again"),
                       via, &in);
    }
    for (const auto& alert : round.alerts) log_warn(alert);
    metrics_.messages_received.with({plan->message.sender_endpoint}).inc();
    // The envelope is not read after this: its letters vector is taken whole and all but the
    // requests dropped (a Letter is ~1.5 KB: a vector of its own was an allocation large
    // enough to make glibc consolidate its fast bins, per letter).
    auto requests = std::make_shared<std::vector<Letter>>(std::move(envelope.letters));
    std::erase_if(*requests, [](const Letter& letter) {
      return letter.type() != LetterType::kCertificateRequest;
    });
    stored_(*stored, plan, std::move(requests), lease_end);
    co_return Answer{
        http::status::accepted,
        accepted_answer(in, plan->message.acceptance, now, ids_.next(), config_.identity), true,
        false, *stored};
  }
  co_return refuse(now, &envelope,
                   make_error(Errc::kStale,
                              "the letters changed while they were being stored; "
                              "send them again"),
                   via, &in);
}

}  // namespace sektorbro
