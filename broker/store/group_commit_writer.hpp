// GroupCommitWriter: the one thread that writes to the Store. Jobs queue up; the writer takes
// every queued job (up to max_batch), runs them inside one batch and commits once — many
// messages, one fsync. Each job's `done` runs after the commit with the commit's result, once
// what it wrote is durable; callers hop back to their own thread from there (e.g. asio::post).
//
// The fsync off the writer's path (Store::defer_sync; docs/performance.md): when the store can
// defer its syncs, a committed group goes to a second thread, `sb-sync`, which makes every group
// committed so far durable with one Store::sync_committed() and then runs their `done`s, in the
// order the groups committed, while the writer runs the next group. Without it (PostgreSQL, the
// memory store, SqliteTuning::defer_wal_sync off) `done` runs on the writer thread after the
// commit, as before.
//
// Thread rules: submit() from any thread. The destructor drains the queue (and the groups
// waiting for their sync), joins, and leaves the store syncing each commit again.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

class GroupCommitWriter {
 public:
  struct Job {
    // Runs inside the batch; its own Store calls are atomic. Stash outputs in the capture.
    // It may run twice — a group replayed guarded after a failed optimistic run (run()) — so it
    // only reads and writes the store, and its second run overwrites what the first stashed.
    std::function<void(Store&)> apply;
    // After commit: ok means everything `apply` wrote is durable.
    std::function<void(const Result<void>& committed)> done;
  };

  // `defer_sync`: let the store leave each commit's fsync to the sync thread when it can.
  GroupCommitWriter(Store& store, std::size_t max_batch, bool defer_sync = true);
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  void submit(Job job);

  // Called on the writer thread after each committed group: its jobs and the seconds the
  // transaction took, its fsync included unless deferred to the sync thread (the broker's
  // metrics; the fsyncs themselves are timed by the store, timed_vfs.hpp). Set before the first
  // submit().
  using Observer = std::function<void(std::size_t jobs, double seconds)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

  // Counters for the benchmark and /v1/health.
  std::uint64_t batches_committed() const;
  std::uint64_t jobs_committed() const;
  // Groups run a second time guarded because a call failed in the optimistic run (Store::
  // guard_calls): a refused write, a stale decision, a storage error.
  std::uint64_t batches_replayed() const;
  // Whether committed groups wait for the sync thread (the store defers its syncs).
  bool syncs_off_the_writer() const { return deferred_; }

 private:
  void run();
  void run_syncs();
  // The `done`s of committed groups, in commit order, for the sync thread.
  void hand_to_sync(std::vector<Job>& batch);

  Store& store_;
  const std::size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::uint64_t batches_ = 0;
  Observer observer_;
  std::uint64_t jobs_ = 0;
  std::uint64_t replays_ = 0;
  const bool deferred_;
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::vector<std::function<void(const Result<void>&)>> awaiting_sync_;
  bool sync_stopping_ = false;
  std::thread sync_thread_;  // started only when deferred_
  std::thread thread_;
};

}  // namespace sektorbro
