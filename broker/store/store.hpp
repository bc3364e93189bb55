// The store seam: where messages, their delivery state and their timeline live durably.
// SqliteStore (WAL, one file) is the embedded default; a PostgreSQL store can implement the
// same interface. The on-disk format is described in docs/store-format.md.
//
// Thread rules: write operations (begin_batch … commit_batch) are called from exactly one
// thread, the GroupCommitWriter's. Read operations may be called from any one other thread
// concurrently with writes (implementations use a separate read connection).
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
};

// A message that passed decoding, validation and routing, ready to be stored.
struct NewMessage {
  std::string envelope_id;
  std::string sender_gln;
  std::string receiver_gln;
  std::string sender_endpoint;    // configured endpoint id, or "broker" for broker-written ones
  std::string receiver_endpoint;
  std::vector<NewLetter> letters;  // at least one
  std::string body;                // the native XML to deliver (health content: never logged)
  std::string acceptance;          // the exact answer given to the sender (replayed on resend)
  bool receipt_requested = false;
  bool contains_cpr = false;
  TimePoint received_at{};
};

// What accept() decided. Exactly one of the outcomes applies.
struct AcceptOutcome {
  enum class Kind {
    kStored,     // new: stored with state pending, next attempt = received_at
    kDuplicate,  // every letter already known with identical content in one message: not stored
    kConflict,   // a letter id already used by this sender with different content: not stored
    kMixed,      // some letters known, some new, or known ones from different messages: not stored
  };
  Kind kind;
  std::int64_t message_id = 0;  // kStored: the new id; kDuplicate: the original message's id
  std::string acceptance;       // kDuplicate: the original answer, byte for byte
  std::string conflicting_letter_id;  // kConflict
};

struct MessageEvent {
  std::int64_t message_id = 0;
  TimePoint at{};
  std::string kind;    // received, stored, attempt, delivered, refused, dead-lettered, requeued,
                       // duplicate, receipt-positive, receipt-negative, relayed
  std::string detail;  // never CPR or content
};

struct MessageRecord {
  std::int64_t id = 0;
  std::string envelope_id;
  std::string sender_gln;
  std::string receiver_gln;
  std::string sender_endpoint;
  std::string receiver_endpoint;
  std::vector<NewLetter> letters;
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

struct MessageFilter {
  std::optional<DeliveryState> state;
  std::optional<std::string> endpoint;  // endpoint id, matches sender or receiver
  std::int64_t after_id = 0;            // paging: only ids greater than this
  int limit = 100;
};

// Where a letter was stored: the key is (sender GLN, letter id) — letter ids are unique only
// per sender (domain.md §3).
struct LetterLocation {
  std::int64_t message_id = 0;
  LetterType type = LetterType::kCertificateRequest;
  std::string content_hash;
  std::string receiver_gln;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- write side (writer thread only) ---
  virtual Result<void> begin_batch() = 0;
  // Durable (fsync'd) when it returns ok. On error the whole batch is gone.
  virtual Result<void> commit_batch() = 0;
  virtual void rollback_batch() = 0;

  // Dedup by (sender_gln, letter_id) and store; records "received" and "stored" events.
  virtual Result<AcceptOutcome> accept(const NewMessage& message) = 0;
  // After a delivery attempt: sets state, attempts, next_attempt_at, last_error and appends
  // the event (kind/detail).
  virtual Result<void> update_delivery(std::int64_t message_id, DeliveryState state, int attempts,
                                       TimePoint next_attempt_at, const std::string& last_error,
                                       const MessageEvent& event) = 0;
  virtual Result<void> set_receipt(std::int64_t message_id, ReceiptState receipt,
                                   const MessageEvent& event) = 0;
  virtual Result<void> append_event(const MessageEvent& event) = 0;
  // Dead-lettered or refused → pending with attempts reset, next attempt = now. kConflict if the
  // message is in another state, kNotFound if unknown.
  virtual Result<void> requeue(std::int64_t message_id, TimePoint now) = 0;
  // One line for input that was refused and not stored (no content, no CPR).
  virtual Result<void> audit(TimePoint at, const std::string& kind, const std::string& detail) = 0;

  // --- read side ---
  virtual Result<std::optional<LetterLocation>> find_letter(const std::string& sender_gln,
                                                            const std::string& letter_id) = 0;
  virtual Result<std::optional<MessageRecord>> get_message(std::int64_t message_id) = 0;
  virtual Result<std::vector<MessageEvent>> timeline(std::int64_t message_id) = 0;
  virtual Result<std::vector<MessageRecord>> list_messages(const MessageFilter& filter) = 0;
  virtual Result<std::vector<PendingDelivery>> pending_deliveries() = 0;
};

}  // namespace sektorbro
