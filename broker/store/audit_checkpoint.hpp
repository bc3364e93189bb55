// The audit checkpoint (issue 12, item 5): the chain's head — entry count and last hash —
// written outside the store, periodically and at a clean shutdown, so that cutting entries off
// the end of the chain shows. `sektorbro-audit verify --checkpoint FILE` checks that the chain
// still holds an entry at that seq with that hash (audit_verify.hpp).
//
// The file is three lines of text:
//   sektorbro-audit-checkpoint 1
//   seq <decimal>
//   hash <the entry's hash as stored>
// It is written atomically (temp file, fsync, rename, fsync of the folder) by the broker
// (broker/server/audit_checkpointer.hpp); a crash leaves the previous checkpoint.
//
// Pure functions of values, and one file read; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "broker/core/result.hpp"
#include "broker/store/audit_chain.hpp"

namespace sektorbro {

std::string format_audit_checkpoint(const AuditHead& head);

// kInvalid naming the line that is wrong.
Result<AuditHead> parse_audit_checkpoint(std::string_view text);

// Reads and parses a checkpoint file: kNotFound if it does not exist, kStorage if it cannot be
// read, kInvalid if it is not a checkpoint.
Result<AuditHead> read_audit_checkpoint(const std::string& path);

}  // namespace sektorbro
