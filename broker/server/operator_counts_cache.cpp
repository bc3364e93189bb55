#include "broker/server/operator_counts_cache.hpp"

#include <algorithm>

#include "broker/core/log.hpp"
#include "broker/core/time.hpp"
#include "broker/http/async_bridge.hpp"

namespace sektorbro {

OperatorCountsCache::OperatorCountsCache(asio::io_context& io, Store& store, const Clock& clock,
                                         std::chrono::milliseconds interval)
    : io_(io),
      store_(store),
      clock_(clock),
      interval_(interval),
      timer_(io),
      self_(std::make_shared<OperatorCountsCache*>(this)) {}

OperatorCountsCache::~OperatorCountsCache() {
  *self_ = nullptr;  // a count finishing now posts a completion that finds no cache
  worker_.join();
}

void OperatorCountsCache::start() {
  stopped_ = false;
  recount();
  arm();
}

void OperatorCountsCache::stop() {
  stopped_ = true;
  timer_.cancel();
}

Duration OperatorCountsCache::age() const {
  return last_ ? clock_.now() - last_->counted_at : Duration::max();
}

void OperatorCountsCache::arm() {
  if (stopped_) return;
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    if (!last_ || age() >= interval_) recount();
    arm();
  });
}

void OperatorCountsCache::recount() {
  if (counting_) return;
  counting_ = true;
  const TimePoint now = clock_.now();
  asio::post(worker_, [&store = store_, &io = io_, self = self_, now] {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->counted_at = now;
    snapshot->began = std::chrono::steady_clock::now();
    if (auto counts = store.operator_counts(now)) {
      snapshot->counts = std::move(*counts);
    } else {
      snapshot->error = counts.error().detail;
    }
    // Due soon: a capped page of the due-soon view (the store counts no such group); at most
    // kCountCap + 1 rows, read here, off the io thread, once per recount.
    DeadlineFilter soon;
    soon.state = DeadlineState::kOpen;
    soon.now = now;
    soon.due_before = now + std::chrono::days{kDueSoonDays};
    soon.limit = kCountCap + 1;
    if (auto found = store.list_deadlines(soon)) {
      snapshot->due_soon =
          std::min<std::int64_t>(static_cast<std::int64_t>(found->size()), kCountCap);
      snapshot->due_soon_more = found->size() > static_cast<std::size_t>(kCountCap);
    } else if (snapshot->error.empty()) {
      snapshot->error = found.error().detail;
    }
    asio::post(io, [self, snapshot = std::shared_ptr<const Snapshot>(std::move(snapshot))] {
      if (*self != nullptr) (*self)->finished(snapshot);
    });
  });
}

void OperatorCountsCache::finished(std::shared_ptr<const Snapshot> snapshot) {
  counting_ = false;
  if (!snapshot->error.empty()) {
    log_warn("metrics: the store's counts are unavailable: " + snapshot->error);
    // An older good count stays what is served; it is not newer for having failed.
    if (!last_ || !last_->error.empty()) last_ = snapshot;
  } else {
    last_ = snapshot;
  }
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters) w(last_);
}

asio::awaitable<std::shared_ptr<const OperatorCountsCache::Snapshot>>
OperatorCountsCache::current() {
  if (last_ && age() <= 2 * interval_) co_return last_;
  auto fresh = await_callback<std::shared_ptr<const Snapshot>>([this](auto done) {
    waiters_.push_back(std::move(done));
    recount();
  });
  co_return co_await std::move(fresh);
}

asio::awaitable<std::shared_ptr<const OperatorCountsCache::Snapshot>>
OperatorCountsCache::recent() {
  if (last_ && age() <= 2 * interval_ &&
      std::chrono::steady_clock::now() - last_->began <= 2 * interval_)
    co_return last_;
  auto fresh = await_callback<std::shared_ptr<const Snapshot>>([this](auto done) {
    waiters_.push_back(std::move(done));
    recount();
  });
  co_return co_await std::move(fresh);
}

nlohmann::json OperatorCountsCache::counts_json(const Snapshot& snapshot, TimePoint now,
                                                const std::vector<EndpointLoad>& loads) {
  const OperatorCounts& c = snapshot.counts;
  std::int64_t open = 0;
  std::int64_t overdue = 0;
  nlohmann::json per_unit = nlohmann::json::array();
  for (const DeadlineCount& d : c.deadlines) {
    open += d.open;
    overdue += d.overdue;
    per_unit.push_back({{"unit", d.unit},
                        {"form", d.form.empty() ? std::string("mentor-response") : d.form},
                        {"open", d.open},
                        {"overdue", d.overdue}});
  }
  const auto per_endpoint = [](const std::vector<EndpointCount>& counts, std::int64_t& total) {
    nlohmann::json rows = nlohmann::json::array();
    for (const EndpointCount& e : counts) {
      total += e.count;
      rows.push_back({{"endpoint", e.endpoint}, {"count", e.count}});
    }
    return rows;
  };
  std::int64_t dead = 0;
  std::int64_t missing = 0;
  nlohmann::json dead_rows = per_endpoint(c.dead_letters, dead);
  nlohmann::json missing_rows = per_endpoint(c.receipts_missing, missing);
  nlohmann::json queue = nlohmann::json::array();
  for (const EndpointLoad& l : loads)
    queue.push_back({{"endpoint", l.endpoint}, {"waiting", l.waiting}, {"in_flight", l.in_flight}});
  const double age = std::chrono::duration<double>(now - snapshot.counted_at).count();
  return {{"counted_at", format_timestamp(snapshot.counted_at)},
          {"age_seconds", std::max(age, 0.0)},
          {"deadlines",
           {{"open", open},
            {"overdue", overdue},
            {"due_soon", snapshot.due_soon},
            {"due_soon_more", snapshot.due_soon_more},
            {"due_soon_days", kDueSoonDays},
            {"by_unit", std::move(per_unit)}}},
          {"dead_letters", {{"total", dead}, {"by_endpoint", std::move(dead_rows)}}},
          {"receipts_missing", {{"total", missing}, {"by_endpoint", std::move(missing_rows)}}},
          {"deliveries", std::move(queue)}};
}

}  // namespace sektorbro
