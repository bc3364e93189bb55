// AuditCheckpointer: writes the audit chain's head (seq and hash of the last committed entry) to
// the checkpoint file outside the store (audit.checkpoint_file; issue 12, item 5;
// broker/store/audit_checkpoint.hpp) every audit.checkpoint_interval when the head moved, and
// once more at a clean shutdown (write_now). `sektorbro-audit verify --checkpoint FILE` then
// shows entries cut off the end of the chain.
//
// The file is written atomically (temp file, fsync, rename, fsync of the folder:
// broker/filedrop/atomic_file.hpp) by a job on the GroupCommitWriter's thread, so the io thread
// never blocks on disk; the head is read from the store's read side, i.e. what is committed.
//
// Thread rules: start/stop on the io thread; write_now() on any thread once nothing writes.
#pragma once

#include <optional>
#include <string>

#include "broker/config/config.hpp"
#include "broker/core/result.hpp"
#include "broker/http/asio.hpp"
#include "broker/store/group_commit_writer.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

class AuditCheckpointer {
 public:
  AuditCheckpointer(asio::io_context& io, const AuditConfig& config, Store& store,
                    GroupCommitWriter& writer);

  // Does nothing unless a checkpoint file is configured.
  void start();
  void stop();
  // Reads the head and writes the file now (the clean shutdown, after the writer drained).
  Result<void> write_now();

 private:
  void arm();

  asio::io_context& io_;
  const AuditConfig& config_;
  Store& store_;
  GroupCommitWriter& writer_;
  asio::steady_timer timer_;
  bool stopping_ = false;
};

// Writes `head` to `path` atomically.
Result<void> write_audit_checkpoint(const std::string& path, const AuditHead& head);

}  // namespace sektorbro
