#include "bench/journal_bound.hpp"

#include <initializer_list>
#include <utility>

#include "broker/core/identifiers.hpp"
#include "broker/core/time.hpp"
#include "broker/store/audit_chain.hpp"
#include "broker/store/body_codec.hpp"
#include "broker/store/sqlite_store.hpp"
#include "broker/store/timed_vfs.hpp"

namespace sektorbro::bench {
namespace {

Error sqlite_error(sqlite3* db, const std::string& what) {
  return make_error(Errc::kStorage, what + ": " + sqlite3_errmsg(db));
}

// Length-prefixed fields, so a record can be read back field by field.
void put(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

void put(std::string& out, std::int64_t value) { put(out, std::to_string(value)); }

// Runs a bound statement once and resets it.
Result<void> run(sqlite3* db, sqlite3_stmt* stmt, const char* what) {
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc != SQLITE_DONE) return sqlite_error(db, what);
  return {};
}

void bind_text(sqlite3_stmt* stmt, int i, std::string_view text) {
  sqlite3_bind_text(stmt, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

}  // namespace

Result<std::unique_ptr<JournalBound>> JournalBound::open(const std::string& path, bool keep_tables,
                                                         bool keep_bodies) {
  if (keep_tables) {
    auto created = SqliteStore::open(path);
    if (!created) return created.error();
  }
  std::unique_ptr<JournalBound> j(new JournalBound());
  // Through the store's writer VFS, as SqliteStore's writer is: the same syscalls per byte
  // (its WAL and page writes combined, timed_vfs.hpp), so the two differ only in what they write.
  if (sqlite3_open_v2(path.c_str(), &j->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      register_timed_vfs()) != SQLITE_OK)
    return sqlite_error(j->db_, "open");
  for (const char* sql : {"PRAGMA page_size = 4096", "PRAGMA synchronous = FULL",
                          "PRAGMA journal_mode = WAL", "PRAGMA wal_autocheckpoint = 1000",
                          "CREATE TABLE journal (seq INTEGER PRIMARY KEY, record BLOB NOT NULL)"})
    if (sqlite3_exec(j->db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlite_error(j->db_, sql);
  const auto prepare = [&](const char* sql, sqlite3_stmt** stmt) -> Result<void> {
    if (sqlite3_prepare_v2(j->db_, sql, -1, stmt, nullptr) != SQLITE_OK)
      return sqlite_error(j->db_, sql);
    return {};
  };
  if (auto r = prepare("INSERT INTO journal (record) VALUES (?1)", &j->insert_); !r)
    return r.error();
  if (!keep_tables) return j;
  for (const char* sql :
       {"DROP TABLE message_bodies", "DROP TABLE events", "DROP TABLE audit_chain"}) {
    if (keep_bodies && std::string_view(sql) == "DROP TABLE message_bodies") continue;
    if (sqlite3_exec(j->db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlite_error(j->db_, sql);
  }
  if (keep_bodies)
    if (auto r = prepare("INSERT INTO message_bodies (message_id, body, codec) VALUES (?1, ?2, ?3)",
                         &j->body_);
        !r)
      return r.error();
  for (auto [sql, stmt] : std::initializer_list<std::pair<const char*, sqlite3_stmt**>>{
           {"INSERT INTO messages (id, envelope_id, sender_gln, receiver_gln, sender_endpoint, "
            "receiver_endpoint, acceptance, receipt_requested, contains_cpr, received_at, state, "
            "attempts, next_attempt_at, last_error, receipt) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
            "?8, ?9, ?10, 'pending', 0, ?10, '', 'none')",
            &j->message_},
           {"INSERT INTO letters (sender_gln, letter_id, message_id, position, type, "
            "content_hash, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'nytbrev')",
            &j->letter_},
           {"UPDATE messages SET state = 'delivered', attempts = 1, next_attempt_at = ?2, "
            "receipt_sent_at = ?2, resends = 0 WHERE id = ?1",
            &j->outcome_},
           {"INSERT INTO deadlines (kind, requester_gln, letter_id, owed_by, owed_to, form, "
            "opened_at, due, due_end, state, days_late, overdue, reminder_steps_done, "
            "next_action_at, generation, notice_late) VALUES ('certificate', ?1, ?2, ?3, ?4, ?5, "
            "?6, ?7, ?8, 'open', 0, 0, 0, ?9, 1, 0) "
            "ON CONFLICT (requester_gln, letter_id) DO NOTHING",
            &j->deadline_}})
    if (auto r = prepare(sql, stmt); !r) return r.error();
  return j;
}

JournalBound::~JournalBound() {
  for (sqlite3_stmt* stmt : {insert_, message_, letter_, outcome_, deadline_, body_})
    sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Result<void> JournalBound::begin_batch() {
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return sqlite_error(db_, "begin");
  return {};
}

Result<void> JournalBound::commit_batch() {
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
    return sqlite_error(db_, "commit");
  return {};
}

void JournalBound::rollback_batch() { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

Result<std::int64_t> JournalBound::append(const std::string& record) {
  sqlite3_bind_blob(insert_, 1, record.data(), static_cast<int>(record.size()), SQLITE_STATIC);
  const int rc = sqlite3_step(insert_);
  sqlite3_reset(insert_);
  if (rc != SQLITE_DONE) return sqlite_error(db_, "append");
  return sqlite3_last_insert_rowid(db_);
}

void JournalBound::seal(const MessageEvent& event, std::string_view binding) {
  AuditEntry e;
  e.seq = ++audit_seq_;
  e.at = event.at;
  e.kind = event.kind;
  e.actor = event.actor.empty() ? std::string("broker") : event.actor;
  e.subject = "message " + std::to_string(event.message_id);
  e.detail = event.detail;
  e.prev_hash = audit_hash_;
  e.binding = binding;
  audit_hash_ = audit_entry_seal(e, nullptr);
}

Result<std::int64_t> JournalBound::store_message(const MessagePlan& plan) {
  const NewMessage& m = plan.message;
  const PackedBody packed = m.packed_body ? *m.packed_body : pack_body(m.body);
  const std::string body_sha = m.body_sha256.empty() ? sha256_hex(m.body) : m.body_sha256;
  std::string record;
  record.reserve(packed.bytes.size() + 512);
  for (std::string_view field :
       {std::string_view(m.envelope_id), std::string_view(m.sender_gln),
        std::string_view(m.receiver_gln), std::string_view(m.sender_endpoint),
        std::string_view(m.receiver_endpoint), std::string_view(m.acceptance)})
    put(record, field);
  for (const NewLetter& l : m.letters) {
    put(record, l.letter_id);
    put(record, static_cast<std::int64_t>(l.type));
    put(record, l.content_hash);
  }
  put(record, to_millis(m.received_at));
  for (const MessageEvent& e : plan.events) {
    seal(e, "sha256=" + body_sha);
    put(record, e.kind);
    put(record, e.detail);
    put(record, audit_hash_);
  }
  if (body_ == nullptr) put(record, packed.bytes);
  auto seq = append(record);
  if (!seq || message_ == nullptr) return seq;
  if (auto r = keep_message(*seq, plan); !r) return r.error();
  if (body_ == nullptr) return seq;
  sqlite3_bind_int64(body_, 1, *seq);
  sqlite3_bind_blob(body_, 2, packed.bytes.data(), static_cast<int>(packed.bytes.size()),
                    SQLITE_STATIC);
  sqlite3_bind_int64(body_, 3, static_cast<std::int64_t>(packed.codec));
  if (auto r = run(db_, body_, "keep body"); !r) return r.error();
  return seq;
}

Result<void> JournalBound::keep_message(std::int64_t id, const MessagePlan& plan) {
  const NewMessage& m = plan.message;
  sqlite3_bind_int64(message_, 1, id);
  bind_text(message_, 2, m.envelope_id);
  bind_text(message_, 3, m.sender_gln);
  bind_text(message_, 4, m.receiver_gln);
  bind_text(message_, 5, m.sender_endpoint);
  bind_text(message_, 6, m.receiver_endpoint);
  sqlite3_bind_blob(message_, 7, m.acceptance.data(), static_cast<int>(m.acceptance.size()),
                    SQLITE_STATIC);
  sqlite3_bind_int(message_, 8, m.receipt_requested ? 1 : 0);
  sqlite3_bind_int(message_, 9, m.contains_cpr ? 1 : 0);
  sqlite3_bind_int64(message_, 10, to_millis(m.received_at));
  if (auto r = run(db_, message_, "keep message"); !r) return r;
  for (std::size_t i = 0; i < m.letters.size(); ++i) {
    const NewLetter& l = m.letters[i];
    bind_text(letter_, 1, m.sender_gln);
    bind_text(letter_, 2, l.letter_id);
    sqlite3_bind_int64(letter_, 3, id);
    sqlite3_bind_int64(letter_, 4, static_cast<std::int64_t>(i));
    const std::string type(to_string(l.type));
    bind_text(letter_, 5, type);
    bind_text(letter_, 6, l.content_hash);
    if (auto r = run(db_, letter_, "keep letter"); !r) return r;
  }
  return {};
}

Result<void> JournalBound::keep_outcome(std::int64_t id, TimePoint at, const Deadline& opened) {
  sqlite3_bind_int64(outcome_, 1, id);
  sqlite3_bind_int64(outcome_, 2, to_millis(at));
  if (auto r = run(db_, outcome_, "keep outcome"); !r) return r;
  const std::string date = format_date(opened.due);
  bind_text(deadline_, 1, opened.key.requester_gln);
  bind_text(deadline_, 2, opened.key.letter_id);
  bind_text(deadline_, 3, opened.owed_by);
  bind_text(deadline_, 4, opened.owed_to);
  bind_text(deadline_, 5, opened.form);
  sqlite3_bind_int64(deadline_, 6, to_millis(opened.opened_at));
  bind_text(deadline_, 7, date);
  sqlite3_bind_int64(deadline_, 8, to_millis(opened.due_end));
  if (opened.next_action_at)
    sqlite3_bind_int64(deadline_, 9, to_millis(*opened.next_action_at));
  else
    sqlite3_bind_null(deadline_, 9);
  return run(db_, deadline_, "keep deadline");
}

Result<void> JournalBound::record_outcome(std::int64_t message_id, const MessageEvent& delivered,
                                          const Deadline& opened,
                                          const MessageEvent& opened_event) {
  std::string record;
  put(record, message_id);
  put(record, "delivered");
  seal(delivered, "state=delivered");
  put(record, delivered.detail);
  put(record, audit_hash_);
  put(record, opened.key.requester_gln);
  put(record, opened.key.letter_id);
  put(record, opened.owed_by);
  put(record, opened.owed_to);
  put(record, opened.form);
  put(record, to_millis(opened.due_end));
  seal(opened_event, {});
  put(record, opened_event.detail);
  put(record, audit_hash_);
  if (auto r = append(record); !r) return r.error();
  if (outcome_ == nullptr) return {};
  return keep_outcome(message_id, delivered.at, opened);
}

}  // namespace sektorbro::bench
