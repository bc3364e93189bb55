// Broker: the running message broker. It receives envelopes over HTTP, has them validated,
// routed and stored durably (through the GroupCommitWriter) before it answers, delivers them to
// the receiving endpoint with retries, and relays the receiver's receipts back to the sender,
// MedCom style (domain.md §3). It keeps every reply one sector owes the other on a deadline in
// Danish working days, sends reminders and flags what is overdue (domain.md §5–7), and serves
// the operators' JSON API.
//
// Files: broker.cpp (receiving, delivering, receipts), broker_deadlines.cpp (what opens, closes
// and reminds deadlines; the sweep), broker_operators.cpp (the operators' API).
//
// Thread rules: everything here runs on the io_context's single thread, which owns the state
// (delivery queue, timers). Blocking work happens elsewhere — commits on the writer thread,
// transfers on the transport thread — and comes back as awaited completions. Reads from the
// store run on this thread through the store's read connection.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/core/clock.hpp"
#include "broker/deadlines/calendar.hpp"
#include "broker/deadlines/deadline.hpp"
#include "broker/delivery/transport.hpp"
#include "broker/edge/edge_codec.hpp"
#include "broker/filedrop/inbox_watcher.hpp"
#include "broker/http/asio.hpp"
#include "broker/http/async_bridge.hpp"
#include "broker/http/http_server.hpp"
#include "broker/routing/router.hpp"
#include "broker/server/delivery_queue.hpp"
#include "broker/server/receipt_watch.hpp"
#include "broker/store/group_commit_writer.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

class Broker {
 public:
  // `manual_clock` is the same object as `clock` when the broker runs on a manual clock (tests
  // only); then, and only then, POST /v1/test/clock/advance exists.
  Broker(asio::io_context& io, const BrokerConfig& config, Store& store, GroupCommitWriter& writer,
         Transport& transport, const Clock& clock, ManualClock* manual_clock = nullptr);

  // Loads the deliveries that were pending when the broker last stopped, starts the delivery
  // timer, the deadline sweep and the file-drop inboxes. After this, /v1/health answers ready.
  Result<void> start();
  // Stops scheduling new attempts and sweeps; attempts in flight finish or are cut off.
  void stop();

  // Every HTTP route: the endpoints' POST /v1/messages and the operators' API. `peer` is who the
  // transport says is calling (TLS client certificate, address).
  asio::awaitable<HttpResponse> handle(HttpRequest request, PeerIdentity peer);

 private:
  // The answer to one envelope offered to the broker (by POST, or in a delivery's response).
  struct Answer {
    http::status status;
    std::string body;  // acceptance or negative receipt XML
    bool stored = false;
    bool duplicate = false;
  };
  struct ReceiptMatch {
    std::int64_t message_id;
    ReceiptState state;
    std::string detail;
  };
  // A deadline to write together with the message that changes it.
  struct DeadlineChange {
    Deadline deadline;
    std::optional<std::int64_t> message_id;  // the request's message; none = the one stored now
    std::string event;                       // timeline event kind
    std::string detail;
  };

  // Receiving (broker.cpp).
  // `authenticated` is the endpoint the transport authenticated (empty on plain loopback): the
  // envelope's sender must be that endpoint.
  asio::awaitable<Answer> ingest(std::string bytes, std::string_view via,
                                 std::string authenticated = {});
  // A file from `endpoint`'s inbox, answered through `answer` (file drop).
  asio::awaitable<void> ingest_file(std::string endpoint, std::shared_ptr<std::string> bytes,
                                    std::shared_ptr<FileAnswerFn> answer);
  Answer refuse(TimePoint now, const Envelope* envelope, const Error& error, std::string_view via,
                const Inbound* inbound = nullptr);
  Result<std::vector<ReceiptMatch>> check_references(const Envelope& envelope);
  std::string next_broker_id();
  Envelope broker_envelope(const Party& to, LetterBody body, TimePoint now);
  NewMessage broker_message(const Envelope& envelope, const Endpoint& to, TimePoint now);
  // A stored (native) body as `to` receives it: in its dialect, and for a resend in a new
  // envelope with the given id and time `now`.
  Result<std::string> outbound_body(const std::string& stored, const Endpoint& to, TimePoint now,
                                    const std::optional<std::string>& resend_envelope_id = {});
  // POSTs `body` to `to` (content type by dialect, the configured timeout).
  asio::awaitable<TransportResponse> post_to(const Endpoint& to, std::string body);

  // Delivering (broker.cpp).
  void pump();
  void arm_timer();
  asio::awaitable<void> attempt(std::int64_t message_id);
  struct ResponseReceipts {
    bool negative = false;  // a negative receipt or an EHMI ReceiptException
    bool relayed = false;   // a business receipt was taken and relayed to the sender
  };
  // Receipts the receiver put in its answer to a delivery, taken like any posted receipt.
  asio::awaitable<ResponseReceipts> receipts_in_response(const TransportResponse& response,
                                                         const Endpoint& receiver,
                                                         std::int64_t message_id,
                                                         bool expects_receipt, TimePoint now);

  // Resends when a receipt does not come (broker_resends.cpp; MedCom reliable messaging).
  Result<void> rebuild_receipt_watch();
  // The receiver's own receipt time if configured, else the delivery-wide one.
  Duration receipt_timeout_for(const std::string& endpoint_id) const;
  asio::awaitable<void> resend_due(TimePoint now);
  asio::awaitable<void> relay_refusal(const MessageRecord& original, const std::string& reason);
  template <typename T, typename Op>
  asio::awaitable<Result<T>> write(Op op);

  // Deadlines (broker_deadlines.cpp).
  // What an arriving envelope does to deadlines: opens (discharge notices), answers
  // (certificates, mentor responses) or cancels/corrects. kConflict/kUnknownReference refusals.
  Result<std::vector<DeadlineChange>> deadline_changes_on_arrival(const Envelope& envelope,
                                                                  const Route& route,
                                                                  TimePoint now);
  // What a delivered message does: a CertificateRequest's clock starts at its delivery.
  std::vector<DeadlineChange> deadline_changes_on_delivery(const MessageRecord& message,
                                                           TimePoint now);
  static Result<void> apply_deadline_changes(Store& store,
                                             const std::vector<DeadlineChange>& changes,
                                             std::int64_t stored_message_id, TimePoint now);
  void arm_sweep();
  asio::awaitable<void> sweep();
  asio::awaitable<bool> act_on(Deadline deadline, TimePoint now);

  // Operators (broker_operators.cpp).
  // Who a request comes from: an endpoint (by its client certificate), an operator (by
  // certificate or token), or nobody on the plain loopback listener.
  struct Caller {
    std::string endpoint;                // endpoint id, or empty
    const OperatorConfig* op = nullptr;  // the operator, or none
    bool plain_loopback = false;         // plain HTTP (allowed on loopback only)
  };
  Caller identify(const HttpRequest& request, const PeerIdentity& peer) const;
  asio::awaitable<HttpResponse> handle_operator(const HttpRequest& request,
                                                const std::vector<std::string>& path,
                                                const std::string& actor);
  HttpResponse health();
  // Mailbox pull (broker_mailbox.cpp).
  asio::awaitable<HttpResponse> handle_mailbox(const HttpRequest& request,
                                               const std::vector<std::string>& path,
                                               const Caller& caller);
  HttpResponse list_messages(const HttpRequest& request, std::optional<DeliveryState> forced);
  // `holds_cpr` is set to the message id when the message holds a CPR number (audited).
  HttpResponse show_message(const std::string& sender_gln, const std::string& letter_id,
                            std::optional<std::int64_t>& holds_cpr);
  asio::awaitable<HttpResponse> requeue(const std::string& sender_gln, const std::string& letter_id,
                                        const std::string& actor);
  HttpResponse find_letters(const std::string& letter_id);
  HttpResponse list_deadlines(const HttpRequest& request);
  HttpResponse statistics(const HttpRequest& request, DeadlineKind kind);
  asio::awaitable<HttpResponse> advance_clock(const HttpRequest& request);

  asio::io_context& io_;
  const BrokerConfig& config_;
  Store& store_;
  GroupCommitWriter& writer_;
  Transport& transport_;
  const Clock& clock_;
  ManualClock* manual_clock_;
  Directory directory_;
  DeliveryQueue queue_;
  ReceiptWatch receipts_;
  WorkingCalendar calendar_;
  asio::steady_timer timer_;
  asio::steady_timer sweep_timer_;
  bool ready_ = false;
  bool stopping_ = false;
  bool sweeping_ = false;
  // Answered deadlines whose reply is being stored (a second reply meanwhile is refused).
  std::set<DeadlineKey> replies_in_flight_;
  // File drop: one watcher per endpoint with an inbox.
  std::vector<std::unique_ptr<InboxWatcher>> inboxes_;
  // Mailbox pull: messages fetched and not yet confirmed, until when.
  std::unordered_map<std::int64_t, TimePoint> mailbox_leases_;
  std::uint32_t id_counter_ = 0;
  std::uint64_t random_state_;
};

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

}  // namespace sektorbro
