// The broker's configuration file (JSON; see deploy/demo/sektorbro.json for a full example and
// docs/architecture.md for every key). Parsing checks everything at start-up and names the
// exact key that is wrong ("endpoints[2].gln: check digit is wrong").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/log.hpp"
#include "broker/core/result.hpp"
#include "broker/deadlines/deadline_policy.hpp"
#include "broker/delivery/retry_policy.hpp"
#include "broker/message/message.hpp"
#include "broker/routing/endpoint.hpp"
#include "broker/store/retention_rule.hpp"

namespace sektorbro {

struct ListenConfig {
  std::string address = "127.0.0.1";
  unsigned short port = 8440;  // 0 = pick a free port (tests)
  // Plain HTTP instead of TLS: the demo and tests only, and only on a loopback address (issue 5).
  // Without it a "tls" section is required.
  bool allow_plain_http = false;
};

// "tls": the broker's listener. Paths are PEM files, relative to the working directory, and must
// be readable at start-up.
struct TlsConfig {
  std::string certificate;  // the broker's server certificate (and chain)
  std::string key;          // its private key
  std::string client_ca;    // CA bundle for client certificates (mutual TLS); empty: none
  bool require_client_certificate = true;  // needs client_ca
};

// "outbound_tls": how deliveries authenticate the receiver and the broker. Without `ca` the
// system's CA store verifies receivers; certificate and key come together or not at all.
struct OutboundTlsConfig {
  std::string ca;           // CA bundle that receivers' certificates must chain to
  std::string certificate;  // the broker's client certificate, presented to receivers
  std::string key;
};

// How a client certificate is recognised. What is set must match; nothing set matches nothing.
struct CertificateIdentity {
  std::string fingerprint_sha256;  // 64 lowercase hex digits of SHA-256 over the DER, or empty
  std::string subject_cn;          // the subject's CN, or empty

  bool empty() const { return fingerprint_sha256.empty() && subject_cn.empty(); }
  // `fingerprint_sha256` is compared case-insensitively; the CN exactly.
  bool matches(std::string_view cn, std::string_view fingerprint_sha256) const;
};

// An endpoint that sends over mutual TLS: "client_certificate_fingerprint" and/or
// "client_certificate_cn" in its entry.
struct EndpointCertificate {
  std::string endpoint_id;
  CertificateIdentity certificate;
};

enum class OperatorRole {
  kReadOnly,  // "read-only": monitoring, reading
  kActing,    // "acting": also requeue, cancel
};

// "operators": [{"name", "role", "token_sha256" and/or a client certificate}]. Tokens are stored
// only as their SHA-256 (lowercase hex).
struct OperatorConfig {
  std::string name;
  OperatorRole role = OperatorRole::kReadOnly;
  std::string token_sha256;  // empty: no token
  CertificateIdentity certificate;
};

struct DeliveryConfig {
  RetryPolicy retry;
  Duration timeout = std::chrono::seconds{10};  // one attempt, connect included
  int per_endpoint_concurrency = 64;  // the widest window of deliveries in flight per receiver
  // MedCom reliable messaging (domain.md §3): when the receiver's receipt has not come this long
  // after delivery, the broker resends (same letter ids, new envelope id and time), at most
  // max_resends times, then raises an operator alert.
  Duration receipt_timeout = std::chrono::minutes{15};
  int max_resends = 2;
  // Mailbox pull: a fetched message not confirmed within this time is offered again.
  Duration mailbox_lease = std::chrono::minutes{5};
};

// "store": {"kind": "sqlite" | "postgres", "path", "conninfo", "group_commit_max"} (issue 11).
struct StoreConfig {
  // The embedded SQLite file (the default; one broker per file) or a PostgreSQL database that
  // several brokers may share.
  enum class Kind { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  std::string path = "var/sektorbro.db";  // kSqlite only
  // kPostgres only, required: a libpq connection string or URI. It may hold a password, so it
  // is never logged nor put in an error text; describe_conninfo() (broker/store/
  // postgres_connection.hpp) gives the parts that may be shown.
  std::string conninfo;
  std::size_t group_commit_max = 256;  // jobs per commit group; 1 = one fsync per message
};

struct LimitsConfig {
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::size_t max_connections_per_client = 64;  // open connections per client IP address
  // Request-body bytes buffered across all connections; beyond it requests get 503 (issue 12,
  // item 6). At least max_body_bytes. For HttpLimits::max_buffered_bytes.
  std::size_t max_buffered_bytes = 64 * 1024 * 1024;
  // Requests one connection may have read ahead and not yet answered (HTTP/1.1 pipelining);
  // 1 reads each request only once the one before it is answered. For
  // HttpLimits::max_pipelined_requests.
  std::size_t max_pipelined_requests = 8;
};

struct DeadlinesConfig {
  DeadlinePolicy policy = default_deadline_policy();
  Duration sweep_interval = std::chrono::seconds{30};  // how often due deadlines are looked for
};

// "cluster": several brokers on one PostgreSQL store (issue 11, item 2). Each broker leases the
// pending deliveries it attempts and renews the leases every lease/3; a broker that stops (killed,
// hung, cut off) loses them after lease_ms and another broker takes its deliveries over. The
// deadline sweep and the receipt check run on whichever broker holds the "sweeper" lease.
struct ClusterConfig {
  // This broker's name in the leases, unique among the brokers on one database. Empty: the
  // host name and process id ("host:1234"), unique for every start (cluster_node()).
  std::string node;
  // How long a lease lasts unrenewed: at least twice delivery.timeout_ms (an attempt must end
  // inside a renewed lease), at most an hour. Longer: fewer renewals; shorter: a dead broker's
  // deliveries are taken over sooner.
  Duration lease = std::chrono::seconds{30};
};

// The broker's node name: cluster.node, or "<host name>:<process id>" when it is empty.
std::string cluster_node(const ClusterConfig& cluster);

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

// The operators' console, metrics and logs (issue 10).
struct LogConfig {
  LogFormat format = LogFormat::kPlain;  // "log": {"format": "plain" | "json"}
  LogLevel level = LogLevel::kInfo;      // "log": {"level": "debug" | "info" | "warning" | "error"}
};
struct MetricsConfig {
  // "metrics": {"unauthenticated": true} opens GET /metrics to anyone who reaches the operators'
  // listener. Default false: an operator credential is needed (read-only suffices).
  bool unauthenticated = false;
  // "metrics": {"store_counts_interval_ms": 10000}: how often the gauges counted in the store
  // (deadlines open / overdue, dead letters, messages without receipt) are recounted, off the io
  // thread (broker/server/operator_counts_cache.hpp). A scrape serves the last count, at most
  // twice this old. 1 s to 1 h; a recount walks every open deadline (~0.3 s at a million).
  Duration store_counts_interval = std::chrono::seconds{10};
};
struct PrivacyConfig {
  // "privacy": {"cpr_index_key_file": "..."}: the secret key of the citizen index (HMAC-SHA256
  // of CPR numbers), kept outside the store. Empty: no index is written and the acting
  // operators' CPR search answers that it is not configured.
  std::string cpr_index_key_file;
};

// "audit": {"key_file", "checkpoint_file", "checkpoint_interval_ms"} (issue 12, item 5;
// docs/audit.md). Both files live outside the store. Without key_file the chain is unkeyed (a
// warning at start-up); without checkpoint_file no checkpoint is written.
struct AuditConfig {
  std::string key_file;
  std::string checkpoint_file;
  Duration checkpoint_interval = std::chrono::seconds{60};
};

// "retention": {"body_days", "record_days", "per_type": {"<LetterType>": days},
// "interval_ms", "batch"} (issue 11, item 4; docs/retention.md). Absent: nothing is deleted.
struct RetentionConfig {
  bool enabled = false;
  RetentionPolicy policy;
  Duration interval = std::chrono::minutes{10};  // how often a retention pass runs
  int batch = 50;                                // deletions per writer job
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
  std::optional<TlsConfig> tls;  // absent only with listen.allow_plain_http
  std::optional<OutboundTlsConfig> outbound_tls;
  std::vector<EndpointCertificate> endpoint_certificates;  // in the order of `endpoints`
  std::vector<OperatorConfig> operators;
  // The operators' web console: the folder of its built files (deploy/build-console.sh →
  // build/console), served at /console/. Empty: no console.
  std::string console_assets;
  LogConfig log;
  MetricsConfig metrics;
  PrivacyConfig privacy;
  AuditConfig audit;
  RetentionConfig retention;
  ClusterConfig cluster;
};

// The operator whose token_sha256 is the SHA-256 of `token`, or null. Every operator's hash is
// compared in constant time, so timing tells nothing about how close a guess came.
const OperatorConfig* find_operator_by_token(const BrokerConfig& config, std::string_view token);

// Parses and checks a configuration document. Relative store paths are kept as given.
Result<BrokerConfig> parse_config(const std::string& json_text);
// Reads the file and parses it; kConfig errors name the file.
Result<BrokerConfig> load_config(const std::string& path);

}  // namespace sektorbro
