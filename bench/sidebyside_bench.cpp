// sektorbro-sidebyside-bench: Sektorbro against RabbitMQ on the same machine, interleaved in one
// run (issue 8, "How it must show"). Run it through bench/sidebyside.sh, which installs
// rabbitmq-server if it is missing and builds what is needed.
//
//   sektorbro-sidebyside-bench [--rounds 3] [--seconds 10] [--clients 64] [--pipeline 1]
//       [--rate 1000]
//       [--latency-seconds 5] [--latency-clients 64] [--window 512] [--prefetch 512]
//       [--drain-seconds 0] [--only sektorbro|rabbitmq] [--broker PATH]
//       [--rabbitmq-server PATH] [--relay-bound]
//
// Each round runs, one after the other on the same machine:
//  a. Sektorbro delivered rate: the real broker binary (from this build dir; SQLite store in a
//     fresh temporary directory; the shipped default settings), `clients` keep-alive HTTP
//     connections posting 4 KB CertificateRequests as fast as they are answered for `seconds`,
//     and a receiver (CountingReceiver, answering 200 at once) counting the letters that reach
//     it inside the window. The load is lean (http_load_client.hpp: one Asio thread for all
//     connections, the request built once, nothing recorded by the receiver), because it shares
//     the cores with the broker: the CPU it uses per letter is printed as "load". Prints
//     accepted/s, delivered/s and the backlog (accepted − delivered) at the end of the window (a
//     letter may reach the receiver before its 202 reaches the client, so the backlog can be a
//     little below zero: at most the letters in flight); with --drain-seconds N also how long
//     the backlog took to drain (bounded by N). With --pipeline P
//     each connection keeps up to P letters sent and not yet answered (HTTP/1.1 pipelining, which
//     the broker reads ahead up to limits.max_pipelined_requests, 8 by default): 64 × 8 = 512
//     letters in flight, RabbitMQ's publisher window; 1 (the default) is one letter per
//     connection at a time, as the figures were measured.
//  b. RabbitMQ quorum queue (x-queue-type=quorum, durable), persistent 4 KB messages, publisher
//     confirms with at most `window` unconfirmed, and a consumer with manual acks (prefetch
//     `prefetch`) running at the same time: publish+consume rate = messages consumed inside the
//     window / window. The confirm rate is printed too.
//  c. p99 at `rate` msg/s offered, open loop, from each message's scheduled send time:
//     Sektorbro until its 202 (delivery running, `latency-clients` keep-alive connections: HTTP/1.1
//     has one request in flight per connection, so with 8 a commit group's fsync capped the
//     offered rate below 1,000/s and the p99 measured a queue of unsent requests; 64 is the
//     issue's bound, matching RabbitMQ's publisher window of many unconfirmed messages),
//     RabbitMQ until its confirm (consumer running).
// With --relay-bound each round also runs (a) against sektorbro-relay-bound (relay_bound.cpp):
// the broker's HTTP server and libcurl transport relaying each letter with nothing decoded or
// stored — the ceiling of one HTTP exchange per letter per hop on this machine — and prints its
// delivered rate against RabbitMQ's.
// RabbitMQ is the benchmark's own node (see rabbitmq_node.hpp), started once for the run and
// stopped by pid at the end, also on error or Ctrl-C; each phase uses a fresh queue. Then the
// medians and the ratios: Sektorbro delivered / RabbitMQ publish+consume, p99 Sektorbro / p99
// RabbitMQ (target: ≥ 1.0 and ≤ 1.0), and the CPU per letter that 1.0× allows (RabbitMQ's node
// and load per message) against Sektorbro's and its load's. On a small shared machine the figures
// are noisy; the phases interleave so both brokers see the same noise. Not a test: it asserts
// nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "bench/amqp_connection.hpp"
#include "bench/bench_stats.hpp"
#include "bench/child_process.hpp"
#include "bench/counting_receiver.hpp"
#include "bench/http_load_client.hpp"
#include "bench/rabbitmq_load.hpp"
#include "bench/rabbitmq_node.hpp"
#include "bench/sektorbro_load.hpp"
#include "tests/harness/broker_process.hpp"
#include "tests/harness/http_client.hpp"

namespace sektorbro::bench {
namespace {

struct Options {
  int rounds = 3;
  int seconds = 10;
  int clients = 64;
  int pipeline = 1;
  int rate = 1000;
  int latency_seconds = 5;
  int latency_clients = 64;
  int window = 512;
  int prefetch = 512;
  int drain_seconds = 0;
  bool sektorbro = true;
  bool rabbitmq = true;
  bool relay_bound = false;
  std::string broker = testing::BrokerProcess::default_binary();
  std::string rabbitmq_server = "/usr/lib/rabbitmq/bin/rabbitmq-server";
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "sidebyside-bench: " << why
            << "\nusage: sektorbro-sidebyside-bench [--rounds N] [--seconds S] [--clients C] "
               "[--pipeline P] [--rate R] [--latency-seconds S] [--latency-clients C] [--window W] "
               "[--prefetch P] [--drain-seconds S] [--only sektorbro|rabbitmq] [--broker PATH] "
               "[--rabbitmq-server PATH] [--relay-bound]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--relay-bound") {
      o.relay_bound = true;
      continue;
    }
    if (i + 1 >= argc) usage("missing value after " + arg);
    const std::string value = argv[++i];
    auto number = [&](int min) {
      char* end = nullptr;
      const long v = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || v < min || v > 1'000'000) usage("bad value for " + arg + ": " + value);
      return static_cast<int>(v);
    };
    if (arg == "--rounds")
      o.rounds = number(1);
    else if (arg == "--seconds")
      o.seconds = number(1);
    else if (arg == "--clients")
      o.clients = number(1);
    else if (arg == "--pipeline")
      o.pipeline = number(1);
    else if (arg == "--rate")
      o.rate = number(1);
    else if (arg == "--latency-seconds")
      o.latency_seconds = number(1);
    else if (arg == "--latency-clients")
      o.latency_clients = number(1);
    else if (arg == "--window")
      o.window = number(1);
    else if (arg == "--prefetch")
      o.prefetch = number(1);
    else if (arg == "--drain-seconds")
      o.drain_seconds = number(0);
    else if (arg == "--broker")
      o.broker = value;
    else if (arg == "--rabbitmq-server")
      o.rabbitmq_server = value;
    else if (arg == "--only") {
      if (value == "sektorbro")
        o.rabbitmq = false;
      else if (value == "rabbitmq")
        o.sektorbro = false;
      else
        usage("--only takes sektorbro or rabbitmq");
    } else {
      usage("unknown option " + arg);
    }
  }
  if (o.clients > 64) usage("--clients: at most 64 (the broker's per-client connection cap)");
  if (o.clients * o.pipeline > o.window)
    usage("--clients x --pipeline: at most --window (RabbitMQ's letters in flight)");
  return o;
}

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "sidebyside-bench: " << what << "\n";
  std::exit(1);  // atexit: the RabbitMQ node, epmd and any broker are stopped by pid
}

// The broker's peak resident set (VmHWM) in MB, or 0 if unreadable.
double peak_rss_mb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  return 0;
}

// CPU time (user + system, all threads) that a process and its descendants have used so far, in
// seconds; what is unreadable counts 0. Per delivered message it is the cost figure a shared,
// noisy machine disturbs least: a broker that waits for a busy core is slower but does not use
// more CPU per message. Descendants: RabbitMQ's node pid is the rabbitmq-server script, whose
// child is the Erlang VM.
// utime + stime, in seconds, of one proc(5) stat file (a process's or one of its threads').
double stat_cpu_seconds(const std::filesystem::path& stat_file) {
  std::ifstream in(stat_file);
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')');  // the name may hold spaces
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int k = 3; k <= 15 && fields >> field; ++k) {  // fields 14 and 15 of proc(5)
    if (k == 14) utime = std::stoull(field);
    if (k == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// CPU seconds so far of each of a process's threads, by thread name (the broker names its
// threads: sb-writer, sb-post, sb-http, sb-codec; the main thread is "io"); threads that share
// a name are summed. Which thread a letter's CPU goes to shows which stage would limit on a
// machine with more cores (docs/performance.md, "Which thread limits").
std::map<std::string, double> thread_cpu_seconds(pid_t pid) {
  std::map<std::string, double> by_name;
  std::error_code ec;
  const std::string self = std::to_string(pid);
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::string name;
    std::getline(std::ifstream(task.path() / "comm"), name);
    if (task.path().filename() == self) name = "io";
    by_name[name] += stat_cpu_seconds(task.path() / "stat");
  }
  return by_name;
}

double cpu_seconds(pid_t pid) {
  double total = stat_cpu_seconds("/proc/" + std::to_string(pid) + "/stat");
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream children(task.path() / "children");
    for (pid_t child; children >> child;) total += cpu_seconds(child);
  }
  return total;
}

// CPU time this process (the load: Sektorbro's HTTP clients and receiver, or RabbitMQ's publisher
// and consumer) has used so far, in seconds. Both brokers share the machine's cores with their
// load, so what the load costs per message is capacity the broker does not get.
double self_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// Counts the letters that reach the receiver, inside a window and in total, and lets a caller
// wait (bounded) for a total.
class DeliveryCounter {
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
    ++total_;
    cv_.notify_all();
  }
  std::uint64_t in_window() const {
    std::lock_guard lock(mu_);
    return in_window_;
  }
  bool wait_for_total(std::uint64_t n, std::chrono::milliseconds bound) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, bound, [&] { return total_ >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  SteadyClock::time_point start_ = SteadyClock::time_point::max(), end_ = start_;
  std::uint64_t in_window_ = 0, total_ = 0;
};

// The writer's commit groups so far, from the broker's /metrics: (groups, jobs) — the
// sektorbro_commit_group_size histogram's count and sum. What a letter costs the writer depends
// on how many jobs share a commit (docs/performance.md, "Where the writer's time goes"). {0, 0}
// if unreadable.
std::pair<double, double> commit_groups(const testing::BrokerProcess& broker) {
  testing::HttpClient client;
  const testing::HttpResult page = client.get(broker.url("/metrics"), std::chrono::seconds{10});
  double count = 0, sum = 0;
  if (page.status != 200) return {0, 0};
  std::istringstream lines(page.body);
  for (std::string line; std::getline(lines, line);) {
    const auto value = [&](const char* name) -> std::optional<double> {
      const std::string prefix = std::string(name) + " ";
      if (line.rfind(prefix, 0) != 0) return std::nullopt;
      return std::strtod(line.c_str() + prefix.size(), nullptr);
    };
    if (auto v = value("sektorbro_commit_group_size_count")) count = *v;
    if (auto v = value("sektorbro_commit_group_size_sum")) sum = *v;
  }
  return {count, sum};
}

// A broker with a fresh store and a counting receiver, stopped (by pid) when it goes.
struct SektorbroUnderTest {
  testing::TempDir dir;
  DeliveryCounter counter;
  CountingReceiver receiver{[this] { counter.arrived(); }};
  std::unique_ptr<testing::BrokerProcess> broker;

  SektorbroUnderTest(const Options& o, const BenchParties& parties) {
    std::string error;
    broker = testing::BrokerProcess::start(
        o.broker, dir.path(), bench_config(parties, "bench.db", receiver.url()).dump(), error);
    if (!broker) fail("the broker did not start: " + error);
    watch_pid(broker->pid());
  }
  ~SektorbroUnderTest() {
    if (broker) {
      unwatch_pid(broker->pid());
      broker->terminate();
    }
  }
};

struct DeliveredFigures {
  double accepted_per_s = 0, delivered_per_s = 0;
  std::uint64_t accepted = 0, delivered = 0, failed = 0;
  std::int64_t backlog = 0;
  std::optional<double> drain_s;  // with --drain-seconds, when drained in time
  double rss_mb = 0;
  double cpu_us_per_delivered = 0;       // the broker's CPU in the window / letters delivered in it
  double load_cpu_us_per_delivered = 0;  // this process's (clients, receiver) likewise
  std::map<std::string, double> thread_us_per_delivered;  // the broker's CPU by thread likewise
  double jobs_per_group = 0;  // the writer's jobs per commit group in the window (0: unknown)
};

// Phase (a) against whatever listens at `url` and delivers to `counter`'s receiver: the load at
// full speed for the window, and what it cost process `pid` (all threads) and this one.
DeliveredFigures delivered_in_window(const Options& o, pid_t pid, const std::string& url,
                                     DeliveryCounter& counter, const LetterTemplate& letters,
                                     std::atomic<std::uint64_t>& ids, char prefix,
                                     const std::function<std::pair<double, double>()>& groups) {
  const auto start = SteadyClock::now() + std::chrono::milliseconds{300};
  const auto end = start + std::chrono::seconds{o.seconds};
  counter.set_window(start, end);
  std::this_thread::sleep_until(start);  // pacing: the CPU count starts with the window
  const double cpu_before = cpu_seconds(pid);
  const auto threads_before = thread_cpu_seconds(pid);
  const auto groups_before = groups();
  const double load_before = self_cpu_seconds();
  const IntakeResult in =
      lean_post_at_full_speed(url, letters, o.clients, start, end, prefix, ids, o.pipeline);
  const double cpu_used = cpu_seconds(pid) - cpu_before;
  const auto threads_after = thread_cpu_seconds(pid);
  const double load_used = self_cpu_seconds() - load_before;
  const auto groups_after = groups();
  DeliveredFigures f;
  if (groups_after.first > groups_before.first)
    f.jobs_per_group =
        (groups_after.second - groups_before.second) / (groups_after.first - groups_before.first);
  f.accepted = in.accepted;
  f.failed = in.failed;
  f.delivered = counter.in_window();
  f.accepted_per_s = in.per_second();
  f.delivered_per_s = static_cast<double>(f.delivered) / in.seconds;
  f.backlog = static_cast<std::int64_t>(f.accepted) - static_cast<std::int64_t>(f.delivered);
  f.rss_mb = peak_rss_mb(pid);
  if (f.delivered > 0) {
    f.cpu_us_per_delivered = cpu_used * 1e6 / static_cast<double>(f.delivered);
    f.load_cpu_us_per_delivered = load_used * 1e6 / static_cast<double>(f.delivered);
    for (const auto& [name, seconds] : threads_after) {
      const auto before = threads_before.find(name);
      const double used = seconds - (before == threads_before.end() ? 0 : before->second);
      f.thread_us_per_delivered[name] = used * 1e6 / static_cast<double>(f.delivered);
    }
  }
  if (in.failed > 0) std::printf("  (first failure %s)\n", in.first_failure.c_str());
  if (o.drain_seconds > 0) {
    const auto t = SteadyClock::now();
    if (counter.wait_for_total(in.accepted + in.accepted_late,
                               std::chrono::seconds{o.drain_seconds}))
      f.drain_s = std::chrono::duration<double>(SteadyClock::now() - t).count();
  }
  return f;
}

DeliveredFigures sektorbro_delivered(const Options& o, const BenchParties& parties,
                                     const LetterTemplate& letters, std::atomic<std::uint64_t>& ids,
                                     char prefix) {
  SektorbroUnderTest s(o, parties);
  return delivered_in_window(o, s.broker->pid(), s.broker->url("/v1/messages"), s.counter, letters,
                             ids, prefix, [&s] { return commit_groups(*s.broker); });
}

// True if something accepts a TCP connection on 127.0.0.1:port now.
bool accepts_connections(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0;
  ::close(fd);
  return connected;
}

// The relay bound (relay_bound.cpp) next to this program, relaying to a counting receiver.
DeliveredFigures relay_delivered(const Options& o, const LetterTemplate& letters,
                                 std::atomic<std::uint64_t>& ids, char prefix) {
  testing::TempDir dir;
  DeliveryCounter counter;
  CountingReceiver receiver{[&counter] { counter.arrived(); }};
  const std::string program =
      (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "sektorbro-relay-bound")
          .string();
  const unsigned short port = free_loopback_port();
  std::string error;
  auto relay =
      ChildProcess::start({program, "--port", std::to_string(port), "--to", receiver.url()}, {},
                          dir.path(), dir.path() + "/relay.log", error);
  if (!relay) fail("the relay bound did not start: " + error);
  // Ready when it accepts a connection (bounded: 10 s).
  const auto give_up = SteadyClock::now() + std::chrono::seconds{10};
  for (;;) {
    if (accepts_connections(port)) break;
    if (!relay->running() || SteadyClock::now() > give_up)
      fail("the relay bound did not listen on port " + std::to_string(port) + " (see its log)");
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1/messages";
  return delivered_in_window(o, relay->pid(), url, counter, letters, ids, prefix, [] {
    return std::pair<double, double>{0, 0};
  });
}

LatencyResult sektorbro_latency(const Options& o, const BenchParties& parties,
                                const LetterTemplate& letters, std::atomic<std::uint64_t>& ids,
                                char prefix) {
  SektorbroUnderTest s(o, parties);
  LatencyResult r = lean_post_at_rate(s.broker->url("/v1/messages"), letters, o.latency_clients,
                                      o.rate, o.latency_seconds, prefix, ids);
  if (r.failed > 0) std::printf("  (Sektorbro: first failure %s)\n", r.first_failure.c_str());
  return r;
}

struct RabbitFigures {
  double publish_consume_per_s = 0, confirm_per_s = 0;
  std::uint64_t consumed = 0, published = 0, nacked = 0;
  double cpu_us_per_consumed = 0;       // the node's CPU in the window / messages consumed in it
  double load_cpu_us_per_consumed = 0;  // this process's (publisher, consumer) likewise
};

RabbitFigures rabbit_publish_consume(const Options& o, pid_t node_pid, unsigned short port,
                                     const std::string& body, const std::string& queue) {
  std::string error;
  auto admin = AmqpConnection::open(port, error);
  if (!admin || !admin->declare_quorum_queue(queue, error)) fail("RabbitMQ: " + error);
  const auto start = SteadyClock::now() + std::chrono::milliseconds{300};
  const auto end = start + std::chrono::seconds{o.seconds};
  RabbitConsumer consumer(port, queue, o.prefetch, start, end);
  if (!consumer.wait_subscribed(error)) fail("RabbitMQ consumer: " + error);
  std::this_thread::sleep_until(start);  // the publisher starts at `start` too
  const double cpu_before = cpu_seconds(node_pid);
  const double load_before = self_cpu_seconds();
  const RabbitPublishResult pub = publish_with_window(port, queue, body, o.window, start, end);
  const double cpu_used = cpu_seconds(node_pid) - cpu_before;
  const double load_used = self_cpu_seconds() - load_before;
  consumer.stop();
  if (!pub.error.empty()) fail("RabbitMQ publisher: " + pub.error);
  if (!consumer.error().empty()) fail("RabbitMQ consumer: " + consumer.error());
  if (!admin->delete_queue(queue, error)) fail("RabbitMQ: " + error);
  RabbitFigures f;
  f.consumed = consumer.consumed_in_window();
  f.published = pub.published;
  f.nacked = pub.nacked;
  f.publish_consume_per_s = static_cast<double>(f.consumed) / pub.seconds;
  f.confirm_per_s = static_cast<double>(pub.confirmed_in_window) / pub.seconds;
  if (f.consumed > 0) {
    f.cpu_us_per_consumed = cpu_used * 1e6 / static_cast<double>(f.consumed);
    f.load_cpu_us_per_consumed = load_used * 1e6 / static_cast<double>(f.consumed);
  }
  return f;
}

RabbitLatencyResult rabbit_latency(const Options& o, unsigned short port, const std::string& body,
                                   const std::string& queue) {
  std::string error;
  auto admin = AmqpConnection::open(port, error);
  if (!admin || !admin->declare_quorum_queue(queue, error)) fail("RabbitMQ: " + error);
  RabbitConsumer consumer(port, queue, o.prefetch, SteadyClock::now(),
                          SteadyClock::time_point::max());
  if (!consumer.wait_subscribed(error)) fail("RabbitMQ consumer: " + error);
  RabbitLatencyResult r = publish_at_rate(port, queue, body, o.rate, o.latency_seconds);
  consumer.stop();
  if (!r.error.empty()) fail("RabbitMQ publisher: " + r.error);
  if (!admin->delete_queue(queue, error)) fail("RabbitMQ: " + error);
  return r;
}

}  // namespace
}  // namespace sektorbro::bench

int main(int argc, char** argv) {
  using namespace sektorbro::bench;
  namespace testing = sektorbro::testing;
  const Options o = parse(argc, argv);
  install_child_cleanup();
  struct stat st {};
  if (o.rabbitmq && ::stat(o.rabbitmq_server.c_str(), &st) != 0)
    fail(o.rabbitmq_server + " not found: run bench/sidebyside.sh (it installs rabbitmq-server)");
  if (o.sektorbro && ::stat(o.broker.c_str(), &st) != 0) fail(o.broker + " not found");

  const BenchParties parties;
  const LetterTemplate letters(parties);
  const std::string body = letters.with_id('M', 0);  // RabbitMQ's payload: the same 4 KB XML
  std::atomic<std::uint64_t> ids{0};

  testing::TempDir scratch;
  std::unique_ptr<RabbitNode> node;
  if (o.rabbitmq) {
    RabbitNodeOptions ro;
    ro.server = o.rabbitmq_server;
    ro.dir = scratch.path();
    std::string error;
    const auto t = SteadyClock::now();
    node = RabbitNode::start(ro, error);
    if (!node) fail(error);
    std::printf("RabbitMQ node %s (pid %d) on 127.0.0.1:%u, ready in %.1f s\n",
                node->node_name().c_str(), node->pid(), node->amqp_port(),
                std::chrono::duration<double>(SteadyClock::now() - t).count());
  }
  std::printf(
      "message %zu bytes; %d rounds of %d s windows; Sektorbro %d clients, %d letters in flight "
      "on each (latency: %d clients); RabbitMQ window %d unconfirmed, prefetch %d; p99 at %d "
      "msg/s for %d s\n",
      letters.size(), o.rounds, o.seconds, o.clients, o.pipeline, o.latency_clients, o.window,
      o.prefetch, o.rate, o.latency_seconds);
  std::fflush(stdout);

  std::vector<double> s_acc, s_del, s_backlog, s_p99, r_pc, r_conf, r_p99, ratio_rate, ratio_p99;
  std::vector<double> s_cpu, r_cpu;    // CPU µs per delivered / consumed message
  std::vector<double> s_load, r_load;  // the load's (this process's) CPU µs likewise
  std::vector<double> b_del, b_cpu, b_load, ratio_bound;  // the relay bound, with --relay-bound
  for (int round = 1; round <= o.rounds; ++round) {
    const std::string q = "sektorbro-bench-" + std::to_string(round);
    std::optional<DeliveredFigures> sd;
    std::optional<RabbitFigures> rp;
    std::optional<LatencyResult> sl;
    std::optional<RabbitLatencyResult> rl;
    std::optional<DeliveredFigures> bd;
    if (o.sektorbro) sd = sektorbro_delivered(o, parties, letters, ids, 'D');
    if (o.relay_bound) bd = relay_delivered(o, letters, ids, 'B');
    if (o.rabbitmq)
      rp = rabbit_publish_consume(o, node->pid(), node->amqp_port(), body, q + "-rate");
    if (o.sektorbro) sl = sektorbro_latency(o, parties, letters, ids, 'L');
    if (o.rabbitmq) rl = rabbit_latency(o, node->amqp_port(), body, q + "-latency");

    std::printf("round %d:\n", round);
    if (sd) {
      std::printf(
          "  Sektorbro  accepted %.0f msg/s, delivered %.0f msg/s, backlog at end %lld "
          "(accepted %llu, delivered %llu, failed %llu), broker peak RSS %.0f MB, broker CPU "
          "%.0f us per delivered letter (load %.0f us)",
          sd->accepted_per_s, sd->delivered_per_s, static_cast<long long>(sd->backlog),
          static_cast<unsigned long long>(sd->accepted),
          static_cast<unsigned long long>(sd->delivered),
          static_cast<unsigned long long>(sd->failed), sd->rss_mb, sd->cpu_us_per_delivered,
          sd->load_cpu_us_per_delivered);
      if (o.drain_seconds > 0) {
        if (sd->drain_s)
          std::printf(", drained in %.1f s", *sd->drain_s);
        else
          std::printf(", NOT drained within %d s", o.drain_seconds);
      }
      std::printf("\n             broker CPU by thread, us per delivered letter:");
      for (const auto& [name, us] : sd->thread_us_per_delivered)
        if (us >= 0.5) std::printf(" %s %.0f", name.c_str(), us);
      if (sd->jobs_per_group > 0) std::printf("; %.1f writer jobs per commit", sd->jobs_per_group);
      std::printf("\n");
      s_acc.push_back(sd->accepted_per_s);
      s_del.push_back(sd->delivered_per_s);
      s_backlog.push_back(static_cast<double>(sd->backlog));
      s_cpu.push_back(sd->cpu_us_per_delivered);
      s_load.push_back(sd->load_cpu_us_per_delivered);
    }
    if (bd) {
      std::printf(
          "  relay bound delivered %.0f msg/s, backlog at end %lld, CPU %.0f us per delivered "
          "letter (load %.0f us); by thread:",
          bd->delivered_per_s, static_cast<long long>(bd->backlog), bd->cpu_us_per_delivered,
          bd->load_cpu_us_per_delivered);
      for (const auto& [name, us] : bd->thread_us_per_delivered)
        if (us >= 0.5) std::printf(" %s %.0f", name.c_str(), us);
      std::printf("\n");
      b_del.push_back(bd->delivered_per_s);
      b_cpu.push_back(bd->cpu_us_per_delivered);
      b_load.push_back(bd->load_cpu_us_per_delivered);
    }
    if (rp) {
      std::printf(
          "  RabbitMQ   publish+consume %.0f msg/s, publish-confirm %.0f msg/s (published %llu, "
          "nacked %llu), node CPU %.0f us per consumed message (load %.0f us)\n",
          rp->publish_consume_per_s, rp->confirm_per_s,
          static_cast<unsigned long long>(rp->published),
          static_cast<unsigned long long>(rp->nacked), rp->cpu_us_per_consumed,
          rp->load_cpu_us_per_consumed);
      r_cpu.push_back(rp->cpu_us_per_consumed);
      r_load.push_back(rp->load_cpu_us_per_consumed);
      r_pc.push_back(rp->publish_consume_per_s);
      r_conf.push_back(rp->confirm_per_s);
    }
    if (sl) {
      std::printf(
          "  Sektorbro  at %d msg/s offered (%.0f achieved): p50 %.2f ms, p99 %.2f ms, failed "
          "%llu\n",
          o.rate, sl->achieved_per_second, percentile_sorted(sl->ms, 0.50),
          percentile_sorted(sl->ms, 0.99), static_cast<unsigned long long>(sl->failed));
      s_p99.push_back(percentile_sorted(sl->ms, 0.99));
    }
    if (rl) {
      std::printf(
          "  RabbitMQ   at %d msg/s offered (%.0f achieved): p50 %.2f ms, p99 %.2f ms, "
          "unconfirmed %llu\n",
          o.rate, rl->achieved_per_second, percentile_sorted(rl->ms, 0.50),
          percentile_sorted(rl->ms, 0.99), static_cast<unsigned long long>(rl->unconfirmed));
      r_p99.push_back(percentile_sorted(rl->ms, 0.99));
    }
    if (sd && rp && rp->publish_consume_per_s > 0) {
      ratio_rate.push_back(sd->delivered_per_s / rp->publish_consume_per_s);
      std::printf("  ratio      delivered / publish+consume %.2f", ratio_rate.back());
      if (sl && rl && !r_p99.empty() && r_p99.back() > 0) {
        ratio_p99.push_back(s_p99.back() / r_p99.back());
        std::printf(", p99 Sektorbro / RabbitMQ %.2f", ratio_p99.back());
      }
      std::printf("\n");
    }
    if (bd && rp && rp->publish_consume_per_s > 0) {
      ratio_bound.push_back(bd->delivered_per_s / rp->publish_consume_per_s);
      std::printf("  ratio      relay bound delivered / publish+consume %.2f\n",
                  ratio_bound.back());
    }
    std::fflush(stdout);
  }

  std::printf("median of %d rounds:\n", o.rounds);
  if (o.sektorbro)
    std::printf(
        "  Sektorbro  accepted %.0f msg/s, delivered %.0f msg/s, backlog at end %.0f; p99 at %d "
        "msg/s %.2f ms; CPU %.0f us per delivered letter (load %.0f us)\n",
        median(s_acc), median(s_del), median(s_backlog), o.rate, median(s_p99), median(s_cpu),
        median(s_load));
  if (o.rabbitmq)
    std::printf(
        "  RabbitMQ   publish+consume %.0f msg/s, publish-confirm %.0f msg/s; p99 at %d msg/s "
        "%.2f ms; node CPU %.0f us per consumed message (load %.0f us)\n",
        median(r_pc), median(r_conf), o.rate, median(r_p99), median(r_cpu), median(r_load));
  if (o.relay_bound)
    std::printf(
        "  relay bound delivered %.0f msg/s; CPU %.0f us per delivered letter (load %.0f us)\n",
        median(b_del), median(b_cpu), median(b_load));
  if (o.relay_bound && o.rabbitmq)
    std::printf(
        "  ratio      relay bound delivered / RabbitMQ publish+consume: %.2f (median of "
        "per-round ratios %.2f): the ceiling of two HTTP hops per letter here\n",
        median(r_pc) > 0 ? median(b_del) / median(r_pc) : 0.0, median(ratio_bound));
  if (o.sektorbro && o.rabbitmq) {
    std::printf(
        "  ratio      Sektorbro delivered / RabbitMQ publish+consume: %.2f (median of per-round "
        "ratios %.2f; target >= 1.0)\n",
        median(r_pc) > 0 ? median(s_del) / median(r_pc) : 0.0, median(ratio_rate));
    std::printf(
        "  ratio      p99 Sektorbro / p99 RabbitMQ at %d msg/s: %.2f (median of per-round ratios "
        "%.2f; target <= 1.0)\n",
        o.rate, median(r_p99) > 0 ? median(s_p99) / median(r_p99) : 0.0, median(ratio_p99));
    // Both share the same cores with their load, so at full speed the rate ratio follows the
    // ratio of CPU per message, load included (docs/performance.md, "What the rate ratio is
    // made of"): the budget a letter has for 1.0x.
    std::printf(
        "  budget     CPU per letter for 1.0x: <= %.0f us (RabbitMQ node + load); "
        "Sektorbro + load %.0f us now",
        median(r_cpu) + median(r_load), median(s_cpu) + median(s_load));
    if (o.relay_bound)
      std::printf(", of which the two HTTP hops + load (relay bound) %.0f us",
                  median(b_cpu) + median(b_load));
    std::printf("\n");
  }
  std::fflush(stdout);
  if (node) node->stop();
  return 0;
}
