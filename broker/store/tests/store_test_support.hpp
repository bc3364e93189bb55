// Test support for the store tests: a fresh temporary directory per test, removed afterwards,
// builders for NewMessage and Deadline values, and small readers of results.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/identifiers.hpp"
#include "broker/store/store.hpp"

namespace sektorbro::store_test {

// Whether `sql`'s byte code opens a temporary B-tree (EXPLAIN's OpenEphemeral), which SQLite
// builds on every row for a CHECK of the form `x IN (a, b, c, …)` (sqlite_check_lists.hpp). A
// statement that does not prepare is a test failure and counts as opening one.
inline bool opens_temporary_btree(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, ("EXPLAIN " + sql).c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    return true;
  }
  bool found = false;
  while (sqlite3_step(stmt) == SQLITE_ROW)
    found |= std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1))) ==
             "OpenEphemeral";
  sqlite3_finalize(stmt);
  return found;
}

// Runs `sql` on `db`; a failure fails the test with SQLite's message.
inline void exec_ok(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error ? error : "";
  sqlite3_free(error);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << message;
}

// Runs `sql` on the database at `path` through a connection of its own, as a person with the
// file would: "" when it ran, else SQLite's message (for what triggers and verifiers refuse).
inline std::string exec_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open";
  }
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string out = rc == SQLITE_OK ? "" : (err ? err : "error");
  sqlite3_free(err);
  sqlite3_close(db);
  return out;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sb_store_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline constexpr const char* kJobcenterGln = "5790000000005";
inline constexpr const char* kPsychiatryGln = "5790000000012";

inline TimePoint at_ms(std::int64_t ms) { return from_millis(1'790'000'000'000 + ms); }

// A message with one letter per id; the content hash is derived from `content` so tests can
// resend the same or different content.
inline NewMessage make_message(const std::string& envelope_id,
                               const std::vector<std::string>& letter_ids,
                               const std::string& content = "v1",
                               const std::string& sender_gln = kJobcenterGln,
                               TimePoint received_at = at_ms(0)) {
  NewMessage m;
  m.envelope_id = envelope_id;
  m.sender_gln = sender_gln;
  m.receiver_gln = kPsychiatryGln;
  m.sender_endpoint = "jc-" + sender_gln.substr(9);
  m.receiver_endpoint = "psyk";
  for (const auto& id : letter_ids)
    m.letters.push_back(
        NewLetter{id, LetterType::kCertificateRequest, sha256_hex(id + "/" + content)});
  m.body = "<Envelope id=\"" + envelope_id + "\">" + content + "</Envelope>";
  m.acceptance = std::string("accepted ") + envelope_id + std::string(1, '\0') + "\xff";
  m.receipt_requested = true;
  m.contains_cpr = true;
  m.received_at = received_at;
  return m;
}

inline NewMessage with_status(NewMessage m, LetterStatus status) {
  for (auto& l : m.letters) l.status = status;
  return m;
}

// An event at at_ms(5) for message `id`.
inline MessageEvent event(std::int64_t id, std::string kind, std::string detail = {}) {
  return MessageEvent{id, at_ms(5), std::move(kind), std::move(detail)};
}

inline MessageFilter filter(std::optional<DeliveryState> state, std::optional<std::string> endpoint,
                            std::int64_t after_id = 0, int limit = 100) {
  MessageFilter f;
  f.state = state;
  f.endpoint = std::move(endpoint);
  f.after_id = after_id;
  f.limit = limit;
  return f;
}

inline std::vector<std::string> kinds(const std::vector<MessageEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.kind);
  return out;
}

inline std::vector<std::int64_t> ids(const std::vector<MessageRecord>& records) {
  std::vector<std::int64_t> out;
  for (const auto& r : records) out.push_back(r.id);
  return out;
}

inline constexpr std::int64_t kDayMs = 24 * 3600 * 1000;

// An open certificate deadline whose next action is its due_end.
inline Deadline make_deadline(const std::string& letter_id, TimePoint opened_at,
                              TimePoint due_end) {
  using namespace std::chrono;
  Deadline d;
  d.kind = DeadlineKind::kCertificate;
  d.key = DeadlineKey{kJobcenterGln, letter_id};
  d.owed_by = "psyk";
  d.owed_to = "jc";
  d.form = "LÆ125";
  d.opened_at = opened_at;
  d.due = year{2026} / month{11} / day{20};
  d.due_end = due_end;
  d.next_action_at = due_end;
  return d;
}

// Every field set, every optional engaged, no field at its default.
inline Deadline full_deadline() {
  using namespace std::chrono;
  Deadline d;
  d.kind = DeadlineKind::kMentorResponse;
  d.key = DeadlineKey{kPsychiatryGln, "Udskr-77"};
  d.owed_by = "jc-aarhus";
  d.owed_to = "psyk-risskov";
  d.form = "x";
  d.opened_at = at_ms(1'234);
  d.due = year{2027} / month{3} / day{31};
  d.due_end = at_ms(9 * kDayMs + 999);
  d.state = DeadlineState::kAnsweredLate;
  d.answered_at = at_ms(11 * kDayMs + 7);
  d.closed_at = at_ms(11 * kDayMs + 8);
  d.days_late = 2;
  d.overdue = true;
  d.reminder_steps_done = 3;
  d.next_action_at = at_ms(12 * kDayMs);
  d.generation = 4;
  d.discharge_date = year{2027} / month{3} / day{24};
  d.lead_time_days = -2;
  d.notice_late = true;
  return d;
}

inline std::vector<std::string> letter_ids(const std::vector<Deadline>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.push_back(d.key.letter_id);
  return out;
}

#ifdef SEKTORBRO_AUDIT_BIN
// The sektorbro-audit binary run with `args` (stderr with stdout): its exit status (-1 if it did
// not exit) and what it printed.
struct AuditRun {
  int status = -1;
  std::string output;
};

inline AuditRun run_audit(const std::string& args) {
  AuditRun out;
  const std::string command = std::string("'") + SEKTORBRO_AUDIT_BIN + "' " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  std::array<char, 512> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.output.append(buf.data(), n);
  const int raw = pclose(pipe);
  out.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}
#endif

// The deadline filter of one of the 256 shapes the stores' plan tests explain: bit 0 a state,
// 1 overdue (with `now`), 2 due before, 3 a form, 4 a kind, 5 opened before, 6 opened after, 7 an
// endpoint (`endpoint`).
inline DeadlineFilter filter_of_shape(unsigned bits, const std::string& endpoint) {
  DeadlineFilter f;
  if (bits & 1u) f.state = DeadlineState::kAnsweredLate;
  if (bits & 2u) {
    f.overdue_only = true;
    f.now = at_ms(2 * kDayMs);
  }
  if (bits & 4u) f.due_before = at_ms(kDayMs);
  if (bits & 8u) f.form = "LÆ125";
  if (bits & 16u) f.kind = DeadlineKind::kCertificate;
  if (bits & 32u) f.opened_before = at_ms(kDayMs);
  if (bits & 64u) f.opened_after = at_ms(0);
  if (bits & 128u) f.endpoint = endpoint;
  return f;
}

}  // namespace sektorbro::store_test
