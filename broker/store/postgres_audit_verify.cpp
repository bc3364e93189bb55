#include "broker/store/postgres_audit_verify.hpp"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "broker/store/postgres_connection.hpp"

namespace sektorbro {
namespace {

constexpr int kFetchRows = 10000;

// The SQLite store's audit_chain table (sqlite_store.cpp, schema version 4), without its
// triggers: what verify_audit_chain() reads.
constexpr const char* kChainTable =
    "CREATE TABLE audit_chain (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL, "
    "actor TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, "
    "hash TEXT NOT NULL, binding TEXT NOT NULL DEFAULT '')";
constexpr const char* kInsert =
    "INSERT INTO audit_chain (seq, at, kind, actor, subject, detail, prev_hash, hash, binding) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

// Removes the temporary folder and what is in it.
struct TempFolder {
  std::string path;
  ~TempFolder() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

Result<AuditVerdict> verify_postgres_audit_chain(const std::string& conninfo) {
  const std::string where = describe_conninfo(conninfo);
  const auto fail = [&](const std::string& why) {
    return make_error(Errc::kStorage, "cannot verify PostgreSQL store (" + where + "): " + why);
  };
  auto pg = PgConnection::connect(conninfo);
  if (!pg) return fail(pg.error().detail);
  PgConnection& c = **pg;
  if (auto r = c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin"); !r)
    return fail(r.error().detail);
  if (auto r = c.exec("DECLARE chain NO SCROLL CURSOR FOR SELECT seq, at, kind, actor, subject, "
                      "detail, prev_hash, hash, binding FROM audit_chain ORDER BY seq",
                      "read the audit chain (is this a Sektorbro PostgreSQL store?)");
      !r)
    return fail(r.error().detail);

  std::string pattern =
      (std::filesystem::temp_directory_path() / "sb-audit-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return fail("cannot create a temporary folder");
  TempFolder folder{pattern};
  const std::string file = folder.path + "/chain.db";
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    sqlite3_close_v2(raw);
    return fail("cannot create a temporary file");
  }
  {
    std::unique_ptr<sqlite3, DbCloser> db(raw);
    if (sqlite3_exec(raw, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN", nullptr,
                     nullptr, nullptr) != SQLITE_OK ||
        sqlite3_exec(raw, kChainTable, nullptr, nullptr, nullptr) != SQLITE_OK)
      return fail(std::string("temporary file: ") + sqlite3_errmsg(raw));
    sqlite3_stmt* stmt_raw = nullptr;
    if (sqlite3_prepare_v2(raw, kInsert, -1, &stmt_raw, nullptr) != SQLITE_OK)
      return fail(std::string("temporary file: ") + sqlite3_errmsg(raw));
    std::unique_ptr<sqlite3_stmt, StmtFinalizer> insert(stmt_raw);
    const std::string fetch = "FETCH " + std::to_string(kFetchRows) + " FROM chain";
    while (true) {
      auto rows = c.query(fetch, PgParams{}, "read the audit chain");
      if (!rows) return fail(rows.error().detail);
      if (rows->rows() == 0) break;
      for (int i = 0; i < rows->rows(); ++i) {
        sqlite3_bind_int64(stmt_raw, 1, rows->int64_at(i, 0));
        sqlite3_bind_int64(stmt_raw, 2, rows->int64_at(i, 1));
        for (int col = 2; col < 9; ++col) {
          const std::string v = rows->text_at(i, col);
          sqlite3_bind_text(stmt_raw, col + 1, v.data(), static_cast<int>(v.size()),
                            SQLITE_TRANSIENT);
        }
        if (sqlite3_step(stmt_raw) != SQLITE_DONE)
          return fail(std::string("temporary file: ") + sqlite3_errmsg(raw));
        sqlite3_reset(stmt_raw);
      }
    }
    if (sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
      return fail(std::string("temporary file: ") + sqlite3_errmsg(raw));
  }
  (void)c.exec("COMMIT", "end read");
  // The chain only: the message rows are in PostgreSQL, not in the copy (issue 12, item 5's
  // row check is SQLite's; see docs/audit.md).
  VerifyOptions chain_only;
  chain_only.check_rows = false;
  auto verdict = verify_audit_chain(file, chain_only);
  if (!verdict) return fail(verdict.error().detail);
  return verdict;
}

}  // namespace sektorbro
