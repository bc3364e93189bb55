#include "broker/filedrop/inbox_watcher.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "broker/core/log.hpp"
#include "broker/filedrop/atomic_file.hpp"

namespace sektorbro {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::string_view kReceiptSuffix = ".receipt.xml";
constexpr std::string_view kDoneFolder = "done";
constexpr std::string_view kRefusedFolder = "refused";
constexpr int kTooLargeStatus = 413;

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Names the contract excludes: dot names (being written, or our own temporary files) and
// receipts.
bool is_excluded_name(std::string_view name) {
  return name.empty() || name.front() == '.' || ends_with(name, kReceiptSuffix);
}

// Answers are 2xx/4xx for decisions; 0 (no answer) and 5xx (the broker could not decide, e.g.
// storage down) leave the file to be offered again.
bool is_transient(int status) { return status <= 0 || status >= 500; }

std::string default_refusal(std::string_view reason) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<FileDropRefusal><Reason>" +
         std::string(reason) + "</Reason></FileDropRefusal>\n";
}

Result<void> ensure_folder(const std::string& path) {
  if (::mkdir(path.c_str(), 0750) != 0 && errno != EEXIST)
    return make_error(Errc::kStorage, "cannot create " + path + ": " + errno_text(errno));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(Errc::kStorage, path + " is not a folder");
  return {};
}

// State shared with answer functions, which may outlive the watcher.
struct Mailbox {
  struct Answered {
    std::string name;
    std::optional<FileAnswer> answer;  // nullopt: the answer function was dropped unanswered
  };

  std::mutex mu;
  std::deque<Answered> answers;  // guarded by mu
  bool stopping = false;         // guarded by mu
  bool closed = false;           // guarded by mu: the watcher thread has ended
  int wake_fd = -1;

  ~Mailbox() {
    if (wake_fd >= 0) ::close(wake_fd);
  }
  void wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd, &one, sizeof one);
  }
  void deliver(std::string name, std::optional<FileAnswer> answer) {
    {
      std::lock_guard lock(mu);
      if (closed) return;
      answers.push_back(Answered{std::move(name), std::move(answer)});
    }
    wake();
  }
};

// Shared by every copy of one file's answer function; reports "dropped unanswered" when the
// last copy goes without having been called.
class AnswerToken {
 public:
  AnswerToken(std::shared_ptr<Mailbox> mailbox, std::string name)
      : mailbox_(std::move(mailbox)), name_(std::move(name)) {}
  AnswerToken(const AnswerToken&) = delete;
  AnswerToken& operator=(const AnswerToken&) = delete;
  ~AnswerToken() {
    if (!answered_.exchange(true)) mailbox_->deliver(name_, std::nullopt);
  }
  void answer(FileAnswer a) {
    if (!answered_.exchange(true)) mailbox_->deliver(name_, std::move(a));
  }

 private:
  std::shared_ptr<Mailbox> mailbox_;
  std::string name_;
  std::atomic<bool> answered_{false};
};

}  // namespace

struct InboxWatcher::Impl {
  InboxOptions options;
  InboxHandler handler;
  std::string done_folder;
  std::string refused_folder;
  std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
  int inotify_fd = -1;
  std::atomic<bool> inotify_active{false};  // read by uses_inotify() from other threads
  std::thread thread;
  bool joined = false;  // guarded by stop_mu
  std::mutex stop_mu;

  // Owned by the watcher thread.
  std::deque<std::string> backlog;
  std::set<std::string> queued;     // names in backlog
  std::set<std::string> in_flight;  // handed on, not yet answered
  std::map<std::string, SteadyTime> deferred;
  bool scan_failing = false;
  // The folder's lock (kInboxLockName): held while lock_fd >= 0 and `locked`.
  int lock_fd = -1;
  std::atomic<bool> locked{false};  // read by holds_lock() from other threads
  bool told_not_locked = false;

  ~Impl() {
    if (inotify_fd >= 0) ::close(inotify_fd);
    if (lock_fd >= 0) ::close(lock_fd);  // releases the lock
  }

  // Takes the folder's lock if it is free (non-blocking); true while this watcher holds it.
  bool try_lock();

  std::string path_of(std::string_view name) const {
    return options.folder + "/" + std::string(name);
  }

  void run();
  void scan();
  void read_events();
  void offer(const std::string& name, SteadyTime now);
  void take(const std::string& name);
  void finish(const std::string& name, const FileAnswer& answer);
  void settled(const std::string& name, FileOutcome outcome) const {
    if (options.on_settled) options.on_settled(name, outcome);
  }
  // Leaves the file where it is, to be offered again after rescan_interval.
  void leave(const std::string& name) {
    deferred[name] = std::chrono::steady_clock::now() + options.rescan_interval;
    settled(name, FileOutcome::kLeft);
  }
  void drop_inotify(std::string_view why) {
    log_error("file drop " + options.folder + ": " + std::string(why) + "; polling instead");
    ::close(inotify_fd);
    inotify_fd = -1;
    inotify_active = false;
  }
};

void InboxWatcher::Impl::offer(const std::string& name, SteadyTime now) {
  if (is_excluded_name(name) || in_flight.count(name) != 0 || queued.count(name) != 0) return;
  if (const auto it = deferred.find(name); it != deferred.end()) {
    if (now < it->second) return;
    deferred.erase(it);
  }
  backlog.push_back(name);
  queued.insert(name);
}

void InboxWatcher::Impl::scan() {
  DIR* dir = ::opendir(options.folder.c_str());
  if (dir == nullptr) {
    if (!scan_failing)
      log_error("file drop " + options.folder + ": cannot list: " + errno_text(errno));
    scan_failing = true;
    return;
  }
  scan_failing = false;
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_type != DT_REG && entry->d_type != DT_UNKNOWN) continue;
    names.emplace_back(entry->d_name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  const SteadyTime now = std::chrono::steady_clock::now();
  for (const std::string& name : names) offer(name, now);
}

void InboxWatcher::Impl::read_events() {
  alignas(inotify_event) char buffer[16 * 1024];
  const SteadyTime now = std::chrono::steady_clock::now();
  for (;;) {
    const ssize_t n = ::read(inotify_fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) drop_inotify("inotify read failed: " + errno_text(errno));
      return;
    }
    bool lost = false;
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if ((event->mask & IN_Q_OVERFLOW) != 0) {
        scan();
      } else if ((event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
        lost = true;
      } else if (event->len > 0 && (event->mask & IN_ISDIR) == 0) {
        offer(event->name, now);
      }
    }
    if (lost) return drop_inotify("the inbox folder was moved or removed");
  }
}

void InboxWatcher::Impl::take(const std::string& name) {
  const int fd = ::open(path_of(name).c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    // ENOENT: gone since it was seen. ELOOP: a symbolic link, which the contract excludes.
    if (errno != ENOENT && errno != ELOOP) {
      log_warn("file drop " + options.folder + ": cannot open a file: " + errno_text(errno));
      leave(name);
    }
    return;
  }
  struct stat st {};
  std::string bytes;
  bool too_large = false;
  bool failed = false;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return;
  }
  if (static_cast<std::uintmax_t>(st.st_size) > options.max_file_bytes) {
    too_large = true;
  } else {
    // Reads one byte past the limit, in case the file grew since fstat.
    bytes.resize(options.max_file_bytes + 1);
    std::size_t got = 0;
    while (got < bytes.size()) {
      const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) failed = true;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    bytes.resize(got);
    too_large = got > options.max_file_bytes;
  }
  ::close(fd);
  if (failed) {
    log_warn("file drop " + options.folder + ": cannot read a file: " + errno_text(errno));
    return leave(name);
  }
  if (too_large) {
    const std::string reason =
        "file larger than the limit of " + std::to_string(options.max_file_bytes) + " bytes";
    return finish(name,
                  FileAnswer{kTooLargeStatus, options.refusal_body ? options.refusal_body(reason)
                                                                   : default_refusal(reason)});
  }

  in_flight.insert(name);
  auto token = std::make_shared<AnswerToken>(mailbox, name);
  FileAnswerFn answer = [token = std::move(token)](FileAnswer a) { token->answer(std::move(a)); };
  try {
    handler(std::move(bytes), std::move(answer));
  } catch (...) {
    // The answer function is gone with the exception unless the handler kept a copy; either
    // way the token reports, and the file is offered again.
    log_error("file drop " + options.folder + ": the handler threw");
  }
}

void InboxWatcher::Impl::finish(const std::string& name, const FileAnswer& answer) {
  in_flight.erase(name);
  if (is_transient(answer.status)) {
    log_warn("file drop " + options.folder + ": no decision (status " +
             std::to_string(answer.status) + "); the file stays and is offered again");
    return leave(name);
  }
  const Result<void> receipt = write_file_atomically(
      options.folder, name + std::string(kReceiptSuffix), answer.body, Replace::kYes);
  if (!receipt) {
    log_error("file drop " + options.folder +
              ": cannot write a receipt: " + receipt.error().detail);
    return leave(name);
  }
  const std::string& target = answer.status >= 400 ? refused_folder : done_folder;
  Result<void> moved = move_file_no_replace(options.folder, name, target, name);
  if (!moved && moved.error().code == Errc::kConflict) {
    const std::string unique =
        name + "." +
        unique_file_stem(std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()));
    moved = move_file_no_replace(options.folder, name, target, unique);
  }
  if (!moved) {
    log_error("file drop " + options.folder +
              ": cannot move a file aside: " + moved.error().detail);
    return leave(name);
  }
  settled(name, answer.status >= 400 ? FileOutcome::kRefused : FileOutcome::kDone);
}

bool InboxWatcher::Impl::try_lock() {
  if (locked) return true;
  if (lock_fd < 0) {
    const std::string path = path_of(kInboxLockName);
    lock_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (lock_fd < 0) {
      if (!told_not_locked)
        log_error("file drop " + options.folder +
                  ": cannot open its lock file: " + errno_text(errno) + "; no files are taken");
      told_not_locked = true;
      return false;
    }
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    if (!told_not_locked)
      log_warn("file drop " + options.folder +
               ": another broker watches this inbox; this one takes over if it stops");
    told_not_locked = true;
    return false;
  }
  locked = true;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string holder = std::string(host) + ":" + std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd, 0) == 0) [[maybe_unused]]
    const ssize_t n = ::pwrite(lock_fd, holder.data(), holder.size(), 0);
  if (told_not_locked) log_info("file drop " + options.folder + ": taken over by this broker");
  told_not_locked = false;
  return true;
}

void InboxWatcher::Impl::run() {
  std::optional<SteadyTime> drain_until;
  SteadyTime next_scan = std::chrono::steady_clock::now();
  for (;;) {
    std::deque<Mailbox::Answered> answers;
    bool stopping = false;
    {
      std::lock_guard lock(mailbox->mu);
      answers.swap(mailbox->answers);
      stopping = mailbox->stopping;
    }
    for (auto& a : answers) {
      if (in_flight.count(a.name) == 0) continue;
      if (a.answer) {
        finish(a.name, *a.answer);
      } else {
        log_warn("file drop " + options.folder + ": an answer was dropped; offered again");
        in_flight.erase(a.name);
        leave(a.name);
      }
    }

    SteadyTime now = std::chrono::steady_clock::now();
    if (stopping) {
      if (!drain_until) drain_until = now + options.drain_timeout;
      if (in_flight.empty() || now >= *drain_until) break;
    } else {
      const bool mine = now >= next_scan ? try_lock() : locked.load();
      if (now >= next_scan) {
        if (mine) scan();
        next_scan = now + options.rescan_interval;
      }
      if (!mine) {  // events seen meanwhile are the holder's business
        backlog.clear();
        queued.clear();
      }
      while (mine && !backlog.empty() && in_flight.size() < options.max_in_flight) {
        const std::string name = std::move(backlog.front());
        backlog.pop_front();
        queued.erase(name);
        take(name);
      }
    }

    const SteadyTime until = stopping ? *drain_until : next_scan;
    now = std::chrono::steady_clock::now();
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
    pollfd fds[2] = {{mailbox->wake_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
    const nfds_t count = inotify_fd >= 0 && !stopping ? 2 : 1;
    const int ready =
        ::poll(fds, count, static_cast<int>(std::clamp<std::int64_t>(wait, 0, 60'000)));
    if (ready <= 0) continue;
    if ((fds[0].revents & POLLIN) != 0) {
      std::uint64_t value = 0;
      [[maybe_unused]] const ssize_t n = ::read(mailbox->wake_fd, &value, sizeof value);
    }
    if (count == 2 && fds[1].revents != 0) read_events();
  }
  if (lock_fd >= 0) {  // stopped: another broker's watcher may take the folder over now
    ::close(lock_fd);
    lock_fd = -1;
    locked = false;
  }
  std::lock_guard lock(mailbox->mu);
  mailbox->closed = true;
  mailbox->answers.clear();
}

Result<std::unique_ptr<InboxWatcher>> InboxWatcher::start(InboxOptions options,
                                                          InboxHandler handler) {
  if (options.folder.empty() || options.folder.front() != '/')
    return make_error(Errc::kConfig, "inbox folder must be an absolute path");
  while (options.folder.size() > 1 && options.folder.back() == '/') options.folder.pop_back();
  struct stat st {};
  if (::stat(options.folder.c_str(), &st) != 0)
    return make_error(Errc::kConfig, "inbox " + options.folder + ": " + errno_text(errno));
  if (!S_ISDIR(st.st_mode))
    return make_error(Errc::kConfig, "inbox " + options.folder + " is not a folder");
  if (options.max_in_flight == 0) options.max_in_flight = 1;

  auto impl = std::make_unique<Impl>();
  impl->done_folder = options.folder + "/" + std::string(kDoneFolder);
  impl->refused_folder = options.folder + "/" + std::string(kRefusedFolder);
  for (const std::string* folder : {&impl->done_folder, &impl->refused_folder})
    if (Result<void> made = ensure_folder(*folder); !made) return made.error();

  impl->mailbox->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->mailbox->wake_fd < 0)
    return make_error(Errc::kStorage, "cannot create an eventfd: " + errno_text(errno));

  if (options.use_inotify) {
    impl->inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (impl->inotify_fd < 0) {
      log_warn("file drop " + options.folder + ": inotify unavailable (" + errno_text(errno) +
               "); polling");
    } else if (::inotify_add_watch(
                   impl->inotify_fd, options.folder.c_str(),
                   IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR) < 0) {
      log_warn("file drop " + options.folder + ": cannot watch (" + errno_text(errno) +
               "); polling");
      ::close(impl->inotify_fd);
      impl->inotify_fd = -1;
    }
  }
  impl->inotify_active = impl->inotify_fd >= 0;
  impl->options = std::move(options);
  impl->handler = std::move(handler);
  // The folder's lock is tried at once, so of two watchers started one after the other the
  // first holds it. The watch exists before the first scan, so a file arriving in between is
  // seen by one of them.
  impl->try_lock();
  impl->thread = std::thread([raw = impl.get()] { raw->run(); });
  return std::unique_ptr<InboxWatcher>(new InboxWatcher(std::move(impl)));
}

InboxWatcher::InboxWatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

InboxWatcher::~InboxWatcher() { stop(); }

void InboxWatcher::stop() {
  std::lock_guard stop_lock(impl_->stop_mu);
  if (impl_->joined) return;
  {
    std::lock_guard lock(impl_->mailbox->mu);
    impl_->mailbox->stopping = true;
  }
  impl_->mailbox->wake();
  impl_->thread.join();
  impl_->joined = true;
}

bool InboxWatcher::uses_inotify() const { return impl_->inotify_active; }

bool InboxWatcher::holds_lock() const { return impl_->locked; }

}  // namespace sektorbro
