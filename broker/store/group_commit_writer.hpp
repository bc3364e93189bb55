// GroupCommitWriter: the one thread that writes to the Store. Jobs queue up; the writer takes
// every queued job (up to max_batch), runs them inside one batch and commits once — many
// messages, one fsync. Each job's `done` runs on the writer thread after the commit with the
// commit's result; callers hop back to their own thread from there (e.g. asio::post).
//
// Thread rules: submit() from any thread. The destructor drains the queue and joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

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

  GroupCommitWriter(Store& store, std::size_t max_batch);
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  void submit(Job job);

  // Called on the writer thread after each committed group: its jobs and the seconds the
  // transaction took, fsync included (the broker's metrics). Set before the first submit().
  using Observer = std::function<void(std::size_t jobs, double seconds)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

  // Counters for the benchmark and /v1/health.
  std::uint64_t batches_committed() const;
  std::uint64_t jobs_committed() const;
  // Groups run a second time guarded because a call failed in the optimistic run (Store::
  // guard_calls): a refused write, a stale decision, a storage error.
  std::uint64_t batches_replayed() const;

 private:
  void run();

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
  std::thread thread_;
};

}  // namespace sektorbro
