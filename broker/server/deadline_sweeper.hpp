// DeadlineSweeper: the shell of the deadline engine's sweep (domain.md §5–7). Every
// deadlines.sweep_interval it asks the store only for deadlines whose next action is due (an
// index on next_action_at: cost in proportion to what is due, not to what is open), lets the pure
// rules (broker/deadlines/reminder_schedule) say what to do, and commits each deadline's step
// together with the Reminder letter it sends — so a step is never sent twice, across restarts
// too. It also lets the dispatcher check receipts owed, on the same cadence.
//
// Thread rules: io thread only.
#pragma once

#include "broker/config/config.hpp"
#include "broker/core/clock.hpp"
#include "broker/deadlines/calendar.hpp"
#include "broker/http/asio.hpp"
#include "broker/routing/router.hpp"
#include "broker/server/broker_letters.hpp"
#include "broker/server/dispatcher.hpp"
#include "broker/store/group_commit_writer.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

class DeadlineSweeper {
 public:
  DeadlineSweeper(asio::io_context& io, const BrokerConfig& config, const Directory& directory,
                  const WorkingCalendar& calendar, Store& store, GroupCommitWriter& writer,
                  const Clock& clock, BrokerIds& ids, Dispatcher& dispatcher,
                  metrics::BrokerMetrics& metrics);

  void start();
  void stop();
  // One sweep now (also what the timer runs). A sweep already running makes this a no-op.
  asio::awaitable<void> sweep();
  // The citizen index's key (issue 10): reminders are keyed by the request's patients. Unset:
  // no keys.
  void set_citizen_keyer(const CitizenKeyer* keyer) { citizen_keyer_ = keyer; }

 private:
  void arm();
  asio::awaitable<bool> act_on(Deadline deadline, TimePoint now);

  asio::io_context& io_;
  const BrokerConfig& config_;
  const Directory& directory_;
  const WorkingCalendar& calendar_;
  Store& store_;
  GroupCommitWriter& writer_;
  const Clock& clock_;
  BrokerIds& ids_;
  Dispatcher& dispatcher_;
  metrics::BrokerMetrics& metrics_;
  asio::steady_timer timer_;
  bool sweeping_ = false;
  bool stopping_ = false;
  const CitizenKeyer* citizen_keyer_ = nullptr;
};

}  // namespace sektorbro
