#include "bench/amqp_connection.hpp"

#include <amqp_tcp_socket.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace sektorbro::bench {

std::string describe_reply(const amqp_rpc_reply_t& reply) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return std::string("librabbitmq: ") + amqp_error_string2(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* m = static_cast<amqp_connection_close_t*>(reply.reply.decoded);
        return "connection closed by server: " + std::to_string(m->reply_code) + " " +
               std::string(static_cast<const char*>(m->reply_text.bytes), m->reply_text.len);
      }
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* m = static_cast<amqp_channel_close_t*>(reply.reply.decoded);
        return "channel closed by server: " + std::to_string(m->reply_code) + " " +
               std::string(static_cast<const char*>(m->reply_text.bytes), m->reply_text.len);
      }
      return "server exception (method " + std::to_string(reply.reply.id) + ")";
  }
  return "unknown reply";
}

bool AmqpConnection::check_rpc(const char* what, std::string& error) {
  const amqp_rpc_reply_t reply = amqp_get_rpc_reply(conn_);
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return true;
  error = std::string(what) + ": " + describe_reply(reply);
  return false;
}

std::unique_ptr<AmqpConnection> AmqpConnection::open(unsigned short port, std::string& error,
                                                     std::chrono::milliseconds io_timeout) {
  auto c = std::unique_ptr<AmqpConnection>(new AmqpConnection);
  c->conn_ = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(c->conn_);
  if (socket == nullptr) {
    error = "cannot create an AMQP socket";
    return nullptr;
  }
  timeval tv{};
  tv.tv_sec = io_timeout.count() / 1000;
  tv.tv_usec = static_cast<suseconds_t>((io_timeout.count() % 1000) * 1000);
  if (const int rc = amqp_socket_open_noblock(socket, "127.0.0.1", port, &tv);
      rc != AMQP_STATUS_OK) {
    error =
        std::string("connect 127.0.0.1:") + std::to_string(port) + ": " + amqp_error_string2(rc);
    return nullptr;
  }
  const int fd = amqp_get_sockfd(c->conn_);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  amqp_set_handshake_timeout(c->conn_, &tv);
  amqp_set_rpc_timeout(c->conn_, &tv);
  const amqp_rpc_reply_t login =
      amqp_login(c->conn_, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest");
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    error = "login: " + describe_reply(login);
    return nullptr;
  }
  amqp_channel_open(c->conn_, kChannel);
  if (!c->check_rpc("channel.open", error)) return nullptr;
  c->channel_open_ = true;
  return c;
}

AmqpConnection::~AmqpConnection() {
  if (conn_ == nullptr) return;
  if (channel_open_) amqp_channel_close(conn_, kChannel, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn_);
}

bool AmqpConnection::declare_quorum_queue(const std::string& name, std::string& error) {
  amqp_table_entry_t entry;
  entry.key = amqp_cstring_bytes("x-queue-type");
  entry.value.kind = AMQP_FIELD_KIND_UTF8;
  entry.value.value.bytes = amqp_cstring_bytes("quorum");
  amqp_table_t args{1, &entry};
  amqp_queue_declare(conn_, kChannel, amqp_cstring_bytes(name.c_str()), /*passive=*/0,
                     /*durable=*/1, /*exclusive=*/0, /*auto_delete=*/0, args);
  return check_rpc("queue.declare", error);
}

bool AmqpConnection::delete_queue(const std::string& name, std::string& error) {
  amqp_queue_delete(conn_, kChannel, amqp_cstring_bytes(name.c_str()), 0, 0);
  return check_rpc("queue.delete", error);
}

bool AmqpConnection::select_confirms(std::string& error) {
  amqp_confirm_select(conn_, kChannel);
  return check_rpc("confirm.select", error);
}

bool AmqpConnection::start_consuming(const std::string& queue, int prefetch, std::string& error) {
  amqp_basic_qos(conn_, kChannel, 0, static_cast<uint16_t>(prefetch), 0);
  if (!check_rpc("basic.qos", error)) return false;
  amqp_basic_consume(conn_, kChannel, amqp_cstring_bytes(queue.c_str()), amqp_empty_bytes,
                     /*no_local=*/0, /*no_ack=*/0, /*exclusive=*/0, amqp_empty_table);
  return check_rpc("basic.consume", error);
}

}  // namespace sektorbro::bench
