// The tamper-evident audit chain (issue 5, "a record that cannot be quietly changed"): what one
// entry holds and how its hash is computed. The store appends entries (sqlite_store.cpp) and
// audit_verify.hpp checks them; both use this one definition. The format is in
// docs/store-format.md ("audit_chain").
//
// Pure functions of values; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/core/result.hpp"
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
  std::string prev_hash;  // the previous entry's hash
  // audit_entry_seal() of the other fields (binding included): 64 lower-case hex digits (SHA-256, unkeyed), or
  // "hmac:" followed by 64 (HMAC-SHA256 under the audit key).
  std::string hash;
  // What the entry binds of the row it records (issue 12, item 5), so that editing the row
  // shows: "body=<sha256 of the body>;state=pending;receipt=none" when a message is stored,
  // "state=<new state>" for a delivery outcome or a requeue, "receipt=<state>" for a receipt,
  // "body-deleted=<sha256 of the body removed>" and "record-deleted" for retention. Empty for
  // entries that bind nothing (and for every entry written before schema version 7).
  // Last, so that the positional initialisers written before it keep their meaning.
  std::string binding = {};
};

// The canonical bytes an entry's hash covers: seven netstrings, in this order,
//   seq, at, kind, actor, subject, detail, prev_hash
// followed by an eighth, binding, when the binding is not empty (so an entry without one encodes
// as before schema version 7); where a netstring is <decimal byte length> ':' <bytes> ',' and
// seq and at (ms since the epoch) are written in decimal without leading zeros ('-' for a negative at). Each field
// carries its own length, so no two different entries have the same encoding, whatever bytes
// the fields contain.
std::string audit_entry_encoding(const AuditEntry& e);

// Lower-case hex SHA-256 of audit_entry_encoding(e). e.hash is not read.
std::string audit_entry_hash(const AuditEntry& e);

// The secret that keys the chain (issue 12, item 5): the bytes of a file kept outside the store
// (config "audit.key_file"). Without it the chain is unkeyed: anyone who can write the store can
// recompute it.
struct AuditKey {
  std::string bytes;  // at least kMinAuditKeyBytes
};
inline constexpr std::size_t kMinAuditKeyBytes = 32;

// Reads a key file: its bytes, with one trailing newline removed. kConfig if it cannot be read
// or is shorter than kMinAuditKeyBytes. Never puts the key in the error.
Result<AuditKey> read_audit_key(const std::string& path);

// "hmac:" + lower-case hex HMAC-SHA256(key, audit_entry_encoding(e)).
std::string audit_entry_mac(const AuditEntry& e, const AuditKey& key);

// What an entry's `hash` holds: the keyed MAC with a key, the plain hash without one.
std::string audit_entry_seal(const AuditEntry& e, const AuditKey* key);

// Whether a stored hash is a keyed one ("hmac:…").
bool is_keyed_seal(std::string_view hash);

// The bindings' parts, "name=value" joined by ';' (values never contain ';').
std::string message_stored_binding(std::string_view body_sha256, std::string_view state,
                                   std::string_view receipt);
// The value of `name` in a binding, if it names it ("record-deleted" has an empty value).
std::optional<std::string> binding_value(std::string_view binding, std::string_view name);

// The head of a chain: the last entry's seq and hash (0 and kAuditGenesisHash when empty).
struct AuditHead {
  std::int64_t seq = 0;
  std::string hash{kAuditGenesisHash};
};

}  // namespace sektorbro
