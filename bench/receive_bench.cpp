// sektorbro-bench: durable receive rate and acceptance latency of the real broker binary.
//
//   sektorbro-bench [--runs 5] [--seconds 5] [--clients 8] [--rate 1000]
//
// Starts the broker (release build, SQLite store in a temp dir, fsync before every answer) with
// one jobcenter and one psychiatry endpoint whose receiver answers at once, then measures:
//  1. durable receive rate: `clients` HTTP clients on loopback post 4 KB CertificateRequests as
//     fast as the broker answers 202, for `seconds`;
//  2. the same with group commit off (one fsync per message) — the baseline, run alternately
//     with (1) on the same machine at the same time, so the ratio means something on a noisy box;
//  3. acceptance latency at a fixed offered rate (`rate` messages/s, open loop, measured from
//     each request's scheduled send time so a stall is not hidden): p50 and p99.
// Prints each run and the medians. Not a test: it asserts nothing and never runs in ctest.
#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "broker/codec/codec.hpp"
#include "broker/core/clock.hpp"
#include "tests/harness/broker_process.hpp"
#include "tests/harness/http_client.hpp"
#include "tests/harness/sample_messages.hpp"
#include "tests/support/http_receiver.hpp"

namespace sektorbro::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct Setup {
  Party jc = make_party("579000012345", "265161000016001", "Jobcenter Bench");
  Party psy = make_party("579000054321", "265161000016003", "Psykiatrien Bench");
  Party broker = make_party("579000099999", "265161000016999", "Sektorbro");
  HttpReceiver receiver;  // answers 200 at once
};

nlohmann::json make_config(const Setup& s, std::size_t group_commit_max) {
  auto endpoint = [](const std::string& id, const std::string& kind, const Party& p,
                     const std::string& url, std::vector<std::string> accepts) {
    return nlohmann::json{{"id", id},     {"kind", kind}, {"name", p.name},    {"gln", p.gln},
                          {"sor", p.sor}, {"url", url},   {"accepts", accepts}};
  };
  return {{"listen", {{"address", "127.0.0.1"}, {"port", 0}, {"allow_plain_http", true}}},
          {"store", {{"path", "bench.db"}, {"group_commit_max", group_commit_max}}},
          {"identity", {{"gln", s.broker.gln}, {"sor", s.broker.sor}, {"name", "Sektorbro"}}},
          {"endpoints",
           {endpoint("jc", "jobcenter", s.jc, s.receiver.url(), {"Certificate"}),
            endpoint("psy", "psychiatry", s.psy, s.receiver.url(), {"CertificateRequest"})}}};
}

// A CertificateRequest whose XML is about 4 KB.
std::string four_kb_message(const Setup& s, const std::string& id) {
  Envelope e = make_certificate_request(s.jc, s.psy, id, id, SystemClock{}.now());
  auto& body = std::get<CertificateRequest>(e.letters[0].body);
  const std::size_t size = encode_envelope(e).size();
  if (size < 4096) body.questions.push_back(std::string(4096 - size - 40, 'x'));
  return encode_envelope(e);
}

struct Throughput {
  double per_second = 0;
  std::size_t failures = 0;
};

Throughput run_throughput(Setup& s, std::size_t group, int clients, int seconds, int run) {
  TempDir dir;
  std::string error;
  auto broker = BrokerProcess::start(BrokerProcess::default_binary(), dir.path(),
                                     make_config(s, group).dump(), error);
  if (!broker) {
    std::cerr << error << "\n";
    std::exit(1);
  }
  std::atomic<std::size_t> ok{0}, failed{0};
  const auto end = Clock::now() + std::chrono::seconds{seconds};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      HttpClient client;
      for (int i = 0; Clock::now() < end; ++i) {
        const std::string id =
            "R" + std::to_string(run) + "C" + std::to_string(c) + "N" + std::to_string(i);
        const auto r = client.post(broker->url("/v1/messages"), four_kb_message(s, id));
        (r.status == 202 ? ok : failed)++;
      }
    });
  }
  const auto start = Clock::now();
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return {static_cast<double>(ok) / elapsed, failed};
}

struct Latency {
  double p50_ms = 0, p99_ms = 0;
  double achieved = 0;
};

Latency run_latency(Setup& s, int rate, int clients, int seconds, int run) {
  TempDir dir;
  std::string error;
  auto broker = BrokerProcess::start(BrokerProcess::default_binary(), dir.path(),
                                     make_config(s, 256).dump(), error);
  if (!broker) {
    std::cerr << error << "\n";
    std::exit(1);
  }
  const int total = rate * seconds;
  std::vector<double> latencies;
  std::mutex mu;
  const auto t0 = Clock::now() + std::chrono::milliseconds{100};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      HttpClient client;
      std::vector<double> mine;
      for (int k = c; k < total; k += clients) {
        const auto scheduled = t0 + std::chrono::microseconds{1'000'000LL * k / rate};
        std::this_thread::sleep_until(scheduled);  // pacing the offered load, not waiting on work
        const std::string id = "L" + std::to_string(run) + "N" + std::to_string(k);
        const auto r = client.post(broker->url("/v1/messages"), four_kb_message(s, id));
        if (r.status == 202)
          mine.push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - scheduled).count());
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0
                             : latencies[std::min(latencies.size() - 1,
                                                  static_cast<std::size_t>(p * latencies.size()))];
  };
  return {pct(0.50), pct(0.99), latencies.size() / elapsed};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0
                   : (v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

}  // namespace
}  // namespace sektorbro::testing

int main(int argc, char** argv) {
  using namespace sektorbro::testing;
  int runs = 5, seconds = 5, clients = 8, rate = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (arg == "--runs")
      runs = v;
    else if (arg == "--seconds")
      seconds = v;
    else if (arg == "--clients")
      clients = v;
    else if (arg == "--rate")
      rate = v;
  }
  Setup setup;
  std::cout << "message size: " << four_kb_message(setup, "SIZE").size() << " bytes, " << clients
            << " clients, " << seconds << " s per run, " << runs << " runs\n";
  std::vector<double> grouped, single, ratios, p50, p99;
  for (int r = 0; r < runs; ++r) {
    const auto g = run_throughput(setup, 256, clients, seconds, 2 * r);
    const auto b = run_throughput(setup, 1, clients, seconds, 2 * r + 1);
    const auto l = run_latency(setup, rate, clients, seconds, r);
    grouped.push_back(g.per_second);
    single.push_back(b.per_second);
    ratios.push_back(g.per_second / b.per_second);
    p50.push_back(l.p50_ms);
    p99.push_back(l.p99_ms);
    std::printf(
        "run %d: group commit %.0f msg/s, one fsync per message %.0f msg/s (ratio %.2f); "
        "at %d msg/s offered (%.0f achieved): p50 %.2f ms, p99 %.2f ms; failures %zu/%zu\n",
        r + 1, g.per_second, b.per_second, g.per_second / b.per_second, rate, l.achieved, l.p50_ms,
        l.p99_ms, g.failures, b.failures);
    std::fflush(stdout);
  }
  std::printf(
      "median: durable receive rate %.0f msg/s with group commit, %.0f msg/s with one "
      "fsync per message, ratio %.2f; latency at %d msg/s p50 %.2f ms, p99 %.2f ms\n",
      median(grouped), median(single), median(ratios), rate, median(p50), median(p99));
  return 0;
}
