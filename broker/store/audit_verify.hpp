// The audit chain's verifier (issue 5): walks the `audit_chain` table of a store file and says
// whether the chain is whole, or names the first entry where it breaks and why. It opens the file
// read-only and may run while the broker writes (it reads one WAL snapshot).
//
// Rules. Entries are read in seq order (ties, possible only in a file whose table was rebuilt
// without its primary key, in storage order). `prev` is the entry read before this one; the first
// entry is checked against seq 0 and prev_hash = 64 zeros. For each entry, the first rule that
// applies decides:
//   1. altered  — its stored hash is not audit_entry_hash() of its fields (a field or the hash
//                 itself was changed), or seq / at is not an integer.
//   2. inserted — its seq is not greater than prev's (a second entry with the same seq, or seq
//                 below 1 for the first entry).
//   3. removed  — its seq is more than prev's + 1: entries prev.seq + 1 … seq - 1 are missing.
//   4. inserted — its prev_hash is not prev's hash but the hash of another entry E in the file:
//                 it was chained after E, so it (or what lies between E and it) was put in or
//                 moved.
//   5. removed  — its prev_hash is not prev's hash and no entry's hash in the file: the entry it
//                 was chained to is gone. This is also how an entry rewritten together with a
//                 recomputed hash shows: at the entry after it.
// The verdict names the entry that broke (`bad_seq`) — for "removed", the first entry after the
// gap. What a chain without a secret cannot show: entries cut off at the end, or a whole tail
// rewritten with fresh hashes. Keep `last_hash` of a good verdict somewhere else (a ticket, a
// second machine) and compare it later to close that gap.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/core/result.hpp"

namespace sektorbro {

enum class AuditBreak { kAltered, kRemoved, kInserted };
std::string_view to_string(AuditBreak b);  // "altered", "removed", "inserted"

struct AuditVerdict {
  bool ok = true;
  std::int64_t entries = 0;  // ok: entries in the chain; broken: entries before the break
  std::string last_hash;     // ok: the last entry's hash (64 zeros for an empty chain)
  // When !ok:
  std::int64_t bad_seq = 0;
  AuditBreak reason = AuditBreak::kAltered;
  std::string explanation;  // one line, from seqs and hashes only
};

// kStorage if the file cannot be opened read-only, is not a database, or has no audit_chain
// table (a store older than schema version 4). Never writes to the file.
Result<AuditVerdict> verify_audit_chain(const std::string& db_path);

}  // namespace sektorbro
