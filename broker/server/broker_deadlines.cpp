// The broker's side of the deadline engine (issue 3; domain.md §5–7): which messages open,
// answer, correct or cancel a deadline, and the sweep that sends reminders and flags what is
// overdue. The rules themselves are pure functions in broker/deadlines; here they meet the
// store, the clock and the delivery queue.
#include <nlohmann/json.hpp>

#include "broker/codec/codec.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/core/log.hpp"
#include "broker/deadlines/reminder_schedule.hpp"
#include "broker/server/broker.hpp"

namespace sektorbro {
namespace {

std::string answered_text(const Deadline& d) {
  std::string text = d.state == DeadlineState::kDeclined ? "declined" : "answered";
  if (d.answered_at && *d.answered_at > d.due_end) {
    text += " " + std::to_string(d.days_late) + " day(s) late";
  } else {
    text += " on time";
  }
  return text + " (due " + format_date(d.due) + ")";
}

std::string opened_text(const Deadline& d) {
  std::string text =
      std::string(d.kind == DeadlineKind::kCertificate ? "Certificate" : "MentorResponse") +
      " owed by " + d.owed_by + ", due " + format_date(d.due) + " (end of day, Copenhagen)";
  if (d.lead_time_days) {
    text += "; notice lead time " + std::to_string(*d.lead_time_days) + " day(s)";
    if (d.notice_late) text += ": the notice arrived after the discharge date";
  }
  return text;
}

}  // namespace

Result<std::vector<Broker::DeadlineChange>> Broker::deadline_changes_on_arrival(
    const Envelope& envelope, const Route& route, TimePoint now) {
  std::vector<DeadlineChange> changes;
  const DeadlinePolicy& policy = config_.deadlines.policy;
  const DeadlineParties parties{route.receiver->id, route.sender->id};
  // The timeline a change belongs on: the message of the request or notice.
  auto request_message = [this](const DeadlineKey& key) -> std::optional<std::int64_t> {
    auto where = store_.find_letter(key.requester_gln, key.letter_id);
    if (where && *where) return (*where)->message_id;
    return std::nullopt;
  };
  for (const Letter& letter : envelope.letters) {
    // A resend of a letter the broker already has changes nothing (MedCom: duplicates get the
    // first answer); the store recognises it, so no deadline is touched twice.
    auto known = store_.find_letter(envelope.sender().gln, letter.id);
    if (!known) return known.error();
    if (*known && (*known)->content_hash == sha256_hex(encode_letter(letter))) continue;

    switch (letter.type()) {
      case LetterType::kDischargeNotice: {
        const DeadlineKey key = deadline_key(letter);
        if (letter.status == LetterStatus::kNew) {
          auto opened = open_mentor_deadline(letter, now, parties, policy, calendar_);
          if (!opened) return opened.error();
          changes.push_back({*opened, std::nullopt, "deadline-opened", opened_text(*opened)});
          break;
        }
        auto existing = store_.find_deadline(key);
        if (!existing) return existing.error();
        if (!*existing) break;
        auto changed = letter.status == LetterStatus::kCancelled
                           ? cancel(**existing, now)
                           : correct(**existing, letter, now, policy, calendar_);
        // A closed deadline stays as it was: the notice still travels, the figures do not move.
        if (changed) {
          changes.push_back({*changed, request_message(key),
                             letter.status == LetterStatus::kCancelled ? "deadline-cancelled"
                                                                       : "deadline-corrected",
                             opened_text(*changed)});
        }
        break;
      }
      case LetterType::kCertificateRequest: {
        // The clock of a request starts (and a correction applies) when it is delivered; a
        // cancellation stops it as soon as the jobcenter sends it.
        if (letter.status != LetterStatus::kCancelled) break;
        const DeadlineKey key = deadline_key(letter);
        auto existing = store_.find_deadline(key);
        if (!existing) return existing.error();
        if (!*existing) break;
        if (auto cancelled = cancel(**existing, now))
          changes.push_back({*cancelled, request_message(key), "deadline-cancelled",
                             "the request was cancelled by " + route.sender->id});
        break;
      }
      case LetterType::kCertificate:
      case LetterType::kMentorResponse: {
        auto key = reply_key(letter);
        if (!key) return key.error();
        auto existing = store_.find_deadline(*key);
        if (!existing) return existing.error();
        if (!*existing) break;  // no clock runs (LÆ165, or the request is not delivered yet)
        // A second reply to the same request is refused: "already answered at …" (kConflict).
        auto answered = answer(**existing, letter, now);
        if (!answered) return answered.error();
        changes.push_back({*answered, request_message(*key), "deadline-answered",
                           "letter " + letter.id + " " + answered_text(*answered)});
        break;
      }
      default:
        break;
    }
  }
  return changes;
}

std::vector<Broker::DeadlineChange> Broker::deadline_changes_on_delivery(
    const MessageRecord& message, TimePoint now) {
  std::vector<DeadlineChange> changes;
  const bool has_request =
      std::any_of(message.letters.begin(), message.letters.end(),
                  [](const NewLetter& l) { return l.type == LetterType::kCertificateRequest; });
  if (!has_request) return changes;
  auto envelope = decode_envelope(message.body);
  if (!envelope) return changes;
  const DeadlinePolicy& policy = config_.deadlines.policy;
  const DeadlineParties parties{message.receiver_endpoint, message.sender_endpoint};
  for (const Letter& letter : envelope->letters) {
    if (letter.type() != LetterType::kCertificateRequest ||
        letter.status == LetterStatus::kCancelled)
      continue;
    auto existing = store_.find_deadline(deadline_key(letter));
    if (!existing) continue;
    if (*existing && letter.status == LetterStatus::kNew) continue;  // delivered again
    if (*existing) {
      if (auto corrected = correct(**existing, letter, now, policy, calendar_))
        changes.push_back({*corrected, message.id, "deadline-corrected", opened_text(*corrected)});
      continue;
    }
    auto opened = open_certificate_deadline(letter, now, parties, policy, calendar_);
    if (!opened) {
      log_warn("no deadline for letter " + letter.id + ": " + opened.error().detail);
      continue;
    }
    if (*opened)
      changes.push_back({**opened, message.id, "deadline-opened", opened_text(**opened)});
  }
  return changes;
}

Result<void> Broker::apply_deadline_changes(Store& store,
                                            const std::vector<DeadlineChange>& changes,
                                            std::int64_t stored_message_id, TimePoint now) {
  for (const auto& c : changes) {
    const std::int64_t id = c.message_id.value_or(stored_message_id);
    if (auto r = store.put_deadline(c.deadline, id, MessageEvent{id, now, c.event, c.detail}); !r)
      return r;
    if (c.deadline.notice_late && c.event == "deadline-opened")
      log_warn("ALERT late discharge notice: letter " + c.deadline.key.letter_id + " to " +
               c.deadline.owed_by + " arrived after the discharge date");
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// The sweep: finds what fell due through the store's index on next_action_at (cost in proportion
// to what is due, not to what is open), then acts on each deadline in a commit of its own, so a
// reminder letter and the step it completes are stored together: never sent twice.

void Broker::arm_sweep() {
  if (stopping_) return;
  sweep_timer_.expires_after(config_.deadlines.sweep_interval);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    asio::co_spawn(io_, sweep(), [this](const std::exception_ptr& e) {
      if (e) log_error("deadline sweep failed");
      arm_sweep();
    });
  });
}

asio::awaitable<void> Broker::sweep() {
  if (sweeping_ || stopping_) co_return;
  sweeping_ = true;
  const TimePoint now = clock_.now();
  auto resending = resend_due(now);
  co_await std::move(resending);
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

asio::awaitable<bool> Broker::act_on(Deadline deadline, TimePoint now) {
  const DeadlinePolicy& policy = config_.deadlines.policy;
  const auto actions = due_actions(deadline, now, policy, calendar_);
  Deadline updated = deadline;
  std::vector<MessageEvent> events;
  std::vector<NewMessage> letters;
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
      const Envelope envelope = broker_envelope(owing->party, *action.reminder, now);
      detail += ": Reminder letter " + envelope.id;
      letters.push_back(broker_message(envelope, *owing, now));
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
  auto shared_letters = std::make_shared<const std::vector<NewMessage>>(std::move(letters));
  auto store_job = [shared_deadline, shared_events, shared_letters,
                    request_id](Store& store) -> Result<std::vector<std::int64_t>> {
    std::vector<std::int64_t> stored;
    for (const auto& letter : *shared_letters) {
      auto accepted = store.accept(letter);
      if (!accepted) return accepted.error();
      if (accepted->kind == AcceptOutcome::Kind::kStored) stored.push_back(accepted->message_id);
    }
    const MessageEvent last = shared_events->empty() ? MessageEvent{} : shared_events->back();
    for (std::size_t i = 0; i + 1 < shared_events->size(); ++i)
      if (auto r = store.append_event((*shared_events)[i]); !r && request_id != 0) return r.error();
    if (auto r = store.put_deadline(*shared_deadline, request_id, last); !r) return r.error();
    return stored;
  };
  auto committing = write<std::vector<std::int64_t>>(std::move(store_job));
  auto stored = co_await std::move(committing);
  if (!stored) {
    log_error("deadline " + deadline.key.letter_id + " not updated: " + stored.error().detail);
    co_return false;
  }
  for (const auto& alert : alerts) log_warn(alert);
  for (const std::int64_t id : *stored) queue_.schedule(id, deadline.owed_by, now);
  if (!stored->empty()) pump();
  co_return true;
}

}  // namespace sektorbro
