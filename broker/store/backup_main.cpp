// sektorbro-backup: online backup of the SQLite store, and the check of a backup (issue 11,
// item 5; docs/backup.md; broker/store/store_backup.hpp).
//
//   sektorbro-backup backup --store FILE --to FILE
//   sektorbro-backup check --backup FILE [--key-file FILE] [--checkpoint FILE]
//
// backup works while the broker runs (SQLite's backup API, one consistent snapshot) and prints
// "backup written: FILE (N pages, B bytes)". check prints the integrity, the counts and the
// audit chain's verdict. Exit 0 when done / the backup is sound, 1 when the check fails, 2 on a
// usage error or a file that cannot be read or written. Nothing printed holds content or CPR.
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "broker/store/audit_checkpoint.hpp"
#include "broker/store/store_backup.hpp"

namespace {

constexpr int kOk = 0;
constexpr int kBad = 1;
constexpr int kUsage = 2;

int usage() {
  std::cerr << "usage: sektorbro-backup backup --store FILE --to FILE\n"
               "       sektorbro-backup check --backup FILE [--key-file FILE] "
               "[--checkpoint FILE]\n";
  return kUsage;
}

int fail(const std::string& why) {
  std::cerr << "sektorbro-backup: " << why << "\n";
  return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sektorbro;
  if (argc < 2) return usage();
  const std::string_view command = argv[1];
  std::string store, to, backup, key_file, checkpoint_file;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    std::string* out = flag == "--store"        ? &store
                       : flag == "--to"         ? &to
                       : flag == "--backup"     ? &backup
                       : flag == "--key-file"   ? &key_file
                       : flag == "--checkpoint" ? &checkpoint_file
                                                : nullptr;
    if (out == nullptr) return usage();
    *out = argv[i + 1];
  }
  if (argc % 2 != 0) return usage();
  if (command == "backup") {
    if (store.empty() || to.empty() || !backup.empty() || !key_file.empty()) return usage();
    auto done = backup_store(store, to);
    if (!done) return fail(done.error().detail);
    std::cout << "backup written: " << to << " (" << done->pages << " pages, " << done->bytes
              << " bytes)\n";
    return kOk;
  }
  if (command != "check" || backup.empty() || !store.empty() || !to.empty()) return usage();
  VerifyOptions options;
  std::optional<AuditKey> key;
  if (!key_file.empty()) {
    auto read = read_audit_key(key_file);
    if (!read) return fail(read.error().detail);
    key = std::move(*read);
    options.key = &*key;
  }
  if (!checkpoint_file.empty()) {
    auto head = read_audit_checkpoint(checkpoint_file);
    if (!head) return fail(head.error().detail);
    options.checkpoint = std::move(*head);
  }
  auto check = check_backup(backup, options);
  if (!check) return fail(check.error().detail);
  std::cout << "integrity: " << check->integrity << "\n"
            << "schema version: " << check->schema_version << "\n"
            << "messages: " << check->messages << " (pending " << check->pending
            << ", bodies deleted by retention " << check->bodies_deleted << ")\n"
            << "open deadlines: " << check->deadlines_open << "\n"
            << "audit entries: " << check->audit_entries << "\n";
  if (check->audit.ok)
    std::cout << "audit chain ok: " << check->audit.entries << " entries, last hash "
              << check->audit.last_hash << "\n";
  else
    std::cout << "audit chain broken at entry " << check->audit.bad_seq << ": "
              << to_string(check->audit.reason) << " (" << check->audit.explanation << ")\n";
  std::cout << (check->ok() ? "backup ok\n" : "backup NOT ok\n");
  return check->ok() ? kOk : kBad;
}
