// PgConnection: one libpq connection to PostgreSQL, with statements prepared by name, parameters
// bound as values (never spliced into SQL), and results read as text. PostgresStore holds two
// (writer and reader); migrations and the audit verifier use one each.
//
// Thread rules: one thread at a time per connection (libpq connections are not shared).
//
// Errors: every failure comes back as kStorage with a one-line reason built from PostgreSQL's
// primary message, which names tables, columns and constraints, never bound values (so no CPR
// or content reaches a log). The SQLSTATE of the last failure is kept (last_sqlstate()) so a
// caller can tell a unique violation (kStale) or a foreign-key violation (kNotFound) apart.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/core/time.hpp"

struct pg_conn;
struct pg_result;

namespace sektorbro {

// SQLSTATE codes the stores act on.
inline constexpr std::string_view kPgUniqueViolation = "23505";

// The parameters of one statement, $1 … $n in the order they are added. Text and integers are
// copied; bytes (bound as binary, for bytea) are not: they must outlive the call. Copies are
// safe (libpq's arrays are built from the values when asked for).
class PgParams {
 public:
  PgParams& text(std::string_view v);
  PgParams& int64(std::int64_t v);
  PgParams& time(TimePoint t) { return int64(to_millis(t)); }  // instants are ms since the epoch
  PgParams& opt_time(const std::optional<TimePoint>& t) { return t ? time(*t) : null(); }
  PgParams& bytes(std::string_view v);
  PgParams& null();

  int size() const { return static_cast<int>(values_.size()); }
  // For libpq: valid until this object changes or goes away.
  const char* const* values() const;
  const int* lengths() const;
  const int* formats() const;

 private:
  struct Value {
    std::string owned;       // text and integers
    std::string_view bytes;  // bytea, not owned
    bool binary = false;
    bool is_null = false;
  };
  void build() const;
  std::vector<Value> values_;
  mutable std::vector<const char*> pointers_;
  mutable std::vector<int> lengths_;
  mutable std::vector<int> formats_;
};

// A finished statement's rows (text format). Owns its PGresult.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r);
  PgResult(PgResult&&) noexcept;
  PgResult& operator=(PgResult&&) noexcept;
  ~PgResult();

  int rows() const;
  // Rows an INSERT / UPDATE / DELETE touched.
  std::int64_t affected() const;
  // The command tag, e.g. "COMMIT", or "ROLLBACK" for a COMMIT of a failed transaction.
  std::string command() const;
  bool null_at(int row, int col) const;
  std::string text_at(int row, int col) const;
  std::int64_t int64_at(int row, int col) const;
  TimePoint time_at(int row, int col) const { return from_millis(int64_at(row, col)); }
  std::optional<TimePoint> opt_time_at(int row, int col) const;
  std::string bytes_at(int row, int col) const;  // a bytea column, unescaped

 private:
  pg_result* r_ = nullptr;
};

class PgConnection {
 public:
  // Connects; on failure the reason names the server (host/port/socket), never the password.
  static Result<std::unique_ptr<PgConnection>> connect(const std::string& conninfo);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs constant SQL without parameters; several statements separated by ';' are allowed
  // (migrations). `what` names the step in the error.
  Result<void> exec(const std::string& sql, std::string_view what);
  // Runs SQL with parameters once (not prepared).
  Result<PgResult> query(const std::string& sql, const PgParams& params, std::string_view what);
  // Prepares `sql` under `name` on this connection. `types` are PostgreSQL type OIDs (0: infer);
  // giving them lets a statement take parameters it does not use.
  Result<void> prepare(const std::string& name, const std::string& sql,
                       const std::vector<unsigned>& types, std::string_view what);
  bool prepared(const std::string& name) const;
  Result<PgResult> run(const std::string& name, const PgParams& params, std::string_view what);

  // One statement of pipeline(): a prepared statement (`name` set, prepared before) with its
  // parameters, or a parameterless command in `sql` (e.g. "SAVEPOINT op").
  struct Pipelined {
    std::string name;
    std::string sql;
    const PgParams* params = nullptr;
  };
  struct PipelineOutcome {
    std::vector<PgResult> results;  // of the statements before the one that failed (or all)
    std::optional<Error> error;     // the first failure (last_sqlstate() is its SQLSTATE)
    std::size_t failed = 0;         // its index, when error is set
  };
  // Sends every statement at once and reads their results (libpq's pipeline mode): one round
  // trip instead of one per statement. The server skips what follows a failed statement.
  // Inside a transaction block nothing is committed by it.
  PipelineOutcome pipeline(const std::vector<Pipelined>& statements, std::string_view what);

  // The SQLSTATE of the last failed call ("" when it succeeded or failed without one).
  const std::string& last_sqlstate() const { return sqlstate_; }
  // True while a transaction is open (also when it is aborted).
  bool in_transaction() const;
  // A session setting (SET …) that is run now and again after every reconnect.
  Result<void> set_up_session(const std::string& sql, std::string_view what);
  // Reconnects if the connection was lost (the server restarted, a network cut): the
  // statements prepared and the session settings are made again on first use. Ok if the
  // connection is fine. Call it only between transactions.
  Result<void> reconnect_if_lost();
  // A one-line description of the server: "host 127.0.0.1 port 5432 database x" (no password).
  std::string describe() const;

 private:
  explicit PgConnection(pg_conn* c) : conn_(c) {}
  Result<PgResult> finish(pg_result* r, std::string_view what);
  pg_conn* conn_;
  std::string sqlstate_;
  std::vector<std::string> prepared_;
  std::vector<std::string> session_;  // set_up_session()'s statements, in order
};

// Type OIDs for PgConnection::prepare.
inline constexpr unsigned kPgInt8 = 20;
inline constexpr unsigned kPgText = 25;

// "host=... port=... dbname=..." parts of a conninfo that may be shown in a log: host, hostaddr,
// port and dbname only (no user, no password). Empty if the string does not parse.
std::string describe_conninfo(const std::string& conninfo);

}  // namespace sektorbro
