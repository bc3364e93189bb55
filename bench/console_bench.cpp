// sektorbro-console-bench: the operators' pages on a big store (issue 10, "How it must show":
// the overdue page and the message search with 10 million stored messages).
//
//   sektorbro-console-bench --store FILE [--deadlines N] [--requests 50] [--broker PATH]
//
// 1. Opens FILE through the store's own code (SqliteStore::open: migrations run and are timed),
//    and tops up the open certificate deadlines to N through Store::put_deadline (on the newest
//    N messages, due dates spread over a year from ten days ago, as scale_loader.hpp does:
//    about 2.7 % overdue). The messages themselves come from sektorbro-scale-bench
//    (--store-dir keeps its store: DIR/scale.db).
// 2. Starts the real broker on it, waits for its start-up count of the store-counted gauges
//    (the first /metrics, timed), and times each page `requests` times, one after another:
//    median, p99, max, and what the page held. Not a test: it asserts nothing.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bench/bench_stats.hpp"
#include "bench/child_process.hpp"
#include "bench/sektorbro_load.hpp"
#include "broker/core/clock.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/store/sqlite_store.hpp"
#include "tests/harness/broker_process.hpp"
#include "tests/harness/http_client.hpp"

namespace sektorbro::bench {
namespace {

namespace fs = std::filesystem;
using std::chrono::days;
constexpr const char* kToken = "sektorbro-console-bench-token";

struct Options {
  std::string store;
  std::uint64_t deadlines = 0;
  int requests = 50;
  std::string broker = testing::BrokerProcess::default_binary();
};

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "console-bench: " << what << "\n";
  std::exit(1);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i], value = argv[i + 1];
    if (arg == "--store")
      o.store = value;
    else if (arg == "--deadlines")
      o.deadlines = std::stoull(value);
    else if (arg == "--requests")
      o.requests = std::stoi(value);
    else if (arg == "--broker")
      o.broker = value;
    else
      fail("unknown option " + arg);
  }
  if (o.store.empty() || argc % 2 == 0)
    fail(
        "usage: sektorbro-console-bench --store FILE [--deadlines N] [--requests N] [--broker "
        "PATH]");
  return o;
}

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

// Opens the store (migrations), tops up the open deadlines, and returns what the pages search
// for: the newest message, one in the middle of the history.
struct StoreFacts {
  std::int64_t newest = 0;
  MessageRecord middle;
  std::int64_t open_deadlines = 0;
};

StoreFacts prepare(const Options& o, const BenchParties& parties) {
  const auto t = SteadyClock::now();
  SqliteTuning tuning;
  tuning.cache_kib = 512 * 1024;  // for the deadlines' top-up; the broker opens it with defaults
  auto opened = SqliteStore::open(o.store, tuning);
  if (!opened) fail(opened.error().detail);
  Store& store = **opened;
  std::printf("opened %s (migrations included) in %.1f s\n", o.store.c_str(), seconds_since(t));
  std::fflush(stdout);
  StoreFacts facts;
  MessageFilter newest;
  newest.newest_first = true;
  newest.limit = 1;
  auto top = store.list_messages(newest);
  if (!top) fail("listing the newest message: " + top.error().detail);
  if (top->empty()) fail("the store holds no messages (fill it with sektorbro-scale-bench)");
  facts.newest = top->front().id;
  auto middle = store.get_message(facts.newest / 2);
  if (!middle || !*middle) fail("no message in the middle of the store");
  facts.middle = **middle;
  const TimePoint now = SystemClock{}.now();
  auto counts = store.operator_counts(now);
  if (!counts) fail(counts.error().detail);
  for (const auto& c : counts->deadlines) facts.open_deadlines += c.open;
  const auto wanted = static_cast<std::int64_t>(o.deadlines);
  if (facts.open_deadlines < wanted) {
    // Deadline k (0-based) is owed for the request H<k>, the loader's letter id of message k + 1,
    // as long as there are messages; beyond the newest message (a store smaller than the
    // deadlines asked for) it is keyed by a letter id of its own, D<k>, that names no message.
    const auto t2 = SteadyClock::now();
    const auto year = std::chrono::duration_cast<Duration>(days(365));
    const TimePoint deadline_start = now - days(10);
    const std::int64_t total = wanted;
    for (std::int64_t k = facts.open_deadlines; k < wanted;) {
      if (auto r = store.begin_batch(); !r) fail(r.error().detail);
      for (int n = 0; n < 20000 && k < wanted; ++n, ++k) {
        Deadline d;
        d.kind = DeadlineKind::kCertificate;
        char letter_id[32];
        std::snprintf(letter_id, sizeof letter_id, "%c%013lld", k < facts.newest ? 'H' : 'D',
                      static_cast<long long>(k));
        d.key = DeadlineKey{parties.jobcenter.gln, letter_id};
        d.owed_by = "psy";
        d.owed_to = "jc";
        d.form = "LÆ125";
        d.due_end = deadline_start + year * k / total;
        d.opened_at = d.due_end - days(14);
        d.due = std::chrono::year_month_day{std::chrono::floor<days>(d.due_end)};
        d.overdue = d.due_end < now;
        if (!d.overdue) d.next_action_at = std::max(d.due_end - days(3), now + days(1));
        if (auto r =
                store.put_deadline(d, std::min<std::int64_t>(k + 1, facts.newest), MessageEvent{});
            !r)
          fail(r.error().detail);
      }
      if (auto r = store.commit_batch(); !r) fail(r.error().detail);
    }
    std::printf("added open deadlines %lld..%lld in %.1f s\n",
                static_cast<long long>(facts.open_deadlines), static_cast<long long>(wanted - 1),
                seconds_since(t2));
    counts = store.operator_counts(now);
    if (!counts) fail(counts.error().detail);
    facts.open_deadlines = 0;
    for (const auto& c : counts->deadlines) facts.open_deadlines += c.open;
  }
  // What a scrape cost when it counted in the store (before OperatorCountsCache): one count.
  const auto t3 = SteadyClock::now();
  if (auto again = store.operator_counts(now); !again) fail(again.error().detail);
  std::printf(
      "one count of the store's gauges (Store::operator_counts, now off the io thread): "
      "%.1f ms\n",
      seconds_since(t3) * 1000);
  return facts;
}

struct Timing {
  std::vector<double> ms;
  int status = 0;
  std::size_t items = 0;
};

Timing time_page(testing::BrokerProcess& broker, const std::string& method, const std::string& path,
                 const std::string& body, int requests) {
  testing::HttpClient client;
  client.set_headers({std::string("Authorization: Bearer ") + kToken});
  Timing t;
  for (int i = 0; i < requests; ++i) {
    const auto start = SteadyClock::now();
    const auto r = method == "POST" ? client.post(broker.url(path), body, "application/json",
                                                  std::chrono::seconds{60})
                                    : client.get(broker.url(path), std::chrono::seconds{60});
    t.ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
    t.status = r.status;
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object())
      for (const char* key : {"deadlines", "messages"})
        if (j.contains(key)) t.items = j[key].size();
  }
  std::sort(t.ms.begin(), t.ms.end());
  return t;
}

}  // namespace
}  // namespace sektorbro::bench

int main(int argc, char** argv) {
  using namespace sektorbro;
  using namespace sektorbro::bench;
  const Options o = parse(argc, argv);
  install_child_cleanup();
  const BenchParties parties;
  const StoreFacts facts = prepare(o, parties);
  std::printf("store: %lld messages (newest id), %lld open deadlines\n",
              static_cast<long long>(facts.newest), static_cast<long long>(facts.open_deadlines));
  std::fflush(stdout);

  testing::TempDir dir;
  const std::string key = dir.path() + "/cpr-index.key";
  std::ofstream(key) << "console-bench-key-0123456789abcdef";
  const nlohmann::json extra = {
      {"operators",
       {{{"name", "bench"}, {"role", "acting"}, {"token_sha256", sha256_hex(kToken)}}}},
      {"privacy", {{"cpr_index_key_file", key}}}};
  std::string error;
  const auto t = SteadyClock::now();
  auto broker = testing::BrokerProcess::start(
      o.broker, dir.path(),
      bench_config(parties, fs::absolute(o.store).string(), "http://127.0.0.1:9/", extra).dump(),
      error, std::chrono::seconds{600});
  if (!broker) fail("the broker did not start: " + error);
  watch_pid(broker->pid());
  std::printf("broker ready on the store in %.2f s\n", seconds_since(t));
  // The broker counts the store-counted gauges once at start-up (OperatorCountsCache, ~0.5 s at
  // a million open deadlines); the first /metrics waits for that count. Waiting for it here
  // times the pages on a settled broker; the wait itself is printed.
  {
    testing::HttpClient client;
    client.set_headers({std::string("Authorization: Bearer ") + kToken});
    const auto t0 = SteadyClock::now();
    const auto first = client.get(broker->url("/metrics"), std::chrono::seconds{120});
    std::printf("first /metrics (waits for the start-up count): HTTP %d after %.0f ms\n",
                first.status, seconds_since(t0) * 1000);
  }

  const TimePoint mid = facts.middle.received_at;
  const std::string day_from = format_timestamp(mid - std::chrono::hours{12});
  const std::string day_to = format_timestamp(mid + std::chrono::hours{12});
  const std::vector<std::tuple<std::string, std::string, std::string, std::string>> pages = {
      {"overdue page", "GET", "/v1/deadlines?view=overdue", ""},
      {"overdue page, last of 10 (offset 900)", "GET", "/v1/deadlines?view=overdue&offset=900", ""},
      {"due soon", "GET", "/v1/deadlines?view=due-soon&within_days=7", ""},
      {"every deadline, first page (view=all)", "GET", "/v1/deadlines?view=all", ""},
      {"every deadline, page 10 (view=all, offset 450)", "GET", "/v1/deadlines?view=all&offset=450",
       ""},
      {"every deadline owed by psy (view=all)", "GET", "/v1/deadlines?view=all&endpoint=psy", ""},
      {"answered late", "GET", "/v1/deadlines?view=answered-late", ""},
      {"statistics: certificates, last 12 months", "GET", "/v1/stats/certificates", ""},
      {"statistics: mentor responses, last 12 months", "GET", "/v1/stats/mentor-responses", ""},
      {"messages, newest page", "GET", "/v1/messages?limit=50", ""},
      {"messages, oldest page (after=0)", "GET", "/v1/messages?limit=50&after=0", ""},
      {"overview: open replies (count page of 1000)", "GET", "/v1/deadlines?view=open&limit=1000",
       ""},
      {"overview: overdue (count page of 1000)", "GET", "/v1/deadlines?view=overdue&limit=1000",
       ""},
      {"overview: dead letters (count page)", "GET", "/v1/dead-letters?after=0&limit=1000", ""},
      {"overview: waiting (count page)", "GET", "/v1/messages?state=pending&after=0&limit=1000",
       ""},
      {"overview: receipts missing", "GET", "/v1/messages?receipt=missing&after=0&limit=200", ""},
      {"overview: due soon (count page of 1000)", "GET", "/v1/deadlines?view=due-soon&limit=1000",
       ""},
      {"overview now: /v1/counts (the last count)", "GET", "/v1/counts", ""},
      {"overview: /v1/health", "GET", "/v1/health", ""},
      {"overview: /v1/store (audit chain head)", "GET", "/v1/store", ""},
      {"search: envelope id", "GET", "/v1/messages?envelope=" + facts.middle.envelope_id, ""},
      {"search: one day received (mid-history)", "GET",
       "/v1/messages?limit=50&from=" + day_from + "&to=" + day_to, ""},
      {"search: one day, delivered, oldest first", "GET",
       "/v1/messages?limit=50&state=delivered&after=0&from=" + day_from + "&to=" + day_to, ""},
      {"search: receipt missing", "GET", "/v1/messages?receipt=missing&limit=50", ""},
      {"search: by CPR (acting, audited)", "POST", "/v1/messages/search-by-cpr",
       R"({"cpr": "0101801234"})"},
      {"one message", "GET",
       "/v1/messages/" + facts.middle.sender_gln + "/" + facts.middle.letters.front().letter_id,
       ""},
      {"/metrics (served from the last count)", "GET", "/metrics", ""},
  };
  std::printf("%-42s %6s %6s %9s %9s %9s\n", "page", "HTTP", "items", "median", "p99", "max");
  for (const auto& [name, method, path, body] : pages) {
    const Timing t2 = time_page(*broker, method, path, body, o.requests);
    std::printf("%-42s %6d %6zu %7.2fms %7.2fms %7.2fms\n", name.c_str(), t2.status, t2.items,
                median(t2.ms), percentile_sorted(t2.ms, 0.99), t2.ms.back());
    std::fflush(stdout);
  }
  // What the other requests wait while an operator's statistics are counted: /v1/health, one
  // after another, while a second client asks for the certificate statistics `requests` times.
  {
    std::atomic<bool> reporting{true};
    std::thread reports([&] {
      (void)time_page(*broker, "GET", "/v1/stats/certificates", "", o.requests);
      reporting = false;
    });
    testing::HttpClient client;
    client.set_headers({std::string("Authorization: Bearer ") + kToken});
    std::vector<double> ms;
    while (reporting) {
      const auto start = SteadyClock::now();
      (void)client.get(broker->url("/v1/health"), std::chrono::seconds{60});
      ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
    }
    reports.join();
    std::sort(ms.begin(), ms.end());
    if (!ms.empty())
      std::printf(
          "/v1/health while statistics are counted: %zu requests, median %.2f ms, p99 %.2f "
          "ms, max %.2f ms\n",
          ms.size(), median(ms), percentile_sorted(ms, 0.99), ms.back());
  }
  // The store's fsyncs during the run (sektorbro_fsync_seconds: each SQLite xSync on the writer
  // connection, timed in its VFS): the audited CPR searches and the broker's own writes.
  {
    testing::HttpClient client;
    client.set_headers({std::string("Authorization: Bearer ") + kToken});
    const auto page = client.get(broker->url("/metrics"), std::chrono::seconds{60});
    double count = 0, sum = 0;
    std::istringstream lines(page.body);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("sektorbro_fsync_seconds_count ")) count = std::stod(line.substr(30));
      if (line.starts_with("sektorbro_fsync_seconds_sum ")) sum = std::stod(line.substr(28));
    }
    std::printf("fsyncs during the run (sektorbro_fsync_seconds): %.0f, mean %.3f ms\n", count,
                count > 0 ? sum / count * 1000 : 0.0);
  }
  unwatch_pid(broker->pid());
  broker->terminate();
  return 0;
}
