// sektorbro-deadline-bench: how the deadline queries of the SQLite store scale with the number of
// open deadlines (issue 3: "finding what falls due must cost in proportion to what is due, with
// millions of open deadlines").
//
//   sektorbro-deadline-bench [size ...]      (default: 10000 100000 1000000)
//
// For each size, fills a fresh SqliteStore in a temporary directory with that many open
// deadlines (batches of 50 000 in one transaction each): due dates spread evenly over a year
// starting ten days before `now` (so about 2.7 % are overdue), next_action_at scattered over the
// year after `now` except for every 1000th deadline, which is due (0.1 %). Then measures, median
// of 7 runs each:
//  - due:     due_deadlines(now, 1000), the sweep's query; it returns 0.1 % of the size
//  - overdue: list_deadlines({overdue_only, now, limit 100}), the operators' overdue page
// and prints them with the ratio to the first size. Not a test: it asserts nothing and never
// runs in ctest.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "broker/deadlines/deadline.hpp"
#include "broker/store/sqlite_store.hpp"

namespace sektorbro {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::days;

constexpr int kRuns = 7;
constexpr int kBatch = 50'000;
constexpr int kDueEvery = 1000;  // 0.1 % due at `now`
const TimePoint kNow = from_millis(1'790'000'000'000);

// A scratch directory, removed on exit.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sb_deadline_bench_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The i-th of n open certificate deadlines (see the header comment for the distribution).
Deadline make_deadline(int i, int n) {
  const auto year_ms = std::chrono::duration_cast<Duration>(days(365));
  const TimePoint start = kNow - days(10);
  Deadline d;
  d.kind = DeadlineKind::kCertificate;
  d.key = DeadlineKey{"57900000" + std::to_string(10000 + i % 98), "L" + std::to_string(i)};
  d.owed_by = "psyk-" + std::to_string(i % 20);
  d.owed_to = "jc-" + std::to_string(i % 98);
  d.form = i % 3 == 0 ? "LÆ135" : "LÆ125";
  d.due_end = start + year_ms * i / n;
  d.opened_at = d.due_end - days(14);
  d.due = std::chrono::year_month_day{std::chrono::floor<days>(d.due_end)};
  d.overdue = d.due_end < kNow;
  if (i % kDueEvery == 0) {
    d.next_action_at = kNow - std::chrono::minutes(i % 60);
  } else {
    // A permutation of 0..n-1 (7919 is prime and n is a multiple of ten), so the partial index
    // is filled in scattered order, as sweeps and new requests would.
    const std::int64_t slot = (static_cast<std::int64_t>(i) * 7919) % n;
    d.next_action_at = kNow + std::chrono::minutes(1) + year_ms * slot / n;
  }
  return d;
}

double ms_since(Steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
}

template <typename F>
double median_ms(F&& run) {
  std::vector<double> times;
  for (int r = 0; r < kRuns; ++r) {
    const auto t0 = Steady::now();
    run();
    times.push_back(ms_since(t0));
  }
  std::sort(times.begin(), times.end());
  return times[kRuns / 2];
}

struct Figures {
  int size = 0;
  double fill_s = 0;
  std::size_t due_rows = 0;
  double due_ms = 0;
  std::size_t overdue_rows = 0;
  double overdue_ms = 0;
};

[[noreturn]] void die(const std::string& what, const Error& e) {
  std::fprintf(stderr, "deadline-bench: %s: %s\n", what.c_str(), e.detail.c_str());
  std::exit(1);
}

Figures measure(int n) {
  ScratchDir dir;
  auto opened = SqliteStore::open(dir.file("bench.db"));
  if (!opened) die("open", opened.error());
  SqliteStore& store = **opened;

  Figures f;
  f.size = n;
  const auto t0 = Steady::now();
  for (int i = 0; i < n;) {
    if (auto r = store.begin_batch(); !r) die("begin", r.error());
    for (const int end = std::min(n, i + kBatch); i < end; ++i)
      if (auto r = store.put_deadline(make_deadline(i, n), 0, MessageEvent{}); !r)
        die("put", r.error());
    if (auto r = store.commit_batch(); !r) die("commit", r.error());
  }
  f.fill_s = ms_since(t0) / 1000;

  f.due_ms = median_ms([&] {
    auto due = store.due_deadlines(kNow, 1000);
    if (!due) die("due", due.error());
    f.due_rows = due->size();
  });
  DeadlineFilter overdue;
  overdue.overdue_only = true;
  overdue.now = kNow;
  overdue.limit = 100;
  f.overdue_ms = median_ms([&] {
    auto page = store.list_deadlines(overdue);
    if (!page) die("overdue", page.error());
    f.overdue_rows = page->size();
  });
  return f;
}

}  // namespace
}  // namespace sektorbro

int main(int argc, char** argv) {
  using namespace sektorbro;
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) {
    const int n = std::atoi(argv[i]);
    if (n < 10 || n % 10 != 0) {
      std::fprintf(stderr, "usage: %s [size ...]  (sizes: multiples of 10)\n", argv[0]);
      return 2;
    }
    sizes.push_back(n);
  }
  if (sizes.empty()) sizes = {10'000, 100'000, 1'000'000};

  std::printf("SqliteStore deadline queries, median of %d runs (WAL, synchronous=FULL)\n", kRuns);
  std::printf("%10s %8s | %6s %10s %7s %9s | %6s %10s %7s\n", "open", "fill s", "due", "due ms",
              "ratio", "us/row", "overd.", "overd. ms", "ratio");
  std::vector<Figures> all;
  for (const int n : sizes) {
    const Figures f = measure(n);
    all.push_back(f);
    const Figures& base = all.front();
    std::printf("%10d %8.1f | %6zu %10.3f %7.1f %9.2f | %6zu %10.3f %7.1f\n", f.size, f.fill_s,
                f.due_rows, f.due_ms, f.due_ms / base.due_ms,
                f.due_rows ? 1000.0 * f.due_ms / static_cast<double>(f.due_rows) : 0.0,
                f.overdue_rows, f.overdue_ms, f.overdue_ms / base.overdue_ms);
    std::fflush(stdout);
  }
  std::printf(
      "due: rows returned = 0.1 %% of open deadlines, so its time should grow with the rows "
      "(us/row flat), not with the table.\noverdue: always one page of 100, so its time should "
      "stay flat.\n");
  return 0;
}
