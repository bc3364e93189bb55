// Broker: the running message broker. It receives envelopes over HTTP, has them validated,
// routed and stored durably (through the GroupCommitWriter) before it answers, delivers them to
// the receiving endpoint with retries, and relays the receiver's receipts back to the sender,
// MedCom style (domain.md §3). It also serves the operators' JSON API.
//
// Thread rules: everything here runs on the io_context's single thread, which owns the state
// (delivery queue, timer). Blocking work happens elsewhere — commits on the writer thread,
// transfers on the transport thread — and comes back as awaited completions. Reads from the
// store run on this thread through the store's read connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/core/clock.hpp"
#include "broker/delivery/transport.hpp"
#include "broker/http/asio.hpp"
#include "broker/http/http_server.hpp"
#include "broker/routing/router.hpp"
#include "broker/server/delivery_queue.hpp"
#include "broker/store/group_commit_writer.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

class Broker {
 public:
  Broker(asio::io_context& io, const BrokerConfig& config, Store& store, GroupCommitWriter& writer,
         Transport& transport, const Clock& clock);

  // Loads the deliveries that were pending when the broker last stopped and starts the delivery
  // timer. After this, /v1/health answers ready.
  Result<void> start();
  // Stops scheduling new attempts; attempts in flight finish or are cut off by shutdown.
  void stop();

  // Every HTTP route: the endpoints' POST /v1/messages and the operators' API.
  asio::awaitable<HttpResponse> handle(HttpRequest request);

 private:
  // The answer to one envelope offered to the broker (by POST, or in a delivery's response).
  struct Answer {
    http::status status;
    std::string body;     // acceptance or negative receipt XML
    bool stored = false;  // a new message was stored
    bool duplicate = false;
  };
  struct ReceiptMatch {
    std::int64_t message_id;
    ReceiptState state;
    std::string detail;
  };

  asio::awaitable<Answer> ingest(std::string bytes, std::string_view via);
  Answer refuse(TimePoint now, const Envelope* envelope, const Error& error, std::string_view via);
  Result<std::vector<ReceiptMatch>> check_references(const Envelope& envelope);
  std::string next_broker_id();

  // Delivery.
  void pump();
  void arm_timer();
  asio::awaitable<void> attempt(std::int64_t message_id);
  asio::awaitable<void> relay_refusal(const MessageRecord& original, const std::string& reason);
  template <typename T, typename Op>
  asio::awaitable<Result<T>> write(Op op);

  // Operators.
  asio::awaitable<HttpResponse> handle_operator(const HttpRequest& request,
                                                const std::vector<std::string>& path);
  HttpResponse list_messages(const HttpRequest& request, std::optional<DeliveryState> forced);
  HttpResponse show_message(const std::string& sender_gln, const std::string& letter_id);
  asio::awaitable<HttpResponse> requeue(const std::string& sender_gln,
                                        const std::string& letter_id);

  asio::io_context& io_;
  const BrokerConfig& config_;
  Store& store_;
  GroupCommitWriter& writer_;
  Transport& transport_;
  const Clock& clock_;
  Directory directory_;
  DeliveryQueue queue_;
  asio::steady_timer timer_;
  bool ready_ = false;
  bool stopping_ = false;
  std::uint32_t id_counter_ = 0;
  std::uint64_t random_state_;
};

}  // namespace sektorbro
