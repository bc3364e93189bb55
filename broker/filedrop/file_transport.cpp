#include "broker/filedrop/file_transport.hpp"

#include <algorithm>
#include <cctype>

#include "broker/filedrop/atomic_file.hpp"

namespace sektorbro {
namespace {

constexpr const char* kShuttingDown = "shutting down";
// A name collision needs two writers with the same nonce in one millisecond; one retry with a
// fresh counter settles it, three is generous.
constexpr int kNameAttempts = 3;

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

void finish(std::function<void(TransportResponse)>& done, TransportResponse response) {
  try {
    done(std::move(response));
  } catch (...) {
  }
}

}  // namespace

bool is_file_url(std::string_view url) { return starts_with_ci(url, "file:"); }

std::optional<std::string> folder_of_file_url(std::string_view url) {
  if (!starts_with_ci(url, "file://")) return std::nullopt;
  std::string_view rest = url.substr(7);
  if (starts_with_ci(rest, "localhost/")) rest.remove_prefix(9);
  if (rest.empty() || rest.front() != '/') return std::nullopt;
  if (rest.find('\0') != std::string_view::npos) return std::nullopt;
  // No "..": a configured folder is named as it is, never by climbing out of another.
  std::size_t start = 0;
  while (start <= rest.size()) {
    const std::size_t end = std::min(rest.find('/', start), rest.size());
    if (rest.substr(start, end - start) == "..") return std::nullopt;
    start = end + 1;
  }
  return std::string(rest);
}

FileTransport::FileTransport(const Clock& clock) : clock_(clock) {
  thread_ = std::thread([this] { run(); });
}

FileTransport::~FileTransport() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void FileTransport::post(OutboundRequest request, std::function<void(TransportResponse)> done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Job{std::move(request), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  finish(done, TransportResponse{0, {}, kShuttingDown});
}

void FileTransport::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // Drains before stopping: a queued delivery is cheap to finish and the caller awaits it.
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    finish(job.done, deliver(job.request));
  }
}

TransportResponse FileTransport::deliver(const OutboundRequest& request) const {
  const std::optional<std::string> folder = folder_of_file_url(request.url);
  if (!folder) return TransportResponse{0, {}, "not a file:///absolute/folder URL"};
  Error last{Errc::kStorage, {}};
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    const std::string name = unique_file_stem(clock_.now()) + ".xml";
    const Result<void> written = write_file_atomically(*folder, name, request.body, Replace::kNo);
    if (written) return TransportResponse{200, {}, {}};
    last = written.error();
    if (last.code != Errc::kConflict) break;
  }
  return TransportResponse{0, {}, last.detail};
}

}  // namespace sektorbro
