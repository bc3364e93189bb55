#include "broker/server/operator_counts_cache.hpp"

#include "broker/core/log.hpp"
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
    if (auto counts = store.operator_counts(now)) {
      snapshot->counts = std::move(*counts);
    } else {
      snapshot->error = counts.error().detail;
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

}  // namespace sektorbro
