// sektorbro-cluster-bench: throughput of 1, 2 and 3 brokers on one PostgreSQL (issue 11, item 2).
//
//   sektorbro-cluster-bench [--runs 3] [--seconds 10] [--clients 8] [--brokers 1,2,3]
//       [--broker PATH]
//
// A private PostgreSQL server (tests/support/postgres_server.hpp: initdb into a temporary
// folder, 127.0.0.1, stopped by pid; fsync on, as in production). For each broker count and run:
// a fresh database, that many real `sektorbro` processes on it (shipped defaults, each its own
// cluster.node), one counting HTTP receiver, and `clients` keep-alive clients per broker posting
// 4 KB CertificateRequests as fast as they are answered for `seconds`. Printed per broker count:
// the medians over the runs of the acknowledged (202) rate and of the delivered rate (letters
// that reached the receiver inside the window), and the backlog left. Runs of the counts are
// interleaved (1, 2, 3, 1, 2, 3, …) so drift on the machine spreads over all of them. Not a
// test: it asserts nothing and never runs in ctest.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "bench/bench_stats.hpp"
#include "bench/sektorbro_load.hpp"
#include "tests/harness/broker_process.hpp"
#include "tests/support/http_receiver.hpp"
#include "tests/support/postgres_server.hpp"

namespace sektorbro::bench {
namespace {

struct Options {
  int runs = 3;
  int seconds = 10;
  int clients = 8;
  std::vector<int> brokers{1, 2, 3};
  std::string broker = testing::BrokerProcess::default_binary();
};

[[noreturn]] void fail(const std::string& why) {
  std::cerr << "cluster-bench: " << why << "\n";
  std::exit(1);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) fail("missing value for " + a);
    const std::string v = argv[++i];
    if (a == "--runs") {
      o.runs = std::stoi(v);
    } else if (a == "--seconds") {
      o.seconds = std::stoi(v);
    } else if (a == "--clients") {
      o.clients = std::stoi(v);
    } else if (a == "--broker") {
      o.broker = v;
    } else if (a == "--brokers") {
      o.brokers.clear();
      std::stringstream in(v);
      for (std::string n; std::getline(in, n, ',');) o.brokers.push_back(std::stoi(n));
    } else {
      fail("unknown option " + a);
    }
  }
  if (o.runs < 1 || o.seconds < 1 || o.clients < 1 || o.brokers.empty())
    fail("runs, seconds, clients and brokers must be positive");
  return o;
}

// Deliveries counted inside the measuring window.
class Counter {
 public:
  void set_window(SteadyClock::time_point start, SteadyClock::time_point end) {
    std::lock_guard lock(mu_);
    start_ = start;
    end_ = end;
  }
  void arrived() {
    const auto now = SteadyClock::now();
    std::lock_guard lock(mu_);
    if (now >= start_ && now < end_) ++in_window_;
  }
  std::uint64_t in_window() const {
    std::lock_guard lock(mu_);
    return in_window_;
  }

 private:
  mutable std::mutex mu_;
  SteadyClock::time_point start_ = SteadyClock::time_point::max(), end_ = start_;
  std::uint64_t in_window_ = 0;
};

struct Figures {
  double accepted_per_s = 0, delivered_per_s = 0;
  std::int64_t backlog = 0;
  std::uint64_t failed = 0;
};

Figures run_once(const Options& o, test::PostgresServer& pg, int brokers, int run,
                 const BenchParties& parties, const LetterTemplate& letters,
                 std::atomic<std::uint64_t>& ids) {
  auto db = pg.create_database("bench_" + std::to_string(brokers) + "_" + std::to_string(run));
  if (!db) fail(db.error().detail);
  Counter counter;
  testing::HttpReceiver receiver{[&counter](const testing::ReceivedRequest&) {
    counter.arrived();
    return testing::ReplyPlan{};
  }};
  testing::TempDir dir;
  std::vector<std::unique_ptr<testing::BrokerProcess>> running;
  for (int i = 0; i < brokers; ++i) {
    const nlohmann::json extra = {
        {"store", {{"kind", "postgres"}, {"conninfo", *db}}},
        {"cluster", {{"node", "bench-" + std::to_string(i + 1)}}}};
    nlohmann::json config = bench_config(parties, "unused.db", receiver.url());
    config["store"] = extra["store"];
    config["cluster"] = extra["cluster"];
    const std::string sub = dir.path() + "/b" + std::to_string(i + 1);
    std::filesystem::create_directories(sub);
    std::string error;
    auto b = testing::BrokerProcess::start(o.broker, sub, config.dump(), error);
    if (!b) fail("broker " + std::to_string(i + 1) + " did not start: " + error);
    running.push_back(std::move(b));
  }
  const auto start = SteadyClock::now() + std::chrono::milliseconds{300};
  const auto end = start + std::chrono::seconds{o.seconds};
  counter.set_window(start, end);
  std::vector<IntakeResult> results(static_cast<std::size_t>(brokers));
  std::vector<std::thread> load;
  for (int i = 0; i < brokers; ++i)
    load.emplace_back([&, i] {
      results[static_cast<std::size_t>(i)] =
          post_at_full_speed(running[static_cast<std::size_t>(i)]->url("/v1/messages"), letters,
                             o.clients, start, end, static_cast<char>('A' + i), ids);
    });
  for (auto& t : load) t.join();
  Figures f;
  std::uint64_t accepted = 0;
  for (const auto& r : results) {
    accepted += r.accepted;
    f.failed += r.failed;
    if (r.failed > 0) std::printf("  (first failure: %s)\n", r.first_failure.c_str());
  }
  const double window = std::chrono::duration<double>(end - start).count();
  const std::uint64_t delivered = counter.in_window();
  f.accepted_per_s = static_cast<double>(accepted) / window;
  f.delivered_per_s = static_cast<double>(delivered) / window;
  f.backlog = static_cast<std::int64_t>(accepted) - static_cast<std::int64_t>(delivered);
  for (auto& b : running) b->terminate();
  return f;
}

}  // namespace
}  // namespace sektorbro::bench

int main(int argc, char** argv) {
  using namespace sektorbro;
  using namespace sektorbro::bench;
  const Options o = parse(argc, argv);
  test::PostgresServer::Options pg_options;
  pg_options.fsync = true;  // the production setting: a commit is on disk
  auto pg = test::PostgresServer::start(pg_options);
  if (!pg) fail(pg.error().detail);
  const BenchParties parties;
  const LetterTemplate letters(parties);
  std::atomic<std::uint64_t> ids{1};
  std::map<int, std::vector<Figures>> figures;
  std::printf("cluster-bench: %d s per run, %d clients per broker, %zu-byte letters, %d runs\n",
              o.seconds, o.clients, letters.size(), o.runs);
  for (int run = 1; run <= o.runs; ++run)
    for (const int n : o.brokers) {
      const Figures f = run_once(o, **pg, n, run, parties, letters, ids);
      std::printf("  run %d, %d broker(s): %.0f acknowledged/s, %.0f delivered/s, backlog %lld\n",
                  run, n, f.accepted_per_s, f.delivered_per_s, static_cast<long long>(f.backlog));
      std::fflush(stdout);
      figures[n].push_back(f);
    }
  std::printf("\nbrokers  acknowledged/s  delivered/s  backlog   (medians of %d runs)\n", o.runs);
  for (const int n : o.brokers) {
    std::vector<double> acc, del, back;
    for (const auto& f : figures[n]) {
      acc.push_back(f.accepted_per_s);
      del.push_back(f.delivered_per_s);
      back.push_back(static_cast<double>(f.backlog));
    }
    std::printf("%7d  %14.0f  %11.0f  %7.0f\n", n, median(acc), median(del), median(back));
  }
  return 0;
}
