// The broker's configuration file (JSON; see deploy/demo/sektorbro.json for a full example and
// docs/architecture.md for every key). Parsing checks everything at start-up and names the
// exact key that is wrong ("endpoints[2].gln: check digit is wrong").
#pragma once

#include <string>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/delivery/retry_policy.hpp"
#include "broker/message/message.hpp"
#include "broker/routing/endpoint.hpp"

namespace sektorbro {

struct ListenConfig {
  std::string address = "127.0.0.1";
  unsigned short port = 8440;  // 0 = pick a free port (tests)
};

struct DeliveryConfig {
  RetryPolicy retry;
  Duration timeout = std::chrono::seconds{10};  // one attempt, connect included
  int per_endpoint_concurrency = 4;             // in-flight deliveries per receiver
};

struct StoreConfig {
  std::string path = "var/sektorbro.db";
  std::size_t group_commit_max = 256;  // jobs per commit group; 1 = one fsync per message
};

struct LimitsConfig {
  std::size_t max_body_bytes = 4 * 1024 * 1024;
};

struct BrokerConfig {
  ListenConfig listen;
  StoreConfig store;
  DeliveryConfig delivery;
  LimitsConfig limits;
  Party identity;  // the broker's own GLN/SOR, the sender of receipts it writes itself
  std::vector<Endpoint> endpoints;
};

// Parses and checks a configuration document. Relative store paths are kept as given.
Result<BrokerConfig> parse_config(const std::string& json_text);
// Reads the file and parses it; kConfig errors name the file.
Result<BrokerConfig> load_config(const std::string& path);

}  // namespace sektorbro
