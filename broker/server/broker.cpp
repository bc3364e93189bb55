#include "broker/server/broker.hpp"

#include "broker/core/log.hpp"
#include "broker/server/log_exceptions.hpp"

namespace sektorbro {

Broker::Broker(asio::io_context& io, const BrokerConfig& config, Store& store,
               GroupCommitWriter& writer, Transport& transport, const Clock& clock,
               ManualClock* manual_clock, const Clock* lease_clock)
    : io_(io),
      config_(config),
      store_(store),
      writer_(writer),
      clock_(clock),
      manual_clock_(manual_clock),
      lease_clock_(lease_clock != nullptr   ? *lease_clock
                   : manual_clock != nullptr ? static_cast<const Clock&>(*manual_clock)
                                             : real_clock_),
      directory_(config.endpoints),
      calendar_(calendar_for(config.deadlines.policy)),
      ids_(clock),
      intake_(config, directory_, calendar_, store, writer, clock, ids_, metrics_,
              [this](std::int64_t id, std::shared_ptr<const MessagePlan> plan,
                     std::shared_ptr<const std::vector<Letter>> requests, TimePoint leased) {
                std::vector<std::int64_t> receipted;
                for (const auto& r : plan->receipts) receipted.push_back(r.message_id);
                dispatcher_.receipted(receipted);
                const std::string receiver = plan->message.receiver_endpoint;
                // Leased to this broker until `leased` in the commit that stored it (Intake;
                // issue 11).
                dispatcher_.remember(id, std::move(plan), std::move(requests));
                dispatcher_.schedule_leased(id, receiver, clock_.now(), leased);
              }),
      dispatcher_(io, config, directory_, calendar_, store, writer, transport, clock, ids_,
                  intake_, metrics_),
      sweeper_(io, config, directory_, calendar_, store, writer, clock, ids_, dispatcher_,
               metrics_) {
  intake_.set_lease_clock(lease_clock_);
  dispatcher_.set_lease_clock(lease_clock_);
}

Result<void> Broker::start() {
  writer_.set_observer([this](std::size_t jobs, double seconds) {
    metrics_.commit_group_size.get().observe(static_cast<double>(jobs));
    metrics_.commit_seconds.get().observe(seconds);
  });
  if (auto started = dispatcher_.start(); !started) return started.error();
  // File drop (issue 4): each file in an endpoint's inbox goes the way of a POST from it; the
  // answer (acceptance or negative receipt, in the endpoint's dialect) is written beside it.
  for (const Endpoint& e : directory_.all()) {
    if (e.inbox.empty()) continue;
    InboxOptions options;
    options.folder = e.inbox;
    options.max_file_bytes = config_.limits.max_body_bytes;
    options.drain_timeout = std::chrono::seconds{1};
    const std::string id = e.id;
    auto watcher = InboxWatcher::start(options, [this, id](std::string bytes, FileAnswerFn answer) {
      auto shared_bytes = std::make_shared<std::string>(std::move(bytes));
      auto shared_answer = std::make_shared<FileAnswerFn>(std::move(answer));
      asio::post(io_, [this, id, shared_bytes, shared_answer] {
        asio::co_spawn(io_, receive_file(id, shared_bytes, shared_answer), LogExceptions{});
      });
    });
    if (!watcher) return watcher.error();
    log_info("file drop: taking " + e.id + "'s files from its inbox");
    inboxes_.push_back(std::move(*watcher));
  }
  sweeper_.start();
  counts_.start();  // the store-counted gauges: first count now, then every interval
  // The citizen index (issue 10): without its key no index is written and the CPR search says
  // it is not configured.
  if (!config_.privacy.cpr_index_key_file.empty()) {
    auto keyer = CitizenKeyer::from_file(config_.privacy.cpr_index_key_file);
    if (!keyer) return keyer.error();
    citizen_keyer_.emplace(std::move(*keyer));
    intake_.set_citizen_keyer(&*citizen_keyer_);
    dispatcher_.set_citizen_keyer(&*citizen_keyer_);  // the broker's own letters too
    sweeper_.set_citizen_keyer(&*citizen_keyer_);
    log_info("citizen index: on (key from privacy.cpr_index_key_file)");
  }
  if (!config_.console_assets.empty()) {
    auto assets = console::StaticAssets::load(config_.console_assets);
    if (!assets) return assets.error();
    log_info("console: " + std::to_string(assets->size()) + " files from " +
             config_.console_assets + ", served at /console/");
    console_.emplace(std::move(*assets));
  }
  ready_ = true;
  log_info("broker ready: " + std::to_string(directory_.all().size()) + " endpoints");
  return {};
}

asio::awaitable<void> Broker::receive_file(std::string endpoint,
                                           std::shared_ptr<std::string> bytes,
                                           std::shared_ptr<FileAnswerFn> answer) {
  auto receiving = intake_.receive(std::move(*bytes), endpoint, endpoint);
  Intake::Answer result = co_await std::move(receiving);
  (*answer)(FileAnswer{static_cast<int>(result.status), std::move(result.body)});
}

void Broker::stop() {
  draining_ = true;  // /v1/health/ready answers 503 from now on
  // Files whose answer is not given yet stay in the inbox and are taken again: harmless, the
  // duplicate rule answers a resend with the first answer.
  for (auto& inbox : inboxes_) inbox->stop();
  dispatcher_.stop();
  sweeper_.stop();
  counts_.stop();
}

}  // namespace sektorbro
