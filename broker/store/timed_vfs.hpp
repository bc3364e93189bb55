// TimedVfs: SQLite's fsync latency, measured where it happens (issue 10: "fsync latency
// histograms"). A SQLite VFS named kTimedVfsName that delegates every method to the default VFS
// (unix on Debian) and times each file's xSync — the fsync/fdatasync of the database and its
// WAL — reporting the seconds to every SyncObserver alive in the process.
//
// SqliteStore opens its writer connection through it (the only connection that commits, so the
// only one that syncs; the readers keep the default VFS). It is registered as a non-default VFS:
// nothing else in the process is affected. Locking, shared memory (the WAL index) and the file
// descriptors are the default VFS's own, so connections through either VFS share one database
// correctly.
//
// It also combines writes (issue 8; write_combiner.hpp): SQLite writes each WAL frame as two
// writes, a commit as hundreds, and a checkpoint copies page by page into the database file;
// through this VFS consecutive writes to the WAL or the database file reach it as one, when the
// file is next synced, read, sized, truncated, controlled, mapped or closed, or a write does not
// continue them. Contract: a connection through this VFS runs with synchronous=FULL (or EXTRA),
// so that SQLite syncs the file — and the run is written — before the WAL index makes anything
// visible to other connections: a commit's frames (wal.c: the WAL's sync precedes the index
// header's update) and a checkpoint's pages (the database file's sync precedes nBackfill's).
// With synchronous=NORMAL a reader could see a commit whose frames are still held here. A held
// run is process memory, lost with the process like any write not yet synced; a failed write of
// it is returned by the method that flushed, so the transaction or checkpoint fails and nothing
// is half-stored.
//
// Thread rules: register_timed_vfs() and the observers may be used from any thread; an observer
// is called on the thread that synced (the store's writer thread) and must be quick. A
// SyncObserver's destructor waits for a call into it that is under way.
//
// The PostgreSQL store's fsync happens in the server and is not measured here.
#pragma once

#include <functional>

namespace sektorbro {

inline constexpr const char* kTimedVfsName = "sektorbro-timed";

// Registers the VFS once (later calls do nothing) and returns its name for sqlite3_open_v2, or
// nullptr when it could not be registered (then open with the default VFS: nothing is timed).
const char* register_timed_vfs();

// While alive, `on_sync` is called with the seconds each xSync through the VFS took. Every
// observer alive sees every sync in the process (one broker per process in production).
class SyncObserver {
 public:
  explicit SyncObserver(std::function<void(double seconds)> on_sync);
  ~SyncObserver();
  SyncObserver(const SyncObserver&) = delete;
  SyncObserver& operator=(const SyncObserver&) = delete;

 private:
  friend void notify_sync_observers(double seconds);
  std::function<void(double)> on_sync_;
};

// Called by the VFS after each xSync (exposed for the VFS's own file; not for other callers).
void notify_sync_observers(double seconds);

}  // namespace sektorbro
