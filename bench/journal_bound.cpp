#include "bench/journal_bound.hpp"

#include "broker/core/identifiers.hpp"
#include "broker/store/audit_chain.hpp"
#include "broker/store/body_codec.hpp"

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

std::int64_t millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

Result<std::unique_ptr<JournalBound>> JournalBound::open(const std::string& path) {
  std::unique_ptr<JournalBound> j(new JournalBound());
  if (sqlite3_open(path.c_str(), &j->db_) != SQLITE_OK) return sqlite_error(j->db_, "open");
  for (const char* sql : {"PRAGMA page_size = 4096", "PRAGMA journal_mode = WAL",
                          "PRAGMA synchronous = FULL", "PRAGMA wal_autocheckpoint = 1000",
                          "CREATE TABLE journal (seq INTEGER PRIMARY KEY, record BLOB NOT NULL)"})
    if (sqlite3_exec(j->db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlite_error(j->db_, sql);
  if (sqlite3_prepare_v2(j->db_, "INSERT INTO journal (record) VALUES (?1)", -1, &j->insert_,
                         nullptr) != SQLITE_OK)
    return sqlite_error(j->db_, "prepare");
  return j;
}

JournalBound::~JournalBound() {
  sqlite3_finalize(insert_);
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
  put(record, millis(m.received_at));
  for (const MessageEvent& e : plan.events) {
    seal(e, "sha256=" + body_sha);
    put(record, e.kind);
    put(record, e.detail);
    put(record, audit_hash_);
  }
  put(record, packed.bytes);
  return append(record);
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
  put(record, millis(opened.due_end));
  seal(opened_event, {});
  put(record, opened_event.detail);
  put(record, audit_hash_);
  if (auto r = append(record); !r) return r.error();
  return {};
}

}  // namespace sektorbro::bench
