#include "broker/server/dispatcher.hpp"

#include <algorithm>
#include <unordered_set>

#include "broker/codec/codec.hpp"
#include "broker/core/log.hpp"
#include "broker/delivery/receipt_rule.hpp"
#include "broker/edge/edge_codec.hpp"
#include "broker/intake/intake_decision.hpp"
#include "broker/intake/receipt_match.hpp"
#include "broker/server/answered_message.hpp"
#include "broker/server/commit.hpp"
#include "broker/server/log_exceptions.hpp"

namespace sektorbro {
namespace {

// A lease pass's renewed deliveries this process did not know: up to this many are read one by
// one; more (a restart under the same node name with a backlog) in one read of every pending
// delivery. One by one, 111,000 of them held a broker on PostgreSQL (a round trip each, on the
// io thread) for tens of seconds (docs/performance.md, "PostgreSQL's lease pass").
constexpr std::size_t kReadOneByOne = 16;

// Issue 9: a receipt for a FHIR receiver (or in a FHIR SBDH payload) acknowledges the
// receiver's own letter, which — when it arrived as FHIR — has a MessageHeader.id the native id
// does not hold (Letter::fhir_message_id, kept in the stored body). Empty when there is none to
// name (the original was not FHIR, or is not found): the UUID the broker gave it is named then.
std::string original_fhir_message_id(Store& store, const Envelope& envelope, const Endpoint& to) {
  const bool fhir = to.dialect == Dialect::kFhir ||
                    (to.dialect == Dialect::kSbdh && to.sbdh_payload == SbdhPayload::kFhir);
  if (!fhir || envelope.letters.size() != 1 || !is_receipt(envelope.letters.front().type()))
    return {};
  const Letter& receipt = envelope.letters.front();
  const ReceiptReference& ref = receipt.type() == LetterType::kPositiveReceipt
                                    ? std::get<PositiveReceipt>(receipt.body).original
                                    : std::get<NegativeReceipt>(receipt.body).original;
  if (ref.original_letter_ids.size() != 1) return {};
  const std::string& letter_id = ref.original_letter_ids.front();
  auto where = store.find_letter(to.party.gln, letter_id);
  if (!where || !*where) return {};
  // The very message the receipt answers, by the envelope id it names (a first notification's
  // receipt after its revision names the first's MessageHeader.id); else the latest version.
  std::int64_t answered = (*where)->message_id;
  auto named = answered_message(store, ref.original_envelope_id, to.party.gln, receipt.sender.gln,
                                letter_id);
  if (named && *named) answered = **named;
  auto original = store.get_message(answered);
  if (!original || !*original) return {};
  auto stored = decode_envelope((*original)->body);
  if (!stored) return {};
  for (const Letter& l : stored->letters)
    if (l.id == letter_id) return l.fhir_message_id;
  return {};
}

// EHMI (issue 9): the SBDH envelope is recorded before it goes, so that its envelope-level
// receipt — in the answer or posted later — finds the message it carried.
asio::awaitable<Result<void>> record_sent(GroupCommitWriter& writer, std::int64_t message_id,
                                          std::string instance_id, TimePoint at) {
  auto job = [message_id, instance_id, at](Store& store) {
    return store.record_sent_envelope(instance_id, message_id, at);
  };
  auto committing = commit<void>(writer, std::move(job));
  co_return co_await std::move(committing);
}

// Issue 9: the FHIR message delivered is recorded under its MessageHeader.id (the key from
// sent_fhir_message_key) before it goes, so the receiver's Acknowledgement names exactly this
// message — a revision's too, which is the same native letter as the notice it revises. A key
// already recorded for another message (the broker's own ids for two corrections of one native
// letter coincide) keeps the first; that is no reason to hold the delivery back.
asio::awaitable<Result<void>> record_sent_fhir(GroupCommitWriter& writer, std::int64_t message_id,
                                               std::string key, TimePoint at) {
  if (key.empty()) co_return Result<void>{};
  auto job = [message_id, key = std::move(key), at](Store& store) -> Result<void> {
    auto recorded = store.record_sent_envelope(key, message_id, at);
    if (!recorded && recorded.error().code == Errc::kConflict) return {};
    return recorded;
  };
  auto committing = commit<void>(writer, std::move(job));
  co_return co_await std::move(committing);
}

}  // namespace

Dispatcher::Dispatcher(asio::io_context& io, const BrokerConfig& config, const Directory& directory,
                       const WorkingCalendar& calendar, Store& store, GroupCommitWriter& writer,
                       Transport& transport, const Clock& clock, BrokerIds& ids, Intake& intake,
                       metrics::BrokerMetrics& metrics)
    : io_(io),
      config_(config),
      directory_(directory),
      calendar_(calendar),
      store_(store),
      writer_(writer),
      transport_(transport),
      clock_(clock),
      ids_(ids),
      intake_(intake),
      metrics_(metrics),
      queue_(config.delivery.per_endpoint_concurrency),
      timer_(io),
      random_state_(static_cast<std::uint64_t>(to_millis(clock.now())) | 1),
      node_(cluster_node(config.cluster)),
      lease_timer_(io) {}

void Dispatcher::report_load() const {
  for (const Endpoint& e : directory_.all()) {
    const auto load = queue_.load(e.id);
    metrics_.deliveries_waiting.with({e.id}).set(static_cast<double>(load.waiting));
    metrics_.deliveries_in_flight.with({e.id}).set(static_cast<double>(load.in_flight));
  }
}

Result<void> Dispatcher::start() {
  if (auto rebuilt = rebuild_receipt_watch(); !rebuilt) return rebuilt.error();
  // The pending deliveries come through the first lease pass: those this broker still holds
  // (a restart under the same cluster.node) and those nobody holds.
  renew_and_claim();
  arm_lease_timer();
  return {};
}

void Dispatcher::stop() {
  stopping_ = true;
  timer_.cancel();
  lease_timer_.cancel();
}

void Dispatcher::schedule_leased(std::int64_t message_id, const std::string& endpoint, TimePoint at,
                                 TimePoint until) {
  leases_.granted(message_id, until);
  schedule(message_id, endpoint, at);
}

// ---------------------------------------------------------------------------------------------
// Leases (issue 11, item 2). The store holds the truth; leases_ follows it (LeaseBook).

void Dispatcher::renew_and_claim() {
  if (stopping_) return;
  if (lease_pass_running_) {
    lease_pass_again_ = true;
    return;
  }
  lease_pass_running_ = true;
  ++busy_;  // settled by lease_pass()
  asio::co_spawn(io_, lease_pass(), LogExceptions{});
}

void Dispatcher::arm_lease_timer() {
  if (stopping_) return;
  lease_timer_.expires_after((lease_clock_ != nullptr ? *lease_clock_ : clock_)
                                 .real_delay(renew_interval(config_.cluster.lease)));
  lease_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    if (renew_due(lease_now(), last_lease_pass_, config_.cluster.lease)) renew_and_claim();
    arm_lease_timer();
  });
}

asio::awaitable<void> Dispatcher::lease_pass() {
  struct Settled {
    std::size_t& busy;
    ~Settled() { --busy; }
  } settled{busy_};
  const TimePoint now = lease_now();
  const TimePoint until = lease_from(now);
  // Also when the pass fails: the next one is due a renewal interval later, not at every pump.
  last_lease_pass_ = now;
  const std::uint64_t pass = leases_.begin_pass();
  auto node = std::make_shared<const std::string>(node_);
  struct Held {
    std::vector<std::int64_t> renewed;
    std::vector<PendingDelivery> taken;
    // A full slice taken (Store::claim_slice): more may be waiting, and the next pass follows at
    // once, not a renewal interval later. A broker restarted with 50,000 deliveries pending
    // resumed them at 1,000 per 10 s before (docs/performance.md, "What a backlog holds").
    bool full_slice = false;
  };
  auto store_job = [node, now, until](Store& store) -> Result<Held> {
    auto renewed = store.renew_leases(*node, now, until);
    if (!renewed) return renewed.error();
    const int slice = store.claim_slice();
    auto taken = store.claim_deliveries(*node, now, until, slice);
    if (!taken) return taken.error();
    const bool full = taken->size() >= static_cast<std::size_t>(slice);
    return Held{std::move(*renewed), std::move(*taken), full};
  };
  auto committing = commit<Held>(writer_, std::move(store_job));
  auto pass_result = co_await std::move(committing);
  if (!pass_result) {
    log_error("leases: could not renew or claim (" + pass_result.error().detail +
              "); deliveries whose lease ends wait for the next pass");
  } else {
    if (pass_result->full_slice) lease_pass_again_ = true;
    const Held& held = *pass_result;
    std::vector<std::int64_t> ids = held.renewed;
    for (const PendingDelivery& p : held.taken) ids.push_back(p.message_id);
    const std::vector<std::int64_t> fresh = leases_.end_pass(pass, ids, until);
    std::unordered_set<std::int64_t> unqueued(fresh.begin(), fresh.end());
    queue_among(unqueued, held.taken);
    // What is left was renewed but not known here: held by this node's name before this process
    // started, or forgotten when an attempt found its lease too short.
    resume_renewed(std::move(unqueued));
    if (!resumed_logged_) {
      resumed_logged_ = true;
      log_info("delivery: " + std::to_string(fresh.size()) + " pending deliveries resumed, " +
               std::to_string(receipts_.size()) + " receipts owed; node " + node_);
    } else if (!fresh.empty()) {
      log_info("leases: took over " + std::to_string(fresh.size()) + " pending deliveries");
    }
  }
  lease_pass_running_ = false;
  if (lease_pass_again_) {
    lease_pass_again_ = false;
    renew_and_claim();
  }
  pump();
}

void Dispatcher::queue_among(std::unordered_set<std::int64_t>& unqueued,
                             const std::vector<PendingDelivery>& deliveries) {
  for (const PendingDelivery& p : deliveries)
    if (unqueued.erase(p.message_id) != 0)
      queue_.schedule(p.message_id, p.receiver_endpoint, p.next_attempt_at);
}

void Dispatcher::resume_renewed(std::unordered_set<std::int64_t> unknown) {
  if (unknown.size() > kReadOneByOne) {
    auto pending = store_.pending_deliveries();
    if (pending)
      queue_among(unknown, *pending);
    else
      log_error("leases: could not read the pending deliveries (" + pending.error().detail + ")");
    // Not pending any more, or unread: the next pass says again.
    for (const std::int64_t id : unknown) leases_.forget(id);
    return;
  }
  for (const std::int64_t id : unknown) {
    auto loaded = store_.get_message(id);
    if (loaded && *loaded && (*loaded)->state == DeliveryState::kPending) {
      queue_.schedule(id, (*loaded)->receiver_endpoint, (*loaded)->next_attempt_at);
    } else {
      leases_.forget(id);  // not pending any more, or unread: the next pass says again
      if (!loaded)
        log_error("leases: could not read a held delivery (" + loaded.error().detail + ")");
    }
  }
}

void Dispatcher::schedule(std::int64_t message_id, const std::string& endpoint, TimePoint at) {
  queue_.schedule(message_id, endpoint, at);
  pump();
}

void Dispatcher::receipted(const std::vector<std::int64_t>& message_ids) {
  for (const std::int64_t id : message_ids) receipts_.forget(id);
}

void Dispatcher::watch_receipt(std::int64_t message_id, const std::string& endpoint,
                               TimePoint now) {
  receipts_.watch(message_id, now + receipt_timeout_for(endpoint));
}

double Dispatcher::random01() {
  // xorshift64: jitter only needs to spread retries, not to be unpredictable.
  random_state_ ^= random_state_ << 13;
  random_state_ ^= random_state_ >> 7;
  random_state_ ^= random_state_ << 17;
  return static_cast<double>(random_state_ >> 11) / static_cast<double>(1ULL << 53);
}

void Dispatcher::pump() {
  if (stopping_) return;
  const TimePoint now = clock_.now();
  if (!lease_pass_running_ && renew_due(lease_now(), last_lease_pass_, config_.cluster.lease))
    renew_and_claim();
  for (const auto& due : queue_.take_due(now))
    asio::co_spawn(io_, attempt(due.message_id), LogExceptions{});
  arm_timer();
}

void Dispatcher::arm_timer() {
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

Result<std::string> Dispatcher::outbound_body(const std::string& stored, const Endpoint& to,
                                              TimePoint now,
                                              const std::optional<std::string>& resend_envelope_id,
                                              std::string* instance_id,
                                              std::string* sent_fhir_key) {
  if (to.dialect == Dialect::kNative && !resend_envelope_id) return stored;
  auto envelope = decode_envelope(stored);
  if (!envelope) return envelope.error();
  if (resend_envelope_id) {
    // MedCom resends keep the letters and get a new envelope id and time (domain.md §3).
    envelope->id = *resend_envelope_id;
    envelope->sent = now;
  }
  const std::string instance = ids_.next();
  if (instance_id != nullptr) *instance_id = instance;
  std::string header_id;
  auto body = encode_for_receiver(*envelope, to, now, instance,
                                  original_fhir_message_id(store_, *envelope, to), &header_id);
  if (sent_fhir_key != nullptr)
    *sent_fhir_key =
        header_id.empty() ? std::string() : sent_fhir_message_key(to.party.gln, header_id);
  return body;
}

// Not a coroutine (see commit()): the awaitable resumes when the transport has an answer.
asio::awaitable<TransportResponse> Dispatcher::post_to(const Endpoint& to, std::string body) {
  auto request = std::make_shared<OutboundRequest>(OutboundRequest{
      to.url, std::move(body), std::string(delivery_content_type(to)), config_.delivery.timeout});
  auto start_transfer = [this, request](auto done) {
    transport_.post(std::move(*request), std::move(done));
  };
  return await_callback<TransportResponse>(std::move(start_transfer));
}

asio::awaitable<Dispatcher::ResponseReceipts> Dispatcher::receipts_in_response(
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
    // EHMI's envelope-level answer: the handler took the envelope (or could not). Intake
    // correlates it with the envelope sent and records it on the message's timeline.
    out.negative = in->signal->exception;
    auto receiving = intake_.receive(response.body, receiver.id);
    (void)co_await std::move(receiving);
  } else if (expects_receipt && receipts_only && in->envelope->sender().gln == receiver.party.gln) {
    const Envelope& envelope = *in->envelope;
    out.negative =
        std::any_of(envelope.letters.begin(), envelope.letters.end(),
                    [](const Letter& l) { return l.type() == LetterType::kNegativeReceipt; });
    auto receiving = intake_.receive(response.body, receiver.id);
    const Intake::Answer answer = co_await std::move(receiving);
    out.relayed = answer.stored || answer.duplicate;
  } else if (expects_receipt) {
    log_warn("delivery of #" + std::to_string(message_id) + " to " + receiver.id +
             ": response body is not a receipt from the receiver; ignored");
  }
  co_return out;
}

void Dispatcher::remember(std::int64_t message_id, std::shared_ptr<const MessagePlan> plan,
                          std::shared_ptr<const std::vector<Letter>> requests) {
  fresh_.remember(message_id, *plan, std::move(requests));
}

Result<std::optional<MessageRecord>> Dispatcher::load(std::int64_t message_id,
                                                      FreshRequests* requests) {
  auto fresh = fresh_.take(message_id);
  if (!fresh) return store_.get_message(message_id);
  if (requests != nullptr) *requests = std::move(fresh->requests);
  return std::optional<MessageRecord>(std::move(fresh->record));
}

asio::awaitable<void> Dispatcher::attempt(std::int64_t message_id) {
  ++busy_;
  struct Settled {
    std::size_t& busy;
    ~Settled() { --busy; }
  } settled{busy_};
  // Only under a lease that outlasts the attempt (issue 11, item 2): another broker may hold it,
  // or ours is about to end. Forgotten here, the next lease pass hands it back if it is ours or
  // nobody's.
  if (!leases_.allows(message_id, lease_now(), config_.delivery.timeout)) {
    leases_.forget(message_id);
    fresh_.forget(message_id);
    queue_.finished(message_id);
    renew_and_claim();
    co_return;
  }
  FreshRequests requests;
  auto loaded = load(message_id, &requests);
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
  std::string sbdh_instance;
  std::string fhir_key;
  auto body =
      receiver ? outbound_body(message.body, *receiver, clock_.now(), {}, &sbdh_instance, &fhir_key)
               : Result<std::string>(std::string());
  if (body && receiver != nullptr && receiver->dialect == Dialect::kSbdh) {
    auto recording = record_sent(writer_, message_id, sbdh_instance, clock_.now());
    if (auto recorded = co_await std::move(recording); !recorded) body = recorded.error();
  }
  if (body && !fhir_key.empty()) {
    auto recording = record_sent_fhir(writer_, message_id, fhir_key, clock_.now());
    if (auto recorded = co_await std::move(recording); !recorded) body = recorded.error();
  }
  if (!body) {
    response.error = "cannot write the message in " + std::string(to_string(receiver->dialect)) +
                     ": " + body.error().detail;
  } else if (receiver) {
    const auto started = std::chrono::steady_clock::now();
    auto transfer = post_to(*receiver, std::move(*body));
    response = co_await std::move(transfer);
    metrics_.delivery_seconds.with({receiver->id})
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  } else {
    response.error = "endpoint " + message.receiver_endpoint + " is no longer configured";
  }
  const TimePoint now = clock_.now();

  // A receipt may come back in the response (MedCom: the receiving system's receipt), when the
  // receiver owes one at all (receipt_rule.hpp).
  const ReceiptFacts receipt_facts{message.letters.front().type, message.receipt_requested,
                                   message.sender_endpoint == kBrokerEndpoint};
  const bool expects_receipt = receiver_owes_receipt(receipt_facts);
  ResponseReceipts in_response;
  if (receiver) {
    auto reading = receipts_in_response(response, *receiver, message_id, expects_receipt, now);
    in_response = co_await std::move(reading);
  }

  const AttemptOutcome outcome{response.http_status, response.error, in_response.negative};
  const double random = random01();
  DeliveryStep step = after_attempt(config_.delivery.retry, message.receiver_endpoint, attempts,
                                    message.received_at, outcome, now, random);
  // Issue 12, item 11: an operator's requeue gives a fresh budget, its age counted from the
  // requeue (the timeline is read only when the budget from receipt has run out).
  if (step.state == DeliveryState::kDeadLettered) {
    std::optional<TimePoint> requeued;
    if (auto events = store_.timeline(message_id))
      for (const MessageEvent& e : *events)
        if (e.kind == "requeued" && (!requeued || e.at > *requeued)) requeued = e.at;
    if (requeued && *requeued > message.received_at)
      step = after_attempt(config_.delivery.retry, message.receiver_endpoint, attempts, *requeued,
                           outcome, now, random);
  }
  auto event = std::make_shared<const MessageEvent>(
      MessageEvent{message_id, now, std::string(to_string(step.event)), step.detail});
  auto shared_step = std::make_shared<const DeliveryStep>(step);
  auto changes = std::make_shared<const std::vector<DeadlineWrite>>(
      step.state == DeliveryState::kDelivered ? deadlines_on_delivery(message, now, requests.get())
                                              : std::vector<DeadlineWrite>{});
  // MedCom reliable messaging: a delivered message whose sender asked for a receipt is watched
  // until the receipt comes (unless it came in the answer itself).
  const bool watch = step.state == DeliveryState::kDelivered &&
                     watch_receipt_after_delivery(receipt_facts, in_response.relayed);
  auto store_job = [event, shared_step, changes, watch](Store& store) -> Result<void> {
    const DeliveryStep& s = *shared_step;
    auto updated = store.update_delivery(
        event->message_id, s.state, s.attempts, s.next_attempt_at, s.last_error, *event,
        watch ? std::optional<TimePoint>(event->at) : std::nullopt);
    if (!updated) return updated;
    for (const DeadlineWrite& w : *changes)
      if (auto r = write_deadline_change(store, w, event->message_id); !r) return r;
    return {};
  };
  // The receiver has answered: its window place is free now, not after the commit (the message
  // cannot be taken again before the commit decides whether it is still pending).
  queue_.finished(message_id, step.state == DeliveryState::kPending
                                  ? DeliveryQueue::Outcome::kFailed
                                  : DeliveryQueue::Outcome::kTaken);
  pump();
  auto committing = commit<void>(writer_, std::move(store_job));
  auto written = co_await std::move(committing);
  if (!written) {
    // Nothing recorded: try again later, as if the attempt had failed, backing off by the
    // attempts made since (hardening: a full disk must not become a delivery storm). The
    // receiver may see the message twice; MedCom receivers drop duplicates by letter id.
    const int unrecorded = ++unrecorded_[message_id];
    log_error("could not record delivery of #" + std::to_string(message_id) + ": " +
              written.error().detail);
    queue_.schedule(
        message_id, message.receiver_endpoint,
        after_unrecorded_attempt(config_.delivery.retry, message.attempts, unrecorded, now));
    pump();
    co_return;
  }
  unrecorded_.erase(message_id);
  if (step.state != DeliveryState::kPending) leases_.forget(message_id);  // ended with the delivery
  const std::string& endpoint = message.receiver_endpoint;
  switch (step.state) {
    case DeliveryState::kDelivered:
      metrics_.messages_delivered.with({endpoint}).inc();
      break;
    case DeliveryState::kPending:
      metrics_.delivery_retries.with({endpoint}).inc();
      break;
    case DeliveryState::kDeadLettered:
      metrics_.messages_dead_lettered.with({endpoint}).inc();
      break;
    case DeliveryState::kRefused:
      break;
  }
  // One line per state change an operator cares about: failures and give-ups, not successes.
  if (step.state == DeliveryState::kPending || step.state == DeliveryState::kDeadLettered ||
      step.state == DeliveryState::kRefused)
    log_warn("#" + std::to_string(message_id) + " " + event->kind + ": " + step.detail);
  if (step.state == DeliveryState::kPending)
    queue_.schedule(message_id, message.receiver_endpoint, step.next_attempt_at);
  if (watch) watch_receipt(message_id, message.receiver_endpoint, now);
  if (step.state == DeliveryState::kRefused && expects_receipt && !in_response.relayed) {
    const std::string reason =
        message.receiver_endpoint + " refused the delivery: " + step.last_error;
    auto relaying = relay_refusal(message, reason);
    co_await std::move(relaying);
  }
  pump();
}

std::vector<DeadlineWrite> Dispatcher::deadlines_on_delivery(const MessageRecord& message,
                                                             TimePoint now,
                                                             const std::vector<Letter>* requests) {
  std::vector<DeadlineWrite> changes;
  const bool has_request =
      std::any_of(message.letters.begin(), message.letters.end(),
                  [](const NewLetter& l) { return l.type == LetterType::kCertificateRequest; });
  if (!has_request) return changes;
  std::vector<Letter> decoded;
  if (requests == nullptr) {
    auto envelope = decode_envelope(message.body);
    if (!envelope) return changes;
    decoded = std::move(envelope->letters);
    requests = &decoded;
  }
  const DeadlinePolicy& policy = config_.deadlines.policy;
  const DeadlineParties parties{message.receiver_endpoint, message.sender_endpoint};
  for (const Letter& letter : *requests) {
    if (letter.type() != LetterType::kCertificateRequest ||
        letter.status == LetterStatus::kCancelled)
      continue;
    // A correction moves the deadline stored for its request (read here: the correction rules
    // need it). A new request reads nothing: its deadline opens below, unless one is stored
    // (delivered again), which the writer decides in its transaction (Store::open_deadline).
    if (letter.status != LetterStatus::kNew) {
      auto existing = store_.find_deadline(deadline_key(letter));
      if (!existing) continue;
      if (*existing) {
        if (auto corrected = correct(**existing, letter, now, policy, calendar_))
          changes.push_back({*corrected, message.id,
                             MessageEvent{message.id, now, "deadline-corrected",
                                          opened_deadline_text(*corrected)}});
        continue;
      }
    }
    // The clock of a request starts at its delivery to the psychiatry unit (domain.md §5).
    auto opened = open_certificate_deadline(letter, now, parties, policy, calendar_);
    if (!opened) {
      log_warn("no deadline for letter " + letter.id + ": " + opened.error().detail);
      continue;
    }
    if (*opened) {
      DeadlineWrite write{
          **opened, message.id,
          MessageEvent{message.id, now, "deadline-opened", opened_deadline_text(**opened)}};
      write.if_absent = true;
      changes.push_back(std::move(write));
    }
  }
  return changes;
}

asio::awaitable<void> Dispatcher::relay_refusal(const MessageRecord& original,
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
  const Envelope receipt =
      broker_envelope(config_.identity, sender->party, std::move(body), now, ids_.next());
  MessagePlan plan = broker_message_plan(receipt, config_.identity, *sender, now,
                                         "negative receipt for #" + std::to_string(original.id));
  plan.message.citizen_keys = citizen_keys_of_stored(citizen_keyer_, original.body);
  plan.receipts.push_back(
      {original.id, ReceiptState::kNegative,
       MessageEvent{original.id, now, "receipt",
                    "negative receipt " + receipt.id + " written by the broker: " + reason}});
  auto shared_plan = std::make_shared<const MessagePlan>(std::move(plan));
  auto node = std::make_shared<const std::string>(node_);
  const TimePoint until = lease_end();
  auto store_job = [shared_plan, node, until](Store& store) -> Result<std::int64_t> {
    auto id = store.store_message(*shared_plan);
    if (!id) return id;
    if (auto leased = store.lease_delivery(*id, *node, until); !leased) return leased.error();
    return id;
  };
  auto committing = commit<std::int64_t>(writer_, std::move(store_job));
  auto stored = co_await std::move(committing);
  if (stored) {
    schedule_leased(*stored, sender->id, now, until);
  } else {
    log_error("could not store the negative receipt for #" + std::to_string(original.id));
  }
}

// ---------------------------------------------------------------------------------------------
// Receipts owed (MedCom reliable messaging, domain.md §3): when the receiver's receipt for a
// message whose sender asked for one (pluspositivkvitt) does not come within the receiver's
// receipt time, the same letters go again in a new envelope, at most delivery.max_resends
// times; then an operator alert, because a person must act.

Duration Dispatcher::receipt_timeout_for(const std::string& endpoint_id) const {
  const Endpoint* e = directory_.by_id(endpoint_id);
  return e && e->receipt_timeout ? *e->receipt_timeout : config_.delivery.receipt_timeout;
}

Result<void> Dispatcher::rebuild_receipt_watch() {
  // The watches are in the store, indexed (schema 5): a restart reads what is owed, not the
  // history.
  auto owed = store_.receipts_owed();
  if (!owed) return owed.error();
  for (const ReceiptOwed& r : *owed)
    receipts_.watch(r.message_id, r.last_sent + receipt_timeout_for(r.receiver_endpoint),
                    r.resends);
  return {};
}

asio::awaitable<void> Dispatcher::check_receipts(TimePoint now) {
  // The watches of every broker on the store (issue 11, item 2: the broker holding the sweeper
  // lease checks them all), as committed; each step below is guarded by expect_receipt_watch,
  // so a resend or a give-up is recorded once even if two brokers race.
  if (auto reloaded = rebuild_receipt_watch(); !reloaded)
    log_error("receipt check: " + reloaded.error().detail);
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
    if (on_receipt_overdue(entry.resends, config_.delivery.max_resends) ==
            ReceiptOverdue::kGiveUp ||
        receiver == nullptr) {
      const std::string detail = "no receipt from " + message.receiver_endpoint + " after " +
                                 std::to_string(entry.resends) +
                                 " resend(s); a person must act (MedCom reliable messaging)";
      auto event = std::make_shared<const MessageEvent>(
          MessageEvent{id, now, std::string(to_string(DeliveryEvent::kReceiptMissing)), detail});
      const int resends = entry.resends;
      auto store_job = [event, resends](Store& store) -> Result<void> {
        if (auto r = store.expect_receipt_watch(event->message_id, resends); !r) return r;
        if (auto r = store.append_event(*event); !r) return r;
        return store.watch_receipt(event->message_id, std::nullopt, 0);
      };
      auto committing = commit<void>(writer_, std::move(store_job));
      auto written = co_await std::move(committing);
      if (!written && written.error().code == Errc::kStale) receipts_.forget(id);  // done elsewhere
      if (written) {
        log_warn("ALERT receipt missing: #" + std::to_string(id) + " " + detail);
        metrics_.receipts_missing.with({message.receiver_endpoint}).inc();
        receipts_.forget(id);
      }
      continue;
    }
    // The same letters in a new envelope with a new id and time (domain.md §3).
    const std::string new_envelope_id = ids_.next();
    std::string sbdh_instance;
    std::string fhir_key;
    auto bytes =
        outbound_body(message.body, *receiver, now, new_envelope_id, &sbdh_instance, &fhir_key);
    if (bytes && receiver->dialect == Dialect::kSbdh) {
      auto recording = record_sent(writer_, id, sbdh_instance, now);
      if (auto recorded = co_await std::move(recording); !recorded) bytes = recorded.error();
    }
    if (bytes && !fhir_key.empty()) {
      auto recording = record_sent_fhir(writer_, id, fhir_key, now);
      if (auto recorded = co_await std::move(recording); !recorded) bytes = recorded.error();
    }
    if (!bytes) {
      receipts_.forget(id);
      continue;
    }
    // The resend is recorded in the watch before it is sent: if another broker's sweep sent it
    // already, the watch moved on and this one is not sent (issue 11, item 2).
    {
      const int done = entry.resends;
      // Issue 9: the resend's envelope id is recorded with the claim, so a receipt that names it
      // lands on this message, not on a newer version of its letters (receipt_match.hpp).
      const std::string resent_in = resend_envelope_key(message.receiver_gln, new_envelope_id);
      auto claim_job = [id, now, done, resent_in](Store& store) -> Result<void> {
        if (auto r = store.expect_receipt_watch(id, done); !r) return r;
        if (auto r = store.record_sent_envelope(resent_in, id, now); !r) return r;
        return store.watch_receipt(id, now, done + 1);
      };
      auto claiming = commit<void>(writer_, std::move(claim_job));
      auto claimed = co_await std::move(claiming);
      if (!claimed) {
        if (claimed.error().code == Errc::kStale) receipts_.forget(id);
        continue;  // a storage failure: tried again at the next check
      }
    }
    auto transfer = post_to(*receiver, std::move(*bytes));
    const TransportResponse response = co_await std::move(transfer);
    auto reading = receipts_in_response(response, *receiver, id, true, now);
    const ResponseReceipts receipts = co_await std::move(reading);
    const std::string outcome =
        response.http_status != 0 ? "HTTP " + std::to_string(response.http_status) : response.error;
    auto event = std::make_shared<const MessageEvent>(
        MessageEvent{id, now, std::string(to_string(DeliveryEvent::kResent)),
                     "resend " + std::to_string(entry.resends + 1) + " of " +
                         std::to_string(config_.delivery.max_resends) + " to " + receiver->id +
                         " in envelope " + new_envelope_id + ": " + outcome});
    auto store_job = [event](Store& store) -> Result<void> {
      // The watch was moved on before the send; a receipt in the answer has ended it since.
      return store.append_event(*event);
    };
    auto committing = commit<void>(writer_, std::move(store_job));
    auto written = co_await std::move(committing);
    if (!written) continue;  // the watch moved on already: the next check reads it again
    log_warn("#" + std::to_string(id) + " " + event->detail);
    metrics_.resends.with({receiver->id}).inc();
    if (receipts.relayed) {
      receipts_.forget(id);
    } else {
      receipts_.watch(id, now + receipt_timeout_for(message.receiver_endpoint), entry.resends + 1);
    }
  }
}

}  // namespace sektorbro
