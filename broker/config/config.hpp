// The broker's configuration file (JSON; see deploy/demo/sektorbro.json for a full example and
// docs/architecture.md for every key). Parsing checks everything at start-up and names the
// exact key that is wrong ("endpoints[2].gln: check digit is wrong").
#pragma once

#include <string>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/deadlines/deadline_policy.hpp"
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

struct DeadlinesConfig {
  DeadlinePolicy policy = default_deadline_policy();
  Duration sweep_interval = std::chrono::seconds{30};  // how often due deadlines are looked for
};

// Which clock the broker runs on. Only kSystem is for production; the others exist for tests and
// the demo and are announced loudly in the log and in /v1/health.
struct ClockConfig {
  enum class Mode {
    kSystem,       // the real time
    kManual,       // stands still until POST /v1/test/clock/advance (tests only)
    kAccelerated,  // runs `factor` times faster than real time from `start` (demo only)
  };
  Mode mode = Mode::kSystem;
  std::optional<TimePoint> start;  // kManual, kAccelerated: where the clock starts (default: now)
  double factor = 1.0;             // kAccelerated
};

struct BrokerConfig {
  ListenConfig listen;
  StoreConfig store;
  DeliveryConfig delivery;
  LimitsConfig limits;
  DeadlinesConfig deadlines;
  ClockConfig clock;
  Party identity;  // the broker's own GLN/SOR, the sender of receipts it writes itself
  std::vector<Endpoint> endpoints;
};

// Parses and checks a configuration document. Relative store paths are kept as given.
Result<BrokerConfig> parse_config(const std::string& json_text);
// Reads the file and parses it; kConfig errors name the file.
Result<BrokerConfig> load_config(const std::string& path);

}  // namespace sektorbro
