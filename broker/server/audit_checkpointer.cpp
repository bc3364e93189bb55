#include "broker/server/audit_checkpointer.hpp"

#include <filesystem>
#include <memory>

#include "broker/core/log.hpp"
#include "broker/filedrop/atomic_file.hpp"
#include "broker/store/audit_checkpoint.hpp"

namespace sektorbro {

Result<void> write_audit_checkpoint(const std::string& path, const AuditHead& head) {
  const std::filesystem::path p(path);
  const std::string folder = p.has_parent_path() ? p.parent_path().string() : ".";
  return write_file_atomically(folder, p.filename().string(), format_audit_checkpoint(head),
                               Replace::kYes);
}

AuditCheckpointer::AuditCheckpointer(asio::io_context& io, const AuditConfig& config,
                                     Store& store, GroupCommitWriter& writer)
    : io_(io), config_(config), store_(store), writer_(writer), timer_(io) {}

void AuditCheckpointer::start() {
  if (config_.checkpoint_file.empty()) return;
  stopping_ = false;
  asio::post(io_, [this] { arm(); });
}

void AuditCheckpointer::stop() {
  stopping_ = true;
  timer_.cancel();
}

void AuditCheckpointer::arm() {
  if (stopping_) return;
  timer_.expires_after(config_.checkpoint_interval);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    // On the writer's thread: the file's fsyncs never block the io thread. The head read there
    // is what the read side sees committed.
    writer_.submit(GroupCommitWriter::Job{
        [this](Store& store) {
          auto head = store.audit_head();
          if (!head) {
            log_error("audit checkpoint: " + head.error().detail);
            return;
          }
          if (auto r = write_audit_checkpoint(config_.checkpoint_file, *head); !r)
            log_error("audit checkpoint: " + r.error().detail);
        },
        [](const Result<void>&) {}});
    arm();
  });
}

Result<void> AuditCheckpointer::write_now() {
  if (config_.checkpoint_file.empty()) return {};
  auto head = store_.audit_head();
  if (!head) return head.error();
  return write_audit_checkpoint(config_.checkpoint_file, *head);
}

}  // namespace sektorbro
