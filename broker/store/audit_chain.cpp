#include "broker/store/audit_chain.hpp"

#include "broker/core/identifiers.hpp"

namespace sektorbro {
namespace {

void append_netstring(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += ',';
}

}  // namespace

std::string audit_entry_encoding(const AuditEntry& e) {
  std::string out;
  out.reserve(e.kind.size() + e.actor.size() + e.subject.size() + e.detail.size() +
              e.prev_hash.size() + 80);
  append_netstring(out, std::to_string(e.seq));
  append_netstring(out, std::to_string(to_millis(e.at)));
  append_netstring(out, e.kind);
  append_netstring(out, e.actor);
  append_netstring(out, e.subject);
  append_netstring(out, e.detail);
  append_netstring(out, e.prev_hash);
  return out;
}

std::string audit_entry_hash(const AuditEntry& e) { return sha256_hex(audit_entry_encoding(e)); }

}  // namespace sektorbro
