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

// The SQLite store's audit_chain table (sqlite_store.cpp, schema version 11), without its
// triggers: what verify_audit_chain() reads.
constexpr const char* kChainTable =
    "CREATE TABLE audit_chain (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL, "
    "actor TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, "
    "hash TEXT NOT NULL, binding TEXT NOT NULL DEFAULT '', message_id INTEGER)";
constexpr const char* kInsert =
    "INSERT INTO audit_chain (seq, at, kind, actor, subject, detail, prev_hash, hash, binding, "
    "message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
// What the row check reads of the messages (audit_verify.cpp, check_rows): the SQLite store's
// columns before bodies moved to a table of their own, so the body is the stored bytes.
constexpr const char* kMessagesTable =
    "CREATE TABLE messages (id INTEGER PRIMARY KEY, body BLOB NOT NULL, state TEXT NOT NULL, "
    "receipt TEXT NOT NULL, body_deleted_at INTEGER)";
constexpr const char* kInsertMessage =
    "INSERT INTO messages (id, body, state, receipt, body_deleted_at) VALUES (?1, ?2, ?3, ?4, ?5)";

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

Result<AuditVerdict> verify_postgres_audit_chain(const std::string& conninfo,
                                                 const VerifyOptions& options) {
  const std::string where = describe_conninfo(conninfo);
  const auto fail = [&](const std::string& why) {
    return make_error(Errc::kStorage, "cannot verify PostgreSQL store (" + where + "): " + why);
  };
  auto pg = PgConnection::connect(conninfo);
  if (!pg) return fail(pg.error().detail);
  PgConnection& c = **pg;
  if (auto r = c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin"); !r)
    return fail(r.error().detail);
  // A database of schema version 5 or older (its brokers not yet upgraded) has no timeline
  // column; its entries are verified as they are.
  auto timeline_column = c.query(
      "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
      "AND table_name = 'audit_chain' AND column_name = 'message_id'",
      PgParams{}, "read the schema");
  if (!timeline_column) return fail(timeline_column.error().detail);
  const std::string declare =
      std::string(
          "DECLARE chain NO SCROLL CURSOR FOR SELECT seq, at, kind, actor, subject, "
          "detail, prev_hash, hash, binding, ") +
      (timeline_column->int64_at(0, 0) > 0 ? "message_id" : "NULL::bigint") +
      " FROM audit_chain ORDER BY seq";
  if (auto r = c.exec(declare, "read the audit chain (is this a Sektorbro PostgreSQL store?)"); !r)
    return fail(r.error().detail);

  std::string pattern = (std::filesystem::temp_directory_path() / "sb-audit-XXXXXX").string();
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
        if (rows->null_at(i, 9))
          sqlite3_bind_null(stmt_raw, 10);
        else
          sqlite3_bind_int64(stmt_raw, 10, rows->int64_at(i, 9));
        if (sqlite3_step(stmt_raw) != SQLITE_DONE)
          return fail(std::string("temporary file: ") + sqlite3_errmsg(raw));
        sqlite3_reset(stmt_raw);
      }
    }
    // The message rows, from the same snapshot, for the row check (issue 12, item 5).
    if (options.check_rows) {
      if (sqlite3_exec(raw, kMessagesTable, nullptr, nullptr, nullptr) != SQLITE_OK)
        return fail(std::string("temporary file: ") + sqlite3_errmsg(raw));
      if (auto r = c.exec("DECLARE rows NO SCROLL CURSOR FOR SELECT id, body, state, receipt, "
                          "body_deleted_at FROM messages ORDER BY id",
                          "read the messages");
          !r)
        return fail(r.error().detail);
      sqlite3_stmt* row_raw = nullptr;
      if (sqlite3_prepare_v2(raw, kInsertMessage, -1, &row_raw, nullptr) != SQLITE_OK)
        return fail(std::string("temporary file: ") + sqlite3_errmsg(raw));
      std::unique_ptr<sqlite3_stmt, StmtFinalizer> insert_row(row_raw);
      const std::string fetch_rows = "FETCH " + std::to_string(kFetchRows) + " FROM rows";
      while (true) {
        auto rows = c.query(fetch_rows, PgParams{}, "read the messages");
        if (!rows) return fail(rows.error().detail);
        if (rows->rows() == 0) break;
        for (int i = 0; i < rows->rows(); ++i) {
          sqlite3_bind_int64(row_raw, 1, rows->int64_at(i, 0));
          const std::string body = rows->bytes_at(i, 1);
          sqlite3_bind_blob(row_raw, 2, body.data(), static_cast<int>(body.size()),
                            SQLITE_TRANSIENT);
          const std::string state = rows->text_at(i, 2);
          sqlite3_bind_text(row_raw, 3, state.data(), static_cast<int>(state.size()),
                            SQLITE_TRANSIENT);
          const std::string receipt = rows->text_at(i, 3);
          sqlite3_bind_text(row_raw, 4, receipt.data(), static_cast<int>(receipt.size()),
                            SQLITE_TRANSIENT);
          if (rows->null_at(i, 4))
            sqlite3_bind_null(row_raw, 5);
          else
            sqlite3_bind_int64(row_raw, 5, rows->int64_at(i, 4));
          if (sqlite3_step(row_raw) != SQLITE_DONE)
            return fail(std::string("temporary file: ") + sqlite3_errmsg(raw));
          sqlite3_reset(row_raw);
        }
      }
    }
    if (sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
      return fail(std::string("temporary file: ") + sqlite3_errmsg(raw));
  }
  (void)c.exec("COMMIT", "end read");
  // One definition of the rules: verify_audit_chain() on the copy, with the caller's key,
  // checkpoint and row check.
  auto verdict = verify_audit_chain(file, options);
  if (!verdict)
    return make_error(verdict.error().code,
                      "cannot verify PostgreSQL store (" + where + "): " + verdict.error().detail);
  return verdict;
}

}  // namespace sektorbro
