#include "broker/store/memory_store.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <variant>

#include "broker/core/identifiers.hpp"
#include "broker/store/body_codec.hpp"

namespace sektorbro {
namespace memory_store_detail {

// What update_delivery, set_receipt and requeue change on a message; the rest never changes.
struct Delivery {
  DeliveryState state = DeliveryState::kPending;
  int attempts = 0;
  TimePoint next_attempt_at{};
  std::string last_error;
  ReceiptState receipt = ReceiptState::kNone;
  std::optional<TimePoint> receipt_sent_at;  // the receipt watch (none: not watched)
  int resends = 0;
  bool receipt_missing = false;              // the watch was given up on and no receipt came since
  std::optional<TimePoint> body_deleted_at;  // retention deleted the body (issue 11, item 4)
};

struct MessageRow {
  // Shared by the committed and the working state: bodies are stored once.
  std::shared_ptr<const NewMessage> message;
  Delivery delivery;
};

// The latest version of a letter (SqliteStore's `letters` table): the dedup memory.
struct LetterRow {
  std::int64_t message_id = 0;
  LetterType type = LetterType::kCertificateRequest;
  std::string content_hash;
  LetterStatus status = LetterStatus::kNew;
};
using LetterKey = std::pair<std::string, std::string>;                 // sender GLN, letter id
using VersionKey = std::tuple<std::string, std::string, std::string>;  // + content hash

struct DeadlineRow {
  std::int64_t id = 0;  // insertion order, kept when replaced: the tie-breaker of every order
  Deadline deadline;
};

struct State {
  std::int64_t next_message_id = 1;
  std::int64_t next_deadline_id = 1;
  std::map<std::int64_t, MessageRow> messages;
  std::map<LetterKey, LetterRow> letters;
  // Superseded versions (SqliteStore's `letter_versions`): the messages that held them.
  std::map<VersionKey, std::set<std::int64_t>> versions;
  std::map<std::int64_t, std::vector<MessageEvent>> events;  // each in insertion order
  std::vector<AuditEntry> audit;
  std::map<DeadlineKey, DeadlineRow> deadlines;
  std::map<std::string, SentEnvelope> sent_envelopes;  // by instance identifier
  // Retention (issue 11, item 4): the legal holds, and per message how many superseded letter
  // versions name it as their successor (SqliteStore: letter_versions.superseded_by).
  std::map<std::pair<HoldKind, std::string>, LegalHold> holds;
  std::map<std::int64_t, int> successor_refs;
};

struct MessageInserted {
  std::int64_t id = 0;
  MessageRow row;
};
struct DeliveryChanged {
  std::int64_t id = 0;
  Delivery before;
  Delivery after;
};
struct LetterPut {  // the key was free before
  LetterKey key;
  LetterRow row;
};
struct LetterErased {
  LetterKey key;
  LetterRow row;
};
struct VersionAdded {
  VersionKey key;
  std::int64_t message_id = 0;
  std::int64_t superseded_by = 0;  // the message whose letter replaced it (0: not known)
};
struct EventAdded {
  MessageEvent event;
};
struct AuditAdded {
  AuditEntry entry;
};
struct DeadlinePut {
  std::optional<DeadlineRow> before;
  DeadlineRow after;
};

struct SentEnvelopeAdded {  // the identifier was free before
  SentEnvelope envelope;
};

// Retention (issue 11, item 4).
struct BodyDeleted {  // the message row before and after its body went
  std::int64_t id = 0;
  MessageRow before;
  MessageRow after;
};
struct MessageErased {  // the row and its timeline
  std::int64_t id = 0;
  MessageRow row;
  std::vector<MessageEvent> events;
};
struct VersionErased {
  VersionAdded version;
};
struct DeadlineErased {
  DeadlineRow row;
};
struct SentEnvelopeErased {
  SentEnvelope envelope;
};
struct HoldPut {
  std::optional<LegalHold> before;
  LegalHold after;
};
struct HoldErased {
  LegalHold hold;
};

struct Change {
  std::variant<MessageInserted, DeliveryChanged, LetterPut, LetterErased, VersionAdded, EventAdded,
               AuditAdded, DeadlinePut, SentEnvelopeAdded, BodyDeleted, MessageErased,
               VersionErased, DeadlineErased, SentEnvelopeErased, HoldPut, HoldErased>
      what;
};

namespace {

template <typename... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <typename... F>
Overloaded(F...) -> Overloaded<F...>;

void add_version(State& s, const VersionAdded& v) {
  s.versions[v.key].insert(v.message_id);
  if (v.superseded_by != 0) ++s.successor_refs[v.superseded_by];
}

void erase_version(State& s, const VersionAdded& v) {
  auto it = s.versions.find(v.key);
  it->second.erase(v.message_id);
  if (it->second.empty()) s.versions.erase(it);
  if (v.superseded_by != 0 && --s.successor_refs[v.superseded_by] == 0)
    s.successor_refs.erase(v.superseded_by);
}

std::pair<HoldKind, std::string> hold_key(const LegalHold& h) { return {h.kind, h.key}; }

void apply(State& s, const Change& c) {
  std::visit(Overloaded{
                 [&](const MessageInserted& m) {
                   s.messages.emplace(m.id, m.row);
                   s.next_message_id = m.id + 1;
                 },
                 [&](const DeliveryChanged& d) { s.messages.at(d.id).delivery = d.after; },
                 [&](const LetterPut& l) { s.letters.insert_or_assign(l.key, l.row); },
                 [&](const LetterErased& l) { s.letters.erase(l.key); },
                 [&](const VersionAdded& v) { add_version(s, v); },
                 [&](const EventAdded& e) { s.events[e.event.message_id].push_back(e.event); },
                 [&](const AuditAdded& a) { s.audit.push_back(a.entry); },
                 [&](const DeadlinePut& d) {
                   s.deadlines.insert_or_assign(d.after.deadline.key, d.after);
                   s.next_deadline_id = std::max(s.next_deadline_id, d.after.id + 1);
                 },
                 [&](const SentEnvelopeAdded& e) {
                   s.sent_envelopes.emplace(e.envelope.instance_identifier, e.envelope);
                 },
                 [&](const BodyDeleted& b) { s.messages.at(b.id) = b.after; },
                 [&](const MessageErased& m) {
                   s.messages.erase(m.id);
                   s.events.erase(m.id);
                 },
                 [&](const VersionErased& v) { erase_version(s, v.version); },
                 [&](const DeadlineErased& d) { s.deadlines.erase(d.row.deadline.key); },
                 [&](const SentEnvelopeErased& e) {
                   s.sent_envelopes.erase(e.envelope.instance_identifier);
                 },
                 [&](const HoldPut& h) { s.holds.insert_or_assign(hold_key(h.after), h.after); },
                 [&](const HoldErased& h) { s.holds.erase(hold_key(h.hold)); },
             },
             c.what);
}

// Undoes `c`, which must be the last change applied to `s` that is not undone yet.
void revert(State& s, const Change& c) {
  std::visit(Overloaded{
                 [&](const MessageInserted& m) {
                   s.messages.erase(m.id);
                   s.next_message_id = m.id;
                 },
                 [&](const DeliveryChanged& d) { s.messages.at(d.id).delivery = d.before; },
                 [&](const LetterPut& l) { s.letters.erase(l.key); },
                 [&](const LetterErased& l) { s.letters.insert_or_assign(l.key, l.row); },
                 [&](const VersionAdded& v) { erase_version(s, v); },
                 [&](const EventAdded& e) {
                   auto it = s.events.find(e.event.message_id);
                   it->second.pop_back();
                   if (it->second.empty()) s.events.erase(it);
                 },
                 [&](const AuditAdded&) { s.audit.pop_back(); },
                 [&](const DeadlinePut& d) {
                   if (d.before) {
                     s.deadlines.insert_or_assign(d.before->deadline.key, *d.before);
                   } else {
                     s.deadlines.erase(d.after.deadline.key);
                     s.next_deadline_id = d.after.id;
                   }
                 },
                 [&](const SentEnvelopeAdded& e) {
                   s.sent_envelopes.erase(e.envelope.instance_identifier);
                 },
                 [&](const BodyDeleted& b) { s.messages.at(b.id) = b.before; },
                 [&](const MessageErased& m) {
                   s.messages.emplace(m.id, m.row);
                   if (!m.events.empty()) s.events.emplace(m.id, m.events);
                 },
                 [&](const VersionErased& v) { add_version(s, v.version); },
                 [&](const DeadlineErased& d) { s.deadlines.emplace(d.row.deadline.key, d.row); },
                 [&](const SentEnvelopeErased& e) {
                   s.sent_envelopes.emplace(e.envelope.instance_identifier, e.envelope);
                 },
                 [&](const HoldPut& h) {
                   if (h.before)
                     s.holds.insert_or_assign(hold_key(*h.before), *h.before);
                   else
                     s.holds.erase(hold_key(h.after));
                 },
                 [&](const HoldErased& h) { s.holds.emplace(hold_key(h.hold), h.hold); },
             },
             c.what);
}

}  // namespace

// One write operation's view: it reads the working state (the writer sees its own batch, as
// SqliteStore's writer connection does) and changes it only through record().
class Tx {
 public:
  Tx(State& state, std::vector<Change>& log) : state_(state), log_(log) {}
  const State& state() const { return state_; }
  void record(Change c) {
    apply(state_, c);
    log_.push_back(std::move(c));
  }

 private:
  State& state_;
  std::vector<Change>& log_;
};

}  // namespace memory_store_detail

namespace {

// What the dispatcher schedules a pending delivery by.
PendingDelivery pending_delivery(std::int64_t id, const memory_store_detail::MessageRow& row) {
  return PendingDelivery{
      .message_id = id,
      .receiver_endpoint = row.message->receiver_endpoint,
      .attempts = row.delivery.attempts,
      .received_at = row.message->received_at,
      .next_attempt_at = row.delivery.next_attempt_at,
  };
}

using memory_store_detail::Change;
using memory_store_detail::DeadlinePut;
using memory_store_detail::DeadlineRow;
using memory_store_detail::Delivery;
using memory_store_detail::DeliveryChanged;
using memory_store_detail::LetterErased;
using memory_store_detail::LetterKey;
using memory_store_detail::LetterPut;
using memory_store_detail::LetterRow;
using memory_store_detail::MessageInserted;
using memory_store_detail::MessageRow;
using memory_store_detail::State;
using memory_store_detail::Tx;

// The error texts follow SqliteStore's, so a driver test reads the same answers from both.
Error storage_error(std::string detail) { return make_error(Errc::kStorage, std::move(detail)); }
Error message_not_found(std::int64_t id) {
  return make_error(Errc::kNotFound, "message " + std::to_string(id) + " not found");
}
Error stale_letter(const std::string& letter_id) {
  return make_error(Errc::kStale, "letter " + letter_id + " changed since the decision");
}

// The audit chain's entry for what was just recorded (SqliteStore's append_chain, unhashed).
void append_chain(Tx& tx, TimePoint at, std::string_view kind, std::string_view actor,
                  std::string subject, std::string_view detail) {
  AuditEntry e;
  e.seq = tx.state().audit.empty() ? 1 : tx.state().audit.back().seq + 1;
  e.at = at;
  e.kind = kind;
  e.actor = actor.empty() ? std::string_view("broker") : actor;
  e.subject = std::move(subject);
  e.detail = detail;
  tx.record(Change{memory_store_detail::AuditAdded{std::move(e)}});
}

// A timeline event and its audit entry (subject "message <id>", then `subject_more` if given);
// kNotFound if the message does not exist (SqliteStore: the events' foreign key).
Result<void> insert_event(Tx& tx, std::int64_t message_id, TimePoint at, const std::string& kind,
                          const std::string& detail, const std::string& actor,
                          const std::string& subject_more = {}) {
  if (!tx.state().messages.contains(message_id)) return message_not_found(message_id);
  tx.record(Change{memory_store_detail::EventAdded{MessageEvent{message_id, at, kind, detail}}});
  std::string subject = "message " + std::to_string(message_id);
  if (!subject_more.empty()) subject += " " + subject_more;
  append_chain(tx, at, kind, actor, std::move(subject), detail);
  return {};
}

Result<void> change_delivery(Tx& tx, std::int64_t message_id,
                             const std::function<void(Delivery&)>& change) {
  const auto it = tx.state().messages.find(message_id);
  if (it == tx.state().messages.end()) return message_not_found(message_id);
  DeliveryChanged c{message_id, it->second.delivery, it->second.delivery};
  change(c.after);
  tx.record(Change{std::move(c)});
  return {};
}

// SqliteStore keeps dates as 'YYYY-MM-DD' under a CHECK of that shape: a valid date outside
// years 0000–9999 fails there as a storage error, and so it does here.
bool has_stored_date_shape(const Date& d) {
  const std::string s = format_date(d);
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
  return true;
}

Result<void> write_deadline(Tx& tx, const Deadline& d, std::int64_t message_id,
                            const MessageEvent& event) {
  if (!d.due.ok())
    return make_error(Errc::kInvalid,
                      "deadline for letter " + d.key.letter_id + ": due is not a valid date");
  if (d.discharge_date && !d.discharge_date->ok())
    return make_error(Errc::kInvalid, "deadline for letter " + d.key.letter_id +
                                          ": discharge_date is not a valid date");
  if (!has_stored_date_shape(d.due) ||
      (d.discharge_date && !has_stored_date_shape(*d.discharge_date)))
    return storage_error("store: put deadline: CHECK constraint failed: date shape");
  const auto it = tx.state().deadlines.find(d.key);
  DeadlinePut put;
  if (it != tx.state().deadlines.end()) put.before = it->second;
  put.after = DeadlineRow{put.before ? put.before->id : tx.state().next_deadline_id, d};
  tx.record(Change{std::move(put)});
  // Without an event nothing an operator sees changed: no timeline line, no audit entry.
  if (event.kind.empty()) return {};
  return insert_event(tx, message_id, event.at, event.kind, event.detail, event.actor,
                      "deadline " + d.key.requester_gln + "/" + d.key.letter_id);
}

Result<std::int64_t> write_message(Tx& tx, const MessagePlan& plan) {
  const NewMessage& message = plan.message;
  const std::int64_t id = tx.state().next_message_id;
  Delivery pending;  // pending, no attempts, due at once
  pending.next_attempt_at = message.received_at;
  tx.record(Change{MessageInserted{
      id, MessageRow{std::make_shared<const NewMessage>(message), std::move(pending)}}});
  for (const Supersession& old : plan.supersedes) {
    // The version the decision replaced must still be the latest.
    const LetterKey key{message.sender_gln, old.letter_id};
    const auto it = tx.state().letters.find(key);
    if (it == tx.state().letters.end() || it->second.message_id != old.old_message_id ||
        it->second.content_hash != old.old_content_hash)
      return stale_letter(old.letter_id);
    const LetterRow row = it->second;
    tx.record(Change{memory_store_detail::VersionAdded{
        {message.sender_gln, old.letter_id, row.content_hash}, row.message_id, id}});
    tx.record(Change{LetterErased{key, row}});
  }
  for (const NewLetter& letter : message.letters) {
    // A letter the decision took as new is stored by now: a resend raced this one (or the plan
    // names the letter twice; the store cannot tell the two apart, nor can SqliteStore).
    LetterKey key{message.sender_gln, letter.letter_id};
    if (tx.state().letters.contains(key)) return stale_letter(letter.letter_id);
    tx.record(Change{
        LetterPut{std::move(key), LetterRow{id, letter.type, letter.content_hash, letter.status}}});
  }
  const auto target = [id](std::int64_t message_id) { return message_id == 0 ? id : message_id; };
  for (const MessageEvent& e : plan.events)
    if (auto r = insert_event(tx, target(e.message_id), e.at, e.kind, e.detail, e.actor); !r)
      return r.error();
  // As SqliteStore: a plan without an event of the new message's own gets an entry "bound".
  if (std::none_of(plan.events.begin(), plan.events.end(),
                   [&](const MessageEvent& e) { return target(e.message_id) == id; }))
    append_chain(tx, message.received_at, "bound", message.sender_endpoint,
                 "message " + std::to_string(id), "");
  for (const ReceiptUpdate& u : plan.receipts) {
    if (auto r = change_delivery(tx, u.message_id,
                                 [&](Delivery& d) {
                                   d.receipt = u.state;
                                   d.receipt_sent_at.reset();
                                   d.receipt_missing = false;
                                 });
        !r)
      return r.error();
    if (auto r =
            insert_event(tx, u.message_id, u.event.at, u.event.kind, u.event.detail, u.event.actor);
        !r)
      return r.error();
  }
  for (const DeadlineWrite& w : plan.deadlines) {
    if (w.expect_open) {
      const auto it = tx.state().deadlines.find(w.deadline.key);
      if (it == tx.state().deadlines.end() || it->second.deadline.state != DeadlineState::kOpen)
        return make_error(Errc::kStale, "deadline for letter " + w.deadline.key.letter_id +
                                            " changed since the decision");
    }
    MessageEvent e = w.event;
    e.message_id = target(w.message_id);
    if (auto r = write_deadline(tx, w.deadline, e.message_id, e); !r) return r.error();
  }
  return id;
}

MessageRecord record_of(std::int64_t id, const MessageRow& row) {
  const NewMessage& m = *row.message;
  MessageRecord r;
  r.id = id;
  r.envelope_id = m.envelope_id;
  r.sender_gln = m.sender_gln;
  r.receiver_gln = m.receiver_gln;
  r.sender_endpoint = m.sender_endpoint;
  r.receiver_endpoint = m.receiver_endpoint;
  // As received: the letters' rows only ever move between latest and superseded, unchanged.
  r.letters = m.letters;
  r.body = m.body;
  r.acceptance = m.acceptance;
  r.receipt_requested = m.receipt_requested;
  r.contains_cpr = m.contains_cpr;
  r.received_at = m.received_at;
  r.state = row.delivery.state;
  r.attempts = row.delivery.attempts;
  r.next_attempt_at = row.delivery.next_attempt_at;
  r.last_error = row.delivery.last_error;
  r.receipt = row.delivery.receipt;
  r.body_deleted_at = row.delivery.body_deleted_at;
  return r;
}

// Deadlines in (key(d), insertion) order.
template <typename Key>
std::vector<Deadline> sorted_deadlines(std::vector<const DeadlineRow*> rows, Key key) {
  std::sort(rows.begin(), rows.end(), [&](const DeadlineRow* a, const DeadlineRow* b) {
    const auto ka = key(a->deadline);
    const auto kb = key(b->deadline);
    return ka != kb ? ka < kb : a->id < b->id;
  });
  std::vector<Deadline> out;
  out.reserve(rows.size());
  for (const DeadlineRow* r : rows) out.push_back(r->deadline);
  return out;
}

}  // namespace

MemoryStore::MemoryStore()
    : committed_(std::make_unique<State>()), working_(std::make_unique<State>()) {}

MemoryStore::~MemoryStore() = default;

void MemoryStore::undo_to(std::size_t mark) {
  while (log_.size() > mark) {
    memory_store_detail::revert(*working_, log_.back());
    log_.pop_back();
  }
}

void MemoryStore::commit_log() {
  for (const Change& c : log_) memory_store_detail::apply(*committed_, c);
  log_.clear();
}

template <typename T, typename Body>
Result<T> MemoryStore::atomically(Body&& body) {
  std::lock_guard lock(mu_);
  if (in_batch_ && batch_lost_)
    return storage_error("store: the batch was rolled back after an earlier failure");
  if (fail_writes_) {
    if (in_batch_) {
      undo_to(0);
      batch_lost_ = true;
    }
    return storage_error("store: write: database or disk is full (injected)");
  }
  const std::size_t mark = log_.size();
  Tx tx(*working_, log_);
  Result<T> result = body(tx);
  if (!result) {
    undo_to(mark);
    return result;
  }
  if (!in_batch_) {
    if (fail_commits_) {
      undo_to(0);
      return storage_error("store: commit: database or disk is full (injected)");
    }
    commit_log();
  }
  return result;
}

std::vector<AuditEntry> MemoryStore::audit_entries() {
  std::lock_guard lock(mu_);
  return committed_->audit;
}

// --- write side ---

Result<void> MemoryStore::begin_batch() {
  std::lock_guard lock(mu_);
  if (in_batch_) return storage_error("store: a batch is already open");
  in_batch_ = true;
  batch_lost_ = false;
  return {};
}

Result<void> MemoryStore::commit_batch() {
  std::lock_guard lock(mu_);
  if (!in_batch_) return storage_error("store: no batch is open");
  in_batch_ = false;
  if (batch_lost_) {
    batch_lost_ = false;
    return storage_error("store: commit batch: the batch was rolled back after an earlier failure");
  }
  if (fail_commits_) {
    undo_to(0);
    return storage_error("store: commit batch: database or disk is full (injected)");
  }
  commit_log();
  return {};
}

void MemoryStore::rollback_batch() {
  std::lock_guard lock(mu_);
  undo_to(0);
  in_batch_ = false;
  batch_lost_ = false;
}

Result<std::int64_t> MemoryStore::store_message(const MessagePlan& plan) {
  if (plan.message.letters.empty())
    return make_error(Errc::kInvalid, "a message must carry at least one letter");
  // A body prepared by the caller must be the body's (what a store that keeps it trusts).
  const NewMessage& m = plan.message;
  if (m.packed_body) {
    auto unpacked = unpack_body(m.packed_body->bytes, static_cast<int>(m.packed_body->codec));
    if (!unpacked || *unpacked != m.body)
      return make_error(Errc::kInvalid, "the packed body is not the message's body");
  }
  if (!m.body_sha256.empty() && m.body_sha256 != sha256_hex(m.body))
    return make_error(Errc::kInvalid, "the body's hash is not the message's body's");
  auto stored = atomically<std::int64_t>([&](Tx& tx) { return write_message(tx, plan); });
  if (stored && m.packed_body && !m.body_sha256.empty()) ++prepared_bodies_;
  return stored;
}

Result<void> MemoryStore::update_delivery(std::int64_t message_id, DeliveryState state,
                                          int attempts, TimePoint next_attempt_at,
                                          const std::string& last_error, const MessageEvent& event,
                                          std::optional<TimePoint> receipt_watch_from) {
  return atomically<void>([&](Tx& tx) -> Result<void> {
    if (auto r = change_delivery(tx, message_id,
                                 [&](Delivery& d) {
                                   d.state = state;
                                   d.attempts = attempts;
                                   d.next_attempt_at = next_attempt_at;
                                   d.last_error = last_error;
                                   if (receipt_watch_from) {
                                     d.receipt_sent_at = receipt_watch_from;
                                     d.resends = 0;
                                     d.receipt_missing = false;
                                   }
                                 });
        !r)
      return r;
    return insert_event(tx, message_id, event.at, event.kind, event.detail, event.actor);
  });
}

Result<void> MemoryStore::set_receipt(std::int64_t message_id, ReceiptState receipt,
                                      const MessageEvent& event) {
  return atomically<void>([&](Tx& tx) -> Result<void> {
    if (auto r = change_delivery(tx, message_id,
                                 [&](Delivery& d) {
                                   d.receipt = receipt;
                                   d.receipt_sent_at.reset();
                                   d.receipt_missing = false;
                                 });
        !r)
      return r;
    return insert_event(tx, message_id, event.at, event.kind, event.detail, event.actor);
  });
}

Result<void> MemoryStore::watch_receipt(std::int64_t message_id, std::optional<TimePoint> last_sent,
                                        int resends) {
  return atomically<void>([&](Tx& tx) -> Result<void> {
    return change_delivery(tx, message_id, [&](Delivery& d) {
      d.receipt_sent_at = last_sent;
      d.resends = resends;
      d.receipt_missing = !last_sent;
    });
  });
}

Result<std::vector<ReceiptOwed>> MemoryStore::receipts_owed() {
  std::lock_guard lock(mu_);
  std::vector<ReceiptOwed> out;
  for (const auto& [id, row] : committed_->messages)
    if (row.delivery.receipt_sent_at)
      out.push_back({id, row.message->receiver_endpoint, *row.delivery.receipt_sent_at,
                     row.delivery.resends});
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.last_sent < b.last_sent; });
  return out;
}

Result<void> MemoryStore::record_sent_envelope(const std::string& instance_identifier,
                                               std::int64_t message_id, TimePoint sent_at) {
  if (instance_identifier.empty())
    return make_error(Errc::kInvalid, "sent envelope: empty instance identifier");
  return atomically<void>([&](Tx& tx) -> Result<void> {
    if (!tx.state().messages.contains(message_id)) return message_not_found(message_id);
    const auto it = tx.state().sent_envelopes.find(instance_identifier);
    if (it != tx.state().sent_envelopes.end()) {
      if (it->second.message_id != message_id)
        return make_error(Errc::kConflict,
                          "sent envelope " + instance_identifier + " is another message's");
      return {};
    }
    tx.record(Change{memory_store_detail::SentEnvelopeAdded{
        SentEnvelope{instance_identifier, message_id, sent_at}}});
    return {};
  });
}

Result<std::optional<SentEnvelope>> MemoryStore::find_sent_envelope(
    const std::string& instance_identifier) {
  std::lock_guard lock(mu_);
  const auto it = committed_->sent_envelopes.find(instance_identifier);
  if (it == committed_->sent_envelopes.end()) return std::optional<SentEnvelope>();
  return std::optional<SentEnvelope>(it->second);
}

Result<void> MemoryStore::append_event(const MessageEvent& event) {
  return atomically<void>([&](Tx& tx) {
    return insert_event(tx, event.message_id, event.at, event.kind, event.detail, event.actor);
  });
}

Result<void> MemoryStore::requeue(std::int64_t message_id, TimePoint now) {
  return atomically<void>([&](Tx& tx) -> Result<void> {
    const auto it = tx.state().messages.find(message_id);
    if (it == tx.state().messages.end()) return message_not_found(message_id);
    const DeliveryState from = it->second.delivery.state;
    if (from != DeliveryState::kDeadLettered && from != DeliveryState::kRefused)
      return make_error(Errc::kConflict, "message " + std::to_string(message_id) + " is " +
                                             std::string(to_string(from)) +
                                             "; only dead-lettered or refused messages can be "
                                             "requeued");
    if (it->second.delivery.body_deleted_at)
      return make_error(Errc::kConflict, "message " + std::to_string(message_id) +
                                             ": its body was deleted by retention");
    // The last error stays: it says why the message was given up before.
    if (auto r = change_delivery(tx, message_id,
                                 [&](Delivery& d) {
                                   d.state = DeliveryState::kPending;
                                   d.attempts = 0;
                                   d.next_attempt_at = now;
                                 });
        !r)
      return r;
    return insert_event(tx, message_id, now, "requeued", "from " + std::string(to_string(from)),
                        {});
  });
}

Result<void> MemoryStore::audit(TimePoint at, const std::string& kind, const std::string& detail) {
  return atomically<void>([&](Tx& tx) -> Result<void> {
    append_chain(tx, at, kind, "broker", "input", detail);
    return {};
  });
}

Result<void> MemoryStore::audit_action(TimePoint at, const std::string& actor,
                                       const std::string& action, const std::string& subject,
                                       const std::string& detail) {
  if (actor.empty() || action.empty() || subject.empty())
    return make_error(Errc::kInvalid, "an audited action needs an actor, an action and a subject");
  return atomically<void>([&](Tx& tx) -> Result<void> {
    append_chain(tx, at, action, actor, subject, detail);
    return {};
  });
}

Result<void> MemoryStore::put_deadline(const Deadline& d, std::int64_t message_id,
                                       const MessageEvent& event) {
  return atomically<void>([&](Tx& tx) { return write_deadline(tx, d, message_id, event); });
}

Result<bool> MemoryStore::open_deadline(const Deadline& d, std::int64_t message_id,
                                        const MessageEvent& event) {
  return atomically<bool>([&](Tx& tx) -> Result<bool> {
    if (tx.state().deadlines.contains(d.key)) return false;  // one is stored: nothing changes
    if (auto r = write_deadline(tx, d, message_id, event); !r) return r.error();
    return true;
  });
}

// --- read side: the committed state only ---

Result<std::optional<LetterLocation>> MemoryStore::find_letter(const std::string& sender_gln,
                                                               const std::string& letter_id) {
  std::lock_guard lock(mu_);
  ++letter_reads_;
  const auto it = committed_->letters.find(LetterKey{sender_gln, letter_id});
  if (it == committed_->letters.end()) return std::optional<LetterLocation>();
  const LetterRow& row = it->second;
  return std::optional<LetterLocation>(LetterLocation{
      .message_id = row.message_id,
      .type = row.type,
      .content_hash = row.content_hash,
      .receiver_gln = committed_->messages.at(row.message_id).message->receiver_gln,
      .status = row.status,
  });
}

Result<std::optional<std::int64_t>> MemoryStore::find_letter_version(
    const std::string& sender_gln, const std::string& letter_id, const std::string& content_hash) {
  std::lock_guard lock(mu_);
  const auto it = committed_->versions.find({sender_gln, letter_id, content_hash});
  if (it == committed_->versions.end()) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(*it->second.begin());  // the earliest such version
}

Result<std::optional<MessageRecord>> MemoryStore::get_message(std::int64_t message_id) {
  std::lock_guard lock(mu_);
  const auto it = committed_->messages.find(message_id);
  if (it == committed_->messages.end()) return std::optional<MessageRecord>();
  return std::optional<MessageRecord>(record_of(it->first, it->second));
}

Result<std::vector<MessageEvent>> MemoryStore::timeline(std::int64_t message_id) {
  std::lock_guard lock(mu_);
  const auto it = committed_->events.find(message_id);
  if (it == committed_->events.end()) return std::vector<MessageEvent>();
  return it->second;
}

Result<std::vector<MessageRecord>> MemoryStore::list_messages(const MessageFilter& filter) {
  std::vector<MessageRecord> out;
  if (filter.limit <= 0) return out;
  std::lock_guard lock(mu_);
  const auto& messages = committed_->messages;
  auto take = [&](std::int64_t id, const MessageRow& row) {
    if (filter.state && row.delivery.state != *filter.state) return;
    if (filter.endpoint && row.message->sender_endpoint != *filter.endpoint &&
        row.message->receiver_endpoint != *filter.endpoint)
      return;
    // Search (issue 10): exactly as MessageFilter says (this store scans).
    if (filter.received_from && row.message->received_at < *filter.received_from) return;
    if (filter.received_to && row.message->received_at >= *filter.received_to) return;
    if (filter.envelope_id && row.message->envelope_id != *filter.envelope_id) return;
    if (filter.receipt_missing && !row.delivery.receipt_missing) return;
    out.push_back(record_of(id, row));
  };
  const auto full = [&] { return out.size() >= static_cast<std::size_t>(filter.limit); };
  if (filter.newest_first) {  // ids below before_id (0: no bound), descending
    auto it = filter.before_id > 0 ? messages.lower_bound(filter.before_id) : messages.end();
    while (it != messages.begin() && !full()) {
      --it;
      take(it->first, it->second);
    }
    return out;
  }
  for (auto it = messages.upper_bound(filter.after_id); it != messages.end() && !full(); ++it)
    take(it->first, it->second);
  return out;
}

Result<std::vector<PendingDelivery>> MemoryStore::pending_deliveries() {
  std::lock_guard lock(mu_);
  std::vector<PendingDelivery> out;
  for (const auto& [id, row] : committed_->messages)
    if (row.delivery.state == DeliveryState::kPending) out.push_back(pending_delivery(id, row));
  // Ids are already ascending; a stable sort keeps them so among equal next attempts.
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.next_attempt_at < b.next_attempt_at;
  });
  return out;
}

Result<std::optional<Deadline>> MemoryStore::find_deadline(const DeadlineKey& key) {
  std::lock_guard lock(mu_);
  const auto it = committed_->deadlines.find(key);
  if (it == committed_->deadlines.end()) return std::optional<Deadline>();
  return std::optional<Deadline>(it->second.deadline);
}

Result<std::vector<Deadline>> MemoryStore::due_deadlines(TimePoint now, int limit) {
  if (limit <= 0) return std::vector<Deadline>();
  std::lock_guard lock(mu_);
  std::vector<const DeadlineRow*> rows;
  for (const auto& [key, row] : committed_->deadlines)
    if (row.deadline.next_action_at && *row.deadline.next_action_at <= now) rows.push_back(&row);
  auto out = sorted_deadlines(std::move(rows), [](const Deadline& d) { return *d.next_action_at; });
  if (out.size() > static_cast<std::size_t>(limit)) out.resize(static_cast<std::size_t>(limit));
  return out;
}

Result<std::vector<Deadline>> MemoryStore::list_deadlines(const DeadlineFilter& filter) {
  if (filter.overdue_only && !filter.now)
    return make_error(Errc::kInvalid, "the overdue filter needs the current time");
  std::optional<DeadlineState> state = filter.state;
  if (filter.overdue_only) {
    if (state && *state != DeadlineState::kOpen) return std::vector<Deadline>();
    state = DeadlineState::kOpen;
  }
  if (filter.limit <= 0) return std::vector<Deadline>();
  const auto offset = static_cast<std::size_t>(std::max(filter.offset, 0));
  const auto limit = static_cast<std::size_t>(filter.limit);

  std::lock_guard lock(mu_);
  std::vector<const DeadlineRow*> rows;
  for (const auto& [key, row] : committed_->deadlines) {
    const Deadline& d = row.deadline;
    // The same criteria as SqliteStore's deadline_list_sql(): overdue is due_end <= now
    // (past_due, issue 12 item 20).
    if (state && d.state != *state) continue;
    if (filter.overdue_only && !(d.due_end <= *filter.now)) continue;
    if (filter.due_before && !(d.due_end <= *filter.due_before)) continue;
    if (filter.form && d.form != *filter.form) continue;
    if (filter.kind && d.kind != *filter.kind) continue;
    if (filter.opened_before && !(d.opened_at < *filter.opened_before)) continue;
    if (filter.opened_after && !(d.opened_at > *filter.opened_after)) continue;
    if (filter.endpoint && d.owed_by != *filter.endpoint && d.owed_to != *filter.endpoint) continue;
    rows.push_back(&row);
  }
  auto sorted = sorted_deadlines(std::move(rows), [](const Deadline& d) { return d.due_end; });
  std::vector<Deadline> out;
  for (std::size_t i = offset; i < sorted.size() && out.size() < limit; ++i)
    out.push_back(std::move(sorted[i]));
  return out;
}

Result<OperatorCounts> MemoryStore::operator_counts(TimePoint now) {
  std::lock_guard lock(mu_);
  OperatorCounts out;
  std::map<std::pair<std::string, std::string>, DeadlineCount> groups;
  for (const auto& [key, row] : committed_->deadlines) {
    const Deadline& d = row.deadline;
    if (d.state != DeadlineState::kOpen) continue;
    DeadlineCount& c = groups[{d.owed_by, d.form}];
    c.unit = d.owed_by;
    c.form = d.form;
    ++c.open;
    if (d.due_end <= now) ++c.overdue;  // past_due, as the SQL store counts it
  }
  for (auto& [key, c] : groups) out.deadlines.push_back(std::move(c));
  std::map<std::string, std::int64_t> dead, missing;
  for (const auto& [id, row] : committed_->messages) {
    if (row.delivery.state == DeliveryState::kDeadLettered) ++dead[row.message->receiver_endpoint];
    if (row.delivery.receipt_missing) ++missing[row.message->receiver_endpoint];
  }
  for (const auto& [endpoint, n] : dead) out.dead_letters.push_back({endpoint, n});
  for (const auto& [endpoint, n] : missing) out.receipts_missing.push_back({endpoint, n});
  return out;
}

Result<std::vector<std::int64_t>> MemoryStore::messages_of_citizen(const std::string& citizen_key,
                                                                   std::int64_t before_id,
                                                                   int limit) {
  std::vector<std::int64_t> out;
  if (limit <= 0) return out;
  std::lock_guard lock(mu_);
  const auto& messages = committed_->messages;
  auto it = before_id > 0 ? messages.lower_bound(before_id) : messages.end();
  while (it != messages.begin() && out.size() < static_cast<std::size_t>(limit)) {
    --it;
    const auto& keys = it->second.message->citizen_keys;
    if (std::find(keys.begin(), keys.end(), citizen_key) != keys.end()) out.push_back(it->first);
  }
  return out;
}

Result<void> MemoryStore::each_deadline_opened_between(
    TimePoint from, TimePoint to, const std::function<void(const Deadline&)>& each) {
  std::vector<Deadline> opened;
  {
    std::lock_guard lock(mu_);
    std::vector<const DeadlineRow*> rows;
    for (const auto& [key, row] : committed_->deadlines)
      if (row.deadline.opened_at >= from && row.deadline.opened_at < to) rows.push_back(&row);
    opened = sorted_deadlines(std::move(rows), [](const Deadline& d) { return d.opened_at; });
  }
  // Handed over without the lock: reads go on while the statistics count (as in the other
  // stores, whose counting has a connection of its own).
  for (const Deadline& d : opened) each(d);
  return {};
}

// --- retention, holds and the audit chain's head (issue 11 item 4, issue 12 item 5) ---

namespace {

// Whether a hold covers the message: one on it, or one on a citizen its letters are about.
bool held(const State& s, std::int64_t id, const MessageRow& row) {
  if (s.holds.contains({HoldKind::kMessage, std::to_string(id)})) return true;
  for (const auto& key : row.message->citizen_keys)
    if (s.holds.contains({HoldKind::kCitizen, key})) return true;
  return false;
}

std::string hold_subject(HoldKind kind, const std::string& key) {
  return (kind == HoldKind::kMessage ? "message " : "citizen ") + key;
}

}  // namespace

Result<void> MemoryStore::put_hold(const LegalHold& h) {
  if (h.key.empty() || h.actor.empty())
    return make_error(Errc::kInvalid, "a legal hold needs a key and an actor");
  return atomically<void>([&](Tx& tx) -> Result<void> {
    if (h.kind == HoldKind::kMessage) {
      std::int64_t id = 0;
      const auto [end, ec] = std::from_chars(h.key.data(), h.key.data() + h.key.size(), id);
      if (ec != std::errc() || end != h.key.data() + h.key.size())
        return make_error(Errc::kInvalid, "a message hold names a message id");
      if (!tx.state().messages.contains(id)) return message_not_found(id);
    }
    memory_store_detail::HoldPut put;
    if (const auto it = tx.state().holds.find({h.kind, h.key}); it != tx.state().holds.end())
      put.before = it->second;
    put.after = h;
    tx.record(Change{std::move(put)});
    append_chain(tx, h.at, "hold-placed", h.actor, hold_subject(h.kind, h.key), h.reason);
    return {};
  });
}

Result<void> MemoryStore::remove_hold(HoldKind kind, const std::string& key, TimePoint at,
                                      const std::string& actor) {
  return atomically<void>([&](Tx& tx) -> Result<void> {
    const auto it = tx.state().holds.find({kind, key});
    if (it == tx.state().holds.end())
      return make_error(Errc::kNotFound, "no hold on " + hold_subject(kind, key));
    tx.record(Change{memory_store_detail::HoldErased{it->second}});
    append_chain(tx, at, "hold-lifted", actor, hold_subject(kind, key), "");
    return {};
  });
}

Result<void> MemoryStore::delete_body(std::int64_t message_id, TimePoint at) {
  return atomically<void>([&](Tx& tx) -> Result<void> {
    const auto it = tx.state().messages.find(message_id);
    if (it == tx.state().messages.end()) return message_not_found(message_id);
    const MessageRow& row = it->second;
    if (row.delivery.body_deleted_at)
      return make_error(Errc::kConflict,
                        "message " + std::to_string(message_id) + ": body already deleted");
    if (row.delivery.state != DeliveryState::kDelivered &&
        row.delivery.state != DeliveryState::kRefused)
      return make_error(Errc::kConflict, "message " + std::to_string(message_id) + " is " +
                                             std::string(to_string(row.delivery.state)) +
                                             ": its body is still needed");
    if (held(tx.state(), message_id, row))
      return make_error(Errc::kConflict,
                        "message " + std::to_string(message_id) + " is under a legal hold");
    memory_store_detail::BodyDeleted change{message_id, row, row};
    auto without_body = std::make_shared<NewMessage>(*row.message);
    without_body->body.clear();
    change.after.message = std::move(without_body);
    change.after.delivery.body_deleted_at = at;
    tx.record(Change{std::move(change)});
    append_chain(tx, at, "body-deleted", "broker", "message " + std::to_string(message_id),
                 "retention");
    return {};
  });
}

Result<void> MemoryStore::delete_record(std::int64_t message_id, TimePoint at) {
  return atomically<void>([&](Tx& tx) -> Result<void> {
    const State& s = tx.state();
    const auto it = s.messages.find(message_id);
    if (it == s.messages.end()) return message_not_found(message_id);
    const MessageRow row = it->second;
    if (!row.delivery.body_deleted_at)
      return make_error(Errc::kConflict,
                        "message " + std::to_string(message_id) + ": its body is still kept");
    if (held(s, message_id, row))
      return make_error(Errc::kConflict,
                        "message " + std::to_string(message_id) + " is under a legal hold");
    if (s.successor_refs.contains(message_id))
      return make_error(Errc::kConflict, "message " + std::to_string(message_id) +
                                             " replaced a letter version still kept");
    const std::string& sender = row.message->sender_gln;
    for (const NewLetter& l : row.message->letters) {
      const LetterKey key{sender, l.letter_id};
      // The latest version, if this message holds it, with its closed deadline.
      if (const auto lt = s.letters.find(key);
          lt != s.letters.end() && lt->second.message_id == message_id) {
        const DeadlineKey dk{sender, l.letter_id};
        if (const auto dt = s.deadlines.find(dk);
            dt != s.deadlines.end() && dt->second.deadline.state != DeadlineState::kOpen)
          tx.record(Change{memory_store_detail::DeadlineErased{dt->second}});
        tx.record(Change{LetterErased{key, lt->second}});
      }
      // A superseded version this message held.
      const memory_store_detail::VersionKey vk{sender, l.letter_id, l.content_hash};
      if (const auto vt = s.versions.find(vk);
          vt != s.versions.end() && vt->second.contains(message_id)) {
        // Its successor, as recorded when it was superseded: the message holding the next
        // version. Found by scanning (tests only).
        std::int64_t successor = 0;
        for (const auto& [id, other] : s.messages)
          if (id > message_id && other.message->sender_gln == sender)
            for (const NewLetter& ol : other.message->letters)
              if (ol.letter_id == l.letter_id && successor == 0) successor = id;
        tx.record(Change{memory_store_detail::VersionErased{{vk, message_id, successor}}});
      }
    }
    std::vector<SentEnvelope> envelopes;
    for (const auto& [name, e] : s.sent_envelopes)
      if (e.message_id == message_id) envelopes.push_back(e);
    for (auto& e : envelopes)
      tx.record(Change{memory_store_detail::SentEnvelopeErased{std::move(e)}});
    std::vector<MessageEvent> events;
    if (const auto et = s.events.find(message_id); et != s.events.end()) events = et->second;
    tx.record(Change{memory_store_detail::MessageErased{message_id, row, std::move(events)}});
    append_chain(tx, at, "record-deleted", "broker", "message " + std::to_string(message_id),
                 "retention");
    return {};
  });
}

Result<void> MemoryStore::reclaim_space(int) { return {}; }

Result<std::vector<RetentionFacts>> MemoryStore::retention_candidates(RetentionStage stage,
                                                                      TimePoint received_before,
                                                                      RetentionCursor after,
                                                                      int limit) {
  std::lock_guard lock(mu_);
  const State& s = *committed_;
  std::vector<RetentionFacts> out;
  for (const auto& [id, row] : s.messages) {
    const NewMessage& m = *row.message;
    if ((stage == RetentionStage::kBody) == row.delivery.body_deleted_at.has_value()) continue;
    if (m.received_at >= received_before) continue;
    if (std::pair(m.received_at, id) <= std::pair(after.received_at, after.message_id)) continue;
    RetentionFacts f;
    f.message_id = id;
    f.type = m.letters.empty() ? LetterType::kCertificateRequest : m.letters.front().type;
    f.state = row.delivery.state;
    f.receipt_requested = m.receipt_requested;
    f.receipt = row.delivery.receipt;
    f.receipt_watched = row.delivery.receipt_sent_at.has_value();
    for (const NewLetter& l : m.letters) {
      const auto lt = s.letters.find({m.sender_gln, l.letter_id});
      if (lt == s.letters.end() || lt->second.message_id != id) continue;
      const auto dt = s.deadlines.find(DeadlineKey{m.sender_gln, l.letter_id});
      if (dt != s.deadlines.end() && dt->second.deadline.state == DeadlineState::kOpen)
        f.deadline_open = true;
    }
    f.received_at = m.received_at;
    f.last_event_at = m.received_at;
    if (const auto et = s.events.find(id); et != s.events.end())
      for (const MessageEvent& e : et->second) f.last_event_at = std::max(f.last_event_at, e.at);
    f.body_deleted_at = row.delivery.body_deleted_at;
    f.held = held(s, id, row);
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const RetentionFacts& a, const RetentionFacts& b) {
    return std::pair(a.received_at, a.message_id) < std::pair(b.received_at, b.message_id);
  });
  if (out.size() > static_cast<std::size_t>(std::max(limit, 0)))
    out.resize(static_cast<std::size_t>(std::max(limit, 0)));
  return out;
}

Result<std::vector<LegalHold>> MemoryStore::list_holds() {
  std::lock_guard lock(mu_);
  std::vector<LegalHold> out;
  for (const auto& [key, h] : committed_->holds) out.push_back(h);
  std::stable_sort(out.begin(), out.end(),
                   [](const LegalHold& a, const LegalHold& b) { return a.at < b.at; });
  return out;
}

Result<AuditHead> MemoryStore::audit_head() {
  std::lock_guard lock(mu_);
  // The chain here is unhashed: the head names the count only.
  return AuditHead{committed_->audit.empty() ? 0 : committed_->audit.back().seq, ""};
}

// --- leases (issue 11, item 2): one broker per MemoryStore, so a LeaseTable in memory ---

namespace {

// The ids of the pending deliveries the writer sees (its open batch included), earliest next
// attempt first (ties by id).
std::vector<std::int64_t> pending_in(const State& s) {
  std::vector<std::pair<TimePoint, std::int64_t>> due;
  for (const auto& [id, row] : s.messages)
    if (row.delivery.state == DeliveryState::kPending)
      due.emplace_back(row.delivery.next_attempt_at, id);
  std::sort(due.begin(), due.end());
  std::vector<std::int64_t> out;
  out.reserve(due.size());
  for (const auto& d : due) out.push_back(d.second);
  return out;
}

}  // namespace

Result<void> MemoryStore::lease_delivery(std::int64_t message_id, const std::string& owner,
                                         TimePoint until) {
  std::lock_guard lock(mu_);
  if (!working_->messages.contains(message_id)) return message_not_found(message_id);
  lease_table_.lease(message_id, owner, until);
  return {};
}

Result<std::vector<PendingDelivery>> MemoryStore::claim_deliveries(const std::string& owner,
                                                                   TimePoint now, TimePoint until,
                                                                   int limit) {
  std::lock_guard lock(mu_);
  std::vector<PendingDelivery> out;
  for (const std::int64_t id :
       lease_table_.claim(pending_in(*working_), owner, now, until, limit)) {
    out.push_back(pending_delivery(id, working_->messages.at(id)));
  }
  return out;
}

Result<std::vector<std::int64_t>> MemoryStore::renew_leases(const std::string& owner, TimePoint now,
                                                            TimePoint until) {
  std::lock_guard lock(mu_);
  return lease_table_.renew(pending_in(*working_), owner, now, until);
}

Result<bool> MemoryStore::hold_singleton(const std::string& name, const std::string& owner,
                                         TimePoint now, TimePoint until) {
  std::lock_guard lock(mu_);
  return lease_table_.hold_singleton(name, owner, now, until);
}

Result<std::vector<std::int64_t>> MemoryStore::claim_mailbox(const std::string& endpoint,
                                                             const std::string& owner,
                                                             TimePoint now, TimePoint until,
                                                             int limit) {
  std::lock_guard lock(mu_);
  std::vector<std::int64_t> waiting;  // in id order (the map's)
  for (const auto& [id, row] : working_->messages)
    if (row.delivery.state == DeliveryState::kPending && row.message->receiver_endpoint == endpoint)
      waiting.push_back(id);
  return lease_table_.claim_mailbox(waiting, owner, now, until, limit);
}

Result<void> MemoryStore::expect_deadline(const Deadline& expected) {
  std::lock_guard lock(mu_);
  const auto it = working_->deadlines.find(expected.key);
  if (it == working_->deadlines.end())
    return make_error(Errc::kNotFound, "no deadline for letter " + expected.key.letter_id);
  const Deadline& d = it->second.deadline;
  if (d.state != expected.state || d.overdue != expected.overdue ||
      d.reminder_steps_done != expected.reminder_steps_done ||
      d.generation != expected.generation || d.next_action_at != expected.next_action_at)
    return make_error(Errc::kStale, "deadline for letter " + expected.key.letter_id +
                                        " changed since the sweep read it");
  return {};
}

Result<void> MemoryStore::expect_receipt_watch(std::int64_t message_id, int resends) {
  std::lock_guard lock(mu_);
  const auto it = working_->messages.find(message_id);
  if (it == working_->messages.end()) return message_not_found(message_id);
  const Delivery& d = it->second.delivery;
  if (!d.receipt_sent_at || d.resends != resends)
    return make_error(Errc::kStale, "the receipt watch of message " + std::to_string(message_id) +
                                        " changed since it was read");
  return {};
}

Result<void> MemoryStore::expect_delivery_state(std::int64_t message_id, DeliveryState state) {
  std::lock_guard lock(mu_);
  const auto it = working_->messages.find(message_id);
  if (it == working_->messages.end()) return message_not_found(message_id);
  if (it->second.delivery.state != state)
    return make_error(Errc::kStale, "message " + std::to_string(message_id) + " is " +
                                        std::string(to_string(it->second.delivery.state)) +
                                        " by now, not " + std::string(to_string(state)));
  return {};
}

}  // namespace sektorbro
