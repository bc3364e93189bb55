// The scale benchmark's bulk loader: fills a SQLite store, through the store's own code
// (SqliteStore), with a history of delivered and receipted CertificateRequests jobcenter "jc" →
// psychiatry "psy" and with open certificate deadlines on the first of them, as a broker that
// has run for a long time would hold them.
//
// Every call into the Store interface is in one function, write_history_batch() in
// scale_loader.cpp (begin_batch, store_message with a MessagePlan, update_delivery, set_receipt,
// commit_batch), so a change of that interface touches that function only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "bench/sektorbro_load.hpp"
#include "broker/core/result.hpp"
#include "broker/core/time.hpp"

namespace sektorbro::bench {

struct HistorySpec {
  std::uint64_t messages = 1'000'000;
  std::uint64_t open_deadlines = 1'000'000;  // at most `messages`; on the oldest requests
  TimePoint now{};                           // the broker's "now" the history ends at
  int batch = 5'000;                         // messages per transaction
  // The letters' size in bytes (0: a CertificateRequest's natural size, ~1.3 KB of XML).
  std::size_t body_bytes = 0;
  // SQLite's knobs for the load only (the broker later opens the file with its defaults): a
  // bigger page cache and fewer WAL checkpoints write each B-tree page fewer times.
  int cache_mib = 32;
  int wal_autocheckpoint_pages = 1000;
  // Stop after the batch that ends past this (a time-boxed load): fewer messages than asked.
  SteadyClock::time_point stop_at = SteadyClock::time_point::max();
  // A resumed load: messages [0, first) are in the store already (an earlier load with the same
  // `messages` and `now`, stopped after a committed batch); loading goes on with message `first`.
  std::uint64_t first = 0;
};

// Deadlines are spread evenly over a year that starts ten days before `now` (so about 2.7 %
// are overdue, flagged so, with nothing left to do); the others' next action lies beyond the
// benchmark's run, so the broker's sweep finds nothing due. All messages are delivered with a
// positive receipt, so nothing is pending and no resend is due after a restart.
// A second thread makes the next batch (XML, hashes) while the store writes the current one.
// Returns how many messages were loaded (`messages`, or fewer when stop_at came first).
Result<std::uint64_t> load_history(const std::string& db_path, const BenchParties& parties,
                          const HistorySpec& spec,
                          const std::function<void(std::uint64_t done)>& progress);

}  // namespace sektorbro::bench
