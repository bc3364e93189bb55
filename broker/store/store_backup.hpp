// Backup and restore of the SQLite store (issue 11, item 5; docs/backup.md).
//
// backup_store: a consistent online copy of a live store through SQLite's backup API. It opens
// the store read-only on a connection of its own — the broker may keep writing (WAL: the copy
// reads one snapshot and never blocks the writer; the store's flock "<path>.lock" guards
// brokers only, so the backup does not take it) — copies every page in one step into
// "<dest>.part", turns the copy into a single self-contained file (journal_mode DELETE), and
// renames it to `dest`. The copy holds exactly the transactions committed when the snapshot was
// taken: every message the broker acknowledged before backup_store began is in it (the broker
// acknowledges only after its commit's fsync). `dest` must not exist.
//
// check_backup: opens a file read-only, runs SQLite's integrity check, reads the schema version
// and the counts, and verifies the audit chain (audit_verify.hpp, with the key and checkpoint
// given). Restore is copying a checked backup into place while no broker runs (docs/backup.md).
//
// Blocking file I/O; any thread. Errors name files, never content.
#pragma once

#include <cstdint>
#include <string>

#include "broker/core/result.hpp"
#include "broker/store/audit_verify.hpp"

namespace sektorbro {

struct BackupResult {
  std::int64_t pages = 0;
  std::int64_t bytes = 0;
};

// kConflict if `dest` exists; kStorage if the store cannot be read or the copy not written
// (then no `dest` and no "<dest>.part" is left behind).
Result<BackupResult> backup_store(const std::string& store_path, const std::string& dest);

struct BackupCheck {
  bool integrity_ok = false;
  std::string integrity;  // "ok", or SQLite's first complaint
  std::int64_t schema_version = 0;
  std::int64_t messages = 0;
  std::int64_t pending = 0;         // messages still to be delivered when the copy was taken
  std::int64_t bodies_deleted = 0;  // minimal records left by retention
  std::int64_t deadlines_open = 0;
  std::int64_t audit_entries = 0;
  AuditVerdict audit;  // the chain's verdict
  bool ok() const { return integrity_ok && audit.ok; }
};

// kStorage if the file cannot be opened read-only or is no store; kInvalid as
// verify_audit_chain (a keyed chain without the key).
Result<BackupCheck> check_backup(const std::string& path, const VerifyOptions& options);

}  // namespace sektorbro
