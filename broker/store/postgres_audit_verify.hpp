// The audit chain's verifier for a PostgreSQL store (issue 11): the same rules and verdicts as
// verify_audit_chain() (audit_verify.hpp), on the `audit_chain` table of a PostgreSQL database.
//
// How: it reads the chain in seq order — and, for the row check, the message rows (id, body,
// state, receipt, body_deleted_at) — from one REPEATABLE READ snapshot (so it may run while
// brokers append) into a private temporary SQLite file shaped like the SQLite store's tables,
// and runs verify_audit_chain() on that file with the caller's options (key, checkpoint, rows),
// so there is one definition of the rules. The temporary file (which holds the bodies while it
// runs: it is created mode 0700 in a folder of its own) is removed before it returns. Never
// writes to the database.
#pragma once

#include <string>

#include "broker/core/result.hpp"
#include "broker/store/audit_verify.hpp"

namespace sektorbro {

// kStorage if the database cannot be reached or has no audit_chain table. Error texts name the
// server by host/port/database only (never the password).
// kInvalid if the chain holds keyed entries and no key was given (as verify_audit_chain()).
Result<AuditVerdict> verify_postgres_audit_chain(const std::string& conninfo,
                                                 const VerifyOptions& options = {});

}  // namespace sektorbro
