#include "broker/store/postgres_store.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <tuple>
#include <utility>

#include "broker/core/identifiers.hpp"
#include "broker/store/postgres_migrations.hpp"

namespace sektorbro {
namespace {

Error storage_error(std::string detail) { return make_error(Errc::kStorage, std::move(detail)); }

Error not_found(std::int64_t message_id) {
  return make_error(Errc::kNotFound, "message " + std::to_string(message_id) + " not found");
}

std::optional<ReceiptState> parse_receipt_state(std::string_view s) {
  for (const auto r : {ReceiptState::kNone, ReceiptState::kPositive, ReceiptState::kNegative})
    if (to_string(r) == s) return r;
  return std::nullopt;
}

// deadline_from_row() reads these in this order; bind_deadline() binds them as $1 … $20.
#define SB_DEADLINE_COLUMNS                                                                  \
  "kind, requester_gln, letter_id, owed_by, owed_to, form, opened_at, due, due_end, state, " \
  "answered_at, closed_at, days_late, overdue, reminder_steps_done, next_action_at, "        \
  "generation, discharge_date, lead_time_days, notice_late"

#define SB_MESSAGE_COLUMNS                                                                \
  "id, envelope_id, sender_gln, receiver_gln, sender_endpoint, receiver_endpoint, body, " \
  "acceptance, receipt_requested, contains_cpr, received_at, state, attempts, "           \
  "next_attempt_at, last_error, receipt, body_deleted_at"

// Every statement the store runs, by the name it is prepared under. Values are parameters.
constexpr const char* kLockHead = "SELECT id FROM store_head WHERE id = 1 FOR UPDATE";
// A statement of its own, after the lock: in READ COMMITTED it takes a fresh snapshot, so it
// sees what the broker that held the lock before us committed.
constexpr const char* kReadHead =
    "SELECT (SELECT last_message_id FROM store_head WHERE id = 1), "
    "(SELECT seq FROM audit_chain ORDER BY seq DESC LIMIT 1), "
    "(SELECT hash FROM audit_chain ORDER BY seq DESC LIMIT 1)";
// $10, when not NULL, makes the entry a timeline event of that message (schema version 6).
constexpr const char* kInsertChainEntry =
    "INSERT INTO audit_chain (seq, at, kind, actor, subject, detail, prev_hash, hash, binding, "
    "message_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
// A timeline event needs its message: kNotFound otherwise, as the foreign key of `events`
// answered before version 6. The key-share lock keeps the row until the entry commits.
constexpr const char* kMessageExists = "SELECT 1 FROM messages WHERE id = $1 FOR KEY SHARE";
// The id is store_head.last_message_id + 1 (schema version 5), which the same statement moves
// on, under the store_head lock: ids grow in commit order, a rolled-back write takes none (the
// row update goes with it), and an id is never handed out twice — max(id) + 1 handed out the
// newest record's id again once retention had deleted it.
constexpr const char* kInsertMessage =
    "WITH head AS (UPDATE store_head SET last_message_id = $1 WHERE id = 1) "
    "INSERT INTO messages (id, envelope_id, sender_gln, receiver_gln, sender_endpoint, "
    "receiver_endpoint, body, acceptance, receipt_requested, contains_cpr, received_at, state, "
    "attempts, next_attempt_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', 0, $11)";
constexpr const char* kFindLetterForAccept =
    "SELECT message_id, content_hash FROM letters WHERE sender_gln = $1 AND letter_id = $2";
constexpr const char* kArchiveLetter =
    "INSERT INTO letter_versions (message_id, position, sender_gln, letter_id, type, status, "
    "content_hash, superseded_by, superseded_at) "
    "SELECT message_id, position, sender_gln, letter_id, type, status, content_hash, $4, $5 "
    "FROM letters WHERE sender_gln = $1 AND letter_id = $2 AND message_id = $3";
constexpr const char* kDeleteLetter =
    "DELETE FROM letters WHERE sender_gln = $1 AND letter_id = $2";
constexpr const char* kInsertLetter =
    "INSERT INTO letters (sender_gln, letter_id, message_id, position, type, content_hash, "
    "status) VALUES ($1, $2, $3, $4, $5, $6, $7)";
constexpr const char* kUpdateReceipt =
    "UPDATE messages SET receipt = $2, receipt_sent_at = NULL, receipt_missing = 0 WHERE id = $1";
constexpr const char* kDeadlineState =
    "SELECT state FROM deadlines WHERE requester_gln = $1 AND letter_id = $2";
constexpr const char* kWatchReceipt =
    "UPDATE messages SET receipt_sent_at = $2, resends = $3, "
    "receipt_missing = CASE WHEN $2::bigint IS NULL THEN 1 ELSE 0 END WHERE id = $1";
constexpr const char* kUpdateDelivery =
    "UPDATE messages SET state = $2, attempts = $3, next_attempt_at = $4, last_error = $5 "
    "WHERE id = $1";
constexpr const char* kUpdateDeliveryWatched =
    "UPDATE messages SET state = $2, attempts = $3, next_attempt_at = $4, last_error = $5, "
    "receipt_sent_at = $6, resends = 0, receipt_missing = 0 WHERE id = $1";
constexpr const char* kSelectState = "SELECT state FROM messages WHERE id = $1";
constexpr const char* kRequeue =
    "UPDATE messages SET state = 'pending', attempts = 0, next_attempt_at = $2 WHERE id = $1";
constexpr const char* kInsertAudit = "INSERT INTO audit (at, kind, detail) VALUES ($1, $2, $3)";
constexpr const char* kUpsertDeadline =
    "INSERT INTO deadlines (" SB_DEADLINE_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
    "$19, $20) ON CONFLICT (requester_gln, letter_id) DO UPDATE SET kind = excluded.kind, "
    "owed_by = excluded.owed_by, owed_to = excluded.owed_to, form = excluded.form, "
    "opened_at = excluded.opened_at, due = excluded.due, due_end = excluded.due_end, "
    "state = excluded.state, answered_at = excluded.answered_at, "
    "closed_at = excluded.closed_at, days_late = excluded.days_late, "
    "overdue = excluded.overdue, reminder_steps_done = excluded.reminder_steps_done, "
    "next_action_at = excluded.next_action_at, generation = excluded.generation, "
    "discharge_date = excluded.discharge_date, lead_time_days = excluded.lead_time_days, "
    "notice_late = excluded.notice_late";
// A request's deadline, opened at its delivery unless one is stored (Store::open_deadline).
constexpr const char* kInsertDeadlineIfAbsent =
    "INSERT INTO deadlines (" SB_DEADLINE_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
    "$19, $20) ON CONFLICT (requester_gln, letter_id) DO NOTHING";

// Read side.
constexpr const char* kFindLetter =
    "SELECT l.message_id, l.type, l.content_hash, m.receiver_gln, l.status FROM letters l "
    "JOIN messages m ON m.id = l.message_id WHERE l.sender_gln = $1 AND l.letter_id = $2";
constexpr const char* kFindEarlierVersion =
    "SELECT message_id FROM letter_versions "
    "WHERE sender_gln = $1 AND letter_id = $2 AND content_hash = $3 ORDER BY message_id LIMIT 1";
constexpr const char* kSelectMessage = "SELECT " SB_MESSAGE_COLUMNS " FROM messages WHERE id = $1";
// Letters of the messages whose ids are in the array $1, superseded versions included.
constexpr const char* kSelectLetters =
    "SELECT message_id, letter_id, type, content_hash, status, position FROM letters "
    "WHERE message_id = ANY ($1::bigint[]) "
    "UNION ALL SELECT message_id, letter_id, type, content_hash, status, position "
    "FROM letter_versions WHERE message_id = ANY ($1::bigint[]) ORDER BY 1, 6";
// The events from before schema version 6 first, then the chain's; none once the record is
// deleted (the chain keeps its entries).
constexpr const char* kSelectEvents =
    "SELECT message_id, at, kind, detail FROM ("
    "SELECT message_id, at, kind, detail, 0 AS part, id AS n FROM events WHERE message_id = $1 "
    "UNION ALL SELECT message_id, at, kind, detail, 1, seq FROM audit_chain "
    "WHERE message_id = $1 AND EXISTS (SELECT 1 FROM messages WHERE id = $1)) t "
    "ORDER BY part, n";
constexpr const char* kPending =
    "SELECT id, receiver_endpoint, attempts, received_at, next_attempt_at FROM messages "
    "WHERE state = 'pending' ORDER BY next_attempt_at, id";
// The EHMI SBDH envelopes the broker sent (issue 9).
constexpr const char* kInsertSentEnvelope =
    "INSERT INTO sent_envelopes (instance_identifier, message_id, sent_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (instance_identifier) DO NOTHING";
constexpr const char* kFindSentEnvelope =
    "SELECT instance_identifier, message_id, sent_at FROM sent_envelopes "
    "WHERE instance_identifier = $1";
constexpr const char* kReceiptsOwed =
    "SELECT id, receiver_endpoint, receipt_sent_at, resends FROM messages "
    "WHERE receipt_sent_at IS NOT NULL ORDER BY receipt_sent_at, id";
constexpr const char* kFindDeadline =
    "SELECT " SB_DEADLINE_COLUMNS " FROM deadlines WHERE requester_gln = $1 AND letter_id = $2";
constexpr const char* kDueDeadlines =
    "SELECT " SB_DEADLINE_COLUMNS
    " FROM deadlines WHERE next_action_at IS NOT NULL AND next_action_at <= $1 "
    "ORDER BY next_action_at, id LIMIT $2";
constexpr const char* kDeadlinesOpenedBetween =
    "SELECT " SB_DEADLINE_COLUMNS
    " FROM deadlines WHERE opened_at >= $1 AND opened_at < $2 ORDER BY opened_at, id";

// list_messages(): $1 the id bound (after_id, or before_id newest first), $2 limit, $3 state,
// $4 endpoint; typed, so a statement may leave some unused. The endpoint lists take at most
// `limit` ids from each endpoint index, so they stay cheap on a large table.
const std::vector<unsigned> kListTypes = {kPgInt8, kPgInt8, kPgText, kPgText};

std::string list_sql(bool by_state, bool by_endpoint, bool newest_first) {
  const std::string cmp = newest_first ? " < $1" : " > $1";
  const std::string order = newest_first ? " ORDER BY id DESC LIMIT $2" : " ORDER BY id LIMIT $2";
  const std::string state = by_state ? " AND state = $3" : "";
  const std::string select = "SELECT " SB_MESSAGE_COLUMNS " FROM messages WHERE ";
  if (!by_endpoint) return select + "id" + cmp + state + order;
  const auto side = [&](const char* column, const char* alias) {
    return std::string("SELECT id FROM (SELECT id FROM messages WHERE ") + column + " = $4" +
           state + " AND id" + cmp + order + ") " + alias;
  };
  return select + "id IN (" + side("sender_endpoint", "s") + " UNION ALL " +
         side("receiver_endpoint", "r") + ")" + order;
}

// list_deadlines(): which criteria a filter sets, and so which statement serves it. Parameters:
// $1 limit, $2 offset, $3 state, $4 now, $5 due_before, $6 form, $7 kind, $8 opened_before,
// $9 opened_after, $10 endpoint, $11 limit + offset.
enum DeadlineShape : unsigned {
  kByState = 1u << 0,
  kOverdue = 1u << 1,
  kDueBefore = 1u << 2,
  kByForm = 1u << 3,
  kByKind = 1u << 4,
  kOpenedBefore = 1u << 5,
  kOpenedAfter = 1u << 6,
  kByEndpoint = 1u << 7,
};
const std::vector<unsigned> kDeadlineListTypes = {kPgInt8, kPgInt8, kPgText, kPgInt8,
                                                  kPgInt8, kPgText, kPgText, kPgInt8,
                                                  kPgInt8, kPgText, kPgInt8};

// Ordered by (due_end, id) at O(offset + limit) per page, as in the SQLite store: one index range
// per (side, state) when there is an endpoint or no state, each cut at offset + limit, merged.
std::string deadline_list_sql(unsigned shape) {
  std::string terms;
  const auto term = [&](DeadlineShape bit, const char* sql) {
    if (shape & bit) {
      terms += " AND ";
      terms += sql;
    }
  };
  term(kByState, "state = $3");
  term(kOverdue, "due_end <= $4");  // past_due: at due_end it has passed
  term(kDueBefore, "due_end <= $5");
  term(kByForm, "form = $6");
  term(kByKind, "kind = $7");
  term(kOpenedBefore, "opened_at < $8");
  term(kOpenedAfter, "opened_at > $9");
  const std::string select = "SELECT " SB_DEADLINE_COLUMNS " FROM deadlines WHERE ";
  const std::string page = " ORDER BY due_end, id LIMIT $1 OFFSET $2";
  if ((shape & kByState) && !(shape & kByEndpoint)) return select + "true" + terms + page;
  std::string ranges;
  int n = 0;
  const auto range = [&](const std::string& where) {
    if (!ranges.empty()) ranges += " UNION ALL ";
    ranges += "SELECT id FROM (SELECT id FROM deadlines WHERE " + where + terms +
              " ORDER BY due_end, id LIMIT $11) r" + std::to_string(n++);
  };
  const std::vector<std::string> sides =
      (shape & kByEndpoint) ? std::vector<std::string>{"owed_by = $10 AND ", "owed_to = $10 AND "}
                            : std::vector<std::string>{""};
  for (const std::string& side : sides) {
    if (shape & kByState) {
      range(side + "true");
      continue;
    }
    for (const DeadlineState state : kDeadlineStates)
      range(side + "state = '" + std::string(to_string(state)) + "'");
  }
  return select + "id IN (" + ranges + ")" + page;
}

// The operators' console (issue 10): list_messages() with search criteria. Parameters are
// numbered as they are added (a statement per shape); the indexes of migration 2 serve them.
struct MessageSearch {
  std::string name;
  std::string sql;
  PgParams params;
};

MessageSearch message_search(const MessageFilter& f) {
  MessageSearch s;
  const bool newest = f.newest_first;
  const std::int64_t bound = !newest           ? f.after_id
                             : f.before_id > 0 ? f.before_id
                                               : std::numeric_limits<std::int64_t>::max();
  s.params.int64(bound).int64(f.limit);
  std::string terms = newest ? "id < $1::bigint" : "id > $1::bigint";
  int n = 2;
  s.name = newest ? "search_n" : "search_o";
  const auto term = [&](const char* tag, const std::string& sql_before, const char* cast) {
    terms += " AND " + sql_before + "$" + std::to_string(++n) + cast;
    s.name += tag;
  };
  if (f.state) {
    term("s", "state = ", "::text");
    s.params.text(to_string(*f.state));
  }
  if (f.received_from) {
    term("f", "received_at >= ", "::bigint");
    s.params.time(*f.received_from);
  }
  if (f.received_to) {
    term("t", "received_at < ", "::bigint");
    s.params.time(*f.received_to);
  }
  if (f.envelope_id) {
    term("v", "envelope_id = ", "::text");
    s.params.text(*f.envelope_id);
  }
  if (f.receipt_missing) {
    terms += " AND receipt_missing = 1";
    s.name += "m";
  }
  const std::string order =
      newest ? " ORDER BY id DESC LIMIT $2::bigint" : " ORDER BY id LIMIT $2::bigint";
  const std::string select = "SELECT " SB_MESSAGE_COLUMNS " FROM messages WHERE ";
  if (!f.endpoint) {
    s.sql = select + terms + order;
    return s;
  }
  s.name += "e";
  const std::string endpoint = "$" + std::to_string(++n) + "::text";
  s.params.text(*f.endpoint);
  const auto side = [&](const char* column, const char* alias) {
    return std::string("SELECT id FROM (SELECT id FROM messages WHERE ") + column + " = " +
           endpoint + " AND " + terms + order + ") " + alias;
  };
  s.sql = select + "id IN (" + side("sender_endpoint", "s") + " UNION ALL " +
          side("receiver_endpoint", "r") + ")" + order;
  return s;
}

#undef SB_MESSAGE_COLUMNS
#undef SB_DEADLINE_COLUMNS

// Binds a Deadline in column order: instants as ms, dates as 'YYYY-MM-DD', enumerations by their
// to_string() names, empty optionals as NULL.
Result<PgParams> deadline_params(const Deadline& d) {
  if (!d.due.ok())
    return make_error(Errc::kInvalid,
                      "deadline for letter " + d.key.letter_id + ": due is not a valid date");
  if (d.discharge_date && !d.discharge_date->ok())
    return make_error(Errc::kInvalid, "deadline for letter " + d.key.letter_id +
                                          ": discharge_date is not a valid date");
  PgParams p;
  p.text(to_string(d.kind))
      .text(d.key.requester_gln)
      .text(d.key.letter_id)
      .text(d.owed_by)
      .text(d.owed_to)
      .text(d.form)
      .time(d.opened_at)
      .text(format_date(d.due))
      .time(d.due_end)
      .text(to_string(d.state))
      .opt_time(d.answered_at)
      .opt_time(d.closed_at)
      .int64(d.days_late)
      .int64(d.overdue ? 1 : 0)
      .int64(d.reminder_steps_done)
      .opt_time(d.next_action_at)
      .int64(d.generation);
  if (d.discharge_date)
    p.text(format_date(*d.discharge_date));
  else
    p.null();
  if (d.lead_time_days)
    p.int64(*d.lead_time_days);
  else
    p.null();
  p.int64(d.notice_late ? 1 : 0);
  return p;
}

Result<Deadline> deadline_from_row(const PgResult& q, int row) {
  Deadline d;
  d.key.requester_gln = q.text_at(row, 1);
  d.key.letter_id = q.text_at(row, 2);
  const auto bad = [&](std::string_view what) {
    return storage_error("store: deadline for letter " + d.key.letter_id + " has an unknown " +
                         std::string(what));
  };
  const auto kind = parse_deadline_kind(q.text_at(row, 0));
  if (!kind) return bad("kind");
  d.kind = *kind;
  d.owed_by = q.text_at(row, 3);
  d.owed_to = q.text_at(row, 4);
  d.form = q.text_at(row, 5);
  d.opened_at = q.time_at(row, 6);
  const auto due = parse_date(q.text_at(row, 7));
  if (!due) return bad("due date");
  d.due = *due;
  d.due_end = q.time_at(row, 8);
  const auto state = parse_deadline_state(q.text_at(row, 9));
  if (!state) return bad("state");
  d.state = *state;
  d.answered_at = q.opt_time_at(row, 10);
  d.closed_at = q.opt_time_at(row, 11);
  d.days_late = static_cast<int>(q.int64_at(row, 12));
  d.overdue = q.int64_at(row, 13) != 0;
  d.reminder_steps_done = static_cast<int>(q.int64_at(row, 14));
  d.next_action_at = q.opt_time_at(row, 15);
  d.generation = static_cast<int>(q.int64_at(row, 16));
  if (!q.null_at(row, 17)) {
    const auto discharge = parse_date(q.text_at(row, 17));
    if (!discharge) return bad("discharge date");
    d.discharge_date = *discharge;
  }
  if (!q.null_at(row, 18)) d.lead_time_days = static_cast<int>(q.int64_at(row, 18));
  d.notice_late = q.int64_at(row, 19) != 0;
  return d;
}

Result<std::vector<Deadline>> deadlines_from(const PgResult& q) {
  std::vector<Deadline> out;
  out.reserve(static_cast<std::size_t>(q.rows()));
  for (int i = 0; i < q.rows(); ++i) {
    auto d = deadline_from_row(q, i);
    if (!d) return d.error();
    out.push_back(std::move(*d));
  }
  return out;
}

// Reads message columns of one row (letters are read separately).
Result<MessageRecord> message_from_row(const PgResult& q, int row) {
  MessageRecord m;
  m.id = q.int64_at(row, 0);
  m.envelope_id = q.text_at(row, 1);
  m.sender_gln = q.text_at(row, 2);
  m.receiver_gln = q.text_at(row, 3);
  m.sender_endpoint = q.text_at(row, 4);
  m.receiver_endpoint = q.text_at(row, 5);
  m.body = q.bytes_at(row, 6);
  m.acceptance = q.bytes_at(row, 7);
  m.receipt_requested = q.int64_at(row, 8) != 0;
  m.contains_cpr = q.int64_at(row, 9) != 0;
  m.received_at = q.time_at(row, 10);
  const auto state = parse_delivery_state(q.text_at(row, 11));
  if (!state) return storage_error("store: unknown state in message " + std::to_string(m.id));
  m.state = *state;
  m.attempts = static_cast<int>(q.int64_at(row, 12));
  m.next_attempt_at = q.time_at(row, 13);
  m.last_error = q.text_at(row, 14);
  const auto receipt = parse_receipt_state(q.text_at(row, 15));
  if (!receipt) return storage_error("store: unknown receipt in message " + std::to_string(m.id));
  m.receipt = *receipt;
  m.body_deleted_at = q.opt_time_at(row, 16);
  return m;
}

// Appends the letters in `q` (kSelectLetters' columns) to the records, matched by message id.
Result<void> attach_letters(const PgResult& q, std::vector<MessageRecord>& records) {
  for (int i = 0; i < q.rows(); ++i) {
    const std::int64_t message_id = q.int64_at(i, 0);
    const auto type = parse_letter_type(q.text_at(i, 2));
    if (!type)
      return storage_error("store: unknown letter type in message " + std::to_string(message_id));
    const auto status = parse_letter_status(q.text_at(i, 4));
    if (!status)
      return storage_error("store: unknown letter status in message " + std::to_string(message_id));
    for (auto& m : records)
      if (m.id == message_id)
        m.letters.push_back(NewLetter{q.text_at(i, 1), *type, q.text_at(i, 3), *status});
  }
  return {};
}

std::string id_array(const std::vector<MessageRecord>& records) {
  std::string out = "{";
  for (const auto& m : records) {
    if (out.size() > 1) out += ',';
    out += std::to_string(m.id);
  }
  return out + "}";
}

// A read-only snapshot on the reader connection: statements inside it see one state.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(PgConnection& c) : c_(c) {
    begun_ = c_.reconnect_if_lost();
    if (begun_) begun_ = c_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin read");
  }
  ~ReadSnapshot() {
    if (c_.in_transaction()) (void)c_.exec("COMMIT", "end read");
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  const Result<void>& begun() const { return begun_; }

 private:
  PgConnection& c_;
  Result<void> begun_;
};

}  // namespace

PostgresStore::PostgresStore(std::unique_ptr<PgConnection> writer,
                             std::unique_ptr<PgConnection> reader,
                             std::unique_ptr<PgConnection> counter)
    : writer_(std::move(writer)), reader_(std::move(reader)), counter_(std::move(counter)) {}

PostgresStore::~PostgresStore() {
  if (writer_ && writer_->in_transaction()) (void)writer_->exec("ROLLBACK", "rollback");
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const std::string& conninfo) {
  const auto fail = [&](const std::string& why) {
    const std::string where = describe_conninfo(conninfo);
    return storage_error("cannot open PostgreSQL store" +
                         (where.empty() ? "" : " (" + where + ")") + ": " + why);
  };
  auto writer = PgConnection::connect(conninfo);
  if (!writer) return fail(writer.error().detail);
  // The store_head lock serialises writers; each statement after it must see what the previous
  // holder committed, which READ COMMITTED gives (whatever the server's default).
  if (auto r = (*writer)->set_up_session("SET default_transaction_isolation = 'read committed'",
                                         "set isolation");
      !r)
    return fail(r.error().detail);
  if (auto r = migrate_postgres(**writer); !r) return fail(r.error().detail);
  std::unique_ptr<PgConnection> readers[2];
  for (auto& reader : readers) {
    auto connected = PgConnection::connect(conninfo);
    if (!connected) return fail(connected.error().detail);
    if (auto r =
            (*connected)->set_up_session("SET default_transaction_read_only = on", "read only");
        !r)
      return fail(r.error().detail);
    reader = std::move(*connected);
  }
  return std::unique_ptr<PostgresStore>(
      new PostgresStore(std::move(*writer), std::move(readers[0]), std::move(readers[1])));
}

// A statement on the writer, sent together with what atomically() queued before it (BEGIN, or
// the release of the previous operation's savepoint and the next one's SAVEPOINT): one round
// trip.
Result<PgResult> PostgresStore::wrun(const std::string& name, const std::string& sql,
                                     const PgParams& params, std::string_view what,
                                     const std::vector<unsigned>& types) {
  if (!writer_->prepared(name))
    if (auto r = writer_->prepare(name, sql, types, what); !r) return r.error();
  if (prelude_.empty()) return writer_->run(name, params, what);
  std::vector<PgConnection::Pipelined> statements;
  for (const auto& command : prelude_) statements.push_back({{}, command, nullptr});
  prelude_.clear();
  statements.push_back({name, {}, &params});
  auto out = writer_->pipeline(statements, what);
  if (out.error) return *out.error;
  return std::move(out.results.back());
}

namespace {

// A read statement on `c`, prepared on first use; the connection is made again first if it was
// lost outside a transaction.
Result<PgResult> run_read(PgConnection& c, const std::string& name, const std::string& sql,
                          const PgParams& params, std::string_view what,
                          const std::vector<unsigned>& types) {
  if (!c.in_transaction())
    if (auto r = c.reconnect_if_lost(); !r) return r.error();
  if (!c.prepared(name))
    if (auto r = c.prepare(name, sql, types, what); !r) return r.error();
  return c.run(name, params, what);
}

}  // namespace

Result<PgResult> PostgresStore::rrun(const std::string& name, const std::string& sql,
                                     const PgParams& params, std::string_view what,
                                     const std::vector<unsigned>& types) {
  return run_read(*reader_, name, sql, params, what, types);
}

Result<PgResult> PostgresStore::crun(const std::string& name, const std::string& sql,
                                     const PgParams& params, std::string_view what,
                                     const std::vector<unsigned>& types) {
  return run_read(*counter_, name, sql, params, what, types);
}

// BEGIN (when queued), the lock, then the read in a statement of its own, so that its snapshot
// is taken once the lock is held: one round trip.
Result<void> PostgresStore::lock_head() {
  if (!writer_->prepared("lock_head"))
    if (auto r = writer_->prepare("lock_head", kLockHead, {}, "lock the store head"); !r) return r;
  if (!writer_->prepared("read_head"))
    if (auto r = writer_->prepare("read_head", kReadHead, {}, "read the store head"); !r) return r;
  std::vector<PgConnection::Pipelined> statements;
  for (const auto& command : prelude_) statements.push_back({{}, command, nullptr});
  prelude_.clear();
  statements.push_back({"lock_head", {}, nullptr});
  statements.push_back({"read_head", {}, nullptr});
  auto out = writer_->pipeline(statements, "lock the store head");
  if (out.error) return *out.error;
  const PgResult& h = out.results.back();
  next_id_ = h.int64_at(0, 0) + 1;
  audit_head_ = h.null_at(0, 1) ? AuditHead{} : AuditHead{h.int64_at(0, 1), h.text_at(0, 2)};
  head_locked_ = true;
  return {};
}

// One write operation. Outside a batch it is a transaction of its own: BEGIN goes out with the
// store_head lock. In a batch the batch's first operation takes the lock (before any savepoint:
// a row lock taken inside a savepoint that is rolled back would go with it), and each operation
// is a savepoint whose SAVEPOINT — and the RELEASE of the previous operation's, COMMIT releasing
// the last — goes out with the operation's first statement, so savepoints cost no round trip.
template <typename T, typename Op>
Result<T> PostgresStore::atomically(Op&& op) {
  const bool own = !in_batch_;
  if (own) {
    if (auto r = writer_->reconnect_if_lost(); !r) return r.error();
    head_locked_ = false;
    prelude_ = {"BEGIN"};
  } else if (!writer_->in_transaction()) {
    return storage_error("store: the batch was rolled back after an earlier failure");
  }
  Result<T> result = storage_error("store: the store head is not locked");
  if (auto locked = head_locked_ ? Result<void>() : lock_head(); !locked) {
    result = locked.error();
  } else {
    if (!own) {
      prelude_.clear();
      if (release_pending_) prelude_.push_back("RELEASE SAVEPOINT op");
      prelude_.push_back("SAVEPOINT op");
    }
    op_head_ = audit_head_;
    op_next_id_ = next_id_;
    result = op();
    const bool sent = prelude_.empty();  // the operation's first statement took the prelude
    prelude_.clear();
    if (!own) {
      if (result) {
        if (sent) release_pending_ = true;
        audit_head_ = std::move(op_head_);
        next_id_ = op_next_id_;
        return result;
      }
      if (sent) {
        release_pending_ = false;
        if (writer_->in_transaction())
          (void)writer_->exec("ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op",
                              "rollback to savepoint");
      }
      return result;  // refused before anything was sent: nothing to undo
    }
    if (result) {
      auto done = writer_->query("COMMIT", PgParams{}, "commit");
      if (done && done->command() == "COMMIT") {
        head_locked_ = false;
        return result;
      }
      result = done ? storage_error("store: the transaction was rolled back") : done.error();
    }
  }
  if (own) {
    prelude_.clear();
    if (writer_->in_transaction()) (void)writer_->exec("ROLLBACK", "rollback");
    head_locked_ = false;
  }
  return result;
}

Result<void> PostgresStore::write_operation(const std::function<Result<void>()>& op) {
  return atomically<void>(op);
}

// --- write side ---

Result<void> PostgresStore::begin_batch() {
  if (in_batch_) return storage_error("store: a batch is already open");
  if (auto r = writer_->reconnect_if_lost(); !r) return r;
  if (auto r = writer_->exec("BEGIN", "begin batch"); !r) return r;
  in_batch_ = true;
  head_locked_ = false;
  release_pending_ = false;
  return {};
}

Result<void> PostgresStore::commit_batch() {
  if (!in_batch_) return storage_error("store: no batch is open");
  in_batch_ = false;
  head_locked_ = false;
  release_pending_ = false;  // COMMIT releases it
  auto r = writer_->query("COMMIT", PgParams{}, "commit batch");
  if (r && r->command() == "COMMIT") return {};
  // The contract is all or nothing: a transaction left open is rolled back here.
  if (writer_->in_transaction()) (void)writer_->exec("ROLLBACK", "rollback");
  if (!r) return r.error();
  return storage_error("store: commit batch: the transaction was rolled back");
}

void PostgresStore::rollback_batch() {
  in_batch_ = false;
  head_locked_ = false;
  release_pending_ = false;
  if (writer_->in_transaction()) (void)writer_->exec("ROLLBACK", "rollback");
}

Result<void> PostgresStore::append_chain(AuditHead& head, TimePoint at, std::string_view kind,
                                         std::string_view actor, std::string_view subject,
                                         std::string_view detail, std::string_view binding,
                                         std::optional<std::int64_t> timeline_of) {
  AuditEntry e;
  e.seq = head.seq + 1;
  e.at = at;
  e.kind = kind;
  e.actor = actor.empty() ? std::string_view("broker") : actor;
  e.subject = subject;
  e.detail = detail;
  e.prev_hash = head.hash;
  e.binding = binding;
  e.hash = audit_entry_hash(e);
  PgParams p;
  p.int64(e.seq)
      .time(e.at)
      .text(e.kind)
      .text(e.actor)
      .text(e.subject)
      .text(e.detail)
      .text(e.prev_hash)
      .text(e.hash)
      .text(e.binding);
  if (timeline_of)
    p.int64(*timeline_of);
  else
    p.null();
  if (auto r = wrun("chain_insert", kInsertChainEntry, p, "append audit entry"); !r)
    return r.error();
  head.seq = e.seq;
  head.hash = std::move(e.hash);
  return {};
}

Result<void> PostgresStore::insert_event(std::int64_t message_id, TimePoint at,
                                         std::string_view kind, std::string_view detail,
                                         std::string_view actor, std::string_view subject_more,
                                         std::string_view binding) {
  auto exists =
      wrun("message_exists", kMessageExists, PgParams().int64(message_id), "read message");
  if (!exists) return exists.error();
  if (exists->rows() == 0) return not_found(message_id);
  std::string subject = "message " + std::to_string(message_id);
  if (!subject_more.empty()) {
    subject += ' ';
    subject += subject_more;
  }
  return append_chain(op_head_, at, kind, actor, subject, detail, binding, message_id);
}

Result<std::int64_t> PostgresStore::store_message(const MessagePlan& plan) {
  const NewMessage& message = plan.message;
  if (message.letters.empty())
    return make_error(Errc::kInvalid, "a message must carry at least one letter");
  return atomically<std::int64_t>([&]() -> Result<std::int64_t> {
    const std::int64_t id = op_next_id_;
    {
      PgParams p;
      p.int64(id)
          .text(message.envelope_id)
          .text(message.sender_gln)
          .text(message.receiver_gln)
          .text(message.sender_endpoint)
          .text(message.receiver_endpoint)
          .bytes(message.body)
          .bytes(message.acceptance)
          .int64(message.receipt_requested ? 1 : 0)
          .int64(message.contains_cpr ? 1 : 0)
          .time(message.received_at);
      if (auto r = wrun("message_insert", kInsertMessage, p, "insert message"); !r)
        return r.error();
      op_next_id_ = id + 1;
    }
    auto stale = [](const std::string& letter_id) {
      return make_error(Errc::kStale, "letter " + letter_id + " changed since the decision");
    };
    for (const Supersession& old : plan.supersedes) {
      // The version the decision replaced must still be the latest (another broker may have
      // stored a newer one meanwhile).
      {
        auto q = wrun("letter_for_accept", kFindLetterForAccept,
                      PgParams().text(message.sender_gln).text(old.letter_id), "find letter");
        if (!q) return q.error();
        if (q->rows() == 0 || q->int64_at(0, 0) != old.old_message_id ||
            q->text_at(0, 1) != old.old_content_hash)
          return stale(old.letter_id);
      }
      PgParams archive;
      archive.text(message.sender_gln)
          .text(old.letter_id)
          .int64(old.old_message_id)
          .int64(id)
          .time(message.received_at);
      if (auto r = wrun("letter_archive", kArchiveLetter, archive, "archive letter version"); !r)
        return r.error();
      if (auto r = wrun("letter_delete", kDeleteLetter,
                        PgParams().text(message.sender_gln).text(old.letter_id),
                        "replace letter version");
          !r)
        return r.error();
    }
    for (std::size_t i = 0; i < message.letters.size(); ++i) {
      const auto& letter = message.letters[i];
      PgParams p;
      p.text(message.sender_gln)
          .text(letter.letter_id)
          .int64(id)
          .int64(static_cast<std::int64_t>(i))
          .text(to_string(letter.type))
          .text(letter.content_hash)
          .text(to_string(letter.status));
      if (auto r = wrun("letter_insert", kInsertLetter, p, "insert letter"); !r) {
        // The letter the decision took as new is stored by now: a resend raced this one, or the
        // decision left its letters unread (MessagePlan::letters_unread; each call runs in a
        // savepoint, so nothing of the plan is kept).
        if (writer_->last_sqlstate() == kPgUniqueViolation) return stale(letter.letter_id);
        return r.error();
      }
    }
    // The citizen index (issue 10): keyed hashes only, never a CPR number.
    for (const std::string& key : message.citizen_keys)
      if (auto r = wrun("citizen_key_insert",
                        "INSERT INTO citizen_index (citizen_key, message_id) VALUES ($1, $2) "
                        "ON CONFLICT DO NOTHING",
                        PgParams().text(key).int64(id), "insert citizen key");
          !r)
        return r.error();
    auto target = [id](std::int64_t message_id) { return message_id == 0 ? id : message_id; };
    // The new message's first entry binds its body and state (issue 12, item 5), as SqliteStore.
    const std::string binding = message_stored_binding(
        message.body_sha256.empty() ? sha256_hex(message.body) : message.body_sha256,
        to_string(DeliveryState::kPending), to_string(ReceiptState::kNone));
    bool bound = false;
    for (const MessageEvent& e : plan.events) {
      const bool binds = !bound && target(e.message_id) == id;
      if (auto r = insert_event(target(e.message_id), e.at, e.kind, e.detail, e.actor, {},
                                binds ? std::string_view(binding) : std::string_view());
          !r)
        return r.error();
      bound = bound || binds;
    }
    if (!bound)
      if (auto r = append_chain(op_head_, message.received_at, "bound", message.sender_endpoint,
                                "message " + std::to_string(id), "", binding);
          !r)
        return r.error();
    for (const ReceiptUpdate& u : plan.receipts) {
      auto q = wrun("receipt_update", kUpdateReceipt,
                    PgParams().int64(u.message_id).text(to_string(u.state)), "set receipt");
      if (!q) return q.error();
      if (q->affected() == 0) return not_found(u.message_id);
      if (auto r = insert_event(u.message_id, u.event.at, u.event.kind, u.event.detail,
                                u.event.actor, {}, "receipt=" + std::string(to_string(u.state)));
          !r)
        return r.error();
    }
    for (const DeadlineWrite& w : plan.deadlines) {
      if (w.expect_open) {
        auto q = wrun("deadline_state", kDeadlineState,
                      PgParams().text(w.deadline.key.requester_gln).text(w.deadline.key.letter_id),
                      "deadline state");
        if (!q) return q.error();
        if (q->rows() == 0 || q->text_at(0, 0) != to_string(DeadlineState::kOpen))
          return make_error(Errc::kStale, "deadline for letter " + w.deadline.key.letter_id +
                                              " changed since the decision");
      }
      MessageEvent e = w.event;
      e.message_id = target(w.message_id);
      if (auto r = write_deadline(w.deadline, e.message_id, e); !r) return r.error();
    }
    return id;
  });
}

Result<void> PostgresStore::update_delivery(std::int64_t message_id, DeliveryState state,
                                            int attempts, TimePoint next_attempt_at,
                                            const std::string& last_error,
                                            const MessageEvent& event,
                                            std::optional<TimePoint> receipt_watch_from) {
  return atomically<void>([&]() -> Result<void> {
    PgParams p;
    p.int64(message_id)
        .text(to_string(state))
        .int64(attempts)
        .time(next_attempt_at)
        .text(last_error);
    if (receipt_watch_from) p.time(*receipt_watch_from);
    auto q = receipt_watch_from
                 ? wrun("delivery_update_watched", kUpdateDeliveryWatched, p, "update delivery")
                 : wrun("delivery_update", kUpdateDelivery, p, "update delivery");
    if (!q) return q.error();
    if (q->affected() == 0) return not_found(message_id);
    return insert_event(message_id, event.at, event.kind, event.detail, event.actor, {},
                        "state=" + std::string(to_string(state)));
  });
}

Result<void> PostgresStore::set_receipt(std::int64_t message_id, ReceiptState receipt,
                                        const MessageEvent& event) {
  return atomically<void>([&]() -> Result<void> {
    auto q = wrun("receipt_update", kUpdateReceipt,
                  PgParams().int64(message_id).text(to_string(receipt)), "set receipt");
    if (!q) return q.error();
    if (q->affected() == 0) return not_found(message_id);
    return insert_event(message_id, event.at, event.kind, event.detail, event.actor, {},
                        "receipt=" + std::string(to_string(receipt)));
  });
}

Result<void> PostgresStore::watch_receipt(std::int64_t message_id,
                                          std::optional<TimePoint> last_sent, int resends) {
  return atomically<void>([&]() -> Result<void> {
    auto q = wrun("receipt_watch", kWatchReceipt,
                  PgParams().int64(message_id).opt_time(last_sent).int64(resends), "watch receipt");
    if (!q) return q.error();
    if (q->affected() == 0) return not_found(message_id);
    return {};
  });
}

Result<void> PostgresStore::append_event(const MessageEvent& event) {
  return atomically<void>([&]() -> Result<void> {
    return insert_event(event.message_id, event.at, event.kind, event.detail, event.actor);
  });
}

Result<void> PostgresStore::requeue(std::int64_t message_id, TimePoint now) {
  return atomically<void>([&]() -> Result<void> {
    auto q = wrun("state_select", kSelectState, PgParams().int64(message_id), "read state");
    if (!q) return q.error();
    if (q->rows() == 0) return not_found(message_id);
    const std::string from = q->text_at(0, 0);
    if (from != to_string(DeliveryState::kDeadLettered) &&
        from != to_string(DeliveryState::kRefused))
      return make_error(Errc::kConflict, "message " + std::to_string(message_id) + " is " + from +
                                             "; only dead-lettered or refused messages can be "
                                             "requeued");
    auto deleted = wrun("body_deleted_select", "SELECT body_deleted_at FROM messages WHERE id = $1",
                        PgParams().int64(message_id), "read body");
    if (!deleted) return deleted.error();
    if (deleted->rows() == 1 && !deleted->null_at(0, 0))
      return make_error(Errc::kConflict, "message " + std::to_string(message_id) +
                                             ": its body was deleted by retention");
    if (auto r = wrun("requeue", kRequeue, PgParams().int64(message_id).time(now), "requeue"); !r)
      return r.error();
    return insert_event(message_id, now, "requeued", "from " + from, {}, {}, "state=pending");
  });
}

Result<void> PostgresStore::audit(TimePoint at, const std::string& kind,
                                  const std::string& detail) {
  return atomically<void>([&]() -> Result<void> {
    if (auto r = wrun("audit_insert", kInsertAudit, PgParams().time(at).text(kind).text(detail),
                      "insert audit");
        !r)
      return r.error();
    return append_chain(op_head_, at, kind, "broker", "input", detail);
  });
}

Result<void> PostgresStore::audit_action(TimePoint at, const std::string& actor,
                                         const std::string& action, const std::string& subject,
                                         const std::string& detail) {
  if (actor.empty() || action.empty() || subject.empty())
    return make_error(Errc::kInvalid, "an audited action needs an actor, an action and a subject");
  return atomically<void>(
      [&]() -> Result<void> { return append_chain(op_head_, at, action, actor, subject, detail); });
}

Result<void> PostgresStore::put_deadline(const Deadline& d, std::int64_t message_id,
                                         const MessageEvent& event) {
  return atomically<void>([&]() -> Result<void> { return write_deadline(d, message_id, event); });
}

Result<bool> PostgresStore::open_deadline(const Deadline& d, std::int64_t message_id,
                                          const MessageEvent& event) {
  return atomically<bool>([&]() -> Result<bool> {
    auto p = deadline_params(d);
    if (!p) return p.error();
    auto q = wrun("deadline_open", kInsertDeadlineIfAbsent, *p, "open deadline");
    if (!q) return q.error();
    if (q->affected() == 0) return false;  // one is stored: nothing changes
    if (!event.kind.empty())
      if (auto r = insert_event(message_id, event.at, event.kind, event.detail, event.actor,
                                "deadline " + d.key.requester_gln + "/" + d.key.letter_id);
          !r)
        return r.error();
    return true;
  });
}

Result<void> PostgresStore::write_deadline(const Deadline& d, std::int64_t message_id,
                                           const MessageEvent& event) {
  auto p = deadline_params(d);
  if (!p) return p.error();
  if (auto r = wrun("deadline_upsert", kUpsertDeadline, *p, "put deadline"); !r) return r.error();
  // Without an event nothing an operator sees changed (the sweep moving its index on): no
  // timeline line, no audit entry.
  if (event.kind.empty()) return {};
  return insert_event(message_id, event.at, event.kind, event.detail, event.actor,
                      "deadline " + d.key.requester_gln + "/" + d.key.letter_id);
}

// --- read side ---

Result<std::optional<LetterLocation>> PostgresStore::find_letter(const std::string& sender_gln,
                                                                 const std::string& letter_id) {
  std::lock_guard lock(read_mu_);
  auto q =
      rrun("letter_find", kFindLetter, PgParams().text(sender_gln).text(letter_id), "find letter");
  if (!q) return q.error();
  if (q->rows() == 0) return std::optional<LetterLocation>();
  const auto type = parse_letter_type(q->text_at(0, 1));
  if (!type) return storage_error("store: unknown letter type for letter " + letter_id);
  const auto status = parse_letter_status(q->text_at(0, 4));
  if (!status) return storage_error("store: unknown letter status for letter " + letter_id);
  return std::optional<LetterLocation>(LetterLocation{
      .message_id = q->int64_at(0, 0),
      .type = *type,
      .content_hash = q->text_at(0, 2),
      .receiver_gln = q->text_at(0, 3),
      .status = *status,
  });
}

Result<std::optional<std::int64_t>> PostgresStore::find_letter_version(
    const std::string& sender_gln, const std::string& letter_id, const std::string& content_hash) {
  std::lock_guard lock(read_mu_);
  auto q =
      rrun("letter_version_find", kFindEarlierVersion,
           PgParams().text(sender_gln).text(letter_id).text(content_hash), "find letter version");
  if (!q) return q.error();
  if (q->rows() == 0) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(q->int64_at(0, 0));
}

Result<std::vector<NewLetter>> PostgresStore::read_letters(std::int64_t message_id) {
  std::vector<MessageRecord> one(1);
  one[0].id = message_id;
  auto q = rrun("letters_select", kSelectLetters, PgParams().text(id_array(one)), "read letters");
  if (!q) return q.error();
  if (auto r = attach_letters(*q, one); !r) return r.error();
  return std::move(one[0].letters);
}

Result<std::optional<MessageRecord>> PostgresStore::get_message(std::int64_t message_id) {
  std::lock_guard lock(read_mu_);
  ReadSnapshot snapshot(*reader_);
  if (!snapshot.begun()) return snapshot.begun().error();
  auto q = rrun("message_select", kSelectMessage, PgParams().int64(message_id), "read message");
  if (!q) return q.error();
  if (q->rows() == 0) return std::optional<MessageRecord>();
  auto m = message_from_row(*q, 0);
  if (!m) return m.error();
  auto letters = read_letters(message_id);
  if (!letters) return letters.error();
  m->letters = std::move(*letters);
  return std::optional<MessageRecord>(std::move(*m));
}

Result<std::vector<MessageEvent>> PostgresStore::timeline(std::int64_t message_id) {
  std::lock_guard lock(read_mu_);
  auto q = rrun("events_select", kSelectEvents, PgParams().int64(message_id), "read timeline");
  if (!q) return q.error();
  std::vector<MessageEvent> events;
  events.reserve(static_cast<std::size_t>(q->rows()));
  for (int i = 0; i < q->rows(); ++i)
    events.push_back(
        MessageEvent{q->int64_at(i, 0), q->time_at(i, 1), q->text_at(i, 2), q->text_at(i, 3)});
  return events;
}

Result<std::vector<MessageRecord>> PostgresStore::list_messages(const MessageFilter& filter) {
  std::vector<MessageRecord> out;
  if (filter.limit <= 0) return out;
  if (filter.received_from || filter.received_to || filter.envelope_id || filter.receipt_missing)
    return search_messages(filter);
  const bool by_state = filter.state.has_value();
  const bool by_endpoint = filter.endpoint.has_value();
  const std::string name = std::string("list_") + (by_state ? "s" : "") + (by_endpoint ? "e" : "") +
                           (filter.newest_first ? "n" : "");
  const std::int64_t bound = !filter.newest_first   ? filter.after_id
                             : filter.before_id > 0 ? filter.before_id
                                                    : std::numeric_limits<std::int64_t>::max();
  PgParams p;
  p.int64(bound).int64(filter.limit);
  if (by_state)
    p.text(to_string(*filter.state));
  else
    p.null();
  if (by_endpoint)
    p.text(*filter.endpoint);
  else
    p.null();
  std::lock_guard lock(read_mu_);
  ReadSnapshot snapshot(*reader_);
  if (!snapshot.begun()) return snapshot.begun().error();
  auto q = rrun(name, list_sql(by_state, by_endpoint, filter.newest_first), p, "list messages",
                kListTypes);
  if (!q) return q.error();
  out.reserve(static_cast<std::size_t>(q->rows()));
  for (int i = 0; i < q->rows(); ++i) {
    auto m = message_from_row(*q, i);
    if (!m) return m.error();
    out.push_back(std::move(*m));
  }
  if (out.empty()) return out;
  auto letters =
      rrun("letters_select", kSelectLetters, PgParams().text(id_array(out)), "read letters");
  if (!letters) return letters.error();
  if (auto r = attach_letters(*letters, out); !r) return r.error();
  return out;
}

namespace {

// What a start reads (PostgresStore::start_statements).
PostgresStore::Statement pending_statement() { return {"pending", kPending, {}, {}}; }
PostgresStore::Statement receipts_owed_statement() {
  return {"receipts_owed", kReceiptsOwed, {}, {}};
}
PostgresStore::Statement due_deadlines_statement(TimePoint now, int limit) {
  return {"deadlines_due", kDueDeadlines, PgParams().time(now).int64(limit), {}};
}

}  // namespace

std::vector<PostgresStore::Statement> PostgresStore::start_statements(TimePoint now, int limit) {
  return {pending_statement(), receipts_owed_statement(), due_deadlines_statement(now, limit)};
}

Result<std::vector<PendingDelivery>> PostgresStore::pending_deliveries() {
  std::lock_guard lock(read_mu_);
  auto q = rrun(pending_statement(), "read pending deliveries");
  if (!q) return q.error();
  std::vector<PendingDelivery> out;
  out.reserve(static_cast<std::size_t>(q->rows()));
  for (int i = 0; i < q->rows(); ++i)
    out.push_back(PendingDelivery{
        .message_id = q->int64_at(i, 0),
        .receiver_endpoint = q->text_at(i, 1),
        .attempts = static_cast<int>(q->int64_at(i, 2)),
        .received_at = q->time_at(i, 3),
        .next_attempt_at = q->time_at(i, 4),
    });
  return out;
}

Result<void> PostgresStore::record_sent_envelope(const std::string& instance_identifier,
                                                 std::int64_t message_id, TimePoint sent_at) {
  if (instance_identifier.empty())
    return make_error(Errc::kInvalid, "sent envelope: empty instance identifier");
  return atomically<void>([&]() -> Result<void> {
    auto state = wrun("state_select", kSelectState, PgParams().int64(message_id), "read state");
    if (!state) return state.error();
    if (state->rows() == 0) return not_found(message_id);
    auto q = wrun("sent_envelope_insert", kInsertSentEnvelope,
                  PgParams().text(instance_identifier).int64(message_id).time(sent_at),
                  "record sent envelope");
    if (!q) return q.error();
    if (q->affected() == 1) return {};
    auto found = wrun("sent_envelope_find", kFindSentEnvelope, PgParams().text(instance_identifier),
                      "record sent envelope");
    if (!found) return found.error();
    if (found->rows() == 1 && found->int64_at(0, 1) != message_id)
      return make_error(Errc::kConflict,
                        "sent envelope " + instance_identifier + " is another message's");
    return {};
  });
}

Result<std::optional<SentEnvelope>> PostgresStore::find_sent_envelope(
    const std::string& instance_identifier) {
  std::lock_guard lock(read_mu_);
  auto q = rrun("sent_envelope_find", kFindSentEnvelope, PgParams().text(instance_identifier),
                "find sent envelope");
  if (!q) return q.error();
  if (q->rows() == 0) return std::optional<SentEnvelope>();
  return std::optional<SentEnvelope>(
      SentEnvelope{q->text_at(0, 0), q->int64_at(0, 1), q->time_at(0, 2)});
}

Result<std::vector<ReceiptOwed>> PostgresStore::receipts_owed() {
  std::lock_guard lock(read_mu_);
  auto q = rrun(receipts_owed_statement(), "receipts owed");
  if (!q) return q.error();
  std::vector<ReceiptOwed> out;
  out.reserve(static_cast<std::size_t>(q->rows()));
  for (int i = 0; i < q->rows(); ++i)
    out.push_back({q->int64_at(i, 0), q->text_at(i, 1), q->time_at(i, 2),
                   static_cast<int>(q->int64_at(i, 3))});
  return out;
}

Result<std::optional<Deadline>> PostgresStore::find_deadline(const DeadlineKey& key) {
  std::lock_guard lock(read_mu_);
  auto q = rrun("deadline_find", kFindDeadline,
                PgParams().text(key.requester_gln).text(key.letter_id), "find deadline");
  if (!q) return q.error();
  if (q->rows() == 0) return std::optional<Deadline>();
  auto d = deadline_from_row(*q, 0);
  if (!d) return d.error();
  return std::optional<Deadline>(std::move(*d));
}

Result<std::vector<Deadline>> PostgresStore::due_deadlines(TimePoint now, int limit) {
  if (limit <= 0) return std::vector<Deadline>();
  std::lock_guard lock(read_mu_);
  auto q = rrun(due_deadlines_statement(now, limit), "read due deadlines");
  if (!q) return q.error();
  return deadlines_from(*q);
}

Result<std::optional<PostgresStore::Statement>> PostgresStore::deadline_list_query(
    const DeadlineFilter& filter) {
  if (filter.overdue_only && !filter.now)
    return make_error(Errc::kInvalid, "the overdue filter needs the current time");
  std::optional<DeadlineState> state = filter.state;
  if (filter.overdue_only) {
    if (state && *state != DeadlineState::kOpen) return std::optional<Statement>();
    state = DeadlineState::kOpen;
  }
  if (filter.limit <= 0) return std::optional<Statement>();
  const std::int64_t limit = filter.limit;
  const std::int64_t offset = std::max(filter.offset, 0);

  unsigned shape = 0;
  if (state) shape |= kByState;
  if (filter.overdue_only) shape |= kOverdue;
  if (filter.due_before) shape |= kDueBefore;
  if (filter.form) shape |= kByForm;
  if (filter.kind) shape |= kByKind;
  if (filter.opened_before) shape |= kOpenedBefore;
  if (filter.opened_after) shape |= kOpenedAfter;
  if (filter.endpoint) shape |= kByEndpoint;

  Statement q{
      "deadlines_list_" + std::to_string(shape), deadline_list_sql(shape), {}, kDeadlineListTypes};
  PgParams& p = q.params;
  p.int64(limit).int64(offset);
  if (state)
    p.text(to_string(*state));
  else
    p.null();
  if (filter.overdue_only)
    p.time(*filter.now);
  else
    p.null();
  p.opt_time(filter.due_before);
  if (filter.form)
    p.text(*filter.form);
  else
    p.null();
  if (filter.kind)
    p.text(to_string(*filter.kind));
  else
    p.null();
  p.opt_time(filter.opened_before).opt_time(filter.opened_after);
  if (filter.endpoint)
    p.text(*filter.endpoint);
  else
    p.null();
  p.int64(limit + offset);
  return std::optional<Statement>(std::move(q));
}

Result<std::vector<Deadline>> PostgresStore::list_deadlines(const DeadlineFilter& filter) {
  auto query = deadline_list_query(filter);
  if (!query) return query.error();
  if (!*query) return std::vector<Deadline>();
  std::lock_guard lock(read_mu_);
  auto q = rrun(**query, "list deadlines");
  if (!q) return q.error();
  return deadlines_from(*q);
}

Result<void> PostgresStore::each_deadline_opened_between(
    TimePoint from, TimePoint to, const std::function<void(const Deadline&)>& each) {
  std::lock_guard lock(count_mu_);
  auto q = crun("deadlines_opened", kDeadlinesOpenedBetween, PgParams().time(from).time(to),
                "read deadlines opened");
  if (!q) return q.error();
  for (int i = 0; i < q->rows(); ++i) {
    auto d = deadline_from_row(*q, i);
    if (!d) return d.error();
    each(*d);
  }
  return {};
}

// --- the operators' console (issue 10) ---

Result<std::vector<MessageRecord>> PostgresStore::search_messages(const MessageFilter& filter) {
  std::vector<MessageRecord> out;
  MessageSearch search = message_search(filter);
  std::lock_guard lock(read_mu_);
  ReadSnapshot snapshot(*reader_);
  if (!snapshot.begun()) return snapshot.begun().error();
  auto q = rrun(search.name, search.sql, search.params, "search messages");
  if (!q) return q.error();
  out.reserve(static_cast<std::size_t>(q->rows()));
  for (int i = 0; i < q->rows(); ++i) {
    auto m = message_from_row(*q, i);
    if (!m) return m.error();
    out.push_back(std::move(*m));
  }
  if (out.empty()) return out;
  auto letters =
      rrun("letters_select", kSelectLetters, PgParams().text(id_array(out)), "read letters");
  if (!letters) return letters.error();
  if (auto r = attach_letters(*letters, out); !r) return r.error();
  return out;
}

Result<OperatorCounts> PostgresStore::operator_counts(TimePoint now) {
  std::lock_guard lock(count_mu_);
  ReadSnapshot snapshot(*counter_);  // one snapshot for the three counts
  if (!snapshot.begun()) return snapshot.begun().error();
  OperatorCounts out;
  auto d = crun("count_open_deadlines",
                "SELECT owed_by, form, count(*), "
                "coalesce(sum(CASE WHEN due_end <= $1::bigint THEN 1 ELSE 0 END), 0) "
                "FROM deadlines WHERE state = 'open' GROUP BY owed_by, form "
                "ORDER BY owed_by COLLATE \"C\", form COLLATE \"C\"",
                PgParams().time(now), "count open deadlines");
  if (!d) return d.error();
  for (int i = 0; i < d->rows(); ++i)
    out.deadlines.push_back(
        {d->text_at(i, 0), d->text_at(i, 1), d->int64_at(i, 2), d->int64_at(i, 3)});
  for (const auto& [name, sql, into] :
       {std::tuple{"count_dead_letters",
                   "SELECT receiver_endpoint, count(*) FROM messages "
                   "WHERE state = 'dead-lettered' GROUP BY receiver_endpoint "
                   "ORDER BY receiver_endpoint COLLATE \"C\"",
                   &out.dead_letters},
        std::tuple{"count_receipts_missing",
                   "SELECT receiver_endpoint, count(*) FROM messages "
                   "WHERE receipt_missing = 1 GROUP BY receiver_endpoint "
                   "ORDER BY receiver_endpoint COLLATE \"C\"",
                   &out.receipts_missing}}) {
    auto q = crun(name, sql, PgParams{}, "count messages");
    if (!q) return q.error();
    for (int i = 0; i < q->rows(); ++i) into->push_back({q->text_at(i, 0), q->int64_at(i, 1)});
  }
  return out;
}

Result<std::vector<std::int64_t>> PostgresStore::messages_of_citizen(const std::string& citizen_key,
                                                                     std::int64_t before_id,
                                                                     int limit) {
  std::vector<std::int64_t> out;
  if (limit <= 0) return out;
  std::lock_guard lock(read_mu_);
  auto q = rrun("messages_of_citizen",
                "SELECT message_id FROM citizen_index WHERE citizen_key = $1 "
                "AND message_id < $2::bigint ORDER BY message_id DESC LIMIT $3::bigint",
                PgParams()
                    .text(citizen_key)
                    .int64(before_id > 0 ? before_id : std::numeric_limits<std::int64_t>::max())
                    .int64(limit),
                "messages of citizen");
  if (!q) return q.error();
  for (int i = 0; i < q->rows(); ++i) out.push_back(q->int64_at(i, 0));
  return out;
}

// --- retention, holds and the audit chain's head (issue 11 item 4, issue 12 item 5) ---
// The same contract as SqliteStore's (store.hpp); the SQL differs only in its dialect.

namespace {

// A hold covers the message: one on it, or one on a citizen the citizen index lists for it.
constexpr const char* kMessageHeld =
    "SELECT EXISTS (SELECT 1 FROM holds WHERE kind = 'message' AND key = $1::bigint::text) "
    "OR EXISTS (SELECT 1 FROM citizen_index c JOIN holds h ON h.kind = 'citizen' "
    "AND h.key = c.citizen_key WHERE c.message_id = $1)";

#define SB_PG_RETENTION_SELECT                                                                  \
  "SELECT m.id, (SELECT type FROM (SELECT type, position FROM letters WHERE message_id = m.id " \
  "UNION ALL SELECT type, position FROM letter_versions WHERE message_id = m.id) t "            \
  "ORDER BY position LIMIT 1), m.state, m.receipt_requested::int, m.receipt, "                  \
  "(m.receipt_sent_at IS NOT NULL)::int, EXISTS (SELECT 1 FROM letters l JOIN deadlines d "     \
  "ON d.requester_gln = l.sender_gln AND d.letter_id = l.letter_id "                            \
  "WHERE l.message_id = m.id AND d.state = 'open')::int, m.received_at, "                       \
  "greatest((SELECT max(at) FROM events e WHERE e.message_id = m.id), "                         \
  "(SELECT max(at) FROM audit_chain a WHERE a.message_id = m.id), m.received_at), "             \
  "m.body_deleted_at, (EXISTS (SELECT 1 FROM holds WHERE kind = 'message' "                     \
  "AND key = m.id::text) OR EXISTS (SELECT 1 FROM citizen_index c JOIN holds h "                \
  "ON h.kind = 'citizen' AND h.key = c.citizen_key WHERE c.message_id = m.id))::int "           \
  "FROM messages m "

std::string hold_subject(HoldKind kind, const std::string& key) {
  return (kind == HoldKind::kMessage ? "message " : "citizen ") + key;
}

}  // namespace

Result<void> PostgresStore::put_hold(const LegalHold& h) {
  if (h.key.empty() || h.actor.empty())
    return make_error(Errc::kInvalid, "a legal hold needs a key and an actor");
  std::int64_t id = 0;
  if (h.kind == HoldKind::kMessage) {
    const auto [end, ec] = std::from_chars(h.key.data(), h.key.data() + h.key.size(), id);
    if (ec != std::errc() || end != h.key.data() + h.key.size())
      return make_error(Errc::kInvalid, "a message hold names a message id");
  }
  return atomically<void>([&]() -> Result<void> {
    if (h.kind == HoldKind::kMessage) {
      auto q = wrun("state_select", kSelectState, PgParams().int64(id), "read state");
      if (!q) return q.error();
      if (q->rows() == 0) return not_found(id);
    }
    if (auto r = wrun(
            "hold_put",
            "INSERT INTO holds (kind, key, at, actor, reason) VALUES ($1, $2, $3, $4, "
            "$5) ON CONFLICT (kind, key) DO UPDATE SET at = excluded.at, "
            "actor = excluded.actor, reason = excluded.reason",
            PgParams().text(to_string(h.kind)).text(h.key).time(h.at).text(h.actor).text(h.reason),
            "put hold");
        !r)
      return r.error();
    return append_chain(op_head_, h.at, "hold-placed", h.actor, hold_subject(h.kind, h.key),
                        h.reason);
  });
}

Result<void> PostgresStore::remove_hold(HoldKind kind, const std::string& key, TimePoint at,
                                        const std::string& actor) {
  return atomically<void>([&]() -> Result<void> {
    auto q = wrun("hold_remove", "DELETE FROM holds WHERE kind = $1 AND key = $2",
                  PgParams().text(to_string(kind)).text(key), "remove hold");
    if (!q) return q.error();
    if (q->affected() == 0)
      return make_error(Errc::kNotFound, "no hold on " + hold_subject(kind, key));
    return append_chain(op_head_, at, "hold-lifted", actor, hold_subject(kind, key), "");
  });
}

Result<void> PostgresStore::delete_body(std::int64_t message_id, TimePoint at) {
  return atomically<void>([&]() -> Result<void> {
    auto row =
        wrun("retention_row", "SELECT body, body_deleted_at, state FROM messages WHERE id = $1",
             PgParams().int64(message_id), "read body");
    if (!row) return row.error();
    if (row->rows() == 0) return not_found(message_id);
    if (!row->null_at(0, 1))
      return make_error(Errc::kConflict,
                        "message " + std::to_string(message_id) + ": body already deleted");
    const std::string state = row->text_at(0, 2);
    if (state != to_string(DeliveryState::kDelivered) &&
        state != to_string(DeliveryState::kRefused))
      return make_error(Errc::kConflict, "message " + std::to_string(message_id) + " is " + state +
                                             ": its body is still needed");
    auto held = wrun("message_held", kMessageHeld, PgParams().int64(message_id), "read holds");
    if (!held) return held.error();
    if (held->text_at(0, 0) == "t")
      return make_error(Errc::kConflict,
                        "message " + std::to_string(message_id) + " is under a legal hold");
    const std::string body_hash = sha256_hex(row->bytes_at(0, 0));
    if (auto r = wrun("body_delete",
                      "UPDATE messages SET body = ''::bytea, body_deleted_at = $2 WHERE id = $1",
                      PgParams().int64(message_id).time(at), "delete body");
        !r)
      return r.error();
    return append_chain(op_head_, at, "body-deleted", "broker",
                        "message " + std::to_string(message_id), "retention",
                        "body-deleted=" + body_hash);
  });
}

Result<void> PostgresStore::delete_record(std::int64_t message_id, TimePoint at) {
  return atomically<void>([&]() -> Result<void> {
    auto row =
        wrun("retention_row", "SELECT body, body_deleted_at, state FROM messages WHERE id = $1",
             PgParams().int64(message_id), "read body");
    if (!row) return row.error();
    if (row->rows() == 0) return not_found(message_id);
    if (row->null_at(0, 1))
      return make_error(Errc::kConflict,
                        "message " + std::to_string(message_id) + ": its body is still kept");
    auto held = wrun("message_held", kMessageHeld, PgParams().int64(message_id), "read holds");
    if (!held) return held.error();
    if (held->text_at(0, 0) == "t")
      return make_error(Errc::kConflict,
                        "message " + std::to_string(message_id) + " is under a legal hold");
    auto referring = wrun("versions_referring",
                          "SELECT 1 FROM letter_versions WHERE superseded_by = $1 "
                          "AND message_id <> $1 LIMIT 1",
                          PgParams().int64(message_id), "read letter versions");
    if (!referring) return referring.error();
    if (referring->rows() > 0)
      return make_error(Errc::kConflict, "message " + std::to_string(message_id) +
                                             " replaced a letter version still kept");
    const std::pair<const char*, const char*> deletes[] = {
        {"record_deadlines",
         "DELETE FROM deadlines WHERE state <> 'open' AND (requester_gln, letter_id) IN "
         "(SELECT sender_gln, letter_id FROM letters WHERE message_id = $1)"},
        {"record_letters", "DELETE FROM letters WHERE message_id = $1"},
        {"record_versions", "DELETE FROM letter_versions WHERE message_id = $1"},
        {"record_events", "DELETE FROM events WHERE message_id = $1"},
        {"record_citizens", "DELETE FROM citizen_index WHERE message_id = $1"},
        {"record_envelopes", "DELETE FROM sent_envelopes WHERE message_id = $1"},
        {"record_message", "DELETE FROM messages WHERE id = $1"},
    };
    for (const auto& [name, sql] : deletes)
      if (auto r = wrun(name, sql, PgParams().int64(message_id), "delete record"); !r)
        return r.error();
    return append_chain(op_head_, at, "record-deleted", "broker",
                        "message " + std::to_string(message_id), "retention", "record-deleted");
  });
}

// PostgreSQL gives space back by (auto)vacuum, which cannot run inside the writer's
// transaction: autovacuum reclaims the deleted rows (docs/retention.md).
Result<void> PostgresStore::reclaim_space(int) { return {}; }

Result<std::vector<RetentionFacts>> PostgresStore::retention_candidates(RetentionStage stage,
                                                                        TimePoint received_before,
                                                                        RetentionCursor after,
                                                                        int limit) {
  std::lock_guard lock(read_mu_);
  const bool body = stage == RetentionStage::kBody;
  auto q = rrun(
      body ? "retention_body" : "retention_record",
      body ? SB_PG_RETENTION_SELECT
          "WHERE m.body_deleted_at IS NULL AND m.received_at < $1 "
          "AND (m.received_at, m.id) > ($2, $3) ORDER BY m.received_at, m.id LIMIT $4"
           : SB_PG_RETENTION_SELECT
          "WHERE m.body_deleted_at IS NOT NULL AND m.received_at < $1 "
          "AND (m.received_at, m.id) > ($2, $3) ORDER BY m.received_at, m.id LIMIT $4",
      PgParams().time(received_before).time(after.received_at).int64(after.message_id).int64(limit),
      "retention candidates");
  if (!q) return q.error();
  std::vector<RetentionFacts> out;
  for (int i = 0; i < q->rows(); ++i) {
    RetentionFacts f;
    f.message_id = q->int64_at(i, 0);
    const auto type = parse_letter_type(q->text_at(i, 1));
    const auto state = parse_delivery_state(q->text_at(i, 2));
    const auto receipt = parse_receipt_state(q->text_at(i, 4));
    if (!type || !state || !receipt)
      return storage_error("store: unreadable message " + std::to_string(f.message_id));
    f.type = *type;
    f.state = *state;
    f.receipt_requested = q->int64_at(i, 3) != 0;
    f.receipt = *receipt;
    f.receipt_watched = q->int64_at(i, 5) != 0;
    f.deadline_open = q->int64_at(i, 6) != 0;
    f.received_at = q->time_at(i, 7);
    f.last_event_at = q->time_at(i, 8);
    f.body_deleted_at = q->opt_time_at(i, 9);
    f.held = q->int64_at(i, 10) != 0;
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::vector<LegalHold>> PostgresStore::list_holds() {
  std::lock_guard lock(read_mu_);
  auto q =
      rrun("holds_list", "SELECT kind, key, at, actor, reason FROM holds ORDER BY at, kind, key",
           PgParams{}, "list holds");
  if (!q) return q.error();
  std::vector<LegalHold> out;
  for (int i = 0; i < q->rows(); ++i) {
    const auto kind = parse_hold_kind(q->text_at(i, 0));
    if (!kind) return storage_error("store: unknown hold kind");
    out.push_back(
        LegalHold{*kind, q->text_at(i, 1), q->time_at(i, 2), q->text_at(i, 3), q->text_at(i, 4)});
  }
  return out;
}

Result<AuditHead> PostgresStore::audit_head() {
  std::lock_guard lock(read_mu_);
  auto q = rrun("chain_head", "SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1",
                PgParams{}, "read the audit chain's head");
  if (!q) return q.error();
  if (q->rows() == 0) return AuditHead{};
  return AuditHead{q->int64_at(0, 0), q->text_at(0, 1)};
}

#undef SB_PG_RETENTION_SELECT

}  // namespace sektorbro
