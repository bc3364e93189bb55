// InboxWatcher: the inbound side of the file drop. A legacy system that cannot call the broker
// drops files into a folder; the watcher hands each complete file to the broker and answers
// with a receipt file next to it.
//
// Contract for the writing system:
//   - Write the file under a name starting with '.' (or in another folder on the same file
//     system) and rename it into the inbox when complete. A rename is atomic: the watcher sees
//     the whole file or none of it. Writing in place under the final name is not supported: a
//     rescan may take a half-written file (it would be refused as malformed).
//   - Names starting with '.' and names ending in ".receipt.xml" are never taken; neither are
//     directories, symbolic links or other non-regular files. Use unique names.
//   - For a taken file "<name>" the answer appears as "<name>.receipt.xml" in the inbox (written
//     atomically, as atomic_file.hpp), and "<name>" then moves to "done/" (answer status < 400)
//     or "refused/" (status 400–499). If done/ or refused/ already holds that name, the moved
//     file gets a unique suffix. The writing system collects and removes the receipts.
//   - A file larger than `max_file_bytes` is not handed on: it gets a refusal receipt (status
//     413, body from `refusal_body`) and moves to refused/.
//
// Crashes and failures: the receipt is written before the file moves, so a crash leaves either
// an untaken file or a receipt and a moved file. An untaken file is taken again at the next
// start; the broker's duplicate rule (same letter id and content → the identical receipt,
// domain.md §3) makes that harmless. The same holds for answers the broker could not give:
// status 0 or >= 500 (e.g. 503, storage down), an answer function dropped without being called,
// or a receipt or move that failed — then no file moves, and the file is offered again after
// `rescan_interval`.
//
// Detection: inotify (IN_CLOSE_WRITE, IN_MOVED_TO) when available, plus a full rescan every
// `rescan_interval` (network file systems deliver no inotify events for remote writers, and the
// event queue can overflow); polling only when inotify cannot be set up. Files already present
// at start are taken too, in name order.
//
// One watcher per folder (issue 11: several brokers): the watcher that holds an exclusive lock
// (flock) on "<folder>/.sektorbro-inbox.lock" takes files; another watcher on the same folder —
// a second broker given the same endpoints, on this host or, on a network file system whose
// locks work across hosts (NFSv4), on another — takes none, says so in one log line, and
// tries for the lock at every rescan, so it takes over within `rescan_interval` once the
// holder stops or dies (the kernel releases a dead process's lock). The lock file holds the
// holder's "host:pid". Two watchers never take the same file.
//
// Logs name the inbox folder, never a file name (legacy systems may name files after patients)
// and never content.
//
// Thread rules: one thread of the watcher's own does all file work and calls `handler`; the
// handler must return quickly and may call `answer` later from any thread, once (later calls
// are ignored). stop() (also run by the destructor) stops taking files, waits up to
// `drain_timeout` for answers to files already handed on and finishes them, then joins; answers
// arriving later are ignored (the file is taken again at the next start). Call stop() from any
// thread but the watcher's own (not from the handler).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"

namespace sektorbro {

// The broker's answer to one file: an HTTP-like status and the receipt to write.
// The lock file in every inbox (see above); a dot name, so it is never taken.
inline constexpr std::string_view kInboxLockName = ".sektorbro-inbox.lock";

struct FileAnswer {
  int status = 0;
  std::string body;
};

using FileAnswerFn = std::function<void(FileAnswer)>;
using InboxHandler = std::function<void(std::string bytes, FileAnswerFn answer)>;

// What became of a taken file.
enum class FileOutcome {
  kDone,     // receipt written, file in done/
  kRefused,  // receipt written, file in refused/
  kLeft,     // no decision (transient answer, dropped answer, I/O failure): offered again later
};

struct InboxOptions {
  std::string folder;                             // absolute path of the inbox; must exist
  std::size_t max_file_bytes = 10 * 1024 * 1024;  // larger files are refused unread
  Duration rescan_interval = std::chrono::seconds{2};
  bool use_inotify = true;         // false forces polling (tests; file systems without events)
  std::size_t max_in_flight = 16;  // files handed on and not yet answered
  Duration drain_timeout = std::chrono::seconds{5};
  // The receipt body for a file the watcher refuses itself (too large). `reason` is a short
  // text without content. Empty: a minimal <FileDropRefusal> document.
  std::function<std::string(std::string_view reason)> refusal_body;
  // Called on the watcher thread after each taken file settles (metrics, tests). Must return
  // quickly and must not call stop().
  std::function<void(std::string_view name, FileOutcome outcome)> on_settled;
};

class InboxWatcher {
 public:
  // Checks the folder, creates done/ and refused/ in it if missing, and starts watching.
  // Errc::kConfig when the folder is missing or not a folder, Errc::kStorage when the
  // subfolders cannot be created.
  static Result<std::unique_ptr<InboxWatcher>> start(InboxOptions options, InboxHandler handler);
  ~InboxWatcher();
  InboxWatcher(const InboxWatcher&) = delete;
  InboxWatcher& operator=(const InboxWatcher&) = delete;

  void stop();
  // Whether inotify is in use (false: polling every rescan_interval).
  bool uses_inotify() const;
  // Whether this watcher holds the folder's lock (and so takes files) at the moment.
  bool holds_lock() const;

 private:
  struct Impl;
  explicit InboxWatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sektorbro
