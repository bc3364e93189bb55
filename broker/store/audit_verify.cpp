#include "broker/store/audit_verify.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "broker/core/identifiers.hpp"
#include "broker/store/audit_chain.hpp"
#include "broker/store/body_codec.hpp"

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

AuditVerdict broken(std::int64_t entries, std::int64_t seq, AuditBreak reason,
                    std::string explanation);

std::string short_hash(const std::string& h) {
  return h.substr(0, is_keyed_seal(h) ? 17 : 12) + "…";
}

// Whether `table` has `column` (older schema versions lack the newer ones).
Result<bool> has_column(sqlite3* db, const std::string& path, const char* table,
                        const char* column) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2", -1, &raw,
                         nullptr) != SQLITE_OK)
    return verify_error(path, "read the schema", db);
  Stmt stmt(raw);
  sqlite3_bind_text(raw, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text(raw, 2, column, -1, SQLITE_STATIC);
  if (sqlite3_step(raw) != SQLITE_ROW) return verify_error(path, "read the schema", db);
  return sqlite3_column_int64(raw, 0) > 0;
}

// What a message row must hold, as its latest binding entries say (audit_chain.hpp).
struct RowExpectation {
  std::string body;  // SHA-256 of the body while it is kept
  std::int64_t body_seq = 0;
  std::string state;
  std::int64_t state_seq = 0;
  std::string receipt;
  std::int64_t receipt_seq = 0;
  std::int64_t body_deleted_seq = 0;    // 0: not deleted
  std::int64_t record_deleted_seq = 0;  // 0: not deleted
};

// The message id of a subject "message <id>[ …]".
std::optional<std::int64_t> subject_message(std::string_view subject) {
  if (!subject.starts_with("message ")) return std::nullopt;
  subject.remove_prefix(8);
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(subject.data(), subject.data() + subject.size(), id);
  if (ec != std::errc() || end == subject.data()) return std::nullopt;
  if (end != subject.data() + subject.size() && *end != ' ') return std::nullopt;
  return id;
}

// Folds one entry's binding into the expectations. A "body-deleted" entry must name the body
// the row was bound to: otherwise the body was changed before retention deleted it (the seq of
// that entry is returned).
std::optional<std::int64_t> apply_binding(std::map<std::int64_t, RowExpectation>& rows,
                                          std::int64_t message_id, std::int64_t seq,
                                          std::string_view binding) {
  RowExpectation& x = rows[message_id];
  if (auto v = binding_value(binding, "body")) {
    x.body = std::move(*v);
    x.body_seq = seq;
    x.body_deleted_seq = 0;
  }
  if (auto v = binding_value(binding, "state")) {
    x.state = std::move(*v);
    x.state_seq = seq;
  }
  if (auto v = binding_value(binding, "receipt")) {
    x.receipt = std::move(*v);
    x.receipt_seq = seq;
  }
  if (auto v = binding_value(binding, "body-deleted")) {
    if (x.body_seq != 0 && *v != x.body) return seq;
    x.body_deleted_seq = seq;
  }
  if (binding_value(binding, "record-deleted")) x.record_deleted_seq = seq;
  return std::nullopt;
}

// The SHA-256 of a row's body as the broker was given it: from schema version 9 on, column 5 says
// how it is kept (body_codec.hpp). A body that cannot be unpacked hashes to "" (altered).
std::string body_hash(sqlite3_stmt* row, std::string_view bytes) {
  if (sqlite3_column_count(row) <= 5 || sqlite3_column_type(row, 5) == SQLITE_NULL)
    return sha256_hex(bytes);
  auto body = unpack_body(bytes, sqlite3_column_int(row, 5));
  return body ? sha256_hex(*body) : std::string();
}

// Compares every message row with its expectation; the first disagreement, in id order.
Result<std::optional<AuditVerdict>> check_rows(sqlite3* db, const std::string& path,
                                               std::map<std::int64_t, RowExpectation>& rows,
                                               AuditVerdict& v) {
  // Bodies live in message_bodies from schema version 9 on, inline in messages before.
  auto deleted_column = has_column(db, path, "messages", "body_deleted_at");
  if (!deleted_column) return deleted_column.error();
  auto body_table = has_column(db, path, "message_bodies", "body");
  if (!body_table) return body_table.error();
  const char* sql =
      *body_table       ? "SELECT m.id, b.body, m.state, m.receipt, m.body_deleted_at, b.codec "
                          "FROM messages m LEFT JOIN message_bodies b ON b.message_id = m.id "
                          "ORDER BY m.id"
      : *deleted_column ? "SELECT id, body, state, receipt, body_deleted_at FROM messages "
                          "ORDER BY id"
                        : "SELECT id, body, state, receipt, NULL FROM messages ORDER BY id";
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK)
    return verify_error(path, "read the messages", db);
  Stmt stmt(raw);
  auto row_broken = [&](AuditBreak reason, std::int64_t seq, std::string why) {
    return std::optional<AuditVerdict>(broken(v.entries, seq, reason, std::move(why)));
  };
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    const std::int64_t id = sqlite3_column_int64(raw, 0);
    const auto it = rows.find(id);
    if (it == rows.end()) {
      ++v.rows_unbound;
      continue;
    }
    const RowExpectation& x = it->second;
    const std::string name = "message " + std::to_string(id);
    if (x.record_deleted_seq != 0)
      return row_broken(AuditBreak::kRowAltered, x.record_deleted_seq,
                        name + " was deleted (entry " + std::to_string(x.record_deleted_seq) +
                            ") but its row is there");
    const auto* body = static_cast<const char*>(sqlite3_column_blob(raw, 1));
    const std::string_view bytes(body ? body : "",
                                 static_cast<std::size_t>(sqlite3_column_bytes(raw, 1)));
    const bool marked_deleted = sqlite3_column_type(raw, 4) != SQLITE_NULL;
    if (x.body_deleted_seq != 0) {
      if (!bytes.empty() || !marked_deleted)
        return row_broken(AuditBreak::kRowAltered, x.body_deleted_seq,
                          name + "'s body was deleted (entry " +
                              std::to_string(x.body_deleted_seq) + ") but the row holds one");
    } else if (x.body_seq != 0 && (marked_deleted || body_hash(raw, bytes) != x.body)) {
      return row_broken(
          AuditBreak::kRowAltered, x.body_seq,
          name + "'s body does not match the hash entry " + std::to_string(x.body_seq) + " bound");
    }
    if (x.state_seq != 0 && text_at(raw, 2) != x.state)
      return row_broken(AuditBreak::kRowAltered, x.state_seq,
                        name + "'s state is not the '" + x.state + "' entry " +
                            std::to_string(x.state_seq) + " recorded");
    if (x.receipt_seq != 0 && text_at(raw, 3) != x.receipt)
      return row_broken(AuditBreak::kRowAltered, x.receipt_seq,
                        name + "'s receipt is not the '" + x.receipt + "' entry " +
                            std::to_string(x.receipt_seq) + " recorded");
    ++v.rows_checked;
    rows.erase(it);
  }
  if (rc != SQLITE_DONE) return verify_error(path, "read the messages", db);
  // What is left had no row: fine only where retention deleted the record.
  for (const auto& [id, x] : rows)
    if (x.record_deleted_seq == 0)
      return row_broken(AuditBreak::kRowRemoved,
                        std::max({x.body_seq, x.state_seq, x.receipt_seq, x.body_deleted_seq}),
                        "message " + std::to_string(id) +
                            " is bound by the chain but its row is "
                            "gone, with no record-deleted entry");
  return std::optional<AuditVerdict>();
}

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
    case AuditBreak::kUnkeyed:
      return "unkeyed";
    case AuditBreak::kTruncated:
      return "truncated";
    case AuditBreak::kRewritten:
      return "rewritten";
    case AuditBreak::kRowAltered:
      return "row-altered";
    case AuditBreak::kRowRemoved:
      return "row-removed";
  }
  return "?";
}

Result<AuditVerdict> verify_audit_chain(const std::string& db_path, const VerifyOptions& options) {
  sqlite3* raw_db = nullptr;
  const int open_rc = sqlite3_open_v2(db_path.c_str(), &raw_db, SQLITE_OPEN_READONLY, nullptr);
  Db db(raw_db);
  if (open_rc != SQLITE_OK)
    return verify_error(db_path, db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(open_rc), nullptr);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  // One snapshot for the walk, the hash look-ups and the rows, even while the broker appends.
  if (sqlite3_exec(db.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
    return verify_error(db_path, "begin", db.get());

  auto binding_column = has_column(db.get(), db_path, "audit_chain", "binding");
  if (!binding_column) return binding_column.error();
  auto timeline_column = has_column(db.get(), db_path, "audit_chain", "message_id");
  if (!timeline_column) return timeline_column.error();
  sqlite3_stmt* raw = nullptr;
  // rowid orders entries with equal seq, possible only if the table lost its primary key.
  const std::string walk_sql =
      std::string(
          "SELECT seq, at, kind, actor, subject, detail, prev_hash, hash, typeof(seq), "
          "typeof(at), ") +
      (*binding_column ? "binding" : "''") + ", " + (*timeline_column ? "message_id" : "NULL") +
      " FROM audit_chain ORDER BY seq, rowid";
  if (sqlite3_prepare_v2(db.get(), walk_sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
    return verify_error(
        db_path, "read the audit chain (is this a store of schema version 4 or later?)", db.get());
  Stmt walk(raw);

  std::int64_t prev_seq = 0;
  std::string prev_hash(kAuditGenesisHash);
  std::int64_t entries = 0;
  std::int64_t keyed = 0;
  std::int64_t unkeyed = 0;
  std::optional<std::string> checkpoint_hash;  // the hash of entry checkpoint->seq, once read
  std::map<std::int64_t, RowExpectation> rows;
  auto stop = [&](std::int64_t seq, AuditBreak reason, std::string why) {
    AuditVerdict v = broken(entries, seq, reason, std::move(why));
    v.keyed_entries = keyed;
    v.unkeyed_entries = unkeyed;
    return v;
  };
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
    e.binding = text_at(raw, 10);
    const bool integers = text_at(raw, 8) == "integer" && text_at(raw, 9) == "integer";

    // 1. altered (and the key's rules)
    if (!integers) return stop(e.seq, AuditBreak::kAltered, "seq or at is not an integer");
    if (is_keyed_seal(e.hash)) {
      if (!options.key)
        return make_error(Errc::kInvalid, "entry " + std::to_string(e.seq) +
                                              " is sealed with the audit key: give the key file "
                                              "(--key-file) to verify the chain");
      if (audit_entry_mac(e, *options.key) != e.hash)
        return stop(e.seq, AuditBreak::kAltered,
                    "its seal " + short_hash(e.hash) +
                        " does not match its content under the key (or another key was given)");
      ++keyed;
    } else {
      if (audit_entry_hash(e) != e.hash)
        return stop(e.seq, AuditBreak::kAltered,
                    "its hash " + short_hash(e.hash) + " does not match its content");
      if (options.key && keyed > 0)
        return stop(e.seq, AuditBreak::kUnkeyed,
                    "it is not sealed with the key, though entries before it are: it was "
                    "written or rewritten without the key");
      ++unkeyed;
    }
    // The timeline's column (schema 11) is not sealed: it must name the message the subject
    // names, or a timeline would show another message's events.
    if (sqlite3_column_type(raw, 11) != SQLITE_NULL) {
      const std::int64_t timeline_of = sqlite3_column_int64(raw, 11);
      if (subject_message(e.subject) != timeline_of)
        return stop(e.seq, AuditBreak::kAltered,
                    "its timeline column names message " + std::to_string(timeline_of) +
                        ", its sealed subject does not");
    }
    // 2. inserted: not after prev
    if (e.seq <= prev_seq)
      return stop(e.seq, AuditBreak::kInserted,
                  e.seq == prev_seq
                      ? "a second entry with seq " + std::to_string(e.seq)
                      : "seq " + std::to_string(e.seq) + " comes before the first entry, seq 1");
    // 3. removed: a gap
    if (e.seq > prev_seq + 1) {
      const std::int64_t first = prev_seq + 1;
      const std::int64_t last = e.seq - 1;
      return stop(e.seq, AuditBreak::kRemoved,
                  first == last ? "entry " + std::to_string(first) + " is missing"
                                : "entries " + std::to_string(first) + " to " +
                                      std::to_string(last) + " are missing");
    }
    if (e.prev_hash != prev_hash) {
      auto other = entry_with_hash(db.get(), db_path, e.prev_hash, prev_seq);
      if (!other) return other.error();
      // 4. inserted: chained after another entry
      if (*other)
        return stop(e.seq, AuditBreak::kInserted,
                    "it is chained after entry " + std::to_string(**other) + ", not after " +
                        entry_name(prev_seq));
      // 5. removed: chained after an entry that is gone
      return stop(e.seq, AuditBreak::kRemoved,
                  "it is chained after " + short_hash(e.prev_hash) +
                      ", which is no entry in the file: the entry before it was removed or "
                      "rewritten");
    }
    if (options.check_rows && !e.binding.empty())
      if (const auto id = subject_message(e.subject))
        if (const auto bad = apply_binding(rows, *id, e.seq, e.binding))
          return stop(*bad, AuditBreak::kRowAltered,
                      "message " + std::to_string(*id) +
                          ": the body retention deleted is not the body the chain bound");
    if (options.checkpoint && e.seq == options.checkpoint->seq) checkpoint_hash = e.hash;
    prev_seq = e.seq;
    prev_hash = std::move(e.hash);
    ++entries;
  }
  if (rc != SQLITE_DONE) return verify_error(db_path, "read the audit chain", db.get());

  if (options.key && entries > 0 && keyed == 0)
    return stop(1, AuditBreak::kUnkeyed,
                "no entry is sealed with the key: the chain was written or rewritten without it");
  if (options.checkpoint && options.checkpoint->seq > 0) {
    const AuditHead& cp = *options.checkpoint;
    if (!checkpoint_hash)
      return stop(entries + 1, AuditBreak::kTruncated,
                  "the checkpoint names entry " + std::to_string(cp.seq) +
                      " but the chain ends at " + std::to_string(entries) +
                      ": entries were cut off the end");
    if (*checkpoint_hash != cp.hash)
      return stop(cp.seq, AuditBreak::kRewritten,
                  "the checkpoint's hash for entry " + std::to_string(cp.seq) + " is " +
                      short_hash(cp.hash) + ", the chain's " + short_hash(*checkpoint_hash) +
                      ": the chain was rewritten up to there");
  }
  AuditVerdict v;
  v.entries = entries;
  v.last_hash = std::move(prev_hash);
  v.keyed_entries = keyed;
  v.unkeyed_entries = unkeyed;
  if (options.check_rows) {
    auto row_break = check_rows(db.get(), db_path, rows, v);
    if (!row_break) return row_break.error();
    if (*row_break) {
      (*row_break)->keyed_entries = keyed;
      (*row_break)->unkeyed_entries = unkeyed;
      (*row_break)->rows_checked = v.rows_checked;
      (*row_break)->rows_unbound = v.rows_unbound;
      return std::move(**row_break);
    }
  }
  return v;
}

}  // namespace sektorbro
