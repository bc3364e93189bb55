// RetentionSweeper: the shell of retention (issue 11, item 4; docs/retention.md). Every
// retention.interval it walks the store's candidates (retention_candidates: messages received
// long enough ago, in (received_at, id) order, read on the io thread), lets the pure rule
// (broker/store/retention_rule.hpp) say which bodies and which minimal records are due, and
// deletes them through the GroupCommitWriter in jobs of retention.batch, each followed by an
// incremental vacuum of a bounded number of pages — small jobs, so intake's jobs interleave and
// never wait long behind a pass. A hold placed meanwhile wins: the store refuses the deletion
// (kConflict) and the message is skipped.
//
// Thread rules: io thread only.
#pragma once

#include <cstdint>

#include "broker/config/config.hpp"
#include "broker/core/clock.hpp"
#include "broker/http/asio.hpp"
#include "broker/store/group_commit_writer.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

struct RetentionPassCounts {
  std::int64_t bodies_deleted = 0;
  std::int64_t records_deleted = 0;
  std::int64_t skipped = 0;  // refused by the store meanwhile (a hold, or already gone)
  bool failed = false;       // a read or a commit failed; the next pass goes on
};

class RetentionSweeper {
 public:
  RetentionSweeper(asio::io_context& io, const RetentionConfig& config, Store& store,
                   GroupCommitWriter& writer, const Clock& clock);

  // Does nothing unless config.enabled.
  void start();
  void stop();
  // One pass now (also what the timer runs); a pass already running makes this return zeros.
  asio::awaitable<RetentionPassCounts> pass();

 private:
  void arm();
  asio::awaitable<void> stage(RetentionStage stage, TimePoint now, RetentionPassCounts& counts);

  asio::io_context& io_;
  const RetentionConfig& config_;
  Store& store_;
  GroupCommitWriter& writer_;
  const Clock& clock_;
  asio::steady_timer timer_;
  bool running_ = false;
  bool stopping_ = false;
};

}  // namespace sektorbro
