// Load on a running Sektorbro over HTTP on loopback, shared by the side-by-side and scale
// benchmarks: 4 KB CertificateRequests with unique ids, posted by keep-alive clients either as
// fast as the broker answers (closed loop) or at a fixed offered rate (open loop).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "broker/message/message.hpp"

namespace sektorbro::bench {

using SteadyClock = std::chrono::steady_clock;

// The parties of the benchmark's configuration.
struct BenchParties {
  Party jobcenter, psychiatry, broker;
  BenchParties();
};

// A configuration with the shipped defaults except what a benchmark must set: plain HTTP on a
// free loopback port, the store file, the broker's identity, one jobcenter "jc" and one
// psychiatry "psy" endpoint, both delivering to `receiver_url`. `extra` is merged on top
// (e.g. operators); tuning keys are never set here.
nlohmann::json bench_config(const BenchParties& p, const std::string& store_path,
                            const std::string& receiver_url,
                            const nlohmann::json& extra = nlohmann::json::object());

// A CertificateRequest jobcenter → psychiatry of about `bytes` bytes of XML, encoded once with
// a placeholder id; with_id() writes a fresh id (envelope and letter) into a copy.
class LetterTemplate {
 public:
  static constexpr std::size_t kIdLength = 14;  // MedCom identifiers: 1-14 of A-Z a-z 0-9 . _ -
  LetterTemplate(const BenchParties& p, std::size_t bytes = 4096);
  // `prefix` (one letter) + a counter, zero-padded to kIdLength.
  std::string with_id(char prefix, std::uint64_t counter) const;
  std::size_t size() const { return xml_.size(); }
  // For a load that writes the id in place (http_load_client.hpp): the XML with the placeholder
  // id, where the id stands in it, and the id itself written to `out` (kIdLength characters).
  const std::string& xml() const { return xml_; }
  const std::vector<std::size_t>& id_offsets() const { return id_offsets_; }
  static void write_id(char* out, char prefix, std::uint64_t counter);

 private:
  std::string xml_;
  std::vector<std::size_t> id_offsets_;
};

struct IntakeResult {
  std::uint64_t accepted = 0;       // 202 answers received inside the window
  std::uint64_t accepted_late = 0;  // 202 answers that arrived after the window closed
  std::uint64_t failed = 0;         // any other answer or none
  double seconds = 0;               // the window
  std::string first_failure;        // status and the start of the answer, for the report
  double per_second() const { return seconds > 0 ? static_cast<double>(accepted) / seconds : 0; }
};

// Closed loop: `clients` keep-alive HTTP clients post as fast as they are answered from `start`
// until `end` (each request has a 30 s bound). Ids are `prefix` + a shared counter from
// `first_id`.
IntakeResult post_at_full_speed(const std::string& url, const LetterTemplate& letters, int clients,
                                SteadyClock::time_point start, SteadyClock::time_point end,
                                char prefix, std::atomic<std::uint64_t>& next_id);

struct LatencyResult {
  std::vector<double> ms;  // per accepted request, sorted; from its scheduled send time to 202
  std::uint64_t failed = 0;
  std::string first_failure;
  double offered_per_second = 0;
  double achieved_per_second = 0;
};

// Open loop: request k is due at start + k/rate; `clients` clients take the requests in turn
// (k mod clients), so a stalled answer delays that client's next requests and the delay is
// counted, because latency runs from the scheduled time, not from the actual send.
LatencyResult post_at_rate(const std::string& url, const LetterTemplate& letters, int clients,
                           int rate, double seconds, char prefix,
                           std::atomic<std::uint64_t>& next_id);

}  // namespace sektorbro::bench
