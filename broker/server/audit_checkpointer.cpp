#include "broker/server/audit_checkpointer.hpp"

#include <filesystem>
#include <memory>
#include <optional>

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

AuditCheckpointer::AuditCheckpointer(asio::io_context& io, const AuditConfig& config, Store& store,
                                     GroupCommitWriter& writer)
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
    // The head is read on the writer's thread, where it is what the writes before it left; the
    // file is written once the group holding that read is durable (with the store's syncs
    // deferred, a committed entry may not be yet: the checkpoint must never name an entry a
    // power loss could take back). Off the io thread either way: the file's fsyncs never block
    // it.
    auto head = std::make_shared<std::optional<AuditHead>>();
    writer_.submit(
        GroupCommitWriter::Job{[head](Store& store) {
                                 auto h = store.audit_head();
                                 if (!h) {
                                   head->reset();
                                   log_error("audit checkpoint: " + h.error().detail);
                                   return;
                                 }
                                 *head = *h;
                               },
                               [file = config_.checkpoint_file, head](const Result<void>& durable) {
                                 if (!durable || !head->has_value()) return;
                                 if (auto r = write_audit_checkpoint(file, **head); !r)
                                   log_error("audit checkpoint: " + r.error().detail);
                               }});
    arm();
  });
}

Result<void> AuditCheckpointer::write_now() {
  if (config_.checkpoint_file.empty()) return {};
  // Every group committed so far durable first (Store::defer_sync): the head read next is one a
  // power loss cannot take back.
  if (auto r = store_.sync_committed(); !r) return r;
  auto head = store_.audit_head();
  if (!head) return head.error();
  return write_audit_checkpoint(config_.checkpoint_file, *head);
}

}  // namespace sektorbro
