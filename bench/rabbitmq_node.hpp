// RabbitNode: a RabbitMQ node of the benchmark's own (Debian's rabbitmq-server), never the
// system service. Everything it has is in one scratch directory and on loopback:
//  - its own epmd (started first, on a free port, bound to 127.0.0.1), so no daemon is left
//    behind and the node's Erlang distribution does not reach for the default port 4369;
//  - RABBITMQ_NODENAME unique per benchmark process, RABBITMQ_NODE_IP_ADDRESS=127.0.0.1, its own
//    AMQP and distribution ports (the distribution bound to 127.0.0.1 too);
//  - RABBITMQ_MNESIA_BASE / RABBITMQ_LOG_BASE / config / plugin files in the scratch directory,
//    an empty enabled-plugins list (no management plugin), HOME there (the Erlang cookie).
// It is ready when an AMQP login as guest succeeds. stop() (and the destructor, and the
// benchmark's signal handlers via ChildProcess) stop the node by pid, then epmd.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "bench/child_process.hpp"

namespace sektorbro::bench {

struct RabbitNodeOptions {
  std::string server = "/usr/lib/rabbitmq/bin/rabbitmq-server";  // Debian's start script
  std::string epmd = "/usr/bin/epmd";
  std::string dir;  // scratch directory (must exist); the node's files go below it
  std::chrono::milliseconds ready_timeout = std::chrono::seconds{120};
};

class RabbitNode {
 public:
  // nullptr and `error` (with the tail of the node's log) if it is not ready in time.
  static std::unique_ptr<RabbitNode> start(const RabbitNodeOptions& options, std::string& error);
  ~RabbitNode();
  RabbitNode(const RabbitNode&) = delete;
  RabbitNode& operator=(const RabbitNode&) = delete;

  unsigned short amqp_port() const { return amqp_port_; }
  pid_t pid() const { return server_ ? server_->pid() : -1; }
  const std::string& node_name() const { return node_name_; }
  void stop();

 private:
  RabbitNode() = default;
  std::unique_ptr<ChildProcess> epmd_;
  std::unique_ptr<ChildProcess> server_;
  unsigned short amqp_port_ = 0;
  std::string node_name_;
};

}  // namespace sektorbro::bench
