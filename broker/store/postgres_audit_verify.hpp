// The audit chain's verifier for a PostgreSQL store (issue 11): the same rules and verdicts as
// verify_audit_chain() (audit_verify.hpp), on the `audit_chain` table of a PostgreSQL database.
//
// How: it reads the chain in seq order from one REPEATABLE READ snapshot (so it may run while
// brokers append) into a private temporary SQLite file shaped like the SQLite store's table, and
// runs verify_audit_chain() on that file, so there is one definition of the rules. The
// temporary file is removed before it returns. Never writes to the database.
#pragma once

#include <string>

#include "broker/core/result.hpp"
#include "broker/store/audit_verify.hpp"

namespace sektorbro {

// kStorage if the database cannot be reached or has no audit_chain table. Error texts name the
// server by host/port/database only (never the password).
Result<AuditVerdict> verify_postgres_audit_chain(const std::string& conninfo);

}  // namespace sektorbro
