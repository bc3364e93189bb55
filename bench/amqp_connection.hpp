// AmqpConnection: one AMQP 0-9-1 connection to a RabbitMQ node on 127.0.0.1 through
// librabbitmq (rabbitmq-c), with channel 1 open. Every socket read and write is bounded by
// `io_timeout` (SO_RCVTIMEO / SO_SNDTIMEO), so a stuck node makes an error, never a hang.
// One connection per thread (rabbitmq-c connections are not thread-safe).
#pragma once

#include <amqp.h>

#include <chrono>
#include <memory>
#include <string>

namespace sektorbro::bench {

class AmqpConnection {
 public:
  static constexpr amqp_channel_t kChannel = 1;

  // Logs in as guest/guest (allowed from loopback only), heartbeats off. nullptr and `error`
  // on failure.
  static std::unique_ptr<AmqpConnection> open(
      unsigned short port, std::string& error,
      std::chrono::milliseconds io_timeout = std::chrono::seconds{10});
  ~AmqpConnection();
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  amqp_connection_state_t state() { return conn_; }

  // Durable queue with x-queue-type=quorum.
  bool declare_quorum_queue(const std::string& name, std::string& error);
  bool delete_queue(const std::string& name, std::string& error);
  // Publisher confirms on channel 1 (confirm.select).
  bool select_confirms(std::string& error);
  // basic.qos(prefetch) and basic.consume with manual acks.
  bool start_consuming(const std::string& queue, int prefetch, std::string& error);

 private:
  AmqpConnection() = default;
  bool check_rpc(const char* what, std::string& error);
  amqp_connection_state_t conn_ = nullptr;
  bool channel_open_ = false;
};

// A readable text for a librabbitmq reply that was not normal.
std::string describe_reply(const amqp_rpc_reply_t& reply);

}  // namespace sektorbro::bench
