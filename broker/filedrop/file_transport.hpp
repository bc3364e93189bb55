// FileTransport: delivers to a folder instead of an HTTP endpoint, for legacy systems that read
// files. A delivery URL "file:///absolute/folder" (RFC 8089; "file://localhost/..." too, no
// percent-decoding) writes the body into that folder as "<timestamp>-<unique>.xml" (see
// unique_file_stem), atomically and durably (atomic_file.hpp). The timestamp comes from the
// Clock, so names sort in delivery order.
//
// Contract for the reading system: take only names not starting with '.' (".tmp-*" files are
// being written, or left over from a crash and safe to delete); a visible file is complete and
// never rewritten; delete or move a file once processed. There is no receipt from a folder:
// http_status 200 means "durably written", not "read". Retried deliveries may write the same
// letter twice (e.g. when the folder fsync failed after the rename); the letter id identifies it
// (MedCom reliable messaging: receivers recognise duplicates).
//
// Thread rules: post() from any thread; the file work and every `done` run on one worker
// thread of the transport's own (fsync takes milliseconds and must not stall the caller). The
// destructor finishes the queued writes, then joins. A post() during destruction (from a `done`)
// fails at once on the calling thread with "shutting down".
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "broker/core/clock.hpp"
#include "broker/delivery/transport.hpp"

namespace sektorbro {

// True for URLs this transport takes ("file:" scheme, any case).
bool is_file_url(std::string_view url);
// The absolute folder of a file URL, or nullopt when the URL is not "file:///abs..." or
// "file://localhost/abs...", or holds ".." segments.
std::optional<std::string> folder_of_file_url(std::string_view url);

class FileTransport final : public Transport {
 public:
  // `clock` names the files; it must outlive the transport.
  explicit FileTransport(const Clock& clock);
  ~FileTransport() override;
  FileTransport(const FileTransport&) = delete;
  FileTransport& operator=(const FileTransport&) = delete;

  // `done` gets http_status 200 once the file is durably in place, else 0 and an error text
  // (the step and the errno text; never the body).
  void post(OutboundRequest request, std::function<void(TransportResponse)> done) override;

 private:
  struct Job {
    OutboundRequest request;
    std::function<void(TransportResponse)> done;
  };
  void run();
  TransportResponse deliver(const OutboundRequest& request) const;

  const Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace sektorbro
