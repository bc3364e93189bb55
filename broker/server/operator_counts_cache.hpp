// OperatorCountsCache: the operators' gauges the store counts (Store::operator_counts: open and
// overdue deadlines per unit and form, dead letters, messages without receipt), recounted off
// the io thread and served from the last count (issue 10). Counted in the scrape they cost
// 235-316 ms at 1 M open deadlines, on the io thread; served from here a scrape costs what
// rendering the page costs.
//
// Where the figures come from: the store, not counters kept by this broker, so they stay right
// when several brokers share one PostgreSQL store (each one's recount sees every broker's
// writes).
//
// How stale a value can be (stated in the metrics' HELP texts and docs/console.md): every
// `interval` (real time) a recount starts if the last one is at least `interval` old on the
// broker's clock; a scrape that finds the last count older than 2 x `interval` on the broker's
// clock (or none yet) waits for a new one — the coroutine waits, the io thread does not. So a
// scrape shows counts at most 2 x `interval` old, and usually at most `interval` plus one
// recount. On a manual clock (tests) nothing is recounted until the clock moves by `interval`.
//
// Thread rules: every member function runs on the io thread. The count itself runs on a thread
// of its own, through the store's read side (every store guards its read connection, so this
// is one more reader beside the io thread; with SQLite an io-thread read waits while a recount
// holds the read connection).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>  // before Asio (broker/http/asio.hpp)
#include <vector>

#include "broker/core/clock.hpp"
#include "broker/http/asio.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

class OperatorCountsCache {
 public:
  static constexpr std::chrono::seconds kDefaultInterval{10};

  // One count of the store: what it said, or why it could not say.
  struct Snapshot {
    OperatorCounts counts;
    TimePoint counted_at{};                         // the broker's clock when the count began
    std::string error;                              // empty when the count succeeded
    std::chrono::steady_clock::time_point began{};  // the real time when the count began
    // Open deadlines due within kDueSoonDays of counted_at, overdue ones included (as GET
    // /v1/deadlines?view=due-soon), counted up to kCountCap: `due_soon_more` when there are more.
    std::int64_t due_soon = 0;
    bool due_soon_more = false;
  };
  static constexpr int kDueSoonDays = 2;
  static constexpr int kCountCap = 1000;

  OperatorCountsCache(asio::io_context& io, Store& store, const Clock& clock,
                      std::chrono::milliseconds interval = kDefaultInterval);
  ~OperatorCountsCache();  // waits for a recount in flight
  OperatorCountsCache(const OperatorCountsCache&) = delete;
  OperatorCountsCache& operator=(const OperatorCountsCache&) = delete;

  // The first count and the periodic recount.
  void start();
  void stop();

  // The last count if it is at most 2 x interval old on the broker's clock; otherwise a new one,
  // awaited. Never null.
  asio::awaitable<std::shared_ptr<const Snapshot>> current();
  // For the console's Overview (GET /v1/counts): the last count if it began at most 2 x interval
  // ago both on the broker's clock and in real time; otherwise a new one, awaited. (current()
  // looks at the broker's clock only, so on a manual clock /metrics stays deterministic; the
  // Overview must also show writes made on a clock that does not move.) Never null.
  asio::awaitable<std::shared_ptr<const Snapshot>> recent();
  // The last count, whatever its age (null before the first one ends).
  std::shared_ptr<const Snapshot> last() const { return last_; }
  std::chrono::milliseconds interval() const { return interval_; }

  // One endpoint's deliveries as this broker's queue holds them (Dispatcher), for counts_json.
  struct EndpointLoad {
    std::string endpoint;
    std::int64_t waiting = 0;
    std::int64_t in_flight = 0;
  };
  // GET /v1/counts's answer (docs/openapi.yaml, Counts): the snapshot's figures with totals, its
  // age at `now` (broker's clock), and the queue per endpoint. Pure.
  static nlohmann::json counts_json(const Snapshot& snapshot, TimePoint now,
                                    const std::vector<EndpointLoad>& loads);

 private:
  using Waiter = std::function<void(std::shared_ptr<const Snapshot>)>;
  void recount();  // starts one unless one runs
  void finished(std::shared_ptr<const Snapshot> snapshot);
  void arm();
  Duration age() const;

  asio::io_context& io_;
  Store& store_;
  const Clock& clock_;
  std::chrono::milliseconds interval_;
  std::shared_ptr<const Snapshot> last_;
  bool counting_ = false;
  bool stopped_ = true;
  std::vector<Waiter> waiters_;
  asio::steady_timer timer_;
  // Completions posted back to the io thread check this first: the cache may be gone.
  std::shared_ptr<OperatorCountsCache*> self_;
  asio::thread_pool worker_{1};  // last: destroyed (joined) first
};

}  // namespace sektorbro
