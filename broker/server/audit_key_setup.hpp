// Keys the store's audit chain with audit.key_file (issue 12, item 5; docs/audit.md), or says
// loudly that it is not keyed. Start-up only.
#pragma once

#include "broker/config/config.hpp"
#include "broker/core/result.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

// With a key file: reads it (kConfig if unreadable or shorter than 32 bytes) and seals every
// entry written from now on with HMAC-SHA256 under it (SqliteStore; another store that cannot
// be keyed is kConfig). Without one: logs a warning that the chain is unkeyed.
Result<void> key_audit_chain(Store& store, const AuditConfig& config);

}  // namespace sektorbro
