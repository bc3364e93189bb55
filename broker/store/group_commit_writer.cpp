#include "broker/store/group_commit_writer.hpp"

#include <pthread.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace sektorbro {

GroupCommitWriter::GroupCommitWriter(Store& store, std::size_t max_batch, bool defer_sync)
    : store_(store),
      max_batch_(std::max<std::size_t>(max_batch, 1)),
      // Before the writer thread starts: until then nothing else writes to the store.
      deferred_(defer_sync && store.defer_sync(true)) {
  if (deferred_) sync_thread_ = std::thread([this] { run_syncs(); });
  thread_ = std::thread([this] { run(); });
}

GroupCommitWriter::~GroupCommitWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
  if (!deferred_) return;
  {
    std::lock_guard lock(sync_mu_);
    sync_stopping_ = true;
  }
  sync_cv_.notify_one();
  sync_thread_.join();
  (void)store_.defer_sync(false);  // nobody writes now: later commits sync themselves again
}

void GroupCommitWriter::hand_to_sync(std::vector<Job>& batch) {
  {
    std::lock_guard lock(sync_mu_);
    for (auto& job : batch) awaiting_sync_.push_back(std::move(job.done));
  }
  sync_cv_.notify_one();
}

void GroupCommitWriter::run_syncs() {
  pthread_setname_np(pthread_self(), "sb-sync");  // for profiles and top -H
  std::vector<std::function<void(const Result<void>&)>> ready;
  for (;;) {
    ready.clear();
    {
      std::unique_lock lock(sync_mu_);
      sync_cv_.wait(lock, [this] { return sync_stopping_ || !awaiting_sync_.empty(); });
      // Stop only once every committed group has been told.
      if (awaiting_sync_.empty()) return;
      ready.swap(awaiting_sync_);
    }
    // Every group in `ready` committed before this call: one fsync makes them all durable.
    const Result<void> durable = store_.sync_committed();
    for (auto& done : ready) {
      try {
        if (done) done(durable);
      } catch (...) {
        // `done` must not throw; the sync thread carries on for the other jobs.
      }
    }
  }
}

void GroupCommitWriter::submit(Job job) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

std::uint64_t GroupCommitWriter::batches_committed() const {
  std::lock_guard lock(mu_);
  return batches_;
}

std::uint64_t GroupCommitWriter::jobs_committed() const {
  std::lock_guard lock(mu_);
  return jobs_;
}

std::uint64_t GroupCommitWriter::batches_replayed() const {
  std::lock_guard lock(mu_);
  return replays_;
}

void GroupCommitWriter::run() {
  pthread_setname_np(pthread_self(), "sb-writer");  // for profiles and top -H
  std::vector<Job> batch;
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // Stop only once the queue is drained: every submitted job gets its `done`.
      if (queue_.empty()) return;
      const std::size_t n = std::min(queue_.size(), max_batch_);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }

    const auto started = std::chrono::steady_clock::now();
    // A job that throws has broken its own contract; its writes may be half done, so the whole
    // batch is dropped and nobody is told "durable".
    const auto apply_all = [&] {
      for (auto& job : batch) {
        try {
          if (job.apply) job.apply(store_);
        } catch (...) {
          return true;
        }
      }
      return false;
    };
    Result<void> result = store_.begin_batch();
    if (result) {
      // Optimistic first (Store::guard_calls): the calls run unguarded. If one failed, its
      // half-done writes are in the batch: roll back and run the same jobs again, each call
      // guarded, so the failure is that call's alone — the outcome a guarded run gives. Jobs
      // only read and write the store, so running them again is safe (commit.hpp).
      store_.guard_calls(false);
      bool threw = apply_all();
      if (!threw && store_.batch_spoiled()) {
        store_.rollback_batch();
        {
          std::lock_guard lock(mu_);
          ++replays_;
        }
        result = store_.begin_batch();
        if (result) threw = apply_all();
      }
      if (result && threw) {
        store_.rollback_batch();
        result = make_error(Errc::kStorage, "store: a job failed inside the batch; rolled back");
      } else if (result) {
        result = store_.commit_batch();
        if (!result) store_.rollback_batch();
      }  // else the replay's begin_batch failed: no batch is open
    }

    if (result) {
      std::lock_guard lock(mu_);
      ++batches_;
      jobs_ += batch.size();
    }
    if (result && observer_)
      observer_(batch.size(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (result && deferred_) {
      hand_to_sync(batch);
      continue;
    }
    for (auto& job : batch) {
      try {
        if (job.done) job.done(result);
      } catch (...) {
        // `done` must not throw; the writer thread carries on for the other jobs.
      }
    }
  }
}

}  // namespace sektorbro
