#include "broker/server/retention_sweeper.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "broker/core/log.hpp"
#include "broker/server/commit.hpp"
#include "broker/store/retention_rule.hpp"

namespace sektorbro {
namespace {

// Pages given back to the file system after each deletion job: bounded, so a job stays short
// (4 MiB at SQLite's 4 KiB pages).
constexpr int kReclaimPagesPerJob = 1024;
// Candidates read per look: more than a batch, since held and unfinished ones are skipped.
constexpr int kReadFactor = 4;

struct JobCounts {
  std::int64_t deleted = 0;
  std::int64_t skipped = 0;
};

}  // namespace

RetentionSweeper::RetentionSweeper(asio::io_context& io, const RetentionConfig& config,
                                   Store& store, GroupCommitWriter& writer, const Clock& clock)
    : io_(io), config_(config), store_(store), writer_(writer), clock_(clock), timer_(io) {}

void RetentionSweeper::start() {
  if (!config_.enabled) return;
  stopping_ = false;
  asio::post(io_, [this] { arm(); });
}

void RetentionSweeper::stop() {
  stopping_ = true;
  timer_.cancel();
}

void RetentionSweeper::arm() {
  if (stopping_) return;
  timer_.expires_after(config_.interval);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    asio::co_spawn(io_, pass(), [this](const std::exception_ptr& e, RetentionPassCounts) {
      if (e) log_error("retention pass failed");
      arm();
    });
  });
}

asio::awaitable<RetentionPassCounts> RetentionSweeper::pass() {
  RetentionPassCounts counts;
  if (running_ || stopping_) co_return counts;
  running_ = true;
  const TimePoint now = clock_.now();
  auto bodies = stage(RetentionStage::kBody, now, counts);
  co_await std::move(bodies);
  auto records = stage(RetentionStage::kRecord, now, counts);
  co_await std::move(records);
  running_ = false;
  if (counts.bodies_deleted + counts.records_deleted > 0)
    log_info("retention: " + std::to_string(counts.bodies_deleted) + " bodies and " +
             std::to_string(counts.records_deleted) + " records deleted, " +
             std::to_string(counts.skipped) + " skipped");
  co_return counts;
}

asio::awaitable<void> RetentionSweeper::stage(RetentionStage stage, TimePoint now,
                                              RetentionPassCounts& counts) {
  const RetentionPolicy& policy = config_.policy;
  // No message received after this can be due (its periods count from its last event, which
  // is not before its receipt).
  const int days =
      stage == RetentionStage::kBody ? shortest_body_days(policy) : policy.record_days;
  if (days <= 0) co_return;
  const TimePoint received_before = now - std::chrono::hours{24} * days;
  const RetentionAction action = stage == RetentionStage::kBody ? RetentionAction::kDeleteBody
                                                                : RetentionAction::kDeleteRecord;
  RetentionCursor cursor;
  while (!stopping_) {
    auto candidates =
        store_.retention_candidates(stage, received_before, cursor, config_.batch * kReadFactor);
    if (!candidates) {
      log_error("retention: " + candidates.error().detail);
      counts.failed = true;
      co_return;
    }
    if (candidates->empty()) co_return;
    cursor = RetentionCursor{candidates->back().received_at, candidates->back().message_id};
    std::vector<std::int64_t> due = due_for(*candidates, policy, now, action);
    for (std::size_t from = 0; from < due.size() && !stopping_;
         from += static_cast<std::size_t>(config_.batch)) {
      std::vector<std::int64_t> ids(
          due.begin() + static_cast<std::ptrdiff_t>(from),
          due.begin() + static_cast<std::ptrdiff_t>(
                            std::min(due.size(), from + static_cast<std::size_t>(config_.batch))));
      auto job = [ids = std::move(ids), stage, now](Store& store) -> Result<JobCounts> {
        JobCounts c;
        for (const std::int64_t id : ids) {
          auto r = stage == RetentionStage::kBody ? store.delete_body(id, now)
                                                  : store.delete_record(id, now);
          if (r) {
            ++c.deleted;
          } else if (r.error().code == Errc::kConflict || r.error().code == Errc::kNotFound) {
            ++c.skipped;  // held meanwhile, or already gone
          } else {
            return r.error();
          }
        }
        if (auto r = store.reclaim_space(kReclaimPagesPerJob); !r) return r.error();
        return c;
      };
      auto committing = commit<JobCounts>(writer_, std::move(job));
      auto done = co_await std::move(committing);
      if (!done) {
        log_error("retention: " + done.error().detail);
        counts.failed = true;
        co_return;
      }
      (stage == RetentionStage::kBody ? counts.bodies_deleted : counts.records_deleted) +=
          done->deleted;
      counts.skipped += done->skipped;
    }
  }
}

}  // namespace sektorbro
