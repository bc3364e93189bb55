#include "broker/store/store_backup.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <memory>

namespace sektorbro {
namespace {

constexpr int kBusyTimeoutMs = 5000;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

Error backup_error(const std::string& path, std::string_view what, sqlite3* db) {
  std::string detail = path + ": " + std::string(what);
  if (db) detail += std::string(": ") + sqlite3_errmsg(db);
  return make_error(Errc::kStorage, std::move(detail));
}

Result<Db> open_db(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return backup_error(path, "cannot open", db.get());
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  return db;
}

Result<std::int64_t> count(sqlite3* db, const std::string& path, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK)
    return backup_error(path, "not a store (read its tables)", db);
  Result<std::int64_t> out = backup_error(path, "read", db);
  if (sqlite3_step(stmt) == SQLITE_ROW) out = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return out;
}

}  // namespace

Result<BackupResult> backup_store(const std::string& store_path, const std::string& dest) {
  std::error_code ec;
  if (std::filesystem::exists(dest, ec))
    return make_error(Errc::kConflict, dest + " exists: a backup never overwrites a file");
  if (!std::filesystem::exists(store_path, ec))
    return make_error(Errc::kStorage, store_path + ": no such store");
  const std::string part = dest + ".part";
  std::filesystem::remove(part, ec);
  auto source = open_db(store_path, SQLITE_OPEN_READONLY);
  if (!source) return source.error();
  BackupResult result;
  {
    auto target = open_db(part, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!target) return target.error();
    sqlite3_backup* backup = sqlite3_backup_init(target->get(), "main", source->get(), "main");
    if (backup == nullptr) {
      auto e = backup_error(part, "cannot start the backup", target->get());
      target->reset();
      std::filesystem::remove(part, ec);
      return e;
    }
    // One step copies every page under one read transaction: one consistent snapshot, however
    // busy the broker is (a stepwise copy would restart at every commit of the live store).
    int rc;
    do {
      rc = sqlite3_backup_step(backup, -1);
    } while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    result.pages = sqlite3_backup_pagecount(backup);
    const int finish = sqlite3_backup_finish(backup);
    auto fail = [&](std::string_view what) {
      auto e = backup_error(store_path, what, target->get());
      target->reset();
      std::filesystem::remove(part, ec);
      return e;
    };
    if (rc != SQLITE_DONE || finish != SQLITE_OK) return fail("the backup failed");
    // A self-contained file: no -wal beside it, readable read-only anywhere. Durable before it
    // gets its name.
    for (const char* sql : {"PRAGMA journal_mode = DELETE", "PRAGMA synchronous = FULL"})
      if (sqlite3_exec(target->get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK)
        return fail("cannot finish the copy");
  }
  std::filesystem::rename(part, dest, ec);
  if (ec) return make_error(Errc::kStorage, dest + ": cannot rename the finished copy");
  result.bytes = static_cast<std::int64_t>(std::filesystem::file_size(dest, ec));
  return result;
}

Result<BackupCheck> check_backup(const std::string& path, const VerifyOptions& options) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return make_error(Errc::kStorage, path + ": no such file");
  BackupCheck check;
  {
    auto db = open_db(path, SQLITE_OPEN_READONLY);
    if (!db) return db.error();
    sqlite3* d = db->get();
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(d, "PRAGMA integrity_check(1)", -1, &stmt, nullptr) != SQLITE_OK)
      return backup_error(path, "not a database", d);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(stmt, 0);
      check.integrity = t ? reinterpret_cast<const char*>(t) : "";
    }
    sqlite3_finalize(stmt);
    check.integrity_ok = check.integrity == "ok";
    const std::pair<std::int64_t*, const char*> counts[] = {
        {&check.schema_version, "PRAGMA user_version"},
        {&check.messages, "SELECT count(*) FROM messages"},
        {&check.pending, "SELECT count(*) FROM messages WHERE state = 'pending'"},
        {&check.bodies_deleted, "SELECT count(*) FROM messages WHERE body_deleted_at IS NOT NULL"},
        {&check.deadlines_open, "SELECT count(*) FROM deadlines WHERE state = 'open'"},
        {&check.audit_entries, "SELECT count(*) FROM audit_chain"},
    };
    for (const auto& [out, sql] : counts) {
      auto n = count(d, path, sql);
      if (!n) return n.error();
      *out = *n;
    }
  }
  auto verdict = verify_audit_chain(path, options);
  if (!verdict) return verdict.error();
  check.audit = std::move(*verdict);
  return check;
}

}  // namespace sektorbro
