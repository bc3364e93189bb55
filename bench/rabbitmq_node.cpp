#include "bench/rabbitmq_node.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "bench/amqp_connection.hpp"

namespace sektorbro::bench {
namespace {

std::string tail_of(const std::string& path, std::size_t bytes) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

std::unique_ptr<RabbitNode> RabbitNode::start(const RabbitNodeOptions& options,
                                              std::string& error) {
  namespace fs = std::filesystem;
  const fs::path dir = options.dir;
  std::error_code ec;
  for (const char* sub : {"mnesia", "log", "plugins-expand"}) fs::create_directories(dir / sub, ec);
  write_file(dir / "enabled_plugins", "[].\n");  // no management plugin, no plugins at all
  write_file(dir / "rabbitmq-env.conf", "");     // not /etc/rabbitmq/rabbitmq-env.conf
  write_file(dir / "rabbitmq.conf",
             "log.console = false\n"
             "log.file.level = warning\n");

  auto node = std::unique_ptr<RabbitNode>(new RabbitNode);
  const unsigned short epmd_port = free_loopback_port();
  node->amqp_port_ = free_loopback_port();
  unsigned short dist_port = free_loopback_port();
  while (dist_port == node->amqp_port_ || dist_port == epmd_port) dist_port = free_loopback_port();
  node->node_name_ = "sektorbro-bench-" + std::to_string(::getpid()) + "@localhost";

  node->epmd_ = ChildProcess::start(
      {options.epmd, "-address", "127.0.0.1", "-port", std::to_string(epmd_port)}, {}, dir.string(),
      (dir / "epmd.log").string(), error);
  if (!node->epmd_) return nullptr;

  const std::string d = dir.string();
  const std::vector<std::pair<std::string, std::string>> env = {
      {"HOME", d},
      {"RABBITMQ_NODENAME", node->node_name_},
      {"RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1"},
      {"RABBITMQ_NODE_PORT", std::to_string(node->amqp_port_)},
      {"RABBITMQ_DIST_PORT", std::to_string(dist_port)},
      {"ERL_EPMD_PORT", std::to_string(epmd_port)},
      {"ERL_EPMD_ADDRESS", "127.0.0.1"},
      {"RABBITMQ_MNESIA_BASE", d + "/mnesia"},
      {"RABBITMQ_LOG_BASE", d + "/log"},
      {"RABBITMQ_ENABLED_PLUGINS_FILE", d + "/enabled_plugins"},
      {"RABBITMQ_PLUGINS_EXPAND_DIR", d + "/plugins-expand"},
      {"RABBITMQ_CONF_ENV_FILE", d + "/rabbitmq-env.conf"},
      {"RABBITMQ_CONFIG_FILE", d + "/rabbitmq.conf"},
      {"RABBITMQ_ADVANCED_CONFIG_FILE", d + "/advanced.config"},
      {"RABBITMQ_PID_FILE", d + "/rabbitmq.pid"},
      {"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}"},
  };
  const std::string log = (dir / "server.log").string();
  node->server_ = ChildProcess::start({options.server}, env, d, log, error);
  if (!node->server_) return nullptr;

  // Ready = an AMQP login succeeds; bounded by ready_timeout, and given up at once if the node's
  // start script exits.
  const auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!node->server_->running()) {
      error = "rabbitmq-server exited during start-up; its output:\n" + tail_of(log, 3000);
      return nullptr;
    }
    if (AmqpConnection::open(node->amqp_port_, last, std::chrono::seconds{2})) return node;
    std::this_thread::sleep_for(std::chrono::milliseconds{250});  // retry interval, bounded above
  }
  error = "RabbitMQ node not ready within " + std::to_string(options.ready_timeout.count() / 1000) +
          " s (" + last + "); its output:\n" + tail_of(log, 3000);
  return nullptr;
}

void RabbitNode::stop() {
  if (server_) server_->stop(std::chrono::seconds{30});
  if (epmd_) epmd_->stop(std::chrono::seconds{5});
}

RabbitNode::~RabbitNode() { stop(); }

}  // namespace sektorbro::bench
