#include "broker/store/wal_checkpointer.hpp"

#include <pthread.h>
#include <sqlite3.h>

namespace sektorbro {

WalCheckpointer::WalCheckpointer(sqlite3* writer, sqlite3* own, Limits limits)
    : writer_(writer), own_(own), limits_(limits), thread_([this] { run(); }) {
  sqlite3_wal_hook(writer_, &WalCheckpointer::on_commit, this);
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  sqlite3_close_v2(own_);
}

WalCheckpointer::Stats WalCheckpointer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool WalCheckpointer::wait_for_passes(std::uint64_t passes, std::chrono::milliseconds bound) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, bound, [&] { return stats_.background_passes >= passes; });
}

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* name, int frames) {
  static_cast<WalCheckpointer*>(self)->committed(db, name, frames);
  return SQLITE_OK;  // a checkpoint that could not run now is tried again after a later commit
}

// After each commit on the writer's connection, on its thread; `frames` is the WAL's length.
void WalCheckpointer::committed(sqlite3* db, const char* name, int frames) {
  enum class Step { kNone, kTail, kWhole } step = Step::kNone;
  int tail = 0;
  {
    std::lock_guard lock(mu_);
    if (frames < last_frames_) {  // the WAL started again from its beginning
      ++generation_;
      pass_done_ = false;
    }
    last_frames_ = frames;
    if (frames < limits_.start_pages) return;
    if (frames >= limits_.inline_pages) {
      step = Step::kWhole;
      ++stats_.writer_whole;
    } else if (running_ || requested_) {
      return;
    } else if (pass_done_ && frames - backfilled_ <= limits_.tail_pages) {
      step = Step::kTail;
      tail = frames - backfilled_;
      pass_done_ = false;
      ++stats_.writer_tails;
      stats_.writer_tail_frames += static_cast<std::uint64_t>(tail > 0 ? tail : 0);
    } else {
      requested_ = true;
    }
  }
  if (step == Step::kNone) {
    cv_.notify_all();
    return;
  }
  // The writer's own PASSIVE checkpoint: the tail (step 2) or everything (step 3). SQLITE_BUSY
  // (the background pass holds the checkpoint lock, or a reader the first frames) leaves the WAL
  // as it is until a later commit.
  (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

void WalCheckpointer::run() {
  pthread_setname_np(pthread_self(), "sb-checkpoint");  // for profiles and top -H
  // A connection that has not read the file yet does not know it is in WAL mode, and its
  // checkpoints would do nothing (pnLog -1): read the header once.
  (void)sqlite3_exec(own_, "PRAGMA schema_version", nullptr, nullptr, nullptr);
  for (;;) {
    std::uint64_t generation = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || requested_; });
      if (stopping_) return;
      requested_ = false;
      running_ = true;
      generation = generation_;
    }
    int log = 0;
    int copied = 0;
    const int rc =
        sqlite3_wal_checkpoint_v2(own_, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc == SQLITE_OK && copied >= 0 && copied < log) {
      // A pass that did not reach the end of the WAL leaves the database file unsynced; sync it
      // now, so the writer's sync in step 2 finds little left to write.
      sqlite3_file* file = nullptr;
      if (sqlite3_file_control(own_, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK &&
          file != nullptr && file->pMethods != nullptr)
        (void)file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
    }
    {
      std::lock_guard lock(mu_);
      running_ = false;
      ++stats_.background_passes;
      if (rc == SQLITE_OK && copied > 0) {
        stats_.background_frames += static_cast<std::uint64_t>(copied);
        // A pass from an earlier generation of the WAL says nothing about this one.
        if (generation == generation_) {
          pass_done_ = true;
          backfilled_ = copied;
        }
      }
    }
    cv_.notify_all();
  }
}

}  // namespace sektorbro
