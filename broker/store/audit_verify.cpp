#include "broker/store/audit_verify.hpp"

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <utility>

#include "broker/store/audit_chain.hpp"

namespace sektorbro {
namespace {

constexpr int kBusyTimeoutMs = 5000;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// SQLite's messages name files, tables and columns, never row values.
Error verify_error(const std::string& path, std::string_view what, sqlite3* db) {
  std::string detail = "cannot verify " + path + ": " + std::string(what);
  if (db) detail += std::string(": ") + sqlite3_errmsg(db);
  return make_error(Errc::kStorage, std::move(detail));
}

std::string text_at(sqlite3_stmt* s, int col) {
  const auto* p = sqlite3_column_text(s, col);
  const int n = sqlite3_column_bytes(s, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
           : std::string();
}

// The seq of an entry whose hash is `hash`, other than `except`, if any.
Result<std::optional<std::int64_t>> entry_with_hash(sqlite3* db, const std::string& path,
                                                    const std::string& hash, std::int64_t except) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT seq FROM audit_chain WHERE hash = ?1 AND seq IS NOT ?2 "
                         "ORDER BY seq LIMIT 1",
                         -1, &raw, nullptr) != SQLITE_OK)
    return verify_error(path, "look up a hash", db);
  Stmt stmt(raw);
  sqlite3_bind_text(raw, 1, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(raw, 2, except);
  const int rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) return std::optional<std::int64_t>(sqlite3_column_int64(raw, 0));
  if (rc == SQLITE_DONE) return std::optional<std::int64_t>();
  return verify_error(path, "look up a hash", db);
}

std::string short_hash(const std::string& h) { return h.substr(0, 12) + "…"; }

std::string entry_name(std::int64_t seq) {
  return seq == 0 ? std::string("the start of the chain") : "entry " + std::to_string(seq);
}

AuditVerdict broken(std::int64_t entries, std::int64_t seq, AuditBreak reason,
                    std::string explanation) {
  AuditVerdict v;
  v.ok = false;
  v.entries = entries;
  v.bad_seq = seq;
  v.reason = reason;
  v.explanation = std::move(explanation);
  return v;
}

}  // namespace

std::string_view to_string(AuditBreak b) {
  switch (b) {
    case AuditBreak::kAltered:
      return "altered";
    case AuditBreak::kRemoved:
      return "removed";
    case AuditBreak::kInserted:
      return "inserted";
  }
  return "?";
}

Result<AuditVerdict> verify_audit_chain(const std::string& db_path) {
  sqlite3* raw_db = nullptr;
  const int open_rc = sqlite3_open_v2(db_path.c_str(), &raw_db, SQLITE_OPEN_READONLY, nullptr);
  Db db(raw_db);
  if (open_rc != SQLITE_OK)
    return verify_error(db_path, db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(open_rc), nullptr);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  // One snapshot for the walk and the hash look-ups, even while the broker appends.
  if (sqlite3_exec(db.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
    return verify_error(db_path, "begin", db.get());

  sqlite3_stmt* raw = nullptr;
  // rowid orders entries with equal seq, possible only if the table lost its primary key.
  const char* kWalk =
      "SELECT seq, at, kind, actor, subject, detail, prev_hash, hash, typeof(seq), typeof(at) "
      "FROM audit_chain ORDER BY seq, rowid";
  if (sqlite3_prepare_v2(db.get(), kWalk, -1, &raw, nullptr) != SQLITE_OK)
    return verify_error(
        db_path, "read the audit chain (is this a store of schema version 4 or later?)", db.get());
  Stmt walk(raw);

  std::int64_t prev_seq = 0;
  std::string prev_hash(kAuditGenesisHash);
  std::int64_t entries = 0;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    AuditEntry e;
    e.seq = sqlite3_column_int64(raw, 0);
    e.at = from_millis(sqlite3_column_int64(raw, 1));
    e.kind = text_at(raw, 2);
    e.actor = text_at(raw, 3);
    e.subject = text_at(raw, 4);
    e.detail = text_at(raw, 5);
    e.prev_hash = text_at(raw, 6);
    e.hash = text_at(raw, 7);
    const bool integers = text_at(raw, 8) == "integer" && text_at(raw, 9) == "integer";

    // 1. altered
    if (!integers)
      return broken(entries, e.seq, AuditBreak::kAltered, "seq or at is not an integer");
    if (audit_entry_hash(e) != e.hash)
      return broken(entries, e.seq, AuditBreak::kAltered,
                    "its hash " + short_hash(e.hash) + " does not match its content");
    // 2. inserted: not after prev
    if (e.seq <= prev_seq)
      return broken(entries, e.seq, AuditBreak::kInserted,
                    e.seq == prev_seq
                        ? "a second entry with seq " + std::to_string(e.seq)
                        : "seq " + std::to_string(e.seq) + " comes before the first entry, seq 1");
    // 3. removed: a gap
    if (e.seq > prev_seq + 1) {
      const std::int64_t first = prev_seq + 1;
      const std::int64_t last = e.seq - 1;
      return broken(entries, e.seq, AuditBreak::kRemoved,
                    first == last ? "entry " + std::to_string(first) + " is missing"
                                  : "entries " + std::to_string(first) + " to " +
                                        std::to_string(last) + " are missing");
    }
    if (e.prev_hash != prev_hash) {
      auto other = entry_with_hash(db.get(), db_path, e.prev_hash, prev_seq);
      if (!other) return other.error();
      // 4. inserted: chained after another entry
      if (*other)
        return broken(entries, e.seq, AuditBreak::kInserted,
                      "it is chained after entry " + std::to_string(**other) + ", not after " +
                          entry_name(prev_seq));
      // 5. removed: chained after an entry that is gone
      return broken(entries, e.seq, AuditBreak::kRemoved,
                    "it is chained after " + short_hash(e.prev_hash) +
                        ", which is no entry in the file: the entry before it was removed or "
                        "rewritten");
    }
    prev_seq = e.seq;
    prev_hash = std::move(e.hash);
    ++entries;
  }
  if (rc != SQLITE_DONE) return verify_error(db_path, "read the audit chain", db.get());
  AuditVerdict v;
  v.entries = entries;
  v.last_hash = std::move(prev_hash);
  return v;
}

}  // namespace sektorbro
