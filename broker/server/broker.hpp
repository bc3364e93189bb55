// Broker: the running whole, and the HTTP API's router. It owns the parts and wires them:
//   Intake          (intake.hpp)           receive → decide (broker/intake) → commit → answer
//   Dispatcher      (dispatcher.hpp)       deliver, receipts in answers, resends, refusals relayed
//   DeadlineSweeper (deadline_sweeper.hpp) reminders and overdue flags
// and routes HTTP requests: the endpoints' POST /v1/messages to Intake, the mailbox
// (broker_mailbox.cpp), and the operators' API (broker_operators.cpp). File-drop inboxes feed
// Intake like a POST.
//
// Thread rules: everything here runs on the io_context's single thread, which owns the state.
// Commits happen on the writer thread and transfers on the transport thread, awaited.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/console/citizen_key.hpp"
#include "broker/console/static_assets.hpp"
#include "broker/core/clock.hpp"
#include "broker/deadlines/calendar.hpp"
#include "broker/delivery/transport.hpp"
#include "broker/filedrop/inbox_watcher.hpp"
#include "broker/http/asio.hpp"
#include "broker/http/http_server.hpp"
#include "broker/metrics/broker_metrics.hpp"
#include "broker/routing/router.hpp"
#include "broker/server/broker_letters.hpp"
#include "broker/server/deadline_sweeper.hpp"
#include "broker/server/dispatcher.hpp"
#include "broker/server/intake.hpp"
#include "broker/server/operator_counts_cache.hpp"
#include "broker/store/group_commit_writer.hpp"
#include "broker/store/store.hpp"
#include "broker/store/timed_vfs.hpp"

namespace sektorbro {

class Broker {
 public:
  // `manual_clock` is the same object as `clock` when the broker runs on a manual clock (tests
  // only); then, and only then, POST /v1/test/clock/advance exists.
  // `lease_clock` measures the leases several brokers share (issue 11; lease_rules.hpp): real
  // time, never the business clock, which the demo runs faster. Default: the manual clock when
  // there is one (tests move leases with it), otherwise the system's real clock.
  Broker(asio::io_context& io, const BrokerConfig& config, Store& store, GroupCommitWriter& writer,
         Transport& transport, const Clock& clock, ManualClock* manual_clock = nullptr,
         const Clock* lease_clock = nullptr);

  // Loads the deliveries that were pending when the broker last stopped, starts delivery, the
  // deadline sweep and the file-drop inboxes. After this, /v1/health answers ready.
  Result<void> start();
  // Stops scheduling new attempts and sweeps; attempts in flight finish or are cut off.
  void stop();

  // Every HTTP route: the endpoints' POST /v1/messages and the operators' API. `peer` is who the
  // transport says is calling (TLS client certificate, address).
  asio::awaitable<HttpResponse> handle(HttpRequest request, PeerIdentity peer);

  // The parts, for tests that drive them directly.
  Intake& intake() { return intake_; }
  Dispatcher& dispatcher() { return dispatcher_; }
  DeadlineSweeper& sweeper() { return sweeper_; }
  // What /metrics shows; the GroupCommitWriter's commits are counted through commit_observer().
  metrics::BrokerMetrics& metrics() { return metrics_; }

 private:
  // A file from `endpoint`'s inbox, answered through `answer` (file drop).
  asio::awaitable<void> receive_file(std::string endpoint, std::shared_ptr<std::string> bytes,
                                     std::shared_ptr<FileAnswerFn> answer);

  // Operators (broker_operators.cpp).
  // Who a request comes from: an endpoint (by its client certificate), an operator (by
  // certificate or token), or nobody on the plain loopback listener.
  struct Caller {
    std::string endpoint;                // endpoint id, or empty
    const OperatorConfig* op = nullptr;  // the operator, or none
    bool plain_loopback = false;         // plain HTTP (allowed on loopback only)
  };
  Caller identify(const HttpRequest& request, const PeerIdentity& peer) const;
  asio::awaitable<HttpResponse> handle_operator(const HttpRequest& request,
                                                const std::vector<std::string>& path,
                                                const std::string& actor);
  HttpResponse health();
  // GET /v1/health/live and /v1/health/ready (issue 10): see broker_operators.cpp.
  HttpResponse health_live();
  asio::awaitable<HttpResponse> health_ready();
  // GET /metrics: the gauges set, then the page. The store-counted ones come from counts_'s
  // last count (awaited only when it is too old), never from a count on the io thread.
  asio::awaitable<HttpResponse> metrics_page();
  void set_scrape_gauges(const OperatorCountsCache::Snapshot& counted);
  // GET /v1/counts (issue 10): the console Overview's figures from counts_ (OperatorCountsCache::
  // recent), never a count of its own on the io thread.
  asio::awaitable<HttpResponse> overview_counts();
  // POST /v1/messages/search-by-cpr (acting operators; audited, the CPR never recorded).
  asio::awaitable<HttpResponse> search_by_cpr(const HttpRequest& request, const std::string& actor);
  // Legal holds (issue 11, item 4; broker_holds.cpp).
  asio::awaitable<HttpResponse> hold_message(const HttpRequest& request,
                                             const std::string& sender_gln,
                                             const std::string& letter_id,
                                             const std::string& actor);
  asio::awaitable<HttpResponse> hold_citizen(const HttpRequest& request, const std::string& actor);
  HttpResponse list_holds();
  // Mailbox pull (broker_mailbox.cpp).
  asio::awaitable<HttpResponse> handle_mailbox(const HttpRequest& request,
                                               const std::vector<std::string>& path,
                                               const Caller& caller);
  HttpResponse list_messages(const HttpRequest& request, std::optional<DeliveryState> forced);
  // `holds_cpr` is set to the message id when the message holds a CPR number (audited).
  HttpResponse show_message(const std::string& sender_gln, const std::string& letter_id,
                            std::optional<std::int64_t>& holds_cpr);
  asio::awaitable<HttpResponse> requeue(const std::string& sender_gln, const std::string& letter_id,
                                        const std::string& actor);
  HttpResponse find_letters(const std::string& letter_id);
  HttpResponse list_deadlines(const HttpRequest& request);
  asio::awaitable<HttpResponse> statistics(const HttpRequest& request, DeadlineKind kind);
  asio::awaitable<HttpResponse> advance_clock(const HttpRequest& request);

  asio::io_context& io_;
  const BrokerConfig& config_;
  Store& store_;
  GroupCommitWriter& writer_;
  const Clock& clock_;
  ManualClock* manual_clock_;
  SystemClock real_clock_;
  const Clock& lease_clock_;  // leases and mailbox leases (issue 11): see the constructor
  Directory directory_;
  WorkingCalendar calendar_;
  BrokerIds ids_;
  // Declared before the drivers, which count into them.
  metrics::MetricsRegistry metrics_registry_;
  metrics::BrokerMetrics metrics_{metrics_registry_};
  // SQLite's fsyncs, timed in its VFS (broker/store/timed_vfs.hpp): sektorbro_fsync_seconds.
  SyncObserver fsync_observer_{
      [fsync = &metrics_.fsync_seconds.get()](double seconds) { fsync->observe(seconds); }};
  Intake intake_;
  Dispatcher dispatcher_;
  DeadlineSweeper sweeper_;
  bool ready_ = false;
  bool draining_ = false;                         // stop() was called: /v1/health/ready answers 503
  std::optional<console::StaticAssets> console_;  // the web console, when configured
  // The citizen index's key (privacy.cpr_index_key_file), when configured; Intake uses it.
  std::optional<CitizenKeyer> citizen_keyer_;
  // Gauge series set at an earlier scrape, so that one whose count fell to none shows 0.
  std::set<metrics::LabelValues> deadline_series_;
  std::set<metrics::LabelValues> without_receipt_series_;
  // The store-counted gauges, recounted off the io thread (issue 10; operator_counts_cache.hpp).
  // Every metrics.store_counts_interval_ms (10 s by default).
  OperatorCountsCache counts_{io_, store_, clock_, config_.metrics.store_counts_interval};
  // The operators' statistics (GET /v1/stats/...) read and count a year of deadlines here, off
  // the io thread. Declared after everything its work touches (the store is the caller's), so
  // it is joined first.
  asio::thread_pool reports_{1};
  // File drop: one watcher per endpoint with an inbox.
  std::vector<std::unique_ptr<InboxWatcher>> inboxes_;
};

}  // namespace sektorbro
