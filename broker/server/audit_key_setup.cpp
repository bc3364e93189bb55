#include "broker/server/audit_key_setup.hpp"

#include "broker/core/log.hpp"
#include "broker/store/sqlite_store.hpp"

namespace sektorbro {

Result<void> key_audit_chain(Store& store, const AuditConfig& config) {
  if (config.key_file.empty()) {
    log_warn("audit chain UNKEYED (no audit.key_file): whoever can write the store can rewrite "
             "the chain undetected; see docs/audit.md");
    return {};
  }
  auto key = read_audit_key(config.key_file);
  if (!key) return key.error();
  auto* sqlite = dynamic_cast<SqliteStore*>(&store);
  if (sqlite == nullptr)
    return make_error(Errc::kConfig, "audit.key_file: this store does not support a keyed chain");
  sqlite->set_audit_key(std::move(*key));
  log_info("audit chain keyed (HMAC-SHA256, key from " + config.key_file + ")");
  return {};
}

}  // namespace sektorbro
