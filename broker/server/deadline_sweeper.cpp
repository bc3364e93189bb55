#include "broker/server/deadline_sweeper.hpp"

#include <algorithm>

#include "broker/core/log.hpp"
#include "broker/deadlines/reminder_schedule.hpp"
#include "broker/server/commit.hpp"

namespace sektorbro {

DeadlineSweeper::DeadlineSweeper(asio::io_context& io, const BrokerConfig& config,
                                 const Directory& directory, const WorkingCalendar& calendar,
                                 Store& store, GroupCommitWriter& writer, const Clock& clock,
                                 BrokerIds& ids, Dispatcher& dispatcher,
                                 metrics::BrokerMetrics& metrics)
    : io_(io),
      config_(config),
      directory_(directory),
      calendar_(calendar),
      store_(store),
      writer_(writer),
      clock_(clock),
      ids_(ids),
      dispatcher_(dispatcher),
      metrics_(metrics),
      timer_(io) {}

void DeadlineSweeper::start() {
  stopping_ = false;
  asio::post(io_, [this] { arm(); });
}

void DeadlineSweeper::stop() {
  stopping_ = true;
  timer_.cancel();
}

void DeadlineSweeper::arm() {
  if (stopping_) return;
  timer_.expires_after(config_.deadlines.sweep_interval);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    asio::co_spawn(io_, sweep(), [this](const std::exception_ptr& e) {
      if (e) log_error("deadline sweep failed");
      arm();
    });
  });
}

asio::awaitable<void> DeadlineSweeper::sweep() {
  if (sweeping_ || stopping_) co_return;
  sweeping_ = true;
  const TimePoint now = clock_.now();
  // Once across the brokers on one store (issue 11, item 2): only the holder of the "sweeper"
  // lease sweeps. It lasts a lease and a sweep interval (at most two leases), so the holder
  // renews it at its next sweep; a holder that died is replaced that long after its last sweep. Should two sweeps
  // still overlap (a holder stalled past its lease), each step is guarded (expect_deadline,
  // expect_receipt_watch) and recorded once.
  {
    auto node = std::make_shared<const std::string>(dispatcher_.node());
    const Duration lease = config_.cluster.lease;
    // On the lease clock, as every lease (issue 11), not the business clock of `now`.
    const TimePoint lease_now = dispatcher_.lease_now();
    const TimePoint until = lease_now + lease + std::min(config_.deadlines.sweep_interval, lease);
    auto hold_job = [node, lease_now, until](Store& store) {
      return store.hold_singleton("sweeper", *node, lease_now, until);
    };
    auto holding = commit<bool>(writer_, std::move(hold_job));
    auto held = co_await std::move(holding);
    if (!held || !*held) {
      if (!held) log_error("deadline sweep skipped: " + held.error().detail);
      sweeping_ = false;
      co_return;
    }
  }
  auto checking = dispatcher_.check_receipts(now);
  co_await std::move(checking);
  int handled = 0;
  // Bounded per sweep so receiving never waits long behind a backlog; the next sweep goes on.
  while (handled < 10'000) {
    auto due = store_.due_deadlines(now, 256);
    if (!due) {
      log_error("deadline sweep: " + due.error().detail);
      break;
    }
    if (due->empty()) break;
    bool progress = false;
    for (Deadline& d : *due) {
      auto acting = act_on(std::move(d), now);
      progress = (co_await std::move(acting)) || progress;
      ++handled;
    }
    if (!progress) break;
  }
  sweeping_ = false;
}

asio::awaitable<bool> DeadlineSweeper::act_on(Deadline deadline, TimePoint now) {
  const DeadlinePolicy& policy = config_.deadlines.policy;
  const auto actions = due_actions(deadline, now, policy, calendar_);
  Deadline updated = deadline;
  std::vector<MessageEvent> events;
  std::vector<MessagePlan> letters;
  std::vector<std::string> alerts;
  auto where = store_.find_letter(deadline.key.requester_gln, deadline.key.letter_id);
  const std::int64_t request_id = (where && *where) ? (*where)->message_id : 0;
  const Endpoint* owing = directory_.by_id(deadline.owed_by);
  for (const DueAction& action : actions) {
    auto applied = apply(updated, action, policy, calendar_);
    if (!applied) {
      log_error("deadline " + deadline.key.letter_id + ": " + applied.error().detail);
      continue;
    }
    updated = *applied;
    if (action.kind == DueAction::Kind::kFlagOverdue) {
      const std::string what = std::string(to_string(deadline.kind)) + " for letter " +
                               deadline.key.letter_id + " owed by " + deadline.owed_by + " to " +
                               deadline.owed_to + " was due " + format_date(deadline.due);
      events.push_back({request_id, now, "overdue", what});
      alerts.push_back("ALERT overdue: " + what);
      continue;
    }
    std::string detail = "reminder step " + std::to_string(action.step) + " to " +
                         deadline.owed_by + ", due " + format_date(deadline.due);
    const bool takes_reminders = owing && std::find(owing->accepts.begin(), owing->accepts.end(),
                                                    LetterType::kReminder) != owing->accepts.end();
    if (takes_reminders && action.reminder) {
      const Envelope envelope =
          broker_envelope(config_.identity, owing->party, *action.reminder, now, ids_.next());
      detail += ": Reminder letter " + envelope.id;
      const std::string form =
          deadline.form.empty() ? std::string(to_string(deadline.kind)) : deadline.form;
      metrics_.reminders_sent.with({owing->id, form}).inc();
      letters.push_back(broker_message_plan(envelope, config_.identity, *owing, now,
                                            "reminder for letter " + deadline.key.letter_id));
      // The citizen index (issue 10): the reminder is about the request's patient.
      if (citizen_keyer_ != nullptr && request_id != 0)
        if (auto request = store_.get_message(request_id); request && *request)
          letters.back().message.citizen_keys =
              citizen_keys_of_stored(citizen_keyer_, (*request)->body);
    } else {
      detail += ": no letter sent (the endpoint does not take Reminder letters)";
    }
    events.push_back({request_id, now, "reminder", detail});
    alerts.push_back("ALERT reminder: letter " + deadline.key.letter_id + " " + detail);
  }
  if (events.empty()) {
    // Nothing to do although the index said so (e.g. the schedule changed): move the index on.
    updated.next_action_at = compute_next_action_at(updated, policy, calendar_);
    if (updated.next_action_at && *updated.next_action_at <= now) updated.next_action_at.reset();
    if (updated == deadline) co_return false;
  }
  auto shared_deadline = std::make_shared<const Deadline>(updated);
  auto shared_events = std::make_shared<const std::vector<MessageEvent>>(std::move(events));
  auto shared_letters = std::make_shared<const std::vector<MessagePlan>>(std::move(letters));
  auto read_as = std::make_shared<const Deadline>(deadline);
  auto node = std::make_shared<const std::string>(dispatcher_.node());
  const TimePoint until = dispatcher_.lease_end();
  auto store_job = [shared_deadline, shared_events, shared_letters, request_id, read_as, node,
                    until](Store& store) -> Result<std::vector<std::int64_t>> {
    // Still as this sweep read it: else another broker's sweep took this step (issue 11).
    if (auto r = store.expect_deadline(*read_as); !r) return r.error();
    std::vector<std::int64_t> stored;
    for (const auto& letter : *shared_letters) {
      auto id = store.store_message(letter);
      if (!id) return id.error();
      if (auto leased = store.lease_delivery(*id, *node, until); !leased) return leased.error();
      stored.push_back(*id);
    }
    const MessageEvent last = shared_events->empty() ? MessageEvent{} : shared_events->back();
    for (std::size_t i = 0; i + 1 < shared_events->size(); ++i)
      if (auto r = store.append_event((*shared_events)[i]); !r && request_id != 0) return r.error();
    if (auto r = store.put_deadline(*shared_deadline, request_id, last); !r) return r.error();
    return stored;
  };
  auto committing = commit<std::vector<std::int64_t>>(writer_, std::move(store_job));
  auto stored = co_await std::move(committing);
  if (!stored && stored.error().code == Errc::kStale) {
    log_info("deadline " + deadline.key.letter_id + ": step taken by another sweep");
    co_return false;
  }
  if (!stored) {
    log_error("deadline " + deadline.key.letter_id + " not updated: " + stored.error().detail);
    co_return false;
  }
  for (const auto& alert : alerts) log_warn(alert);
  for (const std::int64_t id : *stored)
    dispatcher_.schedule_leased(id, deadline.owed_by, now, until);
  co_return true;
}

}  // namespace sektorbro
