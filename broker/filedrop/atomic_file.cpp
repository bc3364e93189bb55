#include "broker/filedrop/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

namespace sektorbro {
namespace {

// Owner read/write, group read: the files hold health content (domain.md); the legacy system
// reading the folder is expected to share the broker's group.
constexpr mode_t kFileMode = 0640;

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports close()'s errno (0 on success): on some file systems a failed write
  // shows only here.
  int close_now() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

Error storage_error(std::string_view step, const std::string& folder, int err) {
  return make_error(err == EEXIST ? Errc::kConflict : Errc::kStorage,
                    std::string(step) + " in " + folder + ": " + errno_text(err));
}

int open_folder(const std::string& folder) {
  return ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

Result<void> write_all(int fd, std::string_view bytes, const std::string& folder) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return storage_error("cannot write the temporary file", folder, errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// Renames without replacing. renameat2(RENAME_NOREPLACE) where the file system has it; else
// link + unlink (link never replaces); else a check and a plain rename, which is racy but only
// on file systems without hard links, where nothing better exists.
int rename_no_replace(int from_dir, const char* from, int to_dir, const char* to) {
  if (::renameat2(from_dir, from, to_dir, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
  if (::linkat(from_dir, from, to_dir, to, 0) == 0) {
    ::unlinkat(from_dir, from, 0);
    return 0;
  }
  if (errno != EPERM && errno != EOPNOTSUPP) return errno;
  if (::faccessat(to_dir, to, F_OK, AT_SYMLINK_NOFOLLOW) == 0) return EEXIST;
  return ::renameat(from_dir, from, to_dir, to) == 0 ? 0 : errno;
}

bool is_plain_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

}  // namespace

std::string errno_text(int err) {
  char buffer[256];
  // GNU strerror_r: returns the text, which may or may not be in `buffer`.
  return ::strerror_r(err, buffer, sizeof buffer);
}

std::string unique_file_stem(TimePoint now) {
  static const std::uint32_t nonce = [] {
    std::random_device device;
    return static_cast<std::uint32_t>(device());
  }();
  static std::atomic<std::uint64_t> counter{0};

  std::string stamp;
  for (const char c : format_timestamp(now))
    if (c != '-' && c != ':' && c != '.') stamp.push_back(c);
  char tail[48];
  std::snprintf(tail, sizeof tail, "-%08x-%06llu", nonce,
                static_cast<unsigned long long>(counter.fetch_add(1)));
  return stamp + tail;
}

Result<void> write_file_atomically(const std::string& folder, std::string_view name,
                                   std::string_view bytes, Replace replace) {
  if (!is_plain_name(name)) return make_error(Errc::kInvalid, "not a plain file name");
  Fd dir(open_folder(folder));
  if (dir.get() < 0) return storage_error("cannot open the folder", folder, errno);

  const std::string tmp =
      ".tmp-" +
      unique_file_stem(std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()));
  Fd file(::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode));
  if (file.get() < 0) return storage_error("cannot create a temporary file", folder, errno);

  auto discard = [&](Error error) -> Result<void> {
    ::unlinkat(dir.get(), tmp.c_str(), 0);
    return error;
  };
  if (Result<void> written = write_all(file.get(), bytes, folder); !written)
    return discard(written.error());
  if (::fsync(file.get()) != 0) return discard(storage_error("cannot fsync", folder, errno));
  if (const int err = file.close_now(); err != 0)
    return discard(storage_error("cannot close the temporary file", folder, err));

  const std::string final_name(name);
  const int err =
      replace == Replace::kYes
          ? (::renameat(dir.get(), tmp.c_str(), dir.get(), final_name.c_str()) == 0 ? 0 : errno)
          : rename_no_replace(dir.get(), tmp.c_str(), dir.get(), final_name.c_str());
  if (err != 0) return discard(storage_error("cannot rename", folder, err));
  // The file is visible now; without this fsync a crash could still undo the rename.
  if (::fsync(dir.get()) != 0) return storage_error("cannot fsync the folder", folder, errno);
  return {};
}

Result<void> move_file_no_replace(const std::string& from_folder, std::string_view name,
                                  const std::string& to_folder, std::string_view to_name) {
  if (!is_plain_name(name) || !is_plain_name(to_name))
    return make_error(Errc::kInvalid, "not a plain file name");
  Fd from(open_folder(from_folder));
  if (from.get() < 0) return storage_error("cannot open the folder", from_folder, errno);
  Fd to(open_folder(to_folder));
  if (to.get() < 0) return storage_error("cannot open the folder", to_folder, errno);
  const std::string a(name);
  const std::string b(to_name);
  if (const int err = rename_no_replace(from.get(), a.c_str(), to.get(), b.c_str()); err != 0)
    return storage_error("cannot move a file", to_folder, err);
  return {};
}

}  // namespace sektorbro
