#include "broker/store/postgres_connection.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <utility>

namespace sektorbro {
namespace {

Error storage_error(std::string detail) { return make_error(Errc::kStorage, std::move(detail)); }

// PostgreSQL's messages end in a newline; a log line must not.
std::string one_line(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

}  // namespace

PgParams& PgParams::text(std::string_view v) {
  values_.push_back(Value{std::string(v), {}, false, false});
  return *this;
}

PgParams& PgParams::int64(std::int64_t v) { return text(std::to_string(v)); }

PgParams& PgParams::bytes(std::string_view v) {
  values_.push_back(Value{{}, v, true, false});
  return *this;
}

PgParams& PgParams::null() {
  values_.push_back(Value{{}, {}, false, true});
  return *this;
}

void PgParams::build() const {
  pointers_.clear();
  lengths_.clear();
  formats_.clear();
  for (const Value& v : values_) {
    if (v.is_null) {
      pointers_.push_back(nullptr);
      lengths_.push_back(0);
    } else if (v.binary) {
      pointers_.push_back(v.bytes.data() ? v.bytes.data() : "");
      lengths_.push_back(static_cast<int>(v.bytes.size()));
    } else {
      pointers_.push_back(v.owned.c_str());
      lengths_.push_back(static_cast<int>(v.owned.size()));
    }
    formats_.push_back(v.binary ? 1 : 0);
  }
}

const char* const* PgParams::values() const {
  build();
  return pointers_.data();
}
const int* PgParams::lengths() const {
  build();
  return lengths_.data();
}
const int* PgParams::formats() const {
  build();
  return formats_.data();
}

PgResult::PgResult(pg_result* r) : r_(r) {}
PgResult::PgResult(PgResult&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = std::exchange(o.r_, nullptr);
  }
  return *this;
}
PgResult::~PgResult() {
  if (r_) PQclear(r_);
}

int PgResult::rows() const { return r_ ? PQntuples(r_) : 0; }

std::int64_t PgResult::affected() const {
  if (!r_) return 0;
  const char* n = PQcmdTuples(r_);
  std::int64_t v = 0;
  if (n && *n) std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

std::string PgResult::command() const {
  const char* c = r_ ? PQcmdStatus(r_) : nullptr;
  return c ? c : "";
}

bool PgResult::null_at(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }

std::string PgResult::text_at(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
}

std::int64_t PgResult::int64_at(int row, int col) const {
  const char* p = PQgetvalue(r_, row, col);
  std::int64_t v = 0;
  std::from_chars(p, p + PQgetlength(r_, row, col), v);
  return v;
}

std::optional<TimePoint> PgResult::opt_time_at(int row, int col) const {
  if (null_at(row, col)) return std::nullopt;
  return time_at(row, col);
}

std::string PgResult::bytes_at(int row, int col) const {
  std::size_t n = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col)), &n);
  if (!raw) return {};
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

Result<std::unique_ptr<PgConnection>> PgConnection::connect(const std::string& conninfo) {
  pg_conn* c = PQconnectdb(conninfo.c_str());
  if (!c) return storage_error("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    // libpq's message names the host and port (and the user), never the password.
    std::string why = one_line(PQerrorMessage(c));
    PQfinish(c);
    return storage_error("cannot connect to PostgreSQL (" + describe_conninfo(conninfo) +
                         "): " + why);
  }
  std::unique_ptr<PgConnection> conn(new PgConnection(c));
  // Error texts in English whatever the server's locale; UTC for anything the server formats.
  if (auto r = conn->set_up_session("SET client_encoding = 'UTF8'; SET TimeZone = 'UTC'",
                                     "session set-up");
      !r)
    return r.error();
  return conn;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

Result<PgResult> PgConnection::finish(pg_result* r, std::string_view what) {
  PgResult result(r);
  const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    sqlstate_.clear();
    return result;
  }
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  sqlstate_ = state ? state : "";
  // The primary message only: the DETAIL field may quote a key's values.
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string why = primary ? one_line(primary) : one_line(PQerrorMessage(conn_));
  return storage_error("store: " + std::string(what) + ": " + why);
}

Result<void> PgConnection::exec(const std::string& sql, std::string_view what) {
  auto r = finish(PQexec(conn_, sql.c_str()), what);
  if (!r) return r.error();
  return {};
}

Result<PgResult> PgConnection::query(const std::string& sql, const PgParams& params,
                                     std::string_view what) {
  return finish(PQexecParams(conn_, sql.c_str(), params.size(), nullptr, params.values(),
                             params.lengths(), params.formats(), 0),
                what);
}

Result<void> PgConnection::prepare(const std::string& name, const std::string& sql,
                                   const std::vector<unsigned>& types, std::string_view what) {
  auto r = finish(PQprepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(types.size()),
                            types.empty() ? nullptr : types.data()),
                  what);
  if (!r) return r.error();
  prepared_.push_back(name);
  return {};
}

bool PgConnection::prepared(const std::string& name) const {
  return std::find(prepared_.begin(), prepared_.end(), name) != prepared_.end();
}

Result<PgResult> PgConnection::run(const std::string& name, const PgParams& params,
                                   std::string_view what) {
  return finish(PQexecPrepared(conn_, name.c_str(), params.size(), params.values(),
                               params.lengths(), params.formats(), 0),
                what);
}

PgConnection::PipelineOutcome PgConnection::pipeline(const std::vector<Pipelined>& statements,
                                                     std::string_view what) {
  PipelineOutcome out;
  if (statements.empty()) return out;
  const auto lost = [&] {
    return storage_error("store: " + std::string(what) + ": " + one_line(PQerrorMessage(conn_)));
  };
  if (PQenterPipelineMode(conn_) != 1) {
    out.error = lost();
    return out;
  }
  static const PgParams kNone;
  std::size_t sent = 0;
  for (const auto& s : statements) {
    const PgParams& p = s.params ? *s.params : kNone;
    const int ok = s.name.empty()
                       ? PQsendQueryParams(conn_, s.sql.c_str(), 0, nullptr, nullptr, nullptr,
                                           nullptr, 0)
                       : PQsendQueryPrepared(conn_, s.name.c_str(), p.size(), p.values(),
                                             p.lengths(), p.formats(), 0);
    if (ok != 1) break;
    ++sent;
  }
  const bool synced = PQpipelineSync(conn_) == 1;
  // Every result is read, whatever happened, so that the connection leaves pipeline mode clean.
  for (std::size_t i = 0; i < sent; ++i) {
    pg_result* r = PQgetResult(conn_);
    if (r)
      while (pg_result* more = PQgetResult(conn_)) PQclear(more);  // up to this statement's end
    if (out.error) {
      if (r) PQclear(r);
      continue;
    }
    auto one = finish(r, what);
    if (!one) {
      out.error = one.error();
      out.failed = i;
      continue;
    }
    out.results.push_back(std::move(*one));
  }
  if (synced) {
    while (pg_result* r = PQgetResult(conn_)) {
      const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
      PQclear(r);
      if (sync) break;
    }
  }
  PQexitPipelineMode(conn_);
  if (!out.error && (sent < statements.size() || !synced)) {
    out.error = lost();
    out.failed = sent;
  }
  return out;
}

bool PgConnection::in_transaction() const {
  return PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

Result<void> PgConnection::set_up_session(const std::string& sql, std::string_view what) {
  if (auto r = exec(sql, what); !r) return r;
  session_.push_back(sql);
  return {};
}

Result<void> PgConnection::reconnect_if_lost() {
  if (PQstatus(conn_) == CONNECTION_OK) return {};
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK)
    return storage_error("store: the connection to PostgreSQL (" + describe() +
                         ") is lost: " + one_line(PQerrorMessage(conn_)));
  prepared_.clear();  // the server forgot them with the old session
  for (const auto& sql : session_)
    if (auto r = exec(sql, "session set-up"); !r) return r;
  return {};
}

std::string PgConnection::describe() const {
  std::string out;
  const char* host = PQhost(conn_);
  const char* port = PQport(conn_);
  const char* db = PQdb(conn_);
  if (host && *host) out += std::string("host ") + host;
  if (port && *port) out += std::string(out.empty() ? "" : " ") + "port " + port;
  if (db && *db) out += std::string(out.empty() ? "" : " ") + "database " + db;
  return out;
}

std::string describe_conninfo(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (err) PQfreemem(err);
  if (!opts) return {};
  std::string out;
  for (const std::string_view shown : {"host", "hostaddr", "port", "dbname"})
    for (PQconninfoOption* o = opts; o->keyword; ++o)
      if (o->keyword == shown && o->val && *o->val) {
        if (!out.empty()) out += ' ';
        out += std::string(shown) + "=" + o->val;
      }
  PQconninfoFree(opts);
  return out;
}

}  // namespace sektorbro
