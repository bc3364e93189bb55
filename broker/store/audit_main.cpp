// sektorbro-audit: checks the audit chain of a store file (issue 5, issue 12 item 5).
//
//   sektorbro-audit verify --store FILE [--key-file FILE] [--checkpoint FILE] [--no-rows]
//   sektorbro-audit verify --postgres CONNINFO [--key-file FILE] [--checkpoint FILE] [--no-rows]
//
// --postgres reads a PostgreSQL store (issue 11) from one snapshot and applies the same rules
// (postgres_audit_verify.hpp). CONNINFO is a libpq connection string; it is never printed (it may
// hold a password: better use ~/.pgpass).
//
// Prints "audit chain ok: N entries" (with the last entry's hash, to keep elsewhere, and what
// was checked) and exits 0, or "audit chain broken at entry S: <reason> (why)" and exits 1.
// Exits 2 on a usage error, a file it cannot read, or a keyed chain without --key-file. The
// rules are in broker/store/audit_verify.hpp, what each measure defends against in
// docs/audit.md. Nothing it prints holds content or CPR numbers.
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "broker/store/audit_checkpoint.hpp"
#include "broker/store/audit_verify.hpp"
#include "broker/store/postgres_audit_verify.hpp"

namespace {

constexpr int kOk = 0;
constexpr int kBroken = 1;
constexpr int kUsage = 2;

int usage() {
  std::cerr << "usage: sektorbro-audit verify (--store FILE | --postgres CONNINFO) "
               "[--key-file FILE] [--checkpoint FILE] [--no-rows]\n";
  return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sektorbro;
  if (argc < 2 || std::string_view(argv[1]) != "verify") return usage();
  std::string store;
  std::string postgres;
  std::string key_file;
  std::string checkpoint_file;
  VerifyOptions options;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--no-rows") {
      options.check_rows = false;
    } else if (i + 1 < argc && arg == "--store") {
      store = argv[++i];
    } else if (i + 1 < argc && arg == "--postgres") {
      postgres = argv[++i];
    } else if (i + 1 < argc && arg == "--key-file") {
      key_file = argv[++i];
    } else if (i + 1 < argc && arg == "--checkpoint") {
      checkpoint_file = argv[++i];
    } else {
      return usage();
    }
  }
  if (store.empty() == postgres.empty()) return usage();  // exactly one of them
  std::optional<AuditKey> key;
  if (!key_file.empty()) {
    auto read = read_audit_key(key_file);
    if (!read) {
      std::cerr << "sektorbro-audit: " << read.error().detail << "\n";
      return kUsage;
    }
    key = std::move(*read);
    options.key = &*key;
  }
  if (!checkpoint_file.empty()) {
    auto head = read_audit_checkpoint(checkpoint_file);
    if (!head) {
      std::cerr << "sektorbro-audit: " << head.error().detail << "\n";
      return kUsage;
    }
    options.checkpoint = std::move(*head);
  }
  auto verdict = postgres.empty() ? verify_audit_chain(store, options)
                                  : verify_postgres_audit_chain(postgres, options);
  if (!verdict) {
    std::cerr << "sektorbro-audit: " << verdict.error().detail << "\n";
    return kUsage;
  }
  if (verdict->ok) {
    std::cout << "audit chain ok: " << verdict->entries << " entries\n"
              << "last hash: " << verdict->last_hash << "\n"
              << "keyed entries: " << verdict->keyed_entries
              << (options.key ? "" : " (no key given)") << ", unkeyed: "
              << verdict->unkeyed_entries << "\n";
    if (options.checkpoint)
      std::cout << "checkpoint: entry " << options.checkpoint->seq << " matches\n";
    if (options.check_rows)
      std::cout << "message rows: " << verdict->rows_checked << " match their bindings, "
                << verdict->rows_unbound << " unbound (stored before the chain bound rows)\n";
    return kOk;
  }
  std::cout << "audit chain broken at entry " << verdict->bad_seq << ": "
            << to_string(verdict->reason) << " (" << verdict->explanation << ")\n";
  return kBroken;
}
