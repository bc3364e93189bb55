// WalCheckpointer: checkpoints a WAL-mode SQLite file mostly off the writer thread (issue 8, the
// p99 at 1,000 msg/s; docs/performance.md, "The tail at 1,000 msg/s").
//
// SQLite's automatic checkpoint runs inside a commit on the writer's connection: it copies every
// page of the WAL into the database file and syncs that file while every answer queued behind the
// commit waits. A checkpoint on another thread alone does not do: under a writer that never
// pauses it never reaches the end of the WAL (frames keep arriving), so SQLite never starts the WAL
// from its beginning again and it grows without bound. So the work is split:
//
//  1. Once the WAL holds `start_pages` frames, a thread of its own runs a PASSIVE checkpoint on its
//     own connection — the bulk: every frame written so far — and then syncs the database file
//     (SQLite syncs it only after a checkpoint that reached the end of the WAL). The writer goes on
//     committing meanwhile.
//  2. After the next commit that finds the background pass done and at most `tail_pages` frames
//     not yet copied, the writer runs a PASSIVE checkpoint itself: only those frames, and SQLite's
//     sync of the database file, which now has little left to write. It reaches the end of the
//     WAL, so the writer's next transaction starts the WAL from its beginning (SQLite's restart).
//     With more frames left, another background pass is asked for instead.
//  3. Should the background fall behind (`inline_pages` frames in the WAL), the writer copies
//     everything itself, as SQLite's automatic checkpoint does: the WAL stays bounded.
//
// Durability is SQLite's own: every checkpoint here is SQLite's PASSIVE checkpoint, which syncs
// the WAL before copying and the database before the WAL may be started again; the extra sync of
// step 1 only writes earlier what step 2 would write.
//
// Thread rules: construct and destroy on the thread that owns `writer` (the store's writer thread
// or before it starts); the WAL hook runs on whichever thread commits on `writer`. `own` is used by
// the checkpointer's thread alone and closed by the destructor. stats() and wait_for_passes() from
// any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

struct sqlite3;

namespace sektorbro {

class WalCheckpointer {
 public:
  struct Limits {
    int start_pages = 1000;   // WAL frames that start a background pass
    int tail_pages = 250;     // the writer finishes a checkpoint with at most this many left
    int inline_pages = 8000;  // the writer copies everything itself (the background fell behind)
  };
  struct Stats {
    std::uint64_t background_passes = 0;   // passes run by the checkpointer's thread
    std::uint64_t background_frames = 0;   // frames those passes found copied when they ended
    std::uint64_t writer_tails = 0;        // checkpoints the writer finished (step 2)
    std::uint64_t writer_tail_frames = 0;  // frames the writer had left to copy in them
    std::uint64_t writer_whole = 0;        // checkpoints the writer ran whole (step 3)
  };

  // Installs the WAL hook on `writer` (replacing SQLite's automatic checkpoint) and starts the
  // thread, which owns `own`: a connection to the same file.
  WalCheckpointer(sqlite3* writer, sqlite3* own, Limits limits);
  // Removes the hook, stops the thread (a pass under way finishes) and closes `own`.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  Stats stats() const;
  // Waits at most `bound` until `passes` background passes have ended; false on timeout.
  bool wait_for_passes(std::uint64_t passes, std::chrono::milliseconds bound) const;

 private:
  static int on_commit(void* self, sqlite3* db, const char* name, int frames);
  void committed(sqlite3* db, const char* name, int frames);
  void run();

  sqlite3* const writer_;
  sqlite3* const own_;
  const Limits limits_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;  // the thread waits for work; wait_for_passes for passes
  bool stopping_ = false;
  bool requested_ = false;        // a background pass is asked for
  bool running_ = false;          // a background pass is under way
  bool pass_done_ = false;        // a pass ended in this generation of the WAL
  int backfilled_ = 0;            // frames copied when it ended
  std::uint64_t generation_ = 0;  // counts the WAL's restarts as the writer sees them
  int last_frames_ = 0;           // writer thread only
  Stats stats_;
  std::thread thread_;
};

}  // namespace sektorbro
