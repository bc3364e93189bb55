// The tamper-evident audit chain (issue 5, "a record that cannot be quietly changed"): what one
// entry holds and how its hash is computed. The store appends entries (sqlite_store.cpp) and
// audit_verify.hpp checks them; both use this one definition. The format is in
// docs/store-format.md ("audit_chain").
//
// Pure functions of values; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/core/time.hpp"

namespace sektorbro {

// prev_hash of the first entry: 64 zeros (the hash of "nothing before").
inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditEntry {
  std::int64_t seq = 0;   // 1, 2, 3, … without gaps
  TimePoint at{};         // UTC, millisecond precision
  std::string kind;       // the timeline event kind, "refused", or an operator action
  std::string actor;      // endpoint id, "operator:<name>", or "broker"
  std::string subject;    // "message 12", "message 12 deadline <gln>/<letter id>", "input"
  std::string detail;     // one line; never CPR or content
  std::string prev_hash;  // the previous entry's hash (lower-case hex)
  std::string hash;       // audit_entry_hash() of the fields above
};

// The canonical bytes an entry's hash covers: seven netstrings, in this order,
//   seq, at, kind, actor, subject, detail, prev_hash
// where a netstring is <decimal byte length> ':' <bytes> ',' and seq and at (ms since the
// epoch) are written in decimal without leading zeros ('-' for a negative at). Each field
// carries its own length, so no two different entries have the same encoding, whatever bytes
// the fields contain.
std::string audit_entry_encoding(const AuditEntry& e);

// Lower-case hex SHA-256 of audit_entry_encoding(e). e.hash is not read.
std::string audit_entry_hash(const AuditEntry& e);

// The head of a chain: the last entry's seq and hash (0 and kAuditGenesisHash when empty).
struct AuditHead {
  std::int64_t seq = 0;
  std::string hash{kAuditGenesisHash};
};

}  // namespace sektorbro
