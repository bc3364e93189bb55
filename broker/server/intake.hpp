// Intake: the imperative shell around the intake decision (broker/intake). For one document
// offered to the broker — by POST, from a file drop, or in a receiver's answer to a delivery —
// it decodes it at the edge (any dialect), reads the facts the decision needs from the store
// (one lookup per letter), lets decide_intake() decide, has the plan committed by the
// GroupCommitWriter and only then answers. A plan found stale at commit (a racing resend or
// reply) is decided again on fresh facts.
//
// Thread rules: io thread only. Store reads go through the store's read connection.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/console/citizen_key.hpp"
#include "broker/core/clock.hpp"
#include "broker/deadlines/calendar.hpp"
#include "broker/delivery/lease_rules.hpp"
#include "broker/edge/edge_codec.hpp"
#include "broker/http/asio.hpp"
#include "broker/intake/intake_decision.hpp"
#include "broker/metrics/broker_metrics.hpp"
#include "broker/routing/router.hpp"
#include "broker/server/broker_letters.hpp"
#include "broker/store/group_commit_writer.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

// An envelope's body as prepared off the io thread: its canonical encoding, that packed as the
// store keeps it (NewMessage::packed_body), and its SHA-256, which the audit chain binds.
// Empty once taken, or when the envelope changed after it was made.
struct PreparedBody {
  std::string canonical;
  std::optional<PackedBody> packed;
  std::string sha256;
};

class Intake {
 public:
  // The answer to one document.
  struct Answer {
    http::status status = http::status::accepted;
    std::string body;  // acceptance or negative receipt, in the sender's dialect
    bool stored = false;
    bool duplicate = false;
    std::int64_t message_id = 0;  // stored: the new message; duplicate: the original
  };
  // A message was stored as `plan` says: deliver it (plan->message.receiver_endpoint); the
  // messages in plan->receipts got their receipt. `requests` are its CertificateRequest letters,
  // whose deadlines open when it is delivered.
  // `lease_end`: the end of the delivery lease the same commit took for this broker (issue 11),
  // on the lease clock (set_lease_clock).
  using StoredFn =
      std::function<void(std::int64_t message_id, std::shared_ptr<const MessagePlan> plan,
                         std::shared_ptr<const std::vector<Letter>> requests, TimePoint lease_end)>;

  Intake(const BrokerConfig& config, const Directory& directory, const WorkingCalendar& calendar,
         Store& store, GroupCommitWriter& writer, const Clock& clock, BrokerIds& ids,
         metrics::BrokerMetrics& metrics, StoredFn stored);

  // `via` names the way in for the log (an endpoint id, "http"); `authenticated` is the endpoint
  // the transport authenticated (empty on plain loopback): the letters' sender must be it.
  asio::awaitable<Answer> receive(std::string bytes, std::string via,
                                  std::string authenticated = {});

  // The citizen index's key (issue 10): with it, each stored message carries the keyed hashes
  // of its patients' CPR numbers (NewMessage::citizen_keys). Null: none are written.
  void set_citizen_keyer(const CitizenKeyer* keyer) { citizen_keyer_ = keyer; }

 private:
  // `authenticated`: the endpoint the transport authenticated, if any — where the refusal goes
  // when the document names no sender that can be read.
  Answer refuse(TimePoint now, const Envelope* envelope, const Error& error, std::string_view via,
                const Inbound* inbound, std::string_view authenticated = {});
  // The facts decide_intake needs. With `read_own` false the envelope's own letters are not
  // looked up: each is taken as never stored, and the plan says so (MessagePlan::letters_unread)
  // for the store to check.
  Result<IntakeFacts> read_facts(const Envelope& envelope, const std::vector<NewLetter>& letters,
                                 bool read_own);

  // receive() is a coroutine, and GCC keeps every one of its locals in its frame, allocated per
  // request (over 10 KB once: 6.6 % of the io thread's own time, issue 8). What lives only
  // between two awaits is made here, in functions that are not coroutines.

  // A document that did not decode: refused, addressed as far as its bytes can be read.
  Answer refuse_unreadable(TimePoint now, const Error& error, std::string_view bytes,
                           std::string_view via, std::string_view authenticated);
  // EHMI's envelope-level receipt (issue 9).
  asio::awaitable<Answer> receive_signal(const Inbound& in, TimePoint now, const std::string& via);
  // One intake decision on fresh facts: a refusal, a resend of a stored message (its event), or
  // the plan of a message to store. The first takes `body` (leaving it empty); one made again
  // encodes its own. `pinned`: the letter a FHIR receipt answers and the message delivered (as
  // the facts say). `read_own`: as read_facts; false only when the store checks unread letters
  // (Store::checks_unread_letters) and a plan is what is hoped for — a refusal decided without
  // them is decided again with them.
  struct Round {
    std::optional<Error> refusal;
    std::shared_ptr<const MessageEvent> duplicate;  // on the original message
    std::int64_t original_message_id = 0;
    std::shared_ptr<const MessagePlan> plan;
    std::vector<std::string> alerts;
  };
  Round decide_round(const Envelope& envelope, const std::vector<NewLetter>& letters,
                     const IntakeContext& context, TimePoint now,
                     const std::optional<std::pair<LetterKey, std::int64_t>>& pinned,
                     PreparedBody& body, bool read_own);

  const BrokerConfig& config_;
  const Directory& directory_;
  const WorkingCalendar& calendar_;
  Store& store_;
  GroupCommitWriter& writer_;
  const Clock& clock_;
  BrokerIds& ids_;
  metrics::BrokerMetrics& metrics_;
  StoredFn stored_;
  // Leases are measured on this clock, not the business clock (issue 11: the demo's accelerated
  // clock ended a broker's own leases under it). The broker sets it; unset, the business clock.
  const Clock* lease_clock_ = nullptr;

 public:
  void set_lease_clock(const Clock& lease_clock) { lease_clock_ = &lease_clock; }
  // Decoding a document and hashing its letters are pure (broker/edge, broker/intake) and most of
  // an intake's CPU: with an executor set they run there, on another thread, and receive()
  // goes on on its own executor (issue 8: the io thread was as busy as the writer). Unset (the
  // server-level tests): inline.
  void set_codec_executor(asio::any_io_executor executor) { codec_ = std::move(executor); }
  std::optional<asio::any_io_executor> codec_;
  const CitizenKeyer* citizen_keyer_ = nullptr;
  std::string node_ = cluster_node(config_.cluster);  // this broker in the leases (issue 11)
  // The same, shared with every commit job (one copy for the broker's life, not per message).
  std::shared_ptr<const std::string> shared_node_ = std::make_shared<const std::string>(node_);
};

}  // namespace sektorbro
