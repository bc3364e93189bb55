// sektorbro-scale-bench: the broker on a big store (issue 8, "How it must show": 10 million
// messages and 1 million open deadlines; receive rate ≥ 80 % of the empty-store rate, restart to
// ready < 3 s, the overdue page < 10 ms, broker RSS < 256 MB).
//
//   sektorbro-scale-bench [--messages 1000000] [--deadlines 1000000] [--store-dir DIR]
//       [--rounds 3] [--seconds 10] [--clients 16] [--restarts 3] [--page-requests 50]
//       [--broker PATH]
//
// 1. Fills a store with `messages` delivered, receipted CertificateRequests and `deadlines` open
//    deadlines through the store's own code (scale_loader.hpp). With --store-dir the store is
//    kept there and reused by the next run if it holds the same counts; otherwise it lives in a
//    temporary directory. 10 million messages take about 5 KB each on disk (~50 GB), so the
//    count is an option: the figures printed say which count was used. A load stopped by a
//    signal or --load-seconds goes on where it stopped with --resume (same --messages).
// 2. Restart to ready: the real broker binary started on the full store, from spawn until it
//    says it listens (after resuming deliveries and rebuilding the receipt watch), median of
//    `restarts`; the same on an empty store for comparison.
// 3. Receive rate: `clients` keep-alive clients posting 4 KB CertificateRequests for `seconds`
//    (delivery running, the receiver answering 200 at once), on an empty store and on the full
//    store, alternately, `rounds` times; the ratio full / empty.
// 4. The operators' overdue page, GET /v1/deadlines?view=overdue (first page), on the full
//    store: `page-requests` requests one after another; median, p99, max.
// 5. The broker's RSS on the full store after the receive run (VmRSS) and its peak (VmHWM).
// Shipped default settings throughout. Not a test: it asserts nothing and never runs in ctest.
#include <sqlite3.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/bench_stats.hpp"
#include "bench/child_process.hpp"
#include "bench/scale_loader.hpp"
#include "bench/sektorbro_load.hpp"
#include "broker/core/clock.hpp"
#include "broker/core/identifiers.hpp"
#include "tests/harness/broker_process.hpp"
#include "tests/harness/http_client.hpp"
#include "tests/support/http_receiver.hpp"

namespace sektorbro::bench {
namespace {

namespace fs = std::filesystem;
constexpr const char* kToken = "sektorbro-scale-bench-token";

struct Options {
  std::uint64_t messages = 1'000'000;
  std::uint64_t deadlines = 1'000'000;
  std::string store_dir;
  int rounds = 3;
  int seconds = 10;
  int clients = 16;
  int restarts = 3;
  int page_requests = 50;
  // The load (scale_loader.hpp): messages per transaction, letter size, SQLite's knobs while
  // loading; --load-only stops after the load.
  int load_batch = 50'000;
  std::size_t body_bytes = 0;
  int load_cache_mib = 512;
  int load_checkpoint_pages = 100'000;
  bool load_only = false;
  int load_seconds = 0;  // 0: no time box
  bool reuse = false;    // take the store in --store-dir as it is, whatever it holds
  bool resume = false;   // go on with a load that was stopped (a signal, --load-seconds)
  std::string broker = testing::BrokerProcess::default_binary();
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "scale-bench: " << why
            << "\nusage: sektorbro-scale-bench [--messages N] [--deadlines N] [--store-dir DIR] "
               "[--rounds N] [--seconds S] [--clients C] [--restarts N] [--page-requests N] "
               "[--load-batch N] [--body-bytes B] [--load-cache-mib M] [--load-checkpoint-pages P] "
               "[--load-seconds S] [--load-only] [--reuse] [--resume] [--broker PATH]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--load-only" || arg == "--reuse" || arg == "--resume") {
      (arg == "--reuse" ? o.reuse : arg == "--resume" ? o.resume : o.load_only) = true;
      continue;
    }
    if (i + 1 >= argc) usage("missing value after " + arg);
    const std::string value = argv[++i];
    auto number = [&](long long min, long long max) {
      char* end = nullptr;
      const long long v = std::strtoll(value.c_str(), &end, 10);
      if (*end != '\0' || v < min || v > max) usage("bad value for " + arg + ": " + value);
      return v;
    };
    if (arg == "--messages")
      o.messages = static_cast<std::uint64_t>(number(1, 100'000'000));
    else if (arg == "--deadlines")
      o.deadlines = static_cast<std::uint64_t>(number(0, 100'000'000));
    else if (arg == "--store-dir")
      o.store_dir = value;
    else if (arg == "--rounds")
      o.rounds = static_cast<int>(number(1, 100));
    else if (arg == "--seconds")
      o.seconds = static_cast<int>(number(1, 3600));
    else if (arg == "--clients")
      o.clients = static_cast<int>(number(1, 64));
    else if (arg == "--restarts")
      o.restarts = static_cast<int>(number(1, 100));
    else if (arg == "--page-requests")
      o.page_requests = static_cast<int>(number(1, 100'000));
    else if (arg == "--load-seconds")
      o.load_seconds = static_cast<int>(number(1, 86'400));
    else if (arg == "--load-batch")
      o.load_batch = static_cast<int>(number(1, 1'000'000));
    else if (arg == "--body-bytes")
      o.body_bytes = static_cast<std::size_t>(number(0, 1'000'000));
    else if (arg == "--load-cache-mib")
      o.load_cache_mib = static_cast<int>(number(2, 16'384));
    else if (arg == "--load-checkpoint-pages")
      o.load_checkpoint_pages = static_cast<int>(number(0, 10'000'000));
    else if (arg == "--broker")
      o.broker = value;
    else
      usage("unknown option " + arg);
  }
  if (o.deadlines > o.messages) usage("--deadlines must not exceed --messages");
  return o;
}

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "scale-bench: " << what << "\n";
  std::exit(1);  // atexit: any broker still running is stopped by pid
}

double mb_of_status(pid_t pid, const char* key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(std::strlen(key))) / 1024;
  return 0;
}

// Where a stopped load left off: message i (0-based) has id i + 1 and was received at
// history_start + year * i / messages (scale_loader.cpp), so the first one gives back the
// `now` the load ran with. Refuses a store that is not such a prefix.
struct Resumed {
  std::uint64_t first = 0;
  TimePoint now{};
};
Resumed resume_point(const fs::path& db, std::uint64_t messages) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    fail("--resume: cannot open " + db.string());
  }
  sqlite3_stmt* stmt = nullptr;
  const char* sql =
      "SELECT count(*), coalesce(max(id), 0), "
      "(SELECT received_at FROM messages WHERE id = 1) FROM messages";
  Resumed r;
  bool ok = sqlite3_prepare_v2(raw, sql, -1, &stmt, nullptr) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW;
  if (ok) {
    const auto count = static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 0));
    ok = count > 0 && count < messages &&
         count == static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 1));
    r.first = count;
    r.now = from_millis(sqlite3_column_int64(stmt, 2)) +
            std::chrono::duration_cast<Duration>(std::chrono::days(365));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  if (!ok) fail("--resume: " + db.string() + " does not hold the start of a stopped load");
  return r;
}

double file_mb(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  return ec ? 0 : static_cast<double>(size) / (1024 * 1024);
}

// The broker on a given store with a receiver that answers 200 at once; stopped by pid.
struct Broker {
  testing::HttpReceiver receiver;
  std::unique_ptr<testing::BrokerProcess> process;
  double start_seconds = 0;

  Broker(const Options& o, const BenchParties& parties, const std::string& dir,
         const std::string& db) {
    const nlohmann::json operators = {
        {"operators",
         {{{"name", "bench"}, {"role", "read-only"}, {"token_sha256", sha256_hex(kToken)}}}}};
    std::string error;
    const auto t = SteadyClock::now();
    process = testing::BrokerProcess::start(
        o.broker, dir, bench_config(parties, db, receiver.url(), operators).dump(), error,
        std::chrono::seconds{300});
    if (!process) fail("the broker did not start: " + error);
    start_seconds = std::chrono::duration<double>(SteadyClock::now() - t).count();
    watch_pid(process->pid());
  }
  ~Broker() {
    unwatch_pid(process->pid());
    process->terminate();
  }
};

}  // namespace
}  // namespace sektorbro::bench

int main(int argc, char** argv) {
  using namespace sektorbro::bench;
  namespace testing = sektorbro::testing;
  const Options o = parse(argc, argv);
  install_child_cleanup();
  const BenchParties parties;

  // 1. The full store.
  testing::TempDir scratch;
  const fs::path store_dir = o.store_dir.empty() ? fs::path(scratch.path()) : fs::path(o.store_dir);
  fs::create_directories(store_dir);
  const fs::path db = fs::absolute(store_dir / "scale.db");
  const fs::path marker = store_dir / "scale.json";
  const nlohmann::json wanted = {{"messages", o.messages}, {"deadlines", o.deadlines}};
  bool reuse = false;
  nlohmann::json held = wanted;  // what the store holds
  if (fs::exists(db) && fs::exists(marker)) {
    std::ifstream in(marker);
    const auto found = nlohmann::json::parse(in, nullptr, false);
    reuse = found == wanted || (o.reuse && found.is_object());
    if (reuse) held = found;
  }
  if (o.reuse && !reuse) usage("--reuse: no loaded store in --store-dir");
  if (o.resume && (reuse || !fs::exists(db))) usage("--resume: no stopped load in --store-dir");
  if (!reuse) {
    HistorySpec spec;
    spec.messages = o.messages;
    spec.open_deadlines = o.deadlines;
    spec.now = sektorbro::SystemClock{}.now();
    if (o.resume) {
      const Resumed r = resume_point(db, o.messages);
      spec.first = r.first;
      spec.now = r.now;
      std::printf("resuming after %llu messages\n", static_cast<unsigned long long>(r.first));
    } else {
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
    }
    fs::remove(marker);
    spec.batch = o.load_batch;
    spec.body_bytes = o.body_bytes;
    spec.cache_mib = o.load_cache_mib;
    spec.wal_autocheckpoint_pages = o.load_checkpoint_pages;
    if (o.load_seconds > 0)
      spec.stop_at = SteadyClock::now() + std::chrono::seconds{o.load_seconds};
    std::printf("loading %llu messages and %llu open deadlines into %s\n",
                static_cast<unsigned long long>(o.messages),
                static_cast<unsigned long long>(o.deadlines), db.c_str());
    std::fflush(stdout);
    const auto t = SteadyClock::now();
    const std::uint64_t report_every = std::max<std::uint64_t>(o.messages / 50, 1);
    std::uint64_t next_report = report_every;
    auto loaded = load_history(db.string(), parties, spec, [&](std::uint64_t done) {
      if (done < next_report && done != o.messages) return;
      next_report += report_every;
      const double s = std::chrono::duration<double>(SteadyClock::now() - t).count();
      std::printf(
          "  %llu messages in %.0f s (%.0f/s), %.0f MB\n", static_cast<unsigned long long>(done), s,
          static_cast<double>(done - spec.first) / s, file_mb(db) + file_mb(db.string() + "-wal"));
      std::fflush(stdout);
    });
    if (!loaded) fail("loading the store: " + loaded.error().detail);
    const double s = std::chrono::duration<double>(SteadyClock::now() - t).count();
    std::printf("loaded %llu messages in %.0f s (%.0f/s)%s\n",
                static_cast<unsigned long long>(*loaded), s,
                static_cast<double>(*loaded - spec.first) / s,
                *loaded < o.messages ? ", stopped by --load-seconds" : "");
    if (*loaded < o.messages)
      held = {{"messages", *loaded}, {"deadlines", 0}, {"time_boxed", true}};
    std::ofstream(marker) << held.dump() << "\n";
  }
  std::printf("store: %llu messages, %llu open deadlines as loaded, %.0f MB (%s)\n",
              static_cast<unsigned long long>(held.value("messages", 0ull)),
              static_cast<unsigned long long>(held.value("deadlines", 0ull)),
              file_mb(db) + file_mb(db.string() + "-wal"), reuse ? "reused" : "loaded now");
  std::fflush(stdout);
  if (o.load_only) return 0;

  // 2. Restart to ready.
  std::vector<double> full_start, empty_start;
  for (int r = 0; r < o.restarts; ++r) {
    {
      Broker b(o, parties, store_dir.string(), db.string());
      full_start.push_back(b.start_seconds);
    }
    testing::TempDir empty;
    Broker b(o, parties, empty.path(), "empty.db");
    empty_start.push_back(b.start_seconds);
  }
  std::printf(
      "restart to ready: full store %.2f s (median of %d; target < 3 s), empty store %.2f s\n",
      median(full_start), o.restarts, median(empty_start));
  std::fflush(stdout);

  // 3. Receive rate, empty and full alternately; 4. the overdue page; 5. RSS.
  const LetterTemplate letters(parties);
  // Letter ids new to a reused store: a run that started again from 0 re-sent the letters of
  // the last run on it, which the broker answers as duplicates (not 202) — counted as failures,
  // and not the intake being measured. Milliseconds since the epoch fit the 13 digits.
  std::atomic<std::uint64_t> ids{
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count())};
  std::vector<double> empty_rate, full_rate, ratios, page_ms;
  double rss = 0, hwm = 0;
  std::size_t page_items = 0;
  int page_status = 0;
  for (int r = 1; r <= o.rounds; ++r) {
    IntakeResult e, f;
    {
      testing::TempDir empty;
      Broker b(o, parties, empty.path(), "empty.db");
      const auto start = SteadyClock::now() + std::chrono::milliseconds{200};
      e = post_at_full_speed(b.process->url("/v1/messages"), letters, o.clients, start,
                             start + std::chrono::seconds{o.seconds}, 'E', ids);
    }
    {
      Broker b(o, parties, store_dir.string(), db.string());
      const auto start = SteadyClock::now() + std::chrono::milliseconds{200};
      f = post_at_full_speed(b.process->url("/v1/messages"), letters, o.clients, start,
                             start + std::chrono::seconds{o.seconds}, 'F', ids);
      rss = mb_of_status(b.process->pid(), "VmRSS:");
      hwm = mb_of_status(b.process->pid(), "VmHWM:");
      if (r == o.rounds) {
        testing::HttpClient client;
        client.set_headers({std::string("Authorization: Bearer ") + kToken});
        for (int i = 0; i < o.page_requests; ++i) {
          const auto t = SteadyClock::now();
          const auto page =
              client.get(b.process->url("/v1/deadlines?view=overdue"), std::chrono::seconds{30});
          page_ms.push_back(
              std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count());
          page_status = page.status;
          if (page.status == 200) {
            const auto body = nlohmann::json::parse(page.body, nullptr, false);
            if (body.is_object() && body.contains("deadlines"))
              page_items = body["deadlines"].size();
          }
        }
      }
    }
    empty_rate.push_back(e.per_second());
    full_rate.push_back(f.per_second());
    ratios.push_back(e.per_second() > 0 ? f.per_second() / e.per_second() : 0);
    std::printf(
        "round %d: receive rate empty store %.0f msg/s, full store %.0f msg/s (%.0f %%); "
        "failures %llu/%llu; broker RSS on the full store %.0f MB (peak %.0f MB)\n",
        r, e.per_second(), f.per_second(), 100 * ratios.back(),
        static_cast<unsigned long long>(e.failed), static_cast<unsigned long long>(f.failed), rss,
        hwm);
    std::fflush(stdout);
  }
  std::sort(page_ms.begin(), page_ms.end());
  std::printf(
      "overdue page (GET /v1/deadlines?view=overdue, HTTP %d, %zu deadlines on the page): median "
      "%.2f ms, p99 %.2f ms, max %.2f ms over %d requests (target < 10 ms)\n",
      page_status, page_items, median(page_ms), percentile_sorted(page_ms, 0.99),
      page_ms.empty() ? 0.0 : page_ms.back(), o.page_requests);
  std::printf(
      "median of %d rounds with %llu messages / %llu open deadlines: receive rate full store "
      "%.0f msg/s vs empty %.0f msg/s = %.0f %% (target >= 80 %%); restart to ready %.2f s "
      "(target < 3 s); overdue page median %.2f ms (target < 10 ms); broker RSS %.0f MB, peak "
      "%.0f MB (target < 256 MB)\n",
      o.rounds, static_cast<unsigned long long>(held.value("messages", 0ull)),
      static_cast<unsigned long long>(held.value("deadlines", 0ull)), median(full_rate),
      median(empty_rate), 100 * median(ratios), median(full_start), median(page_ms), rss, hwm);
  return 0;
}
