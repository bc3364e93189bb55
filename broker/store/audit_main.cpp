// sektorbro-audit: checks the audit chain of a store file (issue 5).
//
//   sektorbro-audit verify --store FILE
//
// Prints "audit chain ok: N entries" (and the last entry's hash, to keep elsewhere) and exits 0,
// or "audit chain broken at entry S: altered|removed|inserted (why)" and exits 1. Exits 2 on a
// usage error or a file it cannot read. The rules are in broker/store/audit_verify.hpp.
#include <iostream>
#include <string>
#include <string_view>

#include "broker/store/audit_verify.hpp"

namespace {

constexpr int kOk = 0;
constexpr int kBroken = 1;
constexpr int kUsage = 2;

int usage() {
  std::cerr << "usage: sektorbro-audit verify --store FILE\n";
  return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || std::string_view(argv[1]) != "verify" || std::string_view(argv[2]) != "--store")
    return usage();
  const std::string path = argv[3];
  auto verdict = sektorbro::verify_audit_chain(path);
  if (!verdict) {
    std::cerr << "sektorbro-audit: " << verdict.error().detail << "\n";
    return kUsage;
  }
  if (verdict->ok) {
    std::cout << "audit chain ok: " << verdict->entries << " entries\n"
              << "last hash: " << verdict->last_hash << "\n";
    return kOk;
  }
  std::cout << "audit chain broken at entry " << verdict->bad_seq << ": "
            << sektorbro::to_string(verdict->reason) << " (" << verdict->explanation << ")\n";
  return kBroken;
}
