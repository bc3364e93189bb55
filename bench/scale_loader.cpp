#include "bench/scale_loader.hpp"

#include <cstdio>
#include <future>
#include <optional>
#include <vector>

#include "broker/core/identifiers.hpp"
#include "broker/deadlines/deadline.hpp"
#include "broker/store/sqlite_store.hpp"

namespace sektorbro::bench {
namespace {

using std::chrono::days;

// One historical message: what was stored on arrival and what happened to it afterwards.
struct HistoricalMessage {
  NewMessage message;
  TimePoint delivered_at{};
  TimePoint receipt_at{};
  std::optional<Deadline> deadline;  // opened on delivery, still open
};

// THE one place that calls the Store interface. One transaction per batch: each message is
// stored by a plan (events "received" and "stored", its deadline if any, as the intake core
// would plan them), marked delivered (attempt 1) and given its positive receipt.
Result<void> write_history_batch(Store& store, const std::vector<HistoricalMessage>& batch) {
  if (auto r = store.begin_batch(); !r) return r.error();
  store.guard_calls(false);  // as the broker's writer runs a group first (GroupCommitWriter)
  for (const HistoricalMessage& h : batch) {
    const TimePoint at = h.message.received_at;
    MessagePlan plan;
    plan.message = h.message;
    plan.events = {{0, at, "received", "from jc", "jc"}, {0, at, "stored", "for psy", ""}};
    if (h.deadline) plan.deadlines.push_back(DeadlineWrite{*h.deadline, 0, MessageEvent{}, false});
    auto stored = store.store_message(plan);
    if (!stored) {
      store.rollback_batch();
      return stored.error();
    }
    const std::int64_t id = *stored;
    if (auto r = store.update_delivery(id, DeliveryState::kDelivered, 1, h.delivered_at, "",
                                       {id, h.delivered_at, "delivered", "200 from psy", "psy"});
        !r) {
      store.rollback_batch();
      return r.error();
    }
    if (auto r = store.set_receipt(id, ReceiptState::kPositive,
                                   {id, h.receipt_at, "receipt-positive", "", "psy"});
        !r) {
      store.rollback_batch();
      return r.error();
    }
  }
  return store.commit_batch();
}

}  // namespace

Result<std::uint64_t> load_history(const std::string& db_path, const BenchParties& parties,
                                   const HistorySpec& spec,
                                   const std::function<void(std::uint64_t done)>& progress) {
  SqliteTuning tuning;
  tuning.cache_kib = spec.cache_mib * 1024;
  tuning.wal_autocheckpoint = spec.wal_autocheckpoint_pages;
  auto opened = SqliteStore::open(db_path, tuning);
  if (!opened) return opened.error();
  Store& store = **opened;

  const LetterTemplate letters(parties, spec.body_bytes);
  const std::string acceptance =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Acceptance xmlns=\"urn:sektorbro:acceptance\">"
      "<Status>accepted</Status></Acceptance>\n";
  const auto year = std::chrono::duration_cast<Duration>(days(365));
  const TimePoint history_start = spec.now - year;
  const TimePoint deadline_start = spec.now - days(10);
  const std::uint64_t n = spec.messages;
  const std::uint64_t first_deadline = n - std::min(spec.open_deadlines, n);

  // Messages [from, from + batch) as the history holds them. Pure: runs on its own thread.
  auto make_batch = [&](std::uint64_t from) {
    std::vector<HistoricalMessage> batch;
    batch.reserve(static_cast<std::size_t>(spec.batch));
    for (std::uint64_t i = from; i < n && batch.size() < static_cast<std::size_t>(spec.batch);
         ++i) {
      HistoricalMessage h;
      NewMessage& m = h.message;
      const std::string body = letters.with_id('H', i);
      char letter_id[32];  // 14 characters while i < 10^13
      std::snprintf(letter_id, sizeof letter_id, "H%013llu", static_cast<unsigned long long>(i));
      m.envelope_id = letter_id;
      m.sender_gln = parties.jobcenter.gln;
      m.receiver_gln = parties.psychiatry.gln;
      m.sender_endpoint = "jc";
      m.receiver_endpoint = "psy";
      m.letters.push_back(NewLetter{letter_id, LetterType::kCertificateRequest, sha256_hex(body),
                                    LetterStatus::kNew});
      m.body = body;
      m.acceptance = acceptance;
      m.receipt_requested = true;
      m.contains_cpr = true;
      m.received_at = history_start + year * static_cast<std::int64_t>(i) /
                                          static_cast<std::int64_t>(std::max<std::uint64_t>(n, 1));
      h.delivered_at = m.received_at + std::chrono::milliseconds{40};
      h.receipt_at = m.received_at + std::chrono::seconds{3};
      if (i >= first_deadline) {
        const std::int64_t k = static_cast<std::int64_t>(i - first_deadline);
        const std::int64_t total = static_cast<std::int64_t>(n - first_deadline);
        Deadline d;
        d.kind = DeadlineKind::kCertificate;
        d.key = DeadlineKey{parties.jobcenter.gln, letter_id};
        d.owed_by = "psy";
        d.owed_to = "jc";
        d.form = "LÆ125";
        d.due_end = deadline_start + year * k / total;
        d.opened_at = d.due_end - days(14);
        d.due = std::chrono::year_month_day{std::chrono::floor<days>(d.due_end)};
        d.overdue = d.due_end < spec.now;
        if (!d.overdue)  // the next reminder lies beyond any benchmark run
          d.next_action_at = std::max(d.due_end - days(3), spec.now + days(1));
        h.deadline = std::move(d);
      }
      batch.push_back(std::move(h));
    }
    return batch;
  };

  // The next batch is made while the store writes this one.
  auto next = std::async(std::launch::async, make_batch, spec.first);
  for (std::uint64_t i = spec.first; i < n;) {
    const std::vector<HistoricalMessage> batch = next.get();
    const std::uint64_t after = i + batch.size();
    if (after < n) next = std::async(std::launch::async, make_batch, after);
    if (auto r = write_history_batch(store, batch); !r) return r.error();
    i = after;
    if (progress) progress(i);
    if (i < n && SteadyClock::now() >= spec.stop_at) return i;  // `next` is waited for
  }
  return n;
}

}  // namespace sektorbro::bench
