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
// batch becomes durable as a whole when commit_batch returns ok — or, once defer_sync(true) has
// returned true, when a later sync_committed() returns ok — and that is the moment the broker
// may acknowledge anything written in it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"
#include "broker/deadlines/deadline.hpp"
#include "broker/message/message.hpp"
#include "broker/store/audit_chain.hpp"
#include "broker/store/body_codec.hpp"

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
  // The citizen index (issue 10): one keyed hash per distinct CPR number of the letters'
  // patients — HMAC-SHA256 under the broker's CPR index key (privacy.cpr_index_key_file), lower
  // hex — never the number itself. Empty when the broker has no key. messages_of_citizen()
  // finds the message by it.
  std::vector<std::string> citizen_keys = {};
  // pack_body(body), when the caller made it already, off the writer thread (Intake does it on
  // its codec thread: the compression was an eighth of the writer's time, issue 8). A store
  // that keeps bodies packed takes it as given; unset, it packs `body` itself.
  std::optional<PackedBody> packed_body = {};
  // sha256_hex(body) for the audit chain's binding, when the caller computed it already (Intake,
  // on its codec thread); empty: the store computes it.
  std::string body_sha256 = {};
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
  std::string letter_id;  // the sender's letter id (the sender is the new message's)
  std::int64_t old_message_id = 0;
  std::string old_content_hash;  // the latest version the decision saw
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
  // Written with Store::open_deadline: only when no deadline has the key yet (a request's
  // deadline opened at its delivery; a delivery again changes nothing). The dispatcher's writes
  // only (write_deadline_change); a MessagePlan's deadlines are put as they are.
  bool if_absent = false;
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
  // The decision did not read whether its letters are stored (Store::checks_unread_letters):
  // it took every letter as new. store_message then first checks that none of them is stored,
  // and answers kStale before it writes anything if one is, so that an optimistic batch is not
  // spoiled by a resend (issue 8: the read on the io thread cost more than this check).
  bool letters_unread = false;
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
  // Set once retention deleted the body (issue 11, item 4): `body` is then empty and only the
  // minimal record is left (ids, parties, times, states, letters' hashes).
  std::optional<TimePoint> body_deleted_at = {};
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
  // Search (issue 10), each criterion that is set must hold: received_at in
  // [received_from, received_to); the envelope id; receipt_missing: the MedCom alert, a
  // delivered message whose receipt never came after the last resend (its receipt watch given
  // up on, watch_receipt(id, nullopt), and no receipt since). Implementations answer these
  // from indexes: a page costs about `limit` rows whatever the store holds (docs/store-format.md).
  std::optional<TimePoint> received_from = {};
  std::optional<TimePoint> received_to = {};
  std::optional<std::string> envelope_id = {};
  bool receipt_missing = false;
};

// What the operators' gauges show (issue 10), counted by the store at scrape time from indexes
// whose size follows the live work (open deadlines, dead letters, missing receipts), not the
// history. Rows are ordered by their keys.
struct DeadlineCount {
  std::string unit;  // owed_by: the endpoint that owes the reply
  std::string form;  // LÆ form code, empty for mentor responses
  std::int64_t open = 0;
  std::int64_t overdue = 0;  // open and past_due at `now` (due_end <= now)
  bool operator==(const DeadlineCount&) const = default;
};
struct EndpointCount {
  std::string endpoint;  // the receiving endpoint
  std::int64_t count = 0;
  bool operator==(const EndpointCount&) const = default;
};
struct OperatorCounts {
  std::vector<DeadlineCount> deadlines;         // open deadlines, by (unit, form)
  std::vector<EndpointCount> dead_letters;      // messages dead-lettered, by receiver
  std::vector<EndpointCount> receipts_missing;  // as MessageFilter::receipt_missing, by receiver
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

// --- retention and legal holds (issue 11, item 4; docs/retention.md) ---

// What the retention rule (broker/store/retention_rule.hpp) needs to know about one message.
struct RetentionFacts {
  std::int64_t message_id = 0;
  LetterType type = LetterType::kCertificateRequest;  // its first letter's type
  DeliveryState state = DeliveryState::kPending;
  bool receipt_requested = false;
  ReceiptState receipt = ReceiptState::kNone;
  bool receipt_watched = false;  // a receipt is still awaited (the receipt watch runs)
  bool deadline_open = false;    // a deadline keyed by one of its letters is open
  TimePoint received_at{};
  TimePoint last_event_at{};  // its latest timeline event (received_at if it has none)
  std::optional<TimePoint> body_deleted_at;
  // A legal hold covers it: one on the message, or one on a citizen its letters are about
  // (by the citizen index's keys).
  bool held = false;
};

// Which rows retention_candidates() reads: messages that still have their body, or minimal
// records whose body is gone.
enum class RetentionStage { kBody, kRecord };

// Where a retention scan goes on: after this (received_at, id).
struct RetentionCursor {
  TimePoint received_at{};
  std::int64_t message_id = 0;
};

// A legal hold: while it exists, retention deletes nothing it covers. A citizen's hold is keyed
// by the citizen's key (the keyed CPR hash of the citizen index, NewMessage::citizen_keys),
// never by the CPR number, and covers every message the citizen index lists for that key.
enum class HoldKind { kMessage, kCitizen };
std::string_view to_string(HoldKind k);  // "message", "citizen"
std::optional<HoldKind> parse_hold_kind(std::string_view s);

struct LegalHold {
  HoldKind kind = HoldKind::kMessage;
  std::string key;  // the message id in decimal, or the citizen key
  TimePoint at{};
  std::string actor;   // who placed it: "operator:<name>"
  std::string reason;  // one line, no CPR, no content
  bool operator==(const LegalHold&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- write side (writer thread only) ---
  virtual Result<void> begin_batch() = 0;
  // Durable (fsync'd) when it returns ok, unless syncs are deferred (below). On error the whole
  // batch is gone.
  virtual Result<void> commit_batch() = 0;
  virtual void rollback_batch() = 0;
  // Durability in two steps (GroupCommitWriter; docs/performance.md, "The fsync off the writer's
  // path"). After defer_sync(true) has returned true, commit_batch() returns once the batch is
  // committed — in order, and visible to readers — with its fsync still owed, and
  // sync_committed() makes durable every batch committed before it was called. sync_committed()
  // may run on any thread, while the writer goes on; nothing a batch
  // wrote may be acknowledged before it has returned ok, and after it has failed nothing more
  // (the broker must restart). defer_sync(false), on the writer thread, makes each commit
  // durable again and syncs what is owed. A store that cannot defer returns false and stays as
  // it is (the defaults: PostgreSQL's commit is durable in the server).
  virtual bool defer_sync(bool on) {
    (void)on;
    return false;
  }
  virtual Result<void> sync_committed() { return {}; }
  // Optimistic batches (GroupCommitWriter). Each write call is atomic on its own: a call that
  // fails leaves the batch as it was. After guard_calls(false) a store may drop that guard for
  // the rest of the batch (SQLite: no SAVEPOINT per call, hence no statement journal — a third
  // of its writer's CPU, docs/performance.md). A call that fails unguarded spoils the batch:
  // batch_spoiled() turns true, every later call fails, and the caller must rollback_batch()
  // and run the batch again guarded (begin_batch guards again). A store whose guard costs
  // nothing ignores this (the defaults).
  virtual void guard_calls(bool guarded) { (void)guarded; }
  virtual bool batch_spoiled() const { return false; }

  // Stores a message as the plan says (state pending, next attempt = received_at) and returns
  // its id. kStale when the facts the plan was decided on changed meanwhile — a letter it takes
  // as new is stored by now, or a version it supersedes is no longer the latest — so that the
  // caller decides again (two resends racing, or another broker on the same database); nothing
  // is written then.
  virtual Result<std::int64_t> store_message(const MessagePlan& plan) = 0;
  // Whether a decision may leave its own letters unread (MessagePlan::letters_unread) because
  // store_message's check costs less than the read: true for a store whose writer looks them up
  // in its open transaction, on its own connection; false where the check is a round trip in
  // the one writer (PostgreSQL). Every store honours letters_unread either way.
  virtual bool checks_unread_letters() const { return false; }
  // After a delivery attempt: sets state, attempts, next_attempt_at, last_error and appends
  // the event (kind/detail). With `receipt_watch_from`, the same write also starts the receipt
  // watch, as watch_receipt(message_id, *receipt_watch_from, 0) would: a delivered message whose
  // receipt is owed costs one row write, not two (issue 8).
  virtual Result<void> update_delivery(std::int64_t message_id, DeliveryState state, int attempts,
                                       TimePoint next_attempt_at, const std::string& last_error,
                                       const MessageEvent& event,
                                       std::optional<TimePoint> receipt_watch_from) = 0;
  Result<void> update_delivery(std::int64_t message_id, DeliveryState state, int attempts,
                               TimePoint next_attempt_at, const std::string& last_error,
                               const MessageEvent& event) {
    return update_delivery(message_id, state, attempts, next_attempt_at, last_error, event,
                           std::nullopt);
  }
  // Also ends the message's receipt watch: the receipt came.
  virtual Result<void> set_receipt(std::int64_t message_id, ReceiptState receipt,
                                   const MessageEvent& event) = 0;
  // Starts or moves the receipt watch of a delivered message (sent at `last_sent`, after
  // `resends` resends), or ends it (nullopt: given up on). kNotFound if the message is unknown.
  // A receipt written by set_receipt() or a MessagePlan's receipts ends the watch too.
  virtual Result<void> watch_receipt(std::int64_t message_id, std::optional<TimePoint> last_sent,
                                     int resends) = 0;
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
  // Opens deadline `d` unless a deadline with d.key is stored already — a request delivered
  // again keeps the clock its first delivery started (domain.md §5) — and then appends `event`
  // as put_deadline does. Returns whether it opened it (false: nothing was written). Decided in
  // the write transaction, so two deliveries racing open one deadline. Atomic; errors as
  // put_deadline's.
  virtual Result<bool> open_deadline(const Deadline& d, std::int64_t message_id,
                                     const MessageEvent& event) = 0;

  // --- leases: several brokers on one database (issue 11, item 2; docs/architecture.md) ---
  // A pending delivery is attempted only by the broker holding its lease: an owner (the broker's
  // cluster.node) and an end `until`; it is held while now < until (lease_rules.hpp). Its owner
  // renews it while it lives; once it has ended any broker may take the delivery over. A lease
  // counts only while its message is pending: an outcome that is final (delivered, refused,
  // dead-lettered) ends it with the delivery, and a requeued message is leased afresh. Write
  // operations (writer thread), atomic like the others. SqliteStore and MemoryStore keep leases
  // in memory (one broker per store: SQLite's file lock; nothing to share); PostgresStore keeps
  // them in tables, taken with FOR UPDATE SKIP LOCKED, and renews a broker's leases by renewing
  // one row of its own (postgres_leases.cpp).
  //
  // Leases message `message_id` to `owner` until `until`, whoever held it: what a broker does
  // with a message it has just stored or requeued, in the same batch, so that its first attempt
  // needs no other round trip. kNotFound if the message is unknown.
  virtual Result<void> lease_delivery(std::int64_t message_id, const std::string& owner,
                                      TimePoint until) = 0;
  // Takes over pending deliveries that nobody holds at `now` (never leased, or the lease ended),
  // earliest next attempt first, at most `limit`, leasing each to `owner` until `until`; returns
  // them. Deliveries `owner` still holds are not returned (renew_leases() names those). A store
  // may look for the never-leased ones (none, once brokers lease what they store) only at an
  // owner's first claim and then at least once a minute: PostgreSQL does, so that a claim reads
  // the leases that ended rather than every pending message (postgres_leases.cpp).
  virtual Result<std::vector<PendingDelivery>> claim_deliveries(const std::string& owner,
                                                                TimePoint now, TimePoint until,
                                                                int limit) = 0;
  // How many deliveries one lease pass should take over (the Dispatcher's `limit` above). A store
  // whose claims write rows other brokers wait on (PostgreSQL) takes a dead broker's backlog in
  // slices, so one commit never holds the database long; one whose leases live in the process
  // (SQLite, one broker per file) may take a restart's whole backlog in one pass.
  virtual int claim_slice() const { return 1000; }
  // Extends every lease `owner` holds at `now` on a pending delivery to `until` and returns the
  // ids of those messages (in no particular order); a lease that has ended is not renewed
  // (another broker may have it by now; if not, claim_deliveries() takes it again). Ids only: a
  // pass renews every lease its broker holds, hundreds of thousands under a backlog, and the
  // broker knows nearly all of them already (get_message() reads the rest).
  virtual Result<std::vector<std::int64_t>> renew_leases(const std::string& owner, TimePoint now,
                                                         TimePoint until) = 0;
  // The singleton lease `name` (e.g. "sweeper": work done once across the brokers): true if
  // `owner` holds it now until `until` — it was free, had ended, or was `owner`'s already —
  // false if another owner holds it at `now` (nothing changes then).
  virtual Result<bool> hold_singleton(const std::string& name, const std::string& owner,
                                      TimePoint now, TimePoint until) = 0;
  // Mailbox pull (issue 4) with several brokers on one database (issue 11): leases to `owner`
  // until `until` the pending messages for `endpoint` (their receiver endpoint) that no mailbox
  // lease holds at `now` — never fetched, or fetched and the lease ended unconfirmed — lowest id
  // first, at most `limit`, and returns their ids. So one message is handed to one fetcher at a
  // time across the brokers, and a message fetched but never confirmed is handed out again only
  // once its lease has ended. Apart from the delivery leases (a broker's dispatcher holds those
  // of mailbox messages too, and never attempts them); a mailbox lease counts only while its
  // message is pending.
  virtual Result<std::vector<std::int64_t>> claim_mailbox(const std::string& endpoint,
                                                          const std::string& owner, TimePoint now,
                                                          TimePoint until, int limit) = 0;
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
  // kStale unless message `message_id` is in delivery state `state` as the batch sees it (a
  // racing writer — a second mailbox confirm, through this broker or another — has moved it on);
  // kNotFound if the message is unknown. Locks as expect_deadline().
  virtual Result<void> expect_delivery_state(std::int64_t message_id, DeliveryState state) = 0;

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
  // Every deadline opened in [from, to), in opened_at order, handed to `each` one at a time as it
  // is read: the input of the monthly statistics (DeadlineStatsCounter), a year of deadlines
  // never held at once. `each` must not call the store. An error ends the reading.
  virtual Result<void> each_deadline_opened_between(
      TimePoint from, TimePoint to, const std::function<void(const Deadline&)>& each) = 0;
  // The same, collected.
  Result<std::vector<Deadline>> deadlines_opened_between(TimePoint from, TimePoint to);

  // The operators' gauges at `now` (issue 10): grouped counts from indexes, see OperatorCounts.
  virtual Result<OperatorCounts> operator_counts(TimePoint now) = 0;
  // The messages whose letters name the citizen with this keyed hash (NewMessage::citizen_keys),
  // newest first: ids below before_id (0: no bound), at most `limit`. Indexed. For the acting
  // operators' CPR search (audited by the caller) and per-citizen legal holds.
  virtual Result<std::vector<std::int64_t>> messages_of_citizen(const std::string& citizen_key,
                                                                std::int64_t before_id,
                                                                int limit) = 0;

  // --- retention, legal holds and the audit chain's head (issue 11 item 4, issue 12 item 5) ---
  // Places a legal hold, replacing one of the same kind and key, with an audit entry
  // ("hold-placed", actor h.actor, subject "message <id>" / "citizen <key>", detail the reason).
  // kInvalid if key or actor is empty; kNotFound if a message hold names no stored message.
  virtual Result<void> put_hold(const LegalHold& h) = 0;
  // Lifts a hold with an audit entry ("hold-lifted"). kNotFound if there is none.
  virtual Result<void> remove_hold(HoldKind kind, const std::string& key, TimePoint at,
                                   const std::string& actor) = 0;
  // Deletes a message's body (the acceptance, ids, parties, times, states, letters' hashes and
  // citizen keys stay: the minimal record). Its audit entry ("body-deleted") names the SHA-256
  // of the body it removed, so the chain stays verifiable. kConflict if a hold covers the
  // message, the body is already deleted, or the message is not delivered or refused (a
  // requeue raced the caller's read); kNotFound if unknown. Whether it is due is the caller's
  // (retention_rule.hpp).
  virtual Result<void> delete_body(std::int64_t message_id, TimePoint at) = 0;
  // Deletes what is left of a message whose body is gone: the row, its letters, letter
  // versions, timeline, citizen index rows and sent envelopes (the audit chain keeps its
  // entries), with an audit entry ("record-deleted"). kConflict if the body is still there, a
  // hold covers the message, or another message's letter version refers to it; kNotFound if
  // unknown.
  virtual Result<void> delete_record(std::int64_t message_id, TimePoint at) = 0;
  // Gives up to `pages` free pages back to the file system (SQLite: PRAGMA incremental_vacuum).
  // A store with nothing to give back does nothing.
  virtual Result<void> reclaim_space(int pages) = 0;

  // Messages of `stage` received before `received_before`, in (received_at, id) order after
  // `after`, at most `limit`. Costs in proportion to the rows returned.
  virtual Result<std::vector<RetentionFacts>> retention_candidates(RetentionStage stage,
                                                                   TimePoint received_before,
                                                                   RetentionCursor after,
                                                                   int limit) = 0;
  // The holds in place, oldest first.
  virtual Result<std::vector<LegalHold>> list_holds() = 0;
  // The audit chain's last committed entry (seq 0 and 64 zeros when empty): what the
  // checkpoint file records (audit_checkpoint.hpp).
  virtual Result<AuditHead> audit_head() = 0;
};

// Writes `w` for message `message_id` as it asks: open_deadline when w.if_absent (a deadline
// stored already stays as it is), put_deadline otherwise. Inside a writer job.
Result<void> write_deadline_change(Store& store, const DeadlineWrite& w, std::int64_t message_id);

}  // namespace sektorbro
