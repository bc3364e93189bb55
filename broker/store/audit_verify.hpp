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
// gap.
//
// Issue 12, item 5 adds three measures, each optional in VerifyOptions:
//   - keyed chain: with `key`, every entry from the first one sealed with the key ("hmac:…")
//     on must be sealed with it and its MAC must match (rule 1, "altered"); entries before it
//     (written before the key was configured) are counted in `unkeyed_entries`. A chain without
//     any keyed entry fails ("unkeyed"): someone rewrote it without the key, or the key was
//     never used. Without a key, a keyed entry cannot be checked: kInvalid ("give the key").
//   - checkpoint: with `checkpoint` (seq N, hash H, kept outside the store), the chain must
//     still hold entry N with hash H: fewer entries is "truncated", another hash "rewritten".
//   - rows: the entries' bindings (audit_chain.hpp) say what each message row must hold — its
//     body's SHA-256, its delivery state, its receipt — as of its latest binding entry. After
//     the walk every message row is checked against that ("row-altered"), and a bound message
//     whose row is gone without a "record-deleted" entry is "row-removed". A body deleted by
//     retention must be empty (its entry names the hash it had). Rows stored before bindings
//     existed (schema < 8) are counted in `rows_unbound` and not checked.
// What these cannot show, see docs/audit.md: someone holding the key and the checkpoint file
// can rewrite both consistently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/core/result.hpp"
#include "broker/store/audit_chain.hpp"

namespace sektorbro {

enum class AuditBreak {
  kAltered,
  kRemoved,
  kInserted,
  kUnkeyed,      // a key was given: an entry after the first keyed one, or every entry, is not
                 // sealed with it
  kTruncated,    // fewer entries than the checkpoint names
  kRewritten,    // the checkpoint's entry has another hash
  kRowAltered,   // a message row differs from what its latest binding entry says
  kRowRemoved,   // a bound message row is gone without a "record-deleted" entry
};
// "altered", "removed", "inserted", "unkeyed", "truncated", "rewritten", "row-altered",
// "row-removed"
std::string_view to_string(AuditBreak b);

struct AuditVerdict {
  bool ok = true;
  std::int64_t entries = 0;  // ok: entries in the chain; broken: entries before the break
  std::string last_hash;     // ok: the last entry's hash (64 zeros for an empty chain)
  // When !ok:
  std::int64_t bad_seq = 0;
  AuditBreak reason = AuditBreak::kAltered;
  std::string explanation;  // one line, from seqs, ids and hashes only
  // Always:
  std::int64_t keyed_entries = 0;    // sealed with the key (counted up to the break)
  std::int64_t unkeyed_entries = 0;  // plain SHA-256 (before the key was configured)
  std::int64_t rows_checked = 0;     // message rows compared with their bindings
  std::int64_t rows_unbound = 0;     // message rows no entry binds (stored before version 8)
};

struct VerifyOptions {
  const AuditKey* key = nullptr;             // the chain's key, if it is keyed
  std::optional<AuditHead> checkpoint;       // the head written outside the store
  bool check_rows = true;                    // compare message rows with their bindings
};

// kStorage if the file cannot be opened read-only, is not a database, or has no audit_chain
// table (a store older than schema version 4). Never writes to the file.
// kInvalid if the chain holds keyed entries and no key was given.
Result<AuditVerdict> verify_audit_chain(const std::string& db_path,
                                        const VerifyOptions& options = {});

}  // namespace sektorbro
