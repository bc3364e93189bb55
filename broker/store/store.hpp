// The store seam: where messages, their delivery state and their timeline live durably.
// SqliteStore (WAL, one file) is the embedded default; a PostgreSQL store can implement the
// same interface. The on-disk format is described in docs/store-format.md.
//
// Thread rules: write operations (begin_batch … commit_batch) are called from exactly one
// thread, the GroupCommitWriter's. Read operations may be called from any one other thread
// concurrently with writes (implementations use a separate read connection).
//
// Audit chain (issue 5): every write operation that records a timeline event, every audit() and
// every audit_action() also appends an entry to the hash-chained audit log, in the same
// transaction, so an entry exists exactly when what it records does (audit_chain.hpp,
// audit_verify.hpp).
//
// Atomicity: each write operation is atomic on its own (a failed one leaves no trace), and a
// batch becomes durable as a whole when commit_batch returns ok — that is the moment the broker
// may acknowledge anything written in it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"
#include "broker/deadlines/deadline.hpp"
#include "broker/message/message.hpp"

namespace sektorbro {

enum class DeliveryState { kPending, kDelivered, kRefused, kDeadLettered };
std::string_view to_string(DeliveryState s);  // "pending", "delivered", "refused", "dead-lettered"
std::optional<DeliveryState> parse_delivery_state(std::string_view s);

enum class ReceiptState { kNone, kPositive, kNegative };
std::string_view to_string(ReceiptState s);  // "none", "positive", "negative"

struct NewLetter {
  std::string letter_id;
  LetterType type;
  std::string content_hash;  // sha256 of encode_letter()
  // MedCom StatusCode (domain.md §2). A letter id reused with different content is a new
  // version of the letter if this is kCorrected or kCancelled, and a conflict if it is kNew.
  LetterStatus status = LetterStatus::kNew;
};

// A message that passed decoding, validation and routing, ready to be stored.
struct NewMessage {
  std::string envelope_id;
  std::string sender_gln;
  std::string receiver_gln;
  std::string sender_endpoint;  // configured endpoint id, or "broker" for broker-written ones
  std::string receiver_endpoint;
  std::vector<NewLetter> letters;  // at least one
  std::string body;                // the native XML to deliver (health content: never logged)
  std::string acceptance;          // the exact answer given to the sender (replayed on resend)
  bool receipt_requested = false;
  bool contains_cpr = false;
  TimePoint received_at{};
};

struct MessageEvent {
  std::int64_t message_id = 0;
  TimePoint at{};
  std::string kind;    // received, stored, attempt, delivered, refused, dead-lettered, requeued,
                       // duplicate, superseded, receipt-positive, receipt-negative, relayed, and
                       // the deadline events put_deadline() is given
  std::string detail;  // never CPR or content
  // Who caused it, for the audit chain: an endpoint id or "operator:<name>". Empty means the
  // broker itself. Not kept in the timeline (timeline() returns it empty).
  std::string actor = {};
};

// A letter version a new message replaces (MedCom rettetbrev / annulleretbrev, domain.md §2):
// the old version moves to the letters' history, the new one becomes the latest.
struct Supersession {
  std::string letter_id;          // the sender's letter id (the sender is the new message's)
  std::int64_t old_message_id = 0;
  std::string old_content_hash;   // the latest version the decision saw
};

struct ReceiptUpdate {
  std::int64_t message_id = 0;  // the receipted message
  ReceiptState state = ReceiptState::kNone;
  MessageEvent event;
};

// A deadline to write with a message. `message_id` 0 means the message stored by the same plan.
struct DeadlineWrite {
  Deadline deadline;
  std::int64_t message_id = 0;
  MessageEvent event;  // appended to that message's timeline unless its kind is empty
  // Written only while the stored deadline is still open (a reply answering it): otherwise the
  // plan is stale (two replies raced) and nothing is written.
  bool expect_open = false;
};

// Everything one accepted message writes, decided beforehand by the intake core
// (broker/intake): the store persists exactly this, atomically, and decides nothing. Events
// whose message_id is 0 belong to the message stored by the plan.
struct MessagePlan {
  NewMessage message;
  std::vector<Supersession> supersedes = {};
  std::vector<MessageEvent> events = {};  // in order; the new message's "received" first
  std::vector<ReceiptUpdate> receipts = {};
  std::vector<DeadlineWrite> deadlines = {};
};

struct MessageRecord {
  std::int64_t id = 0;
  std::string envelope_id;
  std::string sender_gln;
  std::string receiver_gln;
  std::string sender_endpoint;
  std::string receiver_endpoint;
  std::vector<NewLetter> letters;  // as received, superseded versions included
  std::string body;
  std::string acceptance;
  bool receipt_requested = false;
  bool contains_cpr = false;
  TimePoint received_at{};
  DeliveryState state = DeliveryState::kPending;
  int attempts = 0;
  TimePoint next_attempt_at{};
  std::string last_error;
  ReceiptState receipt = ReceiptState::kNone;
};

// What the delivery scheduler needs to resume after a restart.
struct PendingDelivery {
  std::int64_t message_id = 0;
  std::string receiver_endpoint;
  int attempts = 0;
  TimePoint received_at{};
  TimePoint next_attempt_at{};
};

// A delivered message whose receipt is still owed (MedCom reliable messaging, domain.md §3):
// when it was last sent (delivered or resent) and how many resends it has had.
struct ReceiptOwed {
  std::int64_t message_id = 0;
  std::string receiver_endpoint;
  TimePoint last_sent{};
  int resends = 0;
};

// An EHMI SBDH envelope the broker sent (issue 9): its DocumentIdentification/
// InstanceIdentifier, the message it carried and when. EHMI's envelope-level receipts
// (ReceiptAcknowledgement / ReceiptException) are correlated with these (domain.md §4).
struct SentEnvelope {
  std::string instance_identifier;
  std::int64_t message_id = 0;
  TimePoint sent_at{};
  bool operator==(const SentEnvelope&) const = default;
};

struct MessageFilter {
  std::optional<DeliveryState> state;
  std::optional<std::string> endpoint;  // endpoint id, matches sender or receiver
  // Paging by id. Oldest first (the default): only ids greater than after_id. Newest first
  // (issue 12, item 14: what operators read): only ids less than before_id, 0 for no bound;
  // after_id is then ignored.
  std::int64_t after_id = 0;
  bool newest_first = false;
  std::int64_t before_id = 0;
  int limit = 100;
};

// Where a letter was stored: the key is (sender GLN, letter id) — letter ids are unique only
// per sender (domain.md §3).
// It names the latest version of the letter.
struct LetterLocation {
  std::int64_t message_id = 0;
  LetterType type = LetterType::kCertificateRequest;
  std::string content_hash;
  std::string receiver_gln;
  LetterStatus status = LetterStatus::kNew;
};

// What the operators ask about deadlines (issue 3). Every criterion that is set must hold.
// Results are ordered by due_end, then by insertion, and paged by limit / offset.
struct DeadlineFilter {
  std::optional<DeadlineState> state;  // e.g. open
  bool overdue_only = false;           // open and due_end <= now (past_due; needs `now`)
  std::optional<TimePoint> now;
  std::optional<TimePoint> due_before;  // due_end <= this ("due soon")
  std::optional<std::string> endpoint;  // owed_by or owed_to
  std::optional<std::string> form;
  std::optional<DeadlineKind> kind;
  std::optional<TimePoint> opened_before;  // age filter: opened_at < this
  std::optional<TimePoint> opened_after;   // opened_at > this
  int limit = 100;
  int offset = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- write side (writer thread only) ---
  virtual Result<void> begin_batch() = 0;
  // Durable (fsync'd) when it returns ok. On error the whole batch is gone.
  virtual Result<void> commit_batch() = 0;
  virtual void rollback_batch() = 0;

  // Stores a message as the plan says (state pending, next attempt = received_at) and returns
  // its id. kStale when the facts the plan was decided on changed meanwhile — a letter it takes
  // as new is stored by now, or a version it supersedes is no longer the latest — so that the
  // caller decides again (two resends racing, or another broker on the same database); nothing
  // is written then.
  virtual Result<std::int64_t> store_message(const MessagePlan& plan) = 0;
  // After a delivery attempt: sets state, attempts, next_attempt_at, last_error and appends
  // the event (kind/detail).
  virtual Result<void> update_delivery(std::int64_t message_id, DeliveryState state, int attempts,
                                       TimePoint next_attempt_at, const std::string& last_error,
                                       const MessageEvent& event) = 0;
  // Also ends the message's receipt watch: the receipt came.
  virtual Result<void> set_receipt(std::int64_t message_id, ReceiptState receipt,
                                   const MessageEvent& event) = 0;
  // Starts or moves the receipt watch of a delivered message (sent at `last_sent`, after
  // `resends` resends), or ends it (nullopt: given up on). kNotFound if the message is unknown.
  // A receipt written by set_receipt() or a MessagePlan's receipts ends the watch too.
  virtual Result<void> watch_receipt(std::int64_t message_id,
                                     std::optional<TimePoint> last_sent, int resends) = 0;
  virtual Result<void> append_event(const MessageEvent& event) = 0;
  // Records an SBDH envelope sent with message `message_id` (issue 9). Recording the same
  // instance identifier again for the same message is a no-op; for another message it is
  // kConflict (EHMI instance identifiers are new for every send). kNotFound if the message is
  // unknown; kInvalid if the identifier is empty.
  virtual Result<void> record_sent_envelope(const std::string& instance_identifier,
                                            std::int64_t message_id, TimePoint sent_at) = 0;
  // Dead-lettered or refused → pending with attempts reset, next attempt = now. kConflict if the
  // message is in another state, kNotFound if unknown.
  virtual Result<void> requeue(std::int64_t message_id, TimePoint now) = 0;
  // One line for input that was refused and not stored (no content, no CPR). Chained with
  // actor "broker" and subject "input".
  virtual Result<void> audit(TimePoint at, const std::string& kind, const std::string& detail) = 0;
  // An operator's action on the audit chain only, e.g. actor "operator:anna", action
  // "view-message", subject "message 12" when an operator views a message that holds a CPR
  // number. `detail` must hold no CPR and no content. kInvalid if actor, action or subject is
  // empty.
  virtual Result<void> audit_action(TimePoint at, const std::string& actor,
                                    const std::string& action, const std::string& subject,
                                    const std::string& detail) = 0;
  // Inserts or replaces the deadline with d.key; appends `event` to the timeline of message
  // `message_id` (the request's / notice's message) when event.kind is not empty. Atomic.
  // kInvalid if d.due (or a set discharge_date) is not a valid date; kNotFound if the event's
  // message does not exist (and then nothing is written).
  virtual Result<void> put_deadline(const Deadline& d, std::int64_t message_id,
                                    const MessageEvent& event) = 0;

  // --- leases: several brokers on one database (issue 11, item 2; docs/architecture.md) ---
  // A pending delivery is attempted only by the broker holding its lease: an owner (the broker's
  // cluster.node) and an end `until`; it is held while now < until (lease_rules.hpp). Its owner
  // renews it while it lives; once it has ended any broker may take the delivery over. A lease
  // counts only while its message is pending: an outcome that is final (delivered, refused,
  // dead-lettered) ends it with the delivery, and a requeued message is leased afresh. Write
  // operations (writer thread), atomic like the others. SqliteStore and MemoryStore keep leases
  // in memory (one broker per store: SQLite's file lock; nothing to share); PostgresStore keeps
  // them in tables, taken with FOR UPDATE SKIP LOCKED.
  //
  // Leases message `message_id` to `owner` until `until`, whoever held it: what a broker does
  // with a message it has just stored or requeued, in the same batch, so that its first attempt
  // needs no other round trip. kNotFound if the message is unknown.
  virtual Result<void> lease_delivery(std::int64_t message_id, const std::string& owner,
                                      TimePoint until) = 0;
  // Takes over pending deliveries that nobody holds at `now` (never leased, or the lease ended),
  // earliest next attempt first, at most `limit`, leasing each to `owner` until `until`; returns
  // them. Deliveries `owner` still holds are not returned (renew_leases() names those).
  virtual Result<std::vector<PendingDelivery>> claim_deliveries(const std::string& owner,
                                                                TimePoint now, TimePoint until,
                                                                int limit) = 0;
  // Extends every lease `owner` holds at `now` on a pending delivery to `until` and returns those
  // deliveries; a lease that has ended is not renewed (another broker may have it by now; if not,
  // claim_deliveries() takes it again).
  virtual Result<std::vector<PendingDelivery>> renew_leases(const std::string& owner,
                                                            TimePoint now, TimePoint until) = 0;
  // The singleton lease `name` (e.g. "sweeper": work done once across the brokers): true if
  // `owner` holds it now until `until` — it was free, had ended, or was `owner`'s already —
  // false if another owner holds it at `now` (nothing changes then).
  virtual Result<bool> hold_singleton(const std::string& name, const std::string& owner,
                                      TimePoint now, TimePoint until) = 0;
  // Preconditions for work two brokers might race on (the kStale style of store_message), to be
  // called first in the job that writes the work's outcome, so nothing is written when stale.
  // kStale unless the stored deadline with expected.key is where `expected` says in its sweep:
  // same state, overdue flag, reminder steps done, generation and next action; kNotFound if
  // there is none. On a shared database the row stays locked until the batch ends, so a racing
  // writer waits and then finds it changed.
  virtual Result<void> expect_deadline(const Deadline& expected) = 0;
  // kStale unless message `message_id`'s receipt watch runs with `resends` resends done (it was
  // neither moved on by another resend nor ended); kNotFound if the message is unknown. Locks as
  // expect_deadline().
  virtual Result<void> expect_receipt_watch(std::int64_t message_id, int resends) = 0;

  // --- read side ---
  virtual Result<std::optional<LetterLocation>> find_letter(const std::string& sender_gln,
                                                            const std::string& letter_id) = 0;
  // An earlier (superseded) version of a letter with this content hash: its message id.
  virtual Result<std::optional<std::int64_t>> find_letter_version(
      const std::string& sender_gln, const std::string& letter_id,
      const std::string& content_hash) = 0;
  virtual Result<std::optional<MessageRecord>> get_message(std::int64_t message_id) = 0;
  virtual Result<std::vector<MessageEvent>> timeline(std::int64_t message_id) = 0;
  virtual Result<std::vector<MessageRecord>> list_messages(const MessageFilter& filter) = 0;
  virtual Result<std::vector<PendingDelivery>> pending_deliveries() = 0;
  // Every receipt watch, oldest send first. Costs in proportion to the watches, not to the
  // messages stored (what a restart reads).
  virtual Result<std::vector<ReceiptOwed>> receipts_owed() = 0;

  // The SBDH envelope the broker sent with this InstanceIdentifier, if it sent one.
  virtual Result<std::optional<SentEnvelope>> find_sent_envelope(
      const std::string& instance_identifier) = 0;

  virtual Result<std::optional<Deadline>> find_deadline(const DeadlineKey& key) = 0;
  // Deadlines with next_action_at <= now, earliest first, at most `limit`. Costs in proportion
  // to the number returned, however many deadlines are open.
  virtual Result<std::vector<Deadline>> due_deadlines(TimePoint now, int limit) = 0;
  // kInvalid if overdue_only is set without `now`.
  virtual Result<std::vector<Deadline>> list_deadlines(const DeadlineFilter& filter) = 0;
  // Every deadline opened in [from, to), in opened_at order: the input of the monthly statistics.
  virtual Result<std::vector<Deadline>> deadlines_opened_between(TimePoint from, TimePoint to) = 0;
};

}  // namespace sektorbro
