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
// Deferred WAL syncs (issue 8; docs/performance.md, "The fsync off the writer's path"): after
// defer_wal_syncs(db), a commit of `db` writes its frames out (so the WAL index never names a
// frame that is not in the file) but leaves their fdatasync to WalSync::sync(), which another
// thread calls while the writer goes on with the next group; the group commit writer tells no
// caller "durable" before that sync has returned (group_commit_writer.hpp). The frames are
// visible to the store's readers before they are durable: a power loss may take back a commit
// nobody was told of, never one somebody was. Two rules keep the file consistent:
//  - the WAL's first sync through each file is a real one (the unix VFS syncs the directory of
//    a new WAL then), and
//  - before any write reaches the database file — a checkpoint copying frames into it — the
//    WAL is made durable (WalSync::sync()): SQLite's checkpoint syncs the WAL before it copies,
//    and that is the sync this VFS defers; a page must never be in the database file while the
//    frame it came from could still be lost.
//
// The PostgreSQL store's fsync happens in the server and is not measured here.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

struct sqlite3;

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

// The WAL syncs a connection's commits owe (see the header). Thread rules: sync() from any
// thread (the writer's checkpoints, the sync stage); the VFS marks syncs owed on the writer's.
class WalSync {
 public:
  // `fd`: a descriptor of the WAL file, owned from here on (fdatasync acts on the file).
  explicit WalSync(int fd) : fd_(fd) {}
  ~WalSync();
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  // Makes durable every frame written before the call: one fdatasync of the WAL if a commit
  // left its sync owed since the last one, none otherwise. SQLITE_OK, or SQLITE_IOERR_FSYNC —
  // and then for good: after a failed fdatasync the kernel may have dropped the pages it could
  // not write, so no later sync can vouch for them (the broker must restart and recover).
  int sync();
  // While off (the default) the VFS syncs each commit itself, as without a WalSync.
  void set_deferring(bool on) { deferring_.store(on); }
  bool deferring() const { return deferring_.load(); }
  // A commit's frames are written; their sync is owed (the VFS, on the writer's thread).
  void owe() { owed_.fetch_add(1, std::memory_order_acq_rel); }
  // For tests and metrics: the fdatasyncs sync() made, and whether one is owed now.
  std::uint64_t syncs_made() const { return syncs_made_.load(); }
  bool owed() const;

 private:
  const int fd_;
  std::atomic<bool> deferring_{false};
  std::atomic<std::uint64_t> owed_{0};  // commits that left their sync owed, ever
  std::atomic<std::uint64_t> syncs_made_{0};
  mutable std::mutex mu_;
  std::uint64_t synced_ = 0;  // owed_ as it was before the last successful fdatasync
  bool failed_ = false;
};

// Attaches a WalSync to `db`, a connection opened through this VFS in WAL mode whose WAL file is
// open (any statement has read the database): its WAL file marks syncs owed instead of making
// them while the WalSync defers, and its database file makes the WAL durable before each write.
// nullptr when that cannot be done (another VFS, no WAL file open, the WAL cannot be opened
// again for syncing): then every commit syncs as before, and so does a second call for the same
// connection. Both files hold a reference to the WalSync until they close, so it outlives the
// connection's last checkpoint whatever the caller drops first.
std::shared_ptr<WalSync> defer_wal_syncs(sqlite3* db);

}  // namespace sektorbro
