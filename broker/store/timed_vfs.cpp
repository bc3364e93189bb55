#include "broker/store/timed_vfs.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <new>
#include <string_view>
#include <vector>

#include "broker/store/write_combiner.hpp"

namespace sektorbro {
namespace {

// The observers alive; calls hold the mutex, so removing one waits for a call into it.
std::mutex& observers_mutex() {
  static std::mutex m;
  return m;
}
std::vector<SyncObserver*>& observers() {
  static std::vector<SyncObserver*> list;
  return list;
}

// A file of the timed VFS: its own header, then the default VFS's file (szOsFile of both).
// The WAL and the database file also have a WriteCombiner (from a successful open to its close),
// and, once defer_wal_syncs() has attached one, the connection's WalSync (until the close).
struct TimedFile {
  sqlite3_file base;
  sqlite3_file* real;
  WriteCombiner* run;
  int open_flags;
  const char* name;  // SQLite keeps it valid until xClose
  std::shared_ptr<WalSync>* wal_sync;
  bool synced_for_real;  // the WAL: a real sync made through this file (see the header)
};

// The longest run of bytes held: the most the unix VFS writes in one call (os_unix.c's
// seekAndWrite keeps the low 17 bits of a length: SQLite itself never writes more at once), so
// 31 WAL frames of a 4 KiB page; a commit group of ~50 letters is ~7 such writes instead of
// ~400, and a checkpoint's page copies, in page order, one write per run of adjacent pages.
constexpr std::size_t kRunBytes = 0x1ffff;

sqlite3_vfs* root_of(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }
TimedFile* timed_of(sqlite3_file* f) { return reinterpret_cast<TimedFile*>(f); }
sqlite3_file* real_of(sqlite3_file* f) { return timed_of(f)->real; }

// Writes a file's held run, if any: SQLITE_OK, or the real write's error, which the method that
// flushed returns in place of its own result, so SQLite fails the transaction or checkpoint (a
// commit's frames are flushed by its xSync, before the WAL index makes them visible; a
// checkpoint's pages by the database file's xSync, before the WAL index says they were copied:
// see the header).
int flush(sqlite3_file* f) {
  TimedFile* file = timed_of(f);
  if (file->run == nullptr || file->run->empty()) return SQLITE_OK;
  const std::string_view run = file->run->bytes();
  const int rc = file->real->pMethods->xWrite(file->real, run.data(), static_cast<int>(run.size()),
                                              file->run->offset());
  file->run->clear();
  return rc;
}

// --- the file's methods: each delegates to the default VFS's file; the WAL's and the database
// file's writes are combined, and every method that could observe the file writes the held run
// out first ---

int timed_close(sqlite3_file* f) {
  TimedFile* file = timed_of(f);
  const int flushed = flush(f);
  sqlite3_file* real = file->real;
  const int rc = real->pMethods ? real->pMethods->xClose(real) : SQLITE_OK;
  delete file->run;
  file->run = nullptr;
  delete file->wal_sync;
  file->wal_sync = nullptr;
  f->pMethods = nullptr;
  return flushed != SQLITE_OK ? flushed : rc;
}
int timed_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 at) {
  if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_of(f)->pMethods->xRead(real_of(f), buf, n, at);
}
// The database file of a connection whose WAL syncs are deferred: the WAL is made durable before
// anything is written here (see the header). SQLITE_OK, or the failed sync's error.
int wal_durable_first(sqlite3_file* f) {
  TimedFile* file = timed_of(f);
  if (file->wal_sync == nullptr || (file->open_flags & SQLITE_OPEN_MAIN_DB) == 0) return SQLITE_OK;
  return (*file->wal_sync)->sync();
}

int timed_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 at) {
  if (const int rc = wal_durable_first(f); rc != SQLITE_OK) return rc;
  WriteCombiner* run = timed_of(f)->run;
  const auto bytes = static_cast<std::size_t>(n);
  if (run != nullptr && !run->accepts(at, bytes))
    if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  if (run == nullptr || !run->accepts(at, bytes))  // a journal, or more than a run holds
    return real_of(f)->pMethods->xWrite(real_of(f), buf, n, at);
  run->append(buf, bytes, at);
  return SQLITE_OK;
}
int timed_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (const int rc = wal_durable_first(f); rc != SQLITE_OK) return rc;
  if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
// The one timed method (the held run's write is not part of the time: it is not the fsync).
// A WAL whose syncs are deferred writes its held run out and leaves the sync owed (see the
// header), once a real one has been made through it.
int timed_sync(sqlite3_file* f, int flags) {
  if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  TimedFile* file = timed_of(f);
  if (file->wal_sync != nullptr && (file->open_flags & SQLITE_OPEN_WAL) != 0 &&
      file->synced_for_real && (*file->wal_sync)->deferring()) {
    (*file->wal_sync)->owe();
    return SQLITE_OK;
  }
  const auto began = std::chrono::steady_clock::now();
  const int rc = real_of(f)->pMethods->xSync(real_of(f), flags);
  notify_sync_observers(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
  if (rc == SQLITE_OK) file->synced_for_real = true;
  return rc;
}
int timed_file_size(sqlite3_file* f, sqlite3_int64* size) {
  if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
int timed_lock(sqlite3_file* f, int level) {
  return real_of(f)->pMethods->xLock(real_of(f), level);
}
int timed_unlock(sqlite3_file* f, int level) {
  return real_of(f)->pMethods->xUnlock(real_of(f), level);
}
int timed_check_reserved_lock(sqlite3_file* f, int* out) {
  return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int timed_file_control(sqlite3_file* f, int op, void* arg) {
  if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int timed_sector_size(sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
int timed_device_characteristics(sqlite3_file* f) {
  return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int timed_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  sqlite3_file* real = real_of(f);
  if (real->pMethods->iVersion < 2 || !real->pMethods->xShmMap) return SQLITE_IOERR_SHMMAP;
  return real->pMethods->xShmMap(real, region, size, extend, out);
}
int timed_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  sqlite3_file* real = real_of(f);
  if (real->pMethods->iVersion < 2 || !real->pMethods->xShmLock) return SQLITE_IOERR_SHMLOCK;
  return real->pMethods->xShmLock(real, offset, n, flags);
}
void timed_shm_barrier(sqlite3_file* f) {
  sqlite3_file* real = real_of(f);
  if (real->pMethods->iVersion >= 2 && real->pMethods->xShmBarrier)
    real->pMethods->xShmBarrier(real);
}
int timed_shm_unmap(sqlite3_file* f, int delete_flag) {
  sqlite3_file* real = real_of(f);
  if (real->pMethods->iVersion < 2 || !real->pMethods->xShmUnmap) return SQLITE_OK;
  return real->pMethods->xShmUnmap(real, delete_flag);
}
int timed_fetch(sqlite3_file* f, sqlite3_int64 at, int n, void** out) {
  if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  sqlite3_file* real = real_of(f);
  if (real->pMethods->iVersion < 3 || !real->pMethods->xFetch) {
    *out = nullptr;  // no memory map: SQLite reads instead
    return SQLITE_OK;
  }
  return real->pMethods->xFetch(real, at, n, out);
}
int timed_unfetch(sqlite3_file* f, sqlite3_int64 at, void* p) {
  sqlite3_file* real = real_of(f);
  if (real->pMethods->iVersion < 3 || !real->pMethods->xUnfetch) return SQLITE_OK;
  return real->pMethods->xUnfetch(real, at, p);
}

const sqlite3_io_methods kTimedIo = {
    3,
    timed_close,
    timed_read,
    timed_write,
    timed_truncate,
    timed_sync,
    timed_file_size,
    timed_lock,
    timed_unlock,
    timed_check_reserved_lock,
    timed_file_control,
    timed_sector_size,
    timed_device_characteristics,
    timed_shm_map,
    timed_shm_lock,
    timed_shm_barrier,
    timed_shm_unmap,
    timed_fetch,
    timed_unfetch,
};

// --- the VFS's methods: xOpen wraps the file; the rest is the default VFS's ---

int timed_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  sqlite3_vfs* root = root_of(vfs);
  auto* file = reinterpret_cast<TimedFile*>(f);
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  file->run = nullptr;
  file->open_flags = flags;
  file->name = name;
  file->wal_sync = nullptr;
  file->synced_for_real = false;
  std::memset(file->real, 0, static_cast<std::size_t>(root->szOsFile));
  const int rc = root->xOpen(root, name, file->real, flags, out_flags);
  // SQLite calls xClose whenever pMethods is set, even after a failed open: mirror the real file.
  file->base.pMethods = file->real->pMethods ? &kTimedIo : nullptr;
  if (rc == SQLITE_OK && (flags & (SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_DB)) != 0) {
    try {
      file->run = new WriteCombiner(kRunBytes);
    } catch (const std::bad_alloc&) {
      file->run = nullptr;  // no memory for a run: the writes go to the file as they come
    }
  }
  return rc;
}
int timed_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return root_of(vfs)->xDelete(root_of(vfs), name, sync_dir);
}
int timed_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return root_of(vfs)->xAccess(root_of(vfs), name, flags, out);
}
int timed_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return root_of(vfs)->xFullPathname(root_of(vfs), name, n, out);
}
void* timed_dl_open(sqlite3_vfs* vfs, const char* name) {
  return root_of(vfs)->xDlOpen(root_of(vfs), name);
}
void timed_dl_error(sqlite3_vfs* vfs, int n, char* out) {
  root_of(vfs)->xDlError(root_of(vfs), n, out);
}
void (*timed_dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return root_of(vfs)->xDlSym(root_of(vfs), handle, symbol);
}
void timed_dl_close(sqlite3_vfs* vfs, void* handle) {
  root_of(vfs)->xDlClose(root_of(vfs), handle);
}
int timed_randomness(sqlite3_vfs* vfs, int n, char* out) {
  return root_of(vfs)->xRandomness(root_of(vfs), n, out);
}
int timed_sleep(sqlite3_vfs* vfs, int microseconds) {
  return root_of(vfs)->xSleep(root_of(vfs), microseconds);
}
int timed_current_time(sqlite3_vfs* vfs, double* out) {
  return root_of(vfs)->xCurrentTime(root_of(vfs), out);
}
int timed_get_last_error(sqlite3_vfs* vfs, int n, char* out) {
  return root_of(vfs)->xGetLastError ? root_of(vfs)->xGetLastError(root_of(vfs), n, out) : 0;
}
int timed_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return root_of(vfs)->xCurrentTimeInt64(root_of(vfs), out);
}
int timed_set_system_call(sqlite3_vfs* vfs, const char* name, sqlite3_syscall_ptr p) {
  return root_of(vfs)->xSetSystemCall(root_of(vfs), name, p);
}
sqlite3_syscall_ptr timed_get_system_call(sqlite3_vfs* vfs, const char* name) {
  return root_of(vfs)->xGetSystemCall(root_of(vfs), name);
}
const char* timed_next_system_call(sqlite3_vfs* vfs, const char* name) {
  return root_of(vfs)->xNextSystemCall(root_of(vfs), name);
}

const char* register_once() {
  sqlite3_vfs* root = sqlite3_vfs_find(nullptr);  // the default VFS
  if (root == nullptr || root->iVersion < 3) return nullptr;
  static sqlite3_vfs vfs{};
  vfs.iVersion = 3;
  vfs.szOsFile = static_cast<int>(sizeof(TimedFile)) + root->szOsFile;
  vfs.mxPathname = root->mxPathname;
  vfs.zName = kTimedVfsName;
  vfs.pAppData = root;
  vfs.xOpen = timed_open;
  vfs.xDelete = timed_delete;
  vfs.xAccess = timed_access;
  vfs.xFullPathname = timed_full_pathname;
  vfs.xDlOpen = timed_dl_open;
  vfs.xDlError = timed_dl_error;
  vfs.xDlSym = timed_dl_sym;
  vfs.xDlClose = timed_dl_close;
  vfs.xRandomness = timed_randomness;
  vfs.xSleep = timed_sleep;
  vfs.xCurrentTime = timed_current_time;
  vfs.xGetLastError = timed_get_last_error;
  vfs.xCurrentTimeInt64 = timed_current_time_int64;
  vfs.xSetSystemCall = timed_set_system_call;
  vfs.xGetSystemCall = timed_get_system_call;
  vfs.xNextSystemCall = timed_next_system_call;
  if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) return nullptr;
  return kTimedVfsName;
}

}  // namespace

const char* register_timed_vfs() {
  static const char* const name = register_once();  // thread-safe, once
  return name;
}

SyncObserver::SyncObserver(std::function<void(double)> on_sync) : on_sync_(std::move(on_sync)) {
  std::lock_guard lock(observers_mutex());
  observers().push_back(this);
}

SyncObserver::~SyncObserver() {
  std::lock_guard lock(observers_mutex());
  auto& list = observers();
  list.erase(std::remove(list.begin(), list.end(), this), list.end());
}

void notify_sync_observers(double seconds) {
  std::lock_guard lock(observers_mutex());
  for (SyncObserver* o : observers()) o->on_sync_(seconds);
}

WalSync::~WalSync() { ::close(fd_); }

bool WalSync::owed() const {
  std::lock_guard lock(mu_);
  return owed_.load() != synced_;
}

int WalSync::sync() {
  std::lock_guard lock(mu_);
  if (failed_) return SQLITE_IOERR_FSYNC;
  // Every frame whose owe() this load sees was written before it, so the fdatasync below,
  // which starts after it, covers them.
  const std::uint64_t owed = owed_.load(std::memory_order_acquire);
  if (owed == synced_) return SQLITE_OK;
  const auto began = std::chrono::steady_clock::now();
  const int rc = ::fdatasync(fd_);
  notify_sync_observers(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
  if (rc != 0) {
    failed_ = true;
    return SQLITE_IOERR_FSYNC;
  }
  synced_ = owed;
  syncs_made_.fetch_add(1);
  return SQLITE_OK;
}

std::shared_ptr<WalSync> defer_wal_syncs(sqlite3* db) {
  sqlite3_file* main = nullptr;
  sqlite3_file* wal = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &main) != SQLITE_OK ||
      sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK)
    return nullptr;
  if (main == nullptr || wal == nullptr || main->pMethods != &kTimedIo ||
      wal->pMethods != &kTimedIo)
    return nullptr;
  TimedFile* main_file = timed_of(main);
  TimedFile* wal_file = timed_of(wal);
  if ((wal_file->open_flags & SQLITE_OPEN_WAL) == 0 || wal_file->name == nullptr ||
      main_file->wal_sync != nullptr || wal_file->wal_sync != nullptr)
    return nullptr;
  const int fd = ::open(wal_file->name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  auto sync = std::make_shared<WalSync>(fd);
  try {
    main_file->wal_sync = new std::shared_ptr<WalSync>(sync);
    wal_file->wal_sync = new std::shared_ptr<WalSync>(sync);
  } catch (const std::bad_alloc&) {
    delete main_file->wal_sync;
    main_file->wal_sync = nullptr;
    return nullptr;
  }
  return sync;
}

}  // namespace sektorbro
