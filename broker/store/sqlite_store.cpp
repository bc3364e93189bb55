#include "broker/store/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <iterator>
#include <limits>
#include <map>
#include <system_error>
#include <unordered_set>
#include <utility>

#include "broker/core/identifiers.hpp"
#include "broker/store/audit_chain.hpp"
#include "broker/store/body_codec.hpp"
#include "broker/store/sqlite_check_lists.hpp"
#include "broker/store/timed_vfs.hpp"
#include "broker/store/wal_checkpointer.hpp"

namespace sektorbro {
namespace {

// The schema version this code reads and writes; kept in PRAGMA user_version
// (docs/store-format.md). kMigrations[v] takes a database from version v to v + 1.
constexpr int kSchemaVersion = 12;
constexpr int kBusyTimeoutMs = 5000;

constexpr const char* kMigrations[] = {
    // 0 → 1: the initial schema.
    R"sql(
CREATE TABLE messages (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  envelope_id       TEXT    NOT NULL,
  sender_gln        TEXT    NOT NULL,
  receiver_gln      TEXT    NOT NULL,
  sender_endpoint   TEXT    NOT NULL,
  receiver_endpoint TEXT    NOT NULL,
  body              BLOB    NOT NULL,
  acceptance        BLOB    NOT NULL,
  receipt_requested INTEGER NOT NULL CHECK (receipt_requested IN (0, 1)),
  contains_cpr      INTEGER NOT NULL CHECK (contains_cpr IN (0, 1)),
  received_at       INTEGER NOT NULL,
  state             TEXT    NOT NULL
                    CHECK (state IN ('pending', 'delivered', 'refused', 'dead-lettered')),
  attempts          INTEGER NOT NULL CHECK (attempts >= 0),
  next_attempt_at   INTEGER NOT NULL,
  last_error        TEXT    NOT NULL DEFAULT '',
  receipt           TEXT    NOT NULL DEFAULT 'none'
                    CHECK (receipt IN ('none', 'positive', 'negative'))
);
CREATE INDEX messages_pending ON messages (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX messages_state ON messages (state, id);
CREATE INDEX messages_sender_endpoint ON messages (sender_endpoint, id);
CREATE INDEX messages_receiver_endpoint ON messages (receiver_endpoint, id);

CREATE TABLE letters (
  sender_gln   TEXT    NOT NULL,
  letter_id    TEXT    NOT NULL,
  message_id   INTEGER NOT NULL REFERENCES messages (id),
  position     INTEGER NOT NULL,
  type         TEXT    NOT NULL,
  content_hash TEXT    NOT NULL,
  PRIMARY KEY (sender_gln, letter_id)
) WITHOUT ROWID;
CREATE INDEX letters_message ON letters (message_id, position);

CREATE TABLE events (
  id         INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL REFERENCES messages (id),
  at         INTEGER NOT NULL,
  kind       TEXT    NOT NULL,
  detail     TEXT    NOT NULL
);
CREATE INDEX events_message ON events (message_id, id);

CREATE TABLE audit (
  id     INTEGER PRIMARY KEY,
  at     INTEGER NOT NULL,
  kind   TEXT    NOT NULL,
  detail TEXT    NOT NULL
);
)sql",
    // 1 → 2: letter versions (MedCom StatusCode). `letters` keeps the latest version of each
    // (sender, letter id); the versions it replaced move to `letter_versions`. Existing letters
    // were all accepted as new letters.
    R"sql(
ALTER TABLE letters ADD COLUMN status TEXT NOT NULL DEFAULT 'nytbrev'
  CHECK (status IN ('nytbrev', 'rettetbrev', 'annulleretbrev'));

CREATE TABLE letter_versions (
  message_id    INTEGER NOT NULL REFERENCES messages (id),
  position      INTEGER NOT NULL,
  sender_gln    TEXT    NOT NULL,
  letter_id     TEXT    NOT NULL,
  type          TEXT    NOT NULL,
  status        TEXT    NOT NULL CHECK (status IN ('nytbrev', 'rettetbrev', 'annulleretbrev')),
  content_hash  TEXT    NOT NULL,
  superseded_by INTEGER NOT NULL REFERENCES messages (id),
  superseded_at INTEGER NOT NULL,
  PRIMARY KEY (message_id, position)
) WITHOUT ROWID;
CREATE INDEX letter_versions_letter ON letter_versions (sender_gln, letter_id, content_hash);
)sql",
    // 2 → 3: deadlines (issue 3), one row per DeadlineKey.
    R"sql(
CREATE TABLE deadlines (
  id                  INTEGER PRIMARY KEY,
  requester_gln       TEXT    NOT NULL,
  letter_id           TEXT    NOT NULL,
  kind                TEXT    NOT NULL CHECK (kind IN ('certificate', 'mentor-response')),
  owed_by             TEXT    NOT NULL,
  owed_to             TEXT    NOT NULL,
  form                TEXT    NOT NULL,
  opened_at           INTEGER NOT NULL,
  due                 TEXT    NOT NULL
                      CHECK (due GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  due_end             INTEGER NOT NULL,
  state               TEXT    NOT NULL CHECK (state IN ('open', 'answered-on-time',
                                                        'answered-late', 'declined', 'cancelled')),
  answered_at         INTEGER,
  closed_at           INTEGER,
  days_late           INTEGER NOT NULL,
  overdue             INTEGER NOT NULL CHECK (overdue IN (0, 1)),
  reminder_steps_done INTEGER NOT NULL,
  next_action_at      INTEGER,
  generation          INTEGER NOT NULL,
  discharge_date      TEXT
                      CHECK (discharge_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  lead_time_days      INTEGER,
  notice_late         INTEGER NOT NULL CHECK (notice_late IN (0, 1)),
  UNIQUE (requester_gln, letter_id)
);
CREATE INDEX deadlines_next_action ON deadlines (next_action_at)
  WHERE next_action_at IS NOT NULL;
CREATE INDEX deadlines_state_due ON deadlines (state, due_end);
CREATE INDEX deadlines_owed_by ON deadlines (owed_by, state, due_end);
CREATE INDEX deadlines_owed_to ON deadlines (owed_to, state, due_end);
CREATE INDEX deadlines_opened ON deadlines (opened_at);
)sql",
    // 3 → 4: the hash-chained audit log (issue 5). Append-only: the triggers stop an UPDATE or a
    // DELETE by mistake (a deliberate one drops them first; the chain is what shows that).
    R"sql(
CREATE TABLE audit_chain (
  seq       INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  kind      TEXT    NOT NULL,
  actor     TEXT    NOT NULL,
  subject   TEXT    NOT NULL,
  detail    TEXT    NOT NULL,
  prev_hash TEXT    NOT NULL,
  hash      TEXT    NOT NULL
);
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
  BEGIN SELECT RAISE(ABORT, 'audit_chain is append-only'); END;
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
  BEGIN SELECT RAISE(ABORT, 'audit_chain is append-only'); END;
)sql",
    // 4 → 5: the receipt watch in the row (issue 8), so a restart reads the receipts owed
    // through a partial index instead of every delivered message and its timeline. Filled from
    // the timelines once, here: the last delivery or resend, the resends, nothing once given up.
    R"sql(
ALTER TABLE messages ADD COLUMN receipt_sent_at INTEGER;
ALTER TABLE messages ADD COLUMN resends INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET
  resends = (SELECT count(*) FROM events e WHERE e.message_id = messages.id AND e.kind = 'resent'),
  receipt_sent_at = (SELECT max(e.at) FROM events e
                     WHERE e.message_id = messages.id AND e.kind IN ('delivered', 'resent'))
WHERE state = 'delivered' AND receipt = 'none' AND receipt_requested = 1
  AND sender_endpoint <> 'broker'
  AND NOT EXISTS (SELECT 1 FROM events e
                  WHERE e.message_id = messages.id AND e.kind = 'receipt-missing')
  AND NOT EXISTS (SELECT 1 FROM letters l WHERE l.message_id = messages.id
                  AND l.position = 0 AND l.type IN ('PositiveReceipt', 'NegativeReceipt'));
CREATE INDEX messages_receipt_owed ON messages (receipt_sent_at) WHERE receipt_sent_at IS NOT NULL;
)sql",
    // 5 → 6: the EHMI SBDH envelopes the broker sent (issue 9), so that an envelope-level
    // receipt is correlated with the message it answers, and one for an envelope the broker
    // never sent is refused.
    R"sql(
CREATE TABLE sent_envelopes (
  instance_identifier TEXT PRIMARY KEY,
  message_id INTEGER NOT NULL REFERENCES messages (id),
  sent_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sent_envelopes_message ON sent_envelopes (message_id);
)sql",
    // 6 → 7: the operators' console (issue 10). The MedCom alert "receipt missing" in the row
    // (set when the receipt watch is given up on, cleared by a receipt), filled once from the
    // timelines; partial indexes for the gauges and the searches, whose size follows the live
    // work, not the history; the citizen index (keyed hashes of CPR numbers, never the numbers).
    R"sql(
ALTER TABLE messages ADD COLUMN receipt_missing INTEGER NOT NULL DEFAULT 0
  CHECK (receipt_missing IN (0, 1));
UPDATE messages SET receipt_missing = 1
WHERE id IN (SELECT message_id FROM events WHERE kind = 'receipt-missing')
  AND state = 'delivered' AND receipt = 'none' AND receipt_sent_at IS NULL;
CREATE INDEX messages_receipt_missing ON messages (receiver_endpoint, id, receipt_missing)
  WHERE receipt_missing = 1;
CREATE INDEX messages_dead_lettered ON messages (receiver_endpoint, id, state)
  WHERE state = 'dead-lettered';
CREATE INDEX messages_received ON messages (received_at, id);
CREATE INDEX messages_envelope ON messages (envelope_id, id);
CREATE INDEX deadlines_open_groups ON deadlines (owed_by, form, due_end, state)
  WHERE state = 'open';
CREATE TABLE citizen_index (
  citizen_key TEXT    NOT NULL,
  message_id  INTEGER NOT NULL REFERENCES messages (id),
  PRIMARY KEY (citizen_key, message_id)
) WITHOUT ROWID;
)sql",
    // 7 → 8: retention and the bound audit chain (issue 11 item 4, issue 12 item 5). The chain's
    // entries bind the rows they record (binding, '' for the entries before); a message's body
    // may be deleted by retention (body_deleted_at) and its minimal record later; legal holds
    // stop both. The two partial indexes serve the retention scans in (received_at, id) order,
    // so a pass costs what it reads. The file is turned to auto_vacuum=INCREMENTAL by one VACUUM
    // after this migration (SqliteStore::open).
    R"sql(
ALTER TABLE audit_chain ADD COLUMN binding TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN body_deleted_at INTEGER;
CREATE INDEX messages_retention_body ON messages (received_at, id)
  WHERE body_deleted_at IS NULL;
CREATE INDEX messages_retention_record ON messages (received_at, id)
  WHERE body_deleted_at IS NOT NULL;
CREATE TABLE holds (
  kind   TEXT    NOT NULL CHECK (kind IN ('message', 'citizen')),
  key    TEXT    NOT NULL,
  at     INTEGER NOT NULL,
  actor  TEXT    NOT NULL,
  reason TEXT    NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX citizen_index_message ON citizen_index (message_id);
)sql",
    // 8 → 9: bodies in a table of their own (issue 8). A message row changes with every
    // delivery step; with the body inline SQLite rewrote the body's overflow pages each time
    // (docs/performance.md). A body row is written once and deleted by retention; the message
    // row keeps body_deleted_at. New bodies are stored compressed (codec 1, body_codec.hpp);
    // the ones moved here stay as they were (codec 0). DROP COLUMN rewrites the table once.
    R"sql(
CREATE TABLE message_bodies (
  message_id INTEGER PRIMARY KEY REFERENCES messages (id),
  body       BLOB    NOT NULL,
  codec      INTEGER NOT NULL CHECK (codec IN (0, 1))
);
INSERT INTO message_bodies (message_id, body, codec)
  SELECT id, body, 0 FROM messages WHERE body_deleted_at IS NULL ORDER BY id;
ALTER TABLE messages DROP COLUMN body;
)sql",
    // 9 → 10: the CHECK lists of three or more values written as OR chains (issue 8,
    // sqlite_check_lists.hpp): SQLite built a temporary B-tree for each of them on every row it
    // wrote. The same constraints, so no row is read or written: the step is in code
    // (expand_check_lists_in_schema, below), since it edits the schema's text.
    "",
    // 10 → 11: the timeline read from the audit chain (issue 8). Every `events` row repeated its
    // chain entry (at, kind, detail; the message in the subject), so a new timeline event is
    // written once, as a chain entry with `message_id` set; the partial index finds a message's
    // entries. `message_id` is outside the seal: it must name the message the sealed subject
    // names, which the verifier checks (audit_verify.cpp). The events written before stay in
    // `events` (their chain twins have no `message_id`), and a timeline reads those first.
    R"sql(
ALTER TABLE audit_chain ADD COLUMN message_id INTEGER;
CREATE INDEX audit_chain_timeline ON audit_chain (message_id) WHERE message_id IS NOT NULL;
)sql",
    // 11 → 12: `messages_pending` names `state` too, so that a lease pass reads the pending ids
    // from the index alone (SQLite counts a partial index as covering only when it holds the
    // columns of its own condition): under a backlog of 300,000 the pass read a table row per
    // pending message, ~1.8 s per pass (docs/performance.md, "Lease passes under a backlog").
    // Rebuilding it reads the pending messages only.
    R"sql(
DROP INDEX messages_pending;
CREATE INDEX messages_pending ON messages (next_attempt_at, id, state) WHERE state = 'pending';
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

// Every statement the store runs. All values are bound parameters; the SQL text is constant.
enum class Sql {
  kBeginImmediate,
  kCommit,
  kRollback,
  kSavepoint,
  kRelease,
  kRollbackTo,
  kBeginRead,
  kFindLetterForAccept,
  kDeadlineState,
  kWatchReceipt,
  kReceiptsOwed,
  kFindEarlierVersion,
  kArchiveLetter,
  kDeleteLetter,
  kSelectAcceptance,
  kInsertMessage,
  kInsertBody,
  kInsertLetter,
  kUpdateDelivery,
  kUpdateDeliveryWatched,
  kUpdateReceipt,
  kSelectState,
  kRequeue,
  kInsertAudit,
  kInsertChainEntry,
  kSelectChainHead,
  kFindLetter,
  kSelectMessage,
  kSelectLetters,
  kSelectEvents,
  kListAll,
  kListByState,
  kListByEndpoint,
  kListByStateAndEndpoint,
  kListAllNewest,
  kListByStateNewest,
  kListByEndpointNewest,
  kListByStateAndEndpointNewest,
  kPending,
  kUpsertDeadline,
  kInsertDeadlineIfAbsent,
  kFindDeadline,
  kDueDeadlines,
  kDeadlinesOpenedBetween,
  kInsertSentEnvelope,
  kFindSentEnvelope,
  kSelectBody,
  kMessageHeld,
  kDeleteBody,
  kDeleteBodyRow,
  kVersionsReferring,
  kDeleteMessageDeadlines,
  kDeleteMessageLetters,
  kDeleteMessageVersions,
  kDeleteMessageEvents,
  kDeleteMessageCitizens,
  kDeleteMessageEnvelopes,
  kDeleteMessageBodyRow,
  kDeleteMessageRow,
  kPutHold,
  kRemoveHold,
  kListHolds,
  kRetentionBody,
  kRetentionRecord,
  kCount,
};

// deadline_from_row() reads these in this order.
#define SB_DEADLINE_COLUMNS                                                                  \
  "kind, requester_gln, letter_id, owed_by, owed_to, form, opened_at, due, due_end, state, " \
  "answered_at, closed_at, days_late, overdue, reminder_steps_done, next_action_at, "        \
  "generation, discharge_date, lead_time_days, notice_late"

#define SB_MESSAGE_COLUMNS                                                                  \
  "id, envelope_id, sender_gln, receiver_gln, sender_endpoint, receiver_endpoint, "         \
  "coalesce((SELECT b.body FROM message_bodies b WHERE b.message_id = messages.id), x''), " \
  "acceptance, receipt_requested, contains_cpr, received_at, state, attempts, "             \
  "next_attempt_at, last_error, receipt, body_deleted_at, "                                 \
  "(SELECT b.codec FROM message_bodies b WHERE b.message_id = messages.id)"

// What retention_from_row() reads: the facts of the retention rule (retention_rule.hpp).
#define SB_RETENTION_SELECT                                                                     \
  "SELECT m.id, (SELECT type FROM (SELECT type, position FROM letters WHERE message_id = m.id " \
  "UNION ALL SELECT type, position FROM letter_versions WHERE message_id = m.id) "              \
  "ORDER BY position LIMIT 1), m.state, m.receipt_requested, m.receipt, "                       \
  "m.receipt_sent_at IS NOT NULL, EXISTS (SELECT 1 FROM letters l JOIN deadlines d "            \
  "ON d.requester_gln = l.sender_gln AND d.letter_id = l.letter_id "                            \
  "WHERE l.message_id = m.id AND d.state = 'open'), m.received_at, "                            \
  "max(coalesce((SELECT max(at) FROM events e WHERE e.message_id = m.id), m.received_at), "     \
  "coalesce((SELECT max(at) FROM audit_chain a WHERE a.message_id = m.id), m.received_at)), "   \
  "m.body_deleted_at, EXISTS (SELECT 1 FROM holds WHERE kind = 'message' "                      \
  "AND key = CAST(m.id AS TEXT)) OR EXISTS (SELECT 1 FROM citizen_index c JOIN holds h "        \
  "ON h.kind = 'citizen' AND h.key = c.citizen_key WHERE c.message_id = m.id)"

// Indexed by Sql. Paging statements: ?1 after_id, ?2 limit, ?3 state, ?4 endpoint. The endpoint
// lists take at most `limit` ids from each endpoint index, so they stay cheap on a large table.
constexpr std::array<const char*, static_cast<std::size_t>(Sql::kCount)> kSql = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT op",
    "RELEASE op",
    "ROLLBACK TO op",
    "BEGIN",
    "SELECT message_id, content_hash FROM letters WHERE sender_gln = ?1 AND letter_id = ?2",
    "SELECT state FROM deadlines WHERE requester_gln = ?1 AND letter_id = ?2",
    "UPDATE messages SET receipt_sent_at = ?2, resends = ?3, receipt_missing = (?2 IS NULL) "
    "WHERE id = ?1",
    "SELECT id, receiver_endpoint, receipt_sent_at, resends FROM messages "
    "WHERE receipt_sent_at IS NOT NULL ORDER BY receipt_sent_at, id",
    "SELECT message_id FROM letter_versions "
    "WHERE sender_gln = ?1 AND letter_id = ?2 AND content_hash = ?3 ORDER BY message_id LIMIT 1",
    "INSERT INTO letter_versions (message_id, position, sender_gln, letter_id, type, status, "
    "content_hash, superseded_by, superseded_at) "
    "SELECT message_id, position, sender_gln, letter_id, type, status, content_hash, ?4, ?5 "
    "FROM letters WHERE sender_gln = ?1 AND letter_id = ?2 AND message_id = ?3",
    "DELETE FROM letters WHERE sender_gln = ?1 AND letter_id = ?2",
    "SELECT acceptance FROM messages WHERE id = ?1",
    "INSERT INTO messages (envelope_id, sender_gln, receiver_gln, sender_endpoint, "
    "receiver_endpoint, acceptance, receipt_requested, contains_cpr, received_at, state, "
    "attempts, next_attempt_at, last_error, receipt) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?7, ?8, ?9, ?10, 'pending', 0, ?10, '', 'none')",
    "INSERT INTO message_bodies (message_id, body, codec) VALUES (?1, ?2, ?3)",
    "INSERT INTO letters (sender_gln, letter_id, message_id, position, type, content_hash, "
    "status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "UPDATE messages SET state = ?2, attempts = ?3, next_attempt_at = ?4, last_error = ?5 "
    "WHERE id = ?1",
    "UPDATE messages SET state = ?2, attempts = ?3, next_attempt_at = ?4, last_error = ?5, "
    "receipt_sent_at = ?6, resends = 0, receipt_missing = 0 WHERE id = ?1",
    "UPDATE messages SET receipt = ?2, receipt_sent_at = NULL, receipt_missing = 0 WHERE id = ?1",
    "SELECT state FROM messages WHERE id = ?1",
    "UPDATE messages SET state = 'pending', attempts = 0, next_attempt_at = ?2 WHERE id = ?1",
    "INSERT INTO audit (at, kind, detail) VALUES (?1, ?2, ?3)",
    // ?10, when not NULL, makes the entry a timeline event of that message.
    "INSERT INTO audit_chain (seq, at, kind, actor, subject, detail, prev_hash, hash, binding, "
    "message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    "SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1",
    "SELECT l.message_id, l.type, l.content_hash, m.receiver_gln, l.status FROM letters l "
    "JOIN messages m ON m.id = l.message_id WHERE l.sender_gln = ?1 AND l.letter_id = ?2",
    "SELECT " SB_MESSAGE_COLUMNS " FROM messages WHERE id = ?1",
    "SELECT letter_id, type, content_hash, status, position FROM letters WHERE message_id = ?1 "
    "UNION ALL SELECT letter_id, type, content_hash, status, position FROM letter_versions "
    "WHERE message_id = ?1 ORDER BY position",
    // The events from before schema 11 first, then the chain's; none once the record is deleted.
    "SELECT message_id, at, kind, detail, 0, id FROM events WHERE message_id = ?1 UNION ALL "
    "SELECT message_id, at, kind, detail, 1, seq FROM audit_chain WHERE message_id = ?1 "
    "AND EXISTS (SELECT 1 FROM messages WHERE id = ?1) ORDER BY 5, 6",
    "SELECT " SB_MESSAGE_COLUMNS " FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2",
    "SELECT " SB_MESSAGE_COLUMNS " FROM messages WHERE state = ?3 AND id > ?1 ORDER BY id LIMIT ?2",
    "SELECT " SB_MESSAGE_COLUMNS
    " FROM messages WHERE id IN ("
    "SELECT id FROM (SELECT id FROM messages WHERE sender_endpoint = ?4 AND id > ?1 "
    "ORDER BY id LIMIT ?2) UNION ALL "
    "SELECT id FROM (SELECT id FROM messages WHERE receiver_endpoint = ?4 AND id > ?1 "
    "ORDER BY id LIMIT ?2)) ORDER BY id LIMIT ?2",
    "SELECT " SB_MESSAGE_COLUMNS
    " FROM messages WHERE id IN ("
    "SELECT id FROM (SELECT id FROM messages WHERE sender_endpoint = ?4 AND state = ?3 "
    "AND id > ?1 ORDER BY id LIMIT ?2) UNION ALL "
    "SELECT id FROM (SELECT id FROM messages WHERE receiver_endpoint = ?4 AND state = ?3 "
    "AND id > ?1 ORDER BY id LIMIT ?2)) ORDER BY id LIMIT ?2",
    // The same four newest first: ?1 is before_id (ids less than it).
    "SELECT " SB_MESSAGE_COLUMNS " FROM messages WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
    "SELECT " SB_MESSAGE_COLUMNS
    " FROM messages WHERE state = ?3 AND id < ?1 ORDER BY id DESC LIMIT ?2",
    "SELECT " SB_MESSAGE_COLUMNS
    " FROM messages WHERE id IN ("
    "SELECT id FROM (SELECT id FROM messages WHERE sender_endpoint = ?4 AND id < ?1 "
    "ORDER BY id DESC LIMIT ?2) UNION ALL "
    "SELECT id FROM (SELECT id FROM messages WHERE receiver_endpoint = ?4 AND id < ?1 "
    "ORDER BY id DESC LIMIT ?2)) ORDER BY id DESC LIMIT ?2",
    "SELECT " SB_MESSAGE_COLUMNS
    " FROM messages WHERE id IN ("
    "SELECT id FROM (SELECT id FROM messages WHERE sender_endpoint = ?4 AND state = ?3 "
    "AND id < ?1 ORDER BY id DESC LIMIT ?2) UNION ALL "
    "SELECT id FROM (SELECT id FROM messages WHERE receiver_endpoint = ?4 AND state = ?3 "
    "AND id < ?1 ORDER BY id DESC LIMIT ?2)) ORDER BY id DESC LIMIT ?2",
    // INDEXED BY: without ANALYZE statistics the planner prefers messages_state and sorts.
    "SELECT id, receiver_endpoint, attempts, received_at, next_attempt_at "
    "FROM messages INDEXED BY messages_pending WHERE state = 'pending' "
    "ORDER BY next_attempt_at, id",
    "INSERT INTO deadlines (" SB_DEADLINE_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20) ON CONFLICT (requester_gln, letter_id) DO UPDATE SET kind = excluded.kind, "
    "owed_by = excluded.owed_by, owed_to = excluded.owed_to, form = excluded.form, "
    "opened_at = excluded.opened_at, due = excluded.due, due_end = excluded.due_end, "
    "state = excluded.state, answered_at = excluded.answered_at, "
    "closed_at = excluded.closed_at, days_late = excluded.days_late, "
    "overdue = excluded.overdue, reminder_steps_done = excluded.reminder_steps_done, "
    "next_action_at = excluded.next_action_at, generation = excluded.generation, "
    "discharge_date = excluded.discharge_date, lead_time_days = excluded.lead_time_days, "
    "notice_late = excluded.notice_late",
    "INSERT INTO deadlines (" SB_DEADLINE_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20) ON CONFLICT (requester_gln, letter_id) DO NOTHING",
    "SELECT " SB_DEADLINE_COLUMNS " FROM deadlines WHERE requester_gln = ?1 AND letter_id = ?2",
    // The partial index holds only deadlines with something left to do, and the range scan
    // stops after `limit` rows: the cost follows what is due, not what is open.
    "SELECT " SB_DEADLINE_COLUMNS
    " FROM deadlines INDEXED BY deadlines_next_action "
    "WHERE next_action_at IS NOT NULL AND next_action_at <= ?1 ORDER BY next_action_at, id "
    "LIMIT ?2",
    "SELECT " SB_DEADLINE_COLUMNS
    " FROM deadlines INDEXED BY deadlines_opened "
    "WHERE opened_at >= ?1 AND opened_at < ?2 ORDER BY opened_at, id",
    "INSERT INTO sent_envelopes (instance_identifier, message_id, sent_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (instance_identifier) DO NOTHING",
    "SELECT instance_identifier, message_id, sent_at FROM sent_envelopes "
    "WHERE instance_identifier = ?1",
    // Retention (issue 11, item 4). A hold covers a message directly or through the citizen
    // index (?1 the message id).
    "SELECT coalesce(b.body, x''), m.body_deleted_at, coalesce(b.codec, 0) FROM messages m "
    "LEFT JOIN message_bodies b ON b.message_id = m.id WHERE m.id = ?1",
    "SELECT EXISTS (SELECT 1 FROM holds WHERE kind = 'message' AND key = CAST(?1 AS TEXT)) "
    "OR EXISTS (SELECT 1 FROM citizen_index c JOIN holds h ON h.kind = 'citizen' "
    "AND h.key = c.citizen_key WHERE c.message_id = ?1)",
    "UPDATE messages SET body_deleted_at = ?2 WHERE id = ?1",
    "DELETE FROM message_bodies WHERE message_id = ?1",
    "SELECT 1 FROM letter_versions WHERE superseded_by = ?1 AND message_id <> ?1 LIMIT 1",
    "DELETE FROM deadlines WHERE state <> 'open' AND (requester_gln, letter_id) IN "
    "(SELECT sender_gln, letter_id FROM letters WHERE message_id = ?1)",
    "DELETE FROM letters WHERE message_id = ?1",
    "DELETE FROM letter_versions WHERE message_id = ?1",
    "DELETE FROM events WHERE message_id = ?1",
    "DELETE FROM citizen_index WHERE message_id = ?1",
    "DELETE FROM sent_envelopes WHERE message_id = ?1",
    "DELETE FROM message_bodies WHERE message_id = ?1",
    "DELETE FROM messages WHERE id = ?1",
    "INSERT INTO holds (kind, key, at, actor, reason) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (kind, key) DO UPDATE SET at = excluded.at, actor = excluded.actor, "
    "reason = excluded.reason",
    "DELETE FROM holds WHERE kind = ?1 AND key = ?2",
    "SELECT kind, key, at, actor, reason FROM holds ORDER BY at, kind, key",
    SB_RETENTION_SELECT
    " FROM messages m INDEXED BY messages_retention_body "
    "WHERE m.body_deleted_at IS NULL AND m.received_at < ?1 AND (m.received_at, m.id) > (?2, ?3) "
    "ORDER BY m.received_at, m.id LIMIT ?4",
    SB_RETENTION_SELECT
    " FROM messages m INDEXED BY messages_retention_record "
    "WHERE m.body_deleted_at IS NOT NULL AND m.received_at < ?1 "
    "AND (m.received_at, m.id) > (?2, ?3) ORDER BY m.received_at, m.id LIMIT ?4",
};

#undef SB_RETENTION_SELECT

// The operators' message search (issue 10): list_messages() with a time range, an envelope id
// or receipt_missing. Built from constant fragments, every value a parameter: ?1 the paging
// bound (id < ?1 newest first, id > ?1 oldest first), ?2 limit, ?3 state, ?4 endpoint, ?5 / ?6
// the id range a time range covers, ?7 / ?8 received_at from / to, ?9 envelope id. Each shape
// is served by an index whose range is about a page: (state, id), (endpoint, id), the rowid
// range of the time range, (envelope_id, id), the partial receipt_missing index.
enum MessageSearchShape : unsigned {
  kSearchNewest = 1u << 0,
  kSearchState = 1u << 1,
  kSearchEndpoint = 1u << 2,
  kSearchIdFloor = 1u << 3,
  kSearchIdCeiling = 1u << 4,
  kSearchFrom = 1u << 5,
  kSearchTo = 1u << 6,
  kSearchEnvelope = 1u << 7,
  kSearchReceiptMissing = 1u << 8,
  // Kept in the shaped-statement cache apart from list_deadlines' shapes.
  kSearchStatement = 1u << 30,
};

std::string message_search_sql(unsigned shape) {
  const bool newest = shape & kSearchNewest;
  std::string terms = newest ? "id < ?1" : "id > ?1";
  const auto term = [&](MessageSearchShape bit, const char* sql) {
    if (shape & bit) {
      terms += " AND ";
      terms += sql;
    }
  };
  term(kSearchState, "state = ?3");
  term(kSearchIdFloor, "id >= ?5");
  term(kSearchIdCeiling, "id <= ?6");
  // "+received_at": the time range is served by the id range above (?5, ?6), so that the
  // planner walks ids in page order instead of a day's rows by time and then sorting them.
  term(kSearchFrom, "+received_at >= ?7");
  term(kSearchTo, "+received_at < ?8");
  term(kSearchEnvelope, "envelope_id = ?9");
  term(kSearchReceiptMissing, "receipt_missing = 1");
  const std::string order = newest ? " ORDER BY id DESC LIMIT ?2" : " ORDER BY id LIMIT ?2";
  // The missing receipts are a few rows in their partial index; the planner would scan the
  // table by id instead (it does not know how few they are).
  const std::string from = (shape & kSearchReceiptMissing)
                               ? " FROM messages INDEXED BY messages_receipt_missing WHERE "
                               : " FROM messages WHERE ";
  const std::string select = "SELECT " SB_MESSAGE_COLUMNS + from;
  if (!(shape & kSearchEndpoint)) return select + terms + order;
  const auto side = [&](const char* column) {
    return std::string("SELECT id FROM (SELECT id") + from + column + " = ?4 AND " + terms + order +
           ")";
  };
  return "SELECT " SB_MESSAGE_COLUMNS " FROM messages WHERE id IN (" + side("sender_endpoint") +
         " UNION ALL " + side("receiver_endpoint") + ")" + order;
}

// The other statements of the operators' console (issue 10), in the shaped-statement cache
// under keys of their own.
enum ConsoleStatement : unsigned {
  kInsertCitizenKey = (1u << 29) | 1,
  kMessagesOfCitizen = (1u << 29) | 2,
  kCountOpenDeadlines = (1u << 29) | 3,
  kCountDeadLetters = (1u << 29) | 4,
  kCountReceiptsMissing = (1u << 29) | 5,
  kFirstIdReceivedFrom = (1u << 29) | 6,
  kLastIdReceivedBefore = (1u << 29) | 7,
};

const char* console_sql(ConsoleStatement which) {
  switch (which) {
    case kInsertCitizenKey:
      return "INSERT OR IGNORE INTO citizen_index (citizen_key, message_id) VALUES (?1, ?2)";
    case kMessagesOfCitizen:
      return "SELECT message_id FROM citizen_index WHERE citizen_key = ?1 AND message_id < ?2 "
             "ORDER BY message_id DESC LIMIT ?3";
    // The partial indexes hold only the live work: open deadlines, dead letters, missing
    // receipts. Each count walks its index once, in group order (no sort).
    case kCountOpenDeadlines:
      return "SELECT owed_by, form, count(*), coalesce(sum(due_end <= ?1), 0) "
             "FROM deadlines INDEXED BY deadlines_open_groups WHERE state = 'open' "
             "GROUP BY owed_by, form ORDER BY owed_by, form";
    case kCountDeadLetters:
      return "SELECT receiver_endpoint, count(*) FROM messages INDEXED BY messages_dead_lettered "
             "WHERE state = 'dead-lettered' GROUP BY receiver_endpoint ORDER BY receiver_endpoint";
    case kCountReceiptsMissing:
      return "SELECT receiver_endpoint, count(*) FROM messages "
             "INDEXED BY messages_receipt_missing WHERE receipt_missing = 1 "
             "GROUP BY receiver_endpoint ORDER BY receiver_endpoint";
    // A time range as an id range: the broker stamps received_at and takes ids in the same
    // order (one io thread decides, one writer commits in that order), so the first message
    // received at or after `from` and the last one received before `to` bound the ids.
    case kFirstIdReceivedFrom:
      return "SELECT id FROM messages INDEXED BY messages_received WHERE received_at >= ?1 "
             "ORDER BY received_at, id LIMIT 1";
    case kLastIdReceivedBefore:
      return "SELECT id FROM messages INDEXED BY messages_received WHERE received_at < ?1 "
             "ORDER BY received_at DESC, id DESC LIMIT 1";
  }
  return "";
}

#undef SB_MESSAGE_COLUMNS

Error storage_error(std::string detail) { return make_error(Errc::kStorage, std::move(detail)); }

// SQLite's messages name tables and columns, never bound values, so they carry no CPR.
Error db_error(sqlite3* db, std::string_view what) {
  return storage_error("store: " + std::string(what) + ": " + sqlite3_errmsg(db));
}

// One bound execution of a cached statement; resets it and clears the bindings when it goes out
// of scope, so no statement keeps a read transaction open between calls.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int i, std::int64_t v) { return note(sqlite3_bind_int64(stmt_, i, v)); }
  Query& bind(int i, TimePoint t) { return bind(i, to_millis(t)); }
  Query& bind_null(int i) { return note(sqlite3_bind_null(stmt_, i)); }
  // NULL for an empty optional.
  template <typename T>
  Query& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }
  // Text is copied by SQLite, so temporaries are safe to bind.
  Query& bind(int i, std::string_view text) {
    return note(sqlite3_bind_text(stmt_, i, text.data() ? text.data() : "",
                                  static_cast<int>(text.size()), SQLITE_TRANSIENT));
  }
  // Bytes are not copied: they must outlive this Query (bodies can be large).
  Query& bind_blob(int i, std::string_view bytes) {
    return note(sqlite3_bind_blob(stmt_, i, bytes.data() ? bytes.data() : "",
                                  static_cast<int>(bytes.size()), SQLITE_STATIC));
  }

  // SQLITE_ROW, SQLITE_DONE or an error code (a failed bind is reported here).
  int step() { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(stmt_); }
  Result<void> run(std::string_view what) {
    if (step() != SQLITE_DONE) return db_error(db_, what);
    return {};
  }

  bool null_at(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::int64_t int64_at(int col) const { return sqlite3_column_int64(stmt_, col); }
  TimePoint time_at(int col) const { return from_millis(int64_at(col)); }
  std::string text_at(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
  }
  std::string blob_at(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
  }

 private:
  Query& note(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = SQLITE_OK;
};

std::optional<ReceiptState> parse_receipt_state(std::string_view s) {
  for (const auto r : {ReceiptState::kNone, ReceiptState::kPositive, ReceiptState::kNegative})
    if (to_string(r) == s) return r;
  return std::nullopt;
}

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

// Runs constant SQL (set-up and migrations only; no values).
Result<void> exec(sqlite3* db, const char* sql, std::string_view what) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return db_error(db, what);
  return {};
}

Result<std::int64_t> query_int(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) return db_error(db, sql);
  Result<std::int64_t> out = storage_error(std::string("no result from ") + sql);
  if (sqlite3_step(stmt) == SQLITE_ROW)
    out = sqlite3_column_int64(stmt, 0);
  else
    out = db_error(db, sql);
  sqlite3_finalize(stmt);
  return out;
}

Result<std::string> query_text(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) return db_error(db, sql);
  Result<std::string> out = storage_error(std::string("no result from ") + sql);
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* p = sqlite3_column_text(stmt, 0);
    out = std::string(p ? reinterpret_cast<const char*>(p) : "");
  } else {
    out = db_error(db, sql);
  }
  sqlite3_finalize(stmt);
  return out;
}

// `vfs`: nullptr for the default VFS; the writer's is timed_vfs.hpp's (fsync latency, issue 10).
Result<DbHandle> open_connection(const std::string& path, int flags, const SqliteTuning& tuning,
                                 const char* vfs = nullptr) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                 flags | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE, vfs);
  DbHandle db(raw);
  if (rc != SQLITE_OK) return storage_error(db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  // PRAGMA takes no bound parameters; the numbers are integers (SqliteTuning).
  for (const std::string& pragma :
       {"PRAGMA cache_size = -" + std::to_string(tuning.cache_kib),
        "PRAGMA mmap_size = " + std::to_string(tuning.mmap_bytes),
        "PRAGMA wal_autocheckpoint = " + std::to_string(tuning.wal_autocheckpoint)})
    if (sqlite3_exec(db.get(), pragma.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
      return storage_error(sqlite3_errmsg(db.get()));
  return db;
}

// The first entry of a chain added to a file that already holds history (a migration from
// version 1–3 to 4): it says how much came before the chain, so an auditor does not take the
// unchained timeline for a gap. Its `at` is the latest instant recorded before it (0 if none),
// which keeps migration independent of the clock.
Result<void> start_chain_after_migration(sqlite3* db, std::int64_t from_version) {
  auto events = query_int(db, "SELECT count(*) FROM events");
  if (!events) return events.error();
  auto audits = query_int(db, "SELECT count(*) FROM audit");
  if (!audits) return audits.error();
  auto latest = query_int(db,
                          "SELECT coalesce(max(at), 0) FROM (SELECT max(at) AS at FROM events "
                          "UNION ALL SELECT max(at) FROM audit)");
  if (!latest) return latest.error();
  AuditEntry e;
  e.seq = 1;
  e.at = from_millis(*latest);
  e.kind = "audit-chain-started";
  e.actor = "broker";
  e.subject = "store";
  e.detail = "schema " + std::to_string(from_version) + " -> " + std::to_string(kSchemaVersion) +
             ": " + std::to_string(*events) + " timeline event(s) and " + std::to_string(*audits) +
             " audit line(s) recorded before this entry are not chained";
  e.prev_hash = std::string(kAuditGenesisHash);
  e.hash = audit_entry_hash(e);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, kSql[static_cast<std::size_t>(Sql::kInsertChainEntry)], -1, &stmt,
                         nullptr) != SQLITE_OK)
    return db_error(db, "prepare first audit entry");
  Result<void> out;
  {
    Query q(db, stmt);
    q.bind(1, e.seq)
        .bind(2, e.at)
        .bind(3, e.kind)
        .bind(4, e.actor)
        .bind(5, e.subject)
        .bind(6, e.detail)
        .bind(7, e.prev_hash)
        .bind(8, e.hash)
        .bind(9, e.binding);
    out = q.run("insert first audit entry");
  }
  sqlite3_finalize(stmt);
  return out;
}

// Migration 9 → 10: each table's CREATE statement with expand_check_in_lists applied, written
// into sqlite_schema as SQLite documents for a change to constraints that every stored row
// already satisfies (https://sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
// Changes"): writable_schema on, the new text, the schema cookie moved on so that every
// connection parses it again, writable_schema off. Each new text is first run in an empty
// in-memory database: a text SQLite could not parse would make the file unreadable.
Result<void> expand_check_lists_in_schema(sqlite3* db) {
  std::vector<std::pair<std::string, std::string>> changed;  // table, new CREATE statement
  {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND "
                           "sql IS NOT NULL ORDER BY name",
                           -1, &stmt, nullptr) != SQLITE_OK)
      return db_error(db, "read schema");
    int rc;
    {
      Query q(db, stmt);
      while ((rc = q.step()) == SQLITE_ROW) {
        std::string sql = q.text_at(1);
        std::string expanded = expand_check_in_lists(sql);
        if (expanded != sql) changed.emplace_back(q.text_at(0), std::move(expanded));
      }
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return db_error(db, "read schema");
  }
  if (changed.empty()) return {};
  {
    sqlite3* scratch = nullptr;
    Result<void> parsed = storage_error("store: cannot open an in-memory database");
    if (sqlite3_open_v2(":memory:", &scratch, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
      parsed = {};
      for (const auto& [table, sql] : changed)
        if (parsed) parsed = exec(scratch, sql.c_str(), "parse rewritten table " + table);
    }
    sqlite3_close(scratch);
    if (!parsed) return parsed;
  }
  auto cookie = query_int(db, "PRAGMA schema_version");
  if (!cookie) return cookie.error();
  if (auto r = exec(db, "PRAGMA writable_schema = ON", "writable_schema"); !r) return r;
  Result<void> written;
  for (const auto& [table, sql] : changed) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db,
                           "UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = ?2",
                           -1, &stmt, nullptr) != SQLITE_OK) {
      written = db_error(db, "prepare schema update");
      break;
    }
    {
      Query q(db, stmt);
      written = q.bind(1, sql).bind(2, table).run("update schema of " + table);
    }
    sqlite3_finalize(stmt);
    if (!written) break;
  }
  if (written) {
    // PRAGMA takes no bound parameters; the number is the file's own cookie plus one.
    const std::string bump = "PRAGMA schema_version = " + std::to_string(*cookie + 1);
    written = exec(db, bump.c_str(), "schema_version");
  }
  auto off = exec(db, "PRAGMA writable_schema = OFF", "writable_schema");
  if (!written) return written;
  return off;
}

// Brings the schema to kSchemaVersion in one transaction. Refuses a newer database: this code
// would not know what the newer columns mean.
Result<void> migrate(sqlite3* db) {
  if (auto r = exec(db, "BEGIN IMMEDIATE", "begin migration"); !r) return r;
  auto version = query_int(db, "PRAGMA user_version");
  auto fail = [&](Error e) -> Result<void> {
    (void)exec(db, "ROLLBACK", "rollback migration");
    return e;
  };
  if (!version) return fail(version.error());
  if (*version > kSchemaVersion || *version < 0)
    return fail(storage_error("schema version " + std::to_string(*version) +
                              " is newer than this broker supports (" +
                              std::to_string(kSchemaVersion) + ")"));
  for (auto v = *version; v < kSchemaVersion; ++v) {
    if (auto r = exec(db, kMigrations[v], "migrate schema"); !r) return fail(r.error());
    if (v == 9)
      if (auto r = expand_check_lists_in_schema(db); !r) return fail(r.error());
  }
  // Version 4 introduced the audit chain. A new file starts it with its first event.
  if (*version >= 1 && *version < 4)
    if (auto r = start_chain_after_migration(db, *version); !r) return fail(r.error());
  if (*version != kSchemaVersion) {
    // PRAGMA takes no bound parameters; the number is our own constant.
    const std::string set = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
    if (auto r = exec(db, set.c_str(), "set schema version"); !r) return fail(r.error());
  }
  return exec(db, "COMMIT", "commit migration");
}

}  // namespace

class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache() {
    for (auto* s : stmts_) sqlite3_finalize(s);
    for (auto& [shape, s] : shaped_) sqlite3_finalize(s);
  }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // Prepares every statement once, so a schema mismatch shows at open and never mid-batch.
  Result<void> prepare_all() {
    for (std::size_t i = 0; i < kSql.size(); ++i)
      if (sqlite3_prepare_v3(db_, kSql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts_[i], nullptr) !=
          SQLITE_OK)
        return db_error(db_, "prepare");
    return {};
  }
  Query operator[](Sql id) { return Query(db_, stmts_[static_cast<std::size_t>(id)]); }
  // A statement whose text depends on which filters are set (list_deadlines): prepared the
  // first time a `shape` is used, from constant fragments, then kept like the others. Run it
  // through a Query.
  template <typename MakeSql>
  Result<sqlite3_stmt*> shaped(unsigned shape, MakeSql&& make_sql) {
    auto it = shaped_.find(shape);
    if (it == shaped_.end()) {
      const std::string sql = make_sql();
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
          SQLITE_OK)
        return db_error(db_, "prepare");
      it = shaped_.emplace(shape, stmt).first;
    }
    return it->second;
  }
  sqlite3* db() const { return db_; }
  // The writer's audit key (issue 12, item 5): entries are sealed with it when set
  // (SqliteStore::set_audit_key), else hashed unkeyed.
  const AuditKey* audit_key = nullptr;

 private:
  sqlite3* db_;
  std::array<sqlite3_stmt*, kSql.size()> stmts_{};
  std::map<unsigned, sqlite3_stmt*> shaped_;
};

namespace {

// Appends one entry to the audit chain after `head` and advances `head` to it. The primary key
// on seq makes a second writer on the same file fail here instead of forking the chain. With
// `timeline_of` the entry is also that message's timeline event (schema 11).
Result<void> append_chain(StatementCache& stmts, AuditHead& head, TimePoint at,
                          std::string_view kind, std::string_view actor, std::string_view subject,
                          std::string_view detail, std::string_view binding = {},
                          std::optional<std::int64_t> timeline_of = std::nullopt) {
  AuditEntry e;
  e.seq = head.seq + 1;
  e.at = at;
  e.kind = kind;
  e.actor = actor.empty() ? std::string_view("broker") : actor;
  e.subject = subject;
  e.detail = detail;
  e.prev_hash = head.hash;
  e.binding = binding;
  e.hash = audit_entry_seal(e, stmts.audit_key);
  auto q = stmts[Sql::kInsertChainEntry];
  q.bind(1, e.seq)
      .bind(2, e.at)
      .bind(3, e.kind)
      .bind(4, e.actor)
      .bind(5, e.subject)
      .bind(6, e.detail)
      .bind(7, e.prev_hash)
      .bind(8, e.hash)
      .bind(9, e.binding)
      .bind(10, timeline_of);
  if (auto r = q.run("append audit entry"); !r) return r;
  head.seq = e.seq;
  head.hash = std::move(e.hash);
  return {};
}

// Whether insert_event() reads that the message exists (kNotFound if not, as the foreign key of
// `events` answered until schema 11), or the caller has just written or updated its row.
enum class MessageRow { kCheck, kKnown };

// Records a timeline event: its audit entry (subject "message <id>", followed by `subject_more`
// when given; `binding` what the entry binds of the row, audit_chain.hpp), which the timeline
// reads. `actor` empty means the broker.
Result<void> insert_event(StatementCache& stmts, AuditHead& head, MessageRow row,
                          std::int64_t message_id, TimePoint at, std::string_view kind,
                          std::string_view detail, std::string_view actor,
                          std::string_view subject_more = {}, std::string_view binding = {}) {
  if (row == MessageRow::kCheck) {
    auto q = stmts[Sql::kSelectState];
    q.bind(1, message_id);
    const int rc = q.step();
    if (rc == SQLITE_DONE)
      return make_error(Errc::kNotFound, "message " + std::to_string(message_id) + " not found");
    if (rc != SQLITE_ROW) return db_error(stmts.db(), "read message");
  }
  std::string subject = "message " + std::to_string(message_id);
  if (!subject_more.empty()) {
    subject += ' ';
    subject += subject_more;
  }
  return append_chain(stmts, head, at, kind, actor, subject, detail, binding, message_id);
}

Result<void> not_found_unless_changed(sqlite3* db, std::int64_t message_id) {
  if (sqlite3_changes(db) == 0)
    return make_error(Errc::kNotFound, "message " + std::to_string(message_id) + " not found");
  return {};
}

Result<std::vector<NewLetter>> read_letters(StatementCache& stmts, std::int64_t message_id) {
  std::vector<NewLetter> letters;
  auto q = stmts[Sql::kSelectLetters];
  q.bind(1, message_id);
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    const auto type = parse_letter_type(q.text_at(1));
    if (!type)
      return storage_error("store: unknown letter type in message " + std::to_string(message_id));
    const auto status = parse_letter_status(q.text_at(3));
    if (!status)
      return storage_error("store: unknown letter status in message " + std::to_string(message_id));
    letters.push_back(NewLetter{q.text_at(0), *type, q.text_at(2), *status});
  }
  if (rc != SQLITE_DONE) return db_error(stmts.db(), "read letters");
  return letters;
}

// Reads the SB_MESSAGE_COLUMNS of the current row (letters are read separately).
Result<MessageRecord> message_from_row(const Query& q) {
  MessageRecord m;
  m.id = q.int64_at(0);
  m.envelope_id = q.text_at(1);
  m.sender_gln = q.text_at(2);
  m.receiver_gln = q.text_at(3);
  m.sender_endpoint = q.text_at(4);
  m.receiver_endpoint = q.text_at(5);
  if (auto body = unpack_body(q.blob_at(6), q.null_at(17) ? 0 : static_cast<int>(q.int64_at(17)));
      !body) {
    return storage_error("store: message " + std::to_string(m.id) + ": " + body.error().detail);
  } else {
    m.body = std::move(*body);
  }
  m.acceptance = q.blob_at(7);
  m.receipt_requested = q.int64_at(8) != 0;
  m.contains_cpr = q.int64_at(9) != 0;
  m.received_at = q.time_at(10);
  const auto state = parse_delivery_state(q.text_at(11));
  if (!state) return storage_error("store: unknown state in message " + std::to_string(m.id));
  m.state = *state;
  m.attempts = static_cast<int>(q.int64_at(12));
  m.next_attempt_at = q.time_at(13);
  m.last_error = q.text_at(14);
  const auto receipt = parse_receipt_state(q.text_at(15));
  if (!receipt) return storage_error("store: unknown receipt in message " + std::to_string(m.id));
  m.receipt = *receipt;
  if (!q.null_at(16)) m.body_deleted_at = q.time_at(16);
  return m;
}

// Binds a Deadline as ?1 … ?20 in SB_DEADLINE_COLUMNS order: instants as ms, dates as
// 'YYYY-MM-DD', enumerations by their to_string() names, empty optionals as NULL.
Result<void> bind_deadline(Query& q, const Deadline& d) {
  if (!d.due.ok())
    return make_error(Errc::kInvalid,
                      "deadline for letter " + d.key.letter_id + ": due is not a valid date");
  if (d.discharge_date && !d.discharge_date->ok())
    return make_error(Errc::kInvalid, "deadline for letter " + d.key.letter_id +
                                          ": discharge_date is not a valid date");
  q.bind(1, to_string(d.kind))
      .bind(2, d.key.requester_gln)
      .bind(3, d.key.letter_id)
      .bind(4, d.owed_by)
      .bind(5, d.owed_to)
      .bind(6, d.form)
      .bind(7, d.opened_at)
      .bind(8, format_date(d.due))
      .bind(9, d.due_end)
      .bind(10, to_string(d.state))
      .bind(11, d.answered_at)
      .bind(12, d.closed_at)
      .bind(13, std::int64_t{d.days_late})
      .bind(14, std::int64_t{d.overdue})
      .bind(15, std::int64_t{d.reminder_steps_done})
      .bind(16, d.next_action_at)
      .bind(17, std::int64_t{d.generation});
  if (d.discharge_date)
    q.bind(18, format_date(*d.discharge_date));
  else
    q.bind_null(18);
  if (d.lead_time_days)
    q.bind(19, std::int64_t{*d.lead_time_days});
  else
    q.bind_null(19);
  q.bind(20, std::int64_t{d.notice_late});
  return {};
}

std::optional<TimePoint> optional_time_at(const Query& q, int col) {
  if (q.null_at(col)) return std::nullopt;
  return q.time_at(col);
}

// Reads the SB_DEADLINE_COLUMNS of the current row.
Result<Deadline> deadline_from_row(const Query& q) {
  Deadline d;
  d.key.requester_gln = q.text_at(1);
  d.key.letter_id = q.text_at(2);
  const auto bad = [&](std::string_view what) {
    return storage_error("store: deadline for letter " + d.key.letter_id + " has an unknown " +
                         std::string(what));
  };
  const auto kind = parse_deadline_kind(q.text_at(0));
  if (!kind) return bad("kind");
  d.kind = *kind;
  d.owed_by = q.text_at(3);
  d.owed_to = q.text_at(4);
  d.form = q.text_at(5);
  d.opened_at = q.time_at(6);
  const auto due = parse_date(q.text_at(7));
  if (!due) return bad("due date");
  d.due = *due;
  d.due_end = q.time_at(8);
  const auto state = parse_deadline_state(q.text_at(9));
  if (!state) return bad("state");
  d.state = *state;
  d.answered_at = optional_time_at(q, 10);
  d.closed_at = optional_time_at(q, 11);
  d.days_late = static_cast<int>(q.int64_at(12));
  d.overdue = q.int64_at(13) != 0;
  d.reminder_steps_done = static_cast<int>(q.int64_at(14));
  d.next_action_at = optional_time_at(q, 15);
  d.generation = static_cast<int>(q.int64_at(16));
  if (!q.null_at(17)) {
    const auto discharge = parse_date(q.text_at(17));
    if (!discharge) return bad("discharge date");
    d.discharge_date = *discharge;
  }
  if (!q.null_at(18)) d.lead_time_days = static_cast<int>(q.int64_at(18));
  d.notice_late = q.int64_at(19) != 0;
  return d;
}

// Steps a deadline query to the end.
Result<std::vector<Deadline>> read_deadlines(Query& q, sqlite3* db, std::string_view what) {
  std::vector<Deadline> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    auto d = deadline_from_row(q);
    if (!d) return d.error();
    out.push_back(std::move(*d));
  }
  if (rc != SQLITE_DONE) return db_error(db, what);
  return out;
}

// list_deadlines(): which criteria a filter sets, and so which statement serves it. Parameters:
// ?1 limit, ?2 offset, ?3 state, ?4 now, ?5 due_before, ?6 form, ?7 kind, ?8 opened_before,
// ?9 opened_after, ?10 endpoint, ?11 limit + offset.
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

// Built from constant fragments only; every value is a parameter. Ordered by (due_end, id), and a
// page costs O(offset + limit) whatever the filter: with a state and no endpoint, the (state,
// due_end) index delivers the rows in that order. Otherwise each (side, state) range of an index
// in that order gives at most offset + limit ids and the ranges are merged, like list_messages:
// the owed_by and owed_to sides for an endpoint, and one range per state when no state is asked
// for (the console's view=all). A plain ORDER BY there would read and sort every deadline the
// store keeps (~160 ms at a million; docs/performance.md, "The console's view=all").
std::string deadline_list_sql(unsigned shape) {
  std::string terms;
  const auto term = [&](DeadlineShape bit, const char* sql) {
    if (shape & bit) {
      terms += " AND ";
      terms += sql;
    }
  };
  term(kByState, "state = ?3");
  term(kOverdue, "due_end <= ?4");  // past_due: at due_end it has passed
  term(kDueBefore, "due_end <= ?5");
  term(kByForm, "form = ?6");
  term(kByKind, "kind = ?7");
  term(kOpenedBefore, "opened_at < ?8");
  term(kOpenedAfter, "opened_at > ?9");
  const std::string select = "SELECT " SB_DEADLINE_COLUMNS " FROM deadlines WHERE ";
  const std::string page = " ORDER BY due_end, id LIMIT ?1 OFFSET ?2";
  if ((shape & kByState) && !(shape & kByEndpoint)) return select + "1" + terms + page;
  std::string ranges;
  const auto range = [&](const std::string& where) {
    if (!ranges.empty()) ranges += " UNION ALL ";
    ranges += "SELECT id FROM (SELECT id FROM deadlines WHERE " + where + terms +
              " ORDER BY due_end, id LIMIT ?11)";
  };
  const std::vector<std::string> sides =
      (shape & kByEndpoint) ? std::vector<std::string>{"owed_by = ?10 AND ", "owed_to = ?10 AND "}
                            : std::vector<std::string>{""};
  for (const std::string& side : sides) {
    if (shape & kByState) {
      range(side + "1");
      continue;
    }
    for (const DeadlineState state : kDeadlineStates)
      range(side + "state = '" + std::string(to_string(state)) + "'");
  }
  return select + "id IN (" + ranges + ")" + page;
}

// A read transaction on the reader connection: the statements inside it see one snapshot.
class ReadTransaction {
 public:
  explicit ReadTransaction(StatementCache& stmts) : stmts_(stmts) {
    begun_ = stmts_[Sql::kBeginRead].run("begin read");
  }
  ~ReadTransaction() {
    if (begun_ && !sqlite3_get_autocommit(stmts_.db())) (void)stmts_[Sql::kCommit].run("end read");
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  const Result<void>& begun() const { return begun_; }

 private:
  StatementCache& stmts_;
  Result<void> begun_;
};

Result<sqlite3_stmt*> console_statement(StatementCache& cache, ConsoleStatement which) {
  return cache.shaped(which, [which] { return std::string(console_sql(which)); });
}

// The one id a single-row query finds, or none.
Result<std::optional<std::int64_t>> read_one_id(Query& q, sqlite3* db, std::string_view what) {
  const int rc = q.step();
  if (rc == SQLITE_ROW) return std::optional<std::int64_t>(q.int64_at(0));
  if (rc != SQLITE_DONE) return db_error(db, what);
  return std::optional<std::int64_t>();
}

Result<std::vector<EndpointCount>> read_endpoint_counts(Query& q, sqlite3* db,
                                                        std::string_view what) {
  std::vector<EndpointCount> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back({q.text_at(0), q.int64_at(1)});
  if (rc != SQLITE_DONE) return db_error(db, what);
  return out;
}

bool is_message_search(const MessageFilter& f) {
  return f.received_from || f.received_to || f.envelope_id || f.receipt_missing;
}

// list_messages() with search criteria (message_search_sql), inside the caller's read
// transaction; appends the rows (without letters) to `out`.
Result<void> search_messages(StatementCache& s, sqlite3* db, const MessageFilter& f,
                             std::vector<MessageRecord>& out) {
  unsigned shape = kSearchStatement;
  std::optional<std::int64_t> floor, ceiling;
  if (f.received_from) {
    auto stmt = console_statement(s, kFirstIdReceivedFrom);
    if (!stmt) return stmt.error();
    Query q(db, *stmt);
    q.bind(1, *f.received_from);
    auto id = read_one_id(q, db, "search messages by time");
    if (!id) return id.error();
    if (!*id) return {};  // nothing received since
    floor = **id;
    shape |= kSearchIdFloor | kSearchFrom;
  }
  if (f.received_to) {
    auto stmt = console_statement(s, kLastIdReceivedBefore);
    if (!stmt) return stmt.error();
    Query q(db, *stmt);
    q.bind(1, *f.received_to);
    auto id = read_one_id(q, db, "search messages by time");
    if (!id) return id.error();
    if (!*id) return {};  // nothing received before
    ceiling = **id;
    shape |= kSearchIdCeiling | kSearchTo;
  }
  if (f.newest_first) shape |= kSearchNewest;
  if (f.state) shape |= kSearchState;
  if (f.endpoint) shape |= kSearchEndpoint;
  if (f.envelope_id) shape |= kSearchEnvelope;
  if (f.receipt_missing) shape |= kSearchReceiptMissing;
  auto stmt = s.shaped(shape, [shape] { return message_search_sql(shape); });
  if (!stmt) return stmt.error();
  Query q(db, *stmt);
  std::int64_t bound = !f.newest_first   ? f.after_id
                       : f.before_id > 0 ? f.before_id
                                         : std::numeric_limits<std::int64_t>::max();
  // The page starts inside the time range's ids: the index range the planner walks from ?1 is
  // then the range itself, not everything from the newest (or oldest) message to it.
  if (f.newest_first && ceiling) bound = std::min(bound, *ceiling + 1);
  if (!f.newest_first && floor) bound = std::max(bound, *floor - 1);
  q.bind(1, bound).bind(2, std::int64_t{f.limit});
  if (f.state) q.bind(3, to_string(*f.state));
  if (f.endpoint) q.bind(4, *f.endpoint);
  if (floor) q.bind(5, *floor).bind(7, *f.received_from);
  if (ceiling) q.bind(6, *ceiling).bind(8, *f.received_to);
  if (f.envelope_id) q.bind(9, *f.envelope_id);
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    auto m = message_from_row(q);
    if (!m) return m.error();
    out.push_back(std::move(*m));
  }
  if (rc != SQLITE_DONE) return db_error(db, "search messages");
  return {};
}

}  // namespace

SqliteStore::SqliteStore(sqlite3* writer, sqlite3* reader, sqlite3* counter)
    : writer_(writer),
      reader_(reader),
      write_stmts_(std::make_unique<StatementCache>(writer)),
      read_stmts_(std::make_unique<StatementCache>(reader)),
      counter_(counter),
      count_stmts_(std::make_unique<StatementCache>(counter)) {}

SqliteStore::~SqliteStore() {
  checkpointer_.reset();  // its hook and thread first: the writer's close checkpoints last
  if (in_batch_) rollback_batch();
  write_stmts_.reset();
  read_stmts_.reset();
  count_stmts_.reset();
  // Readers first: the writer's close then checkpoints the WAL into the database file.
  sqlite3_close_v2(counter_);
  sqlite3_close_v2(reader_);
  sqlite3_close_v2(writer_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the store for another broker
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const SqliteTuning& tuning) {
  const auto fail = [&](std::string_view why) {
    return storage_error("cannot open store " + path + ": " + std::string(why));
  };
  if (path.empty()) return fail("empty path");

  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) return fail("cannot create directory " + parent.string() + ": " + ec.message());
  }

  // One broker per SQLite file (issue 11): an exclusive lock on "<path>.lock", held while the
  // store is open and released by the kernel when the process dies (kill -9 included). Several
  // brokers on one SQLite file would deliver the same pending messages twice.
  const std::string lock_path = path + ".lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return fail("cannot open its lock file " + lock_path);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    return fail(
        "another broker has it open (one broker per SQLite store; several brokers need "
        "a shared database)");
  }
  struct LockGuard {
    int fd;
    ~LockGuard() {
      if (fd >= 0) ::close(fd);
    }
  } lock{lock_fd};

  // No memory statistics: with them (SQLite's default) every allocation SQLite makes takes a
  // process-wide mutex to count it, and Debian's build has no lookaside, so that is most of a
  // statement's allocations. Nothing reads them (no sqlite3_memory_used, no soft heap limit).
  // Possible only before SQLite initialises (registering the timed VFS does): the first store
  // opened in a process sets it; SQLITE_MISUSE when something else initialised SQLite first.
  static const bool memory_statistics_off = [] {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  }();
  (void)memory_statistics_off;
  auto writer = open_connection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, tuning,
                                register_timed_vfs());
  if (!writer) return fail(writer.error().detail);
  sqlite3* w = writer->get();
  // The page size of a new file (SqliteTuning): it must come before WAL mode and the first
  // table; on an existing file it changes nothing (only a VACUUM would apply it).
  const std::string page = "PRAGMA page_size = " + std::to_string(tuning.page_size);
  if (sqlite3_exec(w, page.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    return fail(sqlite3_errmsg(w));
  // synchronous=FULL before anything is written: the timed VFS holds the WAL's writes until the
  // commit's sync, which FULL makes (timed_vfs.hpp).
  if (auto r = exec(w, "PRAGMA synchronous = FULL", "synchronous"); !r)
    return fail(sqlite3_errmsg(w));
  // journal_mode is the first statement that reads the file: "file is not a database" shows here.
  auto mode = query_text(w, "PRAGMA journal_mode = WAL");
  if (!mode) return fail(sqlite3_errmsg(w));
  if (*mode != "wal") return fail("cannot switch to WAL journal mode (got " + *mode + ")");
  if (auto r = exec(w, "PRAGMA foreign_keys = ON", "foreign_keys"); !r)
    return fail(sqlite3_errmsg(w));
  if (tuning.subjournal_in_memory)
    if (auto r = exec(w, "PRAGMA temp_store = MEMORY", "temp_store"); !r)
      return fail(sqlite3_errmsg(w));
  // A new file reclaims freed pages incrementally (retention, issue 11 item 4): set before its
  // first table. A file made before version 8 is turned over by one VACUUM after migrating.
  auto was = query_int(w, "PRAGMA user_version");
  if (!was) return fail(was.error().detail);
  if (*was == 0)
    if (auto r = exec(w, "PRAGMA auto_vacuum = INCREMENTAL", "auto_vacuum"); !r)
      return fail(r.error().detail);
  if (auto r = migrate(w); !r) return fail(r.error().detail);
  if (auto vacuum = query_int(w, "PRAGMA auto_vacuum"); !vacuum) {
    return fail(vacuum.error().detail);
  } else if (*vacuum != 2) {
    if (auto r = exec(w, "PRAGMA auto_vacuum = INCREMENTAL", "auto_vacuum"); !r)
      return fail(r.error().detail);
    if (auto r = exec(w, "VACUUM", "vacuum (once, to reclaim space incrementally)"); !r)
      return fail(r.error().detail);
  }

  auto reader = open_connection(path, SQLITE_OPEN_READWRITE, tuning);
  if (!reader) return fail(reader.error().detail);
  if (auto r = exec(reader->get(), "PRAGMA query_only = ON", "query_only"); !r)
    return fail(sqlite3_errmsg(reader->get()));
  auto counter = open_connection(path, SQLITE_OPEN_READWRITE, tuning);
  if (!counter) return fail(counter.error().detail);
  if (auto r = exec(counter->get(), "PRAGMA query_only = ON", "query_only"); !r)
    return fail(sqlite3_errmsg(counter->get()));

  std::unique_ptr<SqliteStore> store(
      new SqliteStore(writer->release(), reader->release(), counter->release()));
  store->lock_fd_ = lock.fd;
  lock.fd = -1;
  if (auto r = store->write_stmts_->prepare_all(); !r) return fail(r.error().detail);
  if (auto r = store->read_stmts_->prepare_all(); !r) return fail(r.error().detail);
  if (auto r = store->count_stmts_->prepare_all(); !r) return fail(r.error().detail);
  // The chain is not verified here (audit_verify.hpp does that): a tampered record must not
  // stop the broker from carrying messages. New entries chain on the last entry as found.
  if (auto r = store->load_audit_head(); !r) return fail(r.error().detail);
  // Checkpoints mostly off the writer thread (wal_checkpointer.hpp): from here on the WAL hook
  // replaces SQLite's automatic checkpoint on the writer connection.
  if (tuning.checkpoint_in_background && tuning.wal_autocheckpoint > 0) {
    auto own = open_connection(path, SQLITE_OPEN_READWRITE, tuning, register_timed_vfs());
    if (!own) return fail(own.error().detail);
    // Its checkpoints' page copies are held by the timed VFS until the database file's sync,
    // which synchronous=FULL makes before the WAL index records them (timed_vfs.hpp).
    if (auto r = exec(own->get(), "PRAGMA synchronous = FULL", "synchronous"); !r)
      return fail(r.error().detail);
    WalCheckpointer::Limits limits;
    limits.start_pages = tuning.wal_autocheckpoint;
    limits.tail_pages = std::max(1, tuning.wal_autocheckpoint / 4);
    limits.inline_pages = tuning.wal_autocheckpoint * 8;
    store->checkpointer_ =
        std::make_unique<WalCheckpointer>(store->writer_, own->release(), limits);
  }
  store->may_defer_sync_ = tuning.defer_wal_sync;
  return store;
}

// Wraps one write operation in a savepoint, so that a failed operation leaves no trace and the
// rest of the batch still commits. Outside a batch the savepoint is its own transaction. The
// operation appends audit entries on op_head_; they become the chain's head only once its
// savepoint is released.
template <typename T, typename Op>
Result<T> SqliteStore::atomically(Op&& op) {
  auto& stmts = *write_stmts_;
  // SQLite rolls a whole transaction back by itself after some errors (disk full, I/O). Running
  // on would commit each later operation alone, outside the batch the caller believes in.
  if (in_batch_ && sqlite3_get_autocommit(writer_))
    return storage_error("store: the batch was rolled back after an earlier failure");
  // Unguarded (Store::guard_calls(false)): no savepoint; a failure spoils the whole batch, which
  // the caller rolls back and runs again guarded.
  const bool guarded = !in_batch_ || guard_calls_;
  if (!guarded && spoiled_)
    return storage_error("store: an earlier call failed unguarded; the batch is run again");
  if (guarded)
    if (auto r = stmts[Sql::kSavepoint].run("savepoint"); !r) return r.error();
  Result<T> result = storage_error("store: the audit chain's head is unknown");
  if (auto head = audit_head_known_ ? Result<void>() : load_audit_head(); !head) {
    result = head.error();
  } else {
    op_head_ = audit_head_;
    result = op();
    if (result && !guarded) {
      audit_head_ = std::move(op_head_);
      return result;
    }
    if (result) {
      if (auto r = stmts[Sql::kRelease].run("release savepoint"); r) {
        audit_head_ = std::move(op_head_);
        return result;
      }
      result = db_error(writer_, "release savepoint");
    }
  }
  if (!guarded) {
    spoiled_ = true;
    return result;
  }
  if (!sqlite3_get_autocommit(writer_)) {
    if (in_batch_) {
      (void)stmts[Sql::kRollbackTo].run("rollback to savepoint");
      (void)stmts[Sql::kRelease].run("release savepoint");
    } else {
      (void)stmts[Sql::kRollback].run("rollback");
    }
  }
  return result;
}

Result<std::optional<SqliteStore::StoredLetter>> SqliteStore::letter_on_writer(
    const std::string& sender_gln, const std::string& letter_id) {
  auto q = (*write_stmts_)[Sql::kFindLetterForAccept];
  q.bind(1, sender_gln).bind(2, letter_id);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return std::optional<StoredLetter>();
  if (rc != SQLITE_ROW) return db_error(writer_, "find letter");
  return std::optional<StoredLetter>(StoredLetter{q.int64_at(0), q.text_at(1)});
}

// Reads the head from the writer connection: what this connection's transaction sees.
Result<bool> SqliteStore::message_on_writer(std::int64_t id) {
  auto q = (*write_stmts_)[Sql::kSelectState];
  q.bind(1, id);
  const int rc = q.step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_error(writer_, "find message");
}

Result<void> SqliteStore::load_audit_head() {
  audit_head_known_ = false;
  auto q = (*write_stmts_)[Sql::kSelectChainHead];
  const int rc = q.step();
  if (rc == SQLITE_ROW) {
    audit_head_ = AuditHead{q.int64_at(0), q.text_at(1)};
  } else if (rc == SQLITE_DONE) {
    audit_head_ = AuditHead{};
  } else {
    return db_error(writer_, "read the audit chain's head");
  }
  audit_head_known_ = true;
  return {};
}

// --- write side ---

Result<void> SqliteStore::begin_batch() {
  if (in_batch_) return storage_error("store: a batch is already open");
  if (auto r = (*write_stmts_)[Sql::kBeginImmediate].run("begin batch"); !r) return r;
  in_batch_ = true;
  guard_calls_ = true;
  spoiled_ = false;
  lease_table_.start_batch();
  return {};
}

Result<void> SqliteStore::commit_batch() {
  if (!in_batch_) return storage_error("store: no batch is open");
  if (spoiled_) {
    rollback_batch();
    return storage_error("store: a call failed unguarded; the batch is rolled back");
  }
  in_batch_ = false;
  auto r = (*write_stmts_)[Sql::kCommit].run("commit batch");
  // The contract is all or nothing: a commit that failed but left the transaction open is
  // rolled back here.
  if (!r) {
    if (!sqlite3_get_autocommit(writer_)) (void)(*write_stmts_)[Sql::kRollback].run("rollback");
    (void)load_audit_head();  // on failure the next operation retries it
    lease_table_.undo_batch();
  } else {
    lease_table_.keep_batch();
  }
  return r;
}

bool SqliteStore::defer_sync(bool on) {
  if (!on) {
    if (wal_sync_ != nullptr) {
      wal_sync_->set_deferring(false);
      (void)wal_sync_->sync();  // a failure stays in it: sync_committed() reports it
    }
    return false;
  }
  if (!may_defer_sync_) return false;
  // The writer's WAL is open: open() has read and written through it (migrations, the audit
  // head). A background checkpointer's own connection needs nothing: its checkpoints sync the
  // WAL through its own file before they copy, as SQLite does.
  if (wal_sync_ == nullptr) wal_sync_ = defer_wal_syncs(writer_);
  if (wal_sync_ == nullptr) return false;
  wal_sync_->set_deferring(true);
  return true;
}

Result<void> SqliteStore::sync_committed() {
  if (wal_sync_ == nullptr || wal_sync_->sync() == SQLITE_OK) return {};
  return storage_error(
      "store: the WAL could not be synced (fdatasync failed); nothing more is acknowledged "
      "until the broker restarts");
}

void SqliteStore::rollback_batch() {
  in_batch_ = false;
  spoiled_ = false;
  guard_calls_ = true;
  lease_table_.undo_batch();
  if (!sqlite3_get_autocommit(writer_)) (void)(*write_stmts_)[Sql::kRollback].run("rollback");
  (void)load_audit_head();  // on failure the next operation retries it
}

Result<std::int64_t> SqliteStore::store_message(const MessagePlan& plan) {
  const NewMessage& message = plan.message;
  if (message.letters.empty())
    return make_error(Errc::kInvalid, "a message must carry at least one letter");
  auto& s = *write_stmts_;
  auto stale = [](const std::string& letter_id) {
    return make_error(Errc::kStale, "letter " + letter_id + " changed since the decision");
  };
  // A decision that left its letters unread took each as new: checked here, before anything is
  // written, so that a resend leaves an optimistic batch unspoiled (a failed insert below would
  // spoil it, and the whole group would run again).
  if (plan.letters_unread)
    for (const NewLetter& letter : message.letters) {
      auto stored = letter_on_writer(message.sender_gln, letter.letter_id);
      if (!stored) return stored.error();
      if (*stored) return stale(letter.letter_id);
    }
  return atomically<std::int64_t>([&]() -> Result<std::int64_t> {
    std::int64_t id = 0;
    {
      auto q = s[Sql::kInsertMessage];
      q.bind(1, message.envelope_id)
          .bind(2, message.sender_gln)
          .bind(3, message.receiver_gln)
          .bind(4, message.sender_endpoint)
          .bind(5, message.receiver_endpoint)
          .bind_blob(7, message.acceptance)
          .bind(8, std::int64_t{message.receipt_requested})
          .bind(9, std::int64_t{message.contains_cpr})
          .bind(10, message.received_at);
      if (auto r = q.run("insert message"); !r) return r.error();
      id = sqlite3_last_insert_rowid(writer_);
    }
    {
      PackedBody packed_here;
      const PackedBody& packed =
          message.packed_body ? *message.packed_body : (packed_here = pack_body(message.body));
      auto q = s[Sql::kInsertBody];
      q.bind(1, id).bind_blob(2, packed.bytes).bind(3, static_cast<std::int64_t>(packed.codec));
      if (auto r = q.run("insert body"); !r) return r.error();
    }
    for (const Supersession& old : plan.supersedes) {
      // The version the decision replaced must still be the latest (another writer may have
      // stored a newer one meanwhile).
      {
        auto stored = letter_on_writer(message.sender_gln, old.letter_id);
        if (!stored) return stored.error();
        if (!*stored || stored->value() != StoredLetter{old.old_message_id, old.old_content_hash})
          return stale(old.letter_id);
      }
      {
        auto q = s[Sql::kArchiveLetter];
        q.bind(1, message.sender_gln)
            .bind(2, old.letter_id)
            .bind(3, old.old_message_id)
            .bind(4, id)
            .bind(5, message.received_at);
        if (auto r = q.run("archive letter version"); !r) return r.error();
      }
      auto q = s[Sql::kDeleteLetter];
      q.bind(1, message.sender_gln).bind(2, old.letter_id);
      if (auto r = q.run("replace letter version"); !r) return r.error();
    }
    for (std::size_t i = 0; i < message.letters.size(); ++i) {
      const auto& letter = message.letters[i];
      auto q = s[Sql::kInsertLetter];
      q.bind(1, message.sender_gln)
          .bind(2, letter.letter_id)
          .bind(3, id)
          .bind(4, static_cast<std::int64_t>(i))
          .bind(5, to_string(letter.type))
          .bind(6, letter.content_hash)
          .bind(7, to_string(letter.status));
      if (q.step() != SQLITE_DONE) {
        // The letter the decision took as new is stored by now: a resend raced this one.
        if (sqlite3_extended_errcode(writer_) == SQLITE_CONSTRAINT_PRIMARYKEY)
          return stale(letter.letter_id);
        return db_error(writer_, "insert letter");
      }
    }
    // The citizen index (issue 10): keyed hashes only, never a CPR number.
    for (const std::string& key : message.citizen_keys) {
      auto stmt =
          s.shaped(kInsertCitizenKey, [] { return std::string(console_sql(kInsertCitizenKey)); });
      if (!stmt) return stmt.error();
      Query q(writer_, *stmt);
      q.bind(1, key).bind(2, id);
      if (auto r = q.run("insert citizen key"); !r) return r.error();
    }
    auto target = [id](std::int64_t message_id) { return message_id == 0 ? id : message_id; };
    // The new message's first entry binds its body and state (issue 12, item 5); a plan without
    // an event of its own gets an entry "bound" for that.
    const std::string binding = message_stored_binding(
        message.body_sha256.empty() ? sha256_hex(message.body) : message.body_sha256,
        to_string(DeliveryState::kPending), to_string(ReceiptState::kNone));
    bool bound = false;
    for (const MessageEvent& e : plan.events) {
      const bool binds = !bound && target(e.message_id) == id;
      const MessageRow row = target(e.message_id) == id ? MessageRow::kKnown : MessageRow::kCheck;
      if (auto r =
              insert_event(s, op_head_, row, target(e.message_id), e.at, e.kind, e.detail, e.actor,
                           {}, binds ? std::string_view(binding) : std::string_view());
          !r)
        return r.error();
      bound = bound || binds;
    }
    if (!bound)
      if (auto r = append_chain(s, op_head_, message.received_at, "bound", message.sender_endpoint,
                                "message " + std::to_string(id), "", binding);
          !r)
        return r.error();
    for (const ReceiptUpdate& u : plan.receipts) {
      auto q = s[Sql::kUpdateReceipt];
      q.bind(1, u.message_id).bind(2, to_string(u.state));
      if (auto r = q.run("set receipt"); !r) return r.error();
      if (auto r = not_found_unless_changed(writer_, u.message_id); !r) return r.error();
      if (auto r = insert_event(s, op_head_, MessageRow::kKnown, u.message_id, u.event.at,
                                u.event.kind, u.event.detail, u.event.actor, {},
                                "receipt=" + std::string(to_string(u.state)));
          !r)
        return r.error();
    }
    for (const DeadlineWrite& w : plan.deadlines) {
      if (w.expect_open) {
        auto q = s[Sql::kDeadlineState];
        q.bind(1, w.deadline.key.requester_gln).bind(2, w.deadline.key.letter_id);
        const int rc = q.step();
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_error(writer_, "deadline state");
        if (rc == SQLITE_DONE || q.text_at(0) != to_string(DeadlineState::kOpen))
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

Result<void> SqliteStore::watch_receipt(std::int64_t message_id, std::optional<TimePoint> last_sent,
                                        int resends) {
  auto& s = *write_stmts_;
  return atomically<void>([&]() -> Result<void> {
    auto q = s[Sql::kWatchReceipt];
    q.bind(1, message_id).bind(3, std::int64_t{resends});
    if (last_sent) {
      q.bind(2, *last_sent);
    } else {
      q.bind_null(2);
    }
    if (auto r = q.run("watch receipt"); !r) return r;
    return not_found_unless_changed(writer_, message_id);
  });
}

Result<std::vector<ReceiptOwed>> SqliteStore::receipts_owed() {
  std::lock_guard lock(read_mu_);
  auto q = (*read_stmts_)[Sql::kReceiptsOwed];
  std::vector<ReceiptOwed> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW)
    out.push_back({q.int64_at(0), q.text_at(1), q.time_at(2), static_cast<int>(q.int64_at(3))});
  if (rc != SQLITE_DONE) return db_error(reader_, "receipts owed");
  return out;
}

Result<void> SqliteStore::record_sent_envelope(const std::string& instance_identifier,
                                               std::int64_t message_id, TimePoint sent_at) {
  if (instance_identifier.empty())
    return make_error(Errc::kInvalid, "sent envelope: empty instance identifier");
  auto& s = *write_stmts_;
  return atomically<void>([&]() -> Result<void> {
    {
      auto q = s[Sql::kSelectState];
      q.bind(1, message_id);
      const int rc = q.step();
      if (rc == SQLITE_DONE)
        return make_error(Errc::kNotFound, "message " + std::to_string(message_id) + " not found");
      if (rc != SQLITE_ROW) return db_error(writer_, "record sent envelope");
    }
    {
      auto q = s[Sql::kInsertSentEnvelope];
      q.bind(1, instance_identifier).bind(2, message_id).bind(3, sent_at);
      if (auto r = q.run("record sent envelope"); !r) return r;
      if (sqlite3_changes(writer_) == 1) return {};
    }
    auto q = s[Sql::kFindSentEnvelope];
    q.bind(1, instance_identifier);
    if (q.step() != SQLITE_ROW) return db_error(writer_, "record sent envelope");
    if (q.int64_at(1) != message_id)
      return make_error(Errc::kConflict,
                        "sent envelope " + instance_identifier + " is another message's");
    return {};
  });
}

Result<std::optional<SentEnvelope>> SqliteStore::find_sent_envelope(
    const std::string& instance_identifier) {
  std::lock_guard lock(read_mu_);
  auto q = (*read_stmts_)[Sql::kFindSentEnvelope];
  q.bind(1, instance_identifier);
  const int rc = q.step();
  if (rc == SQLITE_ROW)
    return std::optional<SentEnvelope>(SentEnvelope{q.text_at(0), q.int64_at(1), q.time_at(2)});
  if (rc != SQLITE_DONE) return db_error(reader_, "find sent envelope");
  return std::optional<SentEnvelope>();
}

Result<std::optional<std::int64_t>> SqliteStore::find_letter_version(
    const std::string& sender_gln, const std::string& letter_id, const std::string& content_hash) {
  std::lock_guard lock(read_mu_);
  auto q = (*read_stmts_)[Sql::kFindEarlierVersion];
  q.bind(1, sender_gln).bind(2, letter_id).bind(3, content_hash);
  const int rc = q.step();
  if (rc == SQLITE_ROW) return std::optional<std::int64_t>(q.int64_at(0));
  if (rc != SQLITE_DONE) return db_error(reader_, "find letter version");
  return std::optional<std::int64_t>();
}

Result<void> SqliteStore::update_delivery(std::int64_t message_id, DeliveryState state,
                                          int attempts, TimePoint next_attempt_at,
                                          const std::string& last_error, const MessageEvent& event,
                                          std::optional<TimePoint> receipt_watch_from) {
  auto& s = *write_stmts_;
  return atomically<void>([&]() -> Result<void> {
    auto q = s[receipt_watch_from ? Sql::kUpdateDeliveryWatched : Sql::kUpdateDelivery];
    q.bind(1, message_id)
        .bind(2, to_string(state))
        .bind(3, std::int64_t{attempts})
        .bind(4, next_attempt_at)
        .bind(5, last_error);
    if (receipt_watch_from) q.bind(6, *receipt_watch_from);
    if (auto r = q.run("update delivery"); !r) return r;
    if (auto r = not_found_unless_changed(writer_, message_id); !r) return r;
    return insert_event(s, op_head_, MessageRow::kKnown, message_id, event.at, event.kind,
                        event.detail, event.actor, {}, "state=" + std::string(to_string(state)));
  });
}

Result<void> SqliteStore::set_receipt(std::int64_t message_id, ReceiptState receipt,
                                      const MessageEvent& event) {
  auto& s = *write_stmts_;
  return atomically<void>([&]() -> Result<void> {
    auto q = s[Sql::kUpdateReceipt];
    q.bind(1, message_id).bind(2, to_string(receipt));
    if (auto r = q.run("set receipt"); !r) return r;
    if (auto r = not_found_unless_changed(writer_, message_id); !r) return r;
    return insert_event(s, op_head_, MessageRow::kKnown, message_id, event.at, event.kind,
                        event.detail, event.actor, {},
                        "receipt=" + std::string(to_string(receipt)));
  });
}

Result<void> SqliteStore::append_event(const MessageEvent& event) {
  auto& s = *write_stmts_;
  return atomically<void>([&]() -> Result<void> {
    return insert_event(s, op_head_, MessageRow::kCheck, event.message_id, event.at, event.kind,
                        event.detail, event.actor);
  });
}

Result<void> SqliteStore::requeue(std::int64_t message_id, TimePoint now) {
  auto& s = *write_stmts_;
  return atomically<void>([&]() -> Result<void> {
    std::string from;
    {
      auto q = s[Sql::kSelectState];
      q.bind(1, message_id);
      const int rc = q.step();
      if (rc == SQLITE_DONE)
        return make_error(Errc::kNotFound, "message " + std::to_string(message_id) + " not found");
      if (rc != SQLITE_ROW) return db_error(writer_, "read state");
      from = q.text_at(0);
    }
    {
      // A body deleted by retention cannot be delivered again.
      auto q = s[Sql::kSelectBody];
      q.bind(1, message_id);
      if (q.step() == SQLITE_ROW && !q.null_at(1))
        return make_error(Errc::kConflict, "message " + std::to_string(message_id) +
                                               ": its body was deleted by retention");
    }
    if (from != to_string(DeliveryState::kDeadLettered) &&
        from != to_string(DeliveryState::kRefused))
      return make_error(Errc::kConflict, "message " + std::to_string(message_id) + " is " + from +
                                             "; only dead-lettered or refused messages can be "
                                             "requeued");
    auto q = s[Sql::kRequeue];
    q.bind(1, message_id).bind(2, now);
    if (auto r = q.run("requeue"); !r) return r;
    return insert_event(s, op_head_, MessageRow::kKnown, message_id, now, "requeued",
                        "from " + from, {}, {}, "state=pending");
  });
}

Result<void> SqliteStore::audit(TimePoint at, const std::string& kind, const std::string& detail) {
  auto& s = *write_stmts_;
  return atomically<void>([&]() -> Result<void> {
    {
      auto q = s[Sql::kInsertAudit];
      q.bind(1, at).bind(2, kind).bind(3, detail);
      if (auto r = q.run("insert audit"); !r) return r;
    }
    return append_chain(s, op_head_, at, kind, "broker", "input", detail);
  });
}

Result<void> SqliteStore::audit_action(TimePoint at, const std::string& actor,
                                       const std::string& action, const std::string& subject,
                                       const std::string& detail) {
  if (actor.empty() || action.empty() || subject.empty())
    return make_error(Errc::kInvalid, "an audited action needs an actor, an action and a subject");
  auto& s = *write_stmts_;
  return atomically<void>([&]() -> Result<void> {
    return append_chain(s, op_head_, at, action, actor, subject, detail);
  });
}

Result<void> SqliteStore::put_deadline(const Deadline& d, std::int64_t message_id,
                                       const MessageEvent& event) {
  return atomically<void>([&]() -> Result<void> { return write_deadline(d, message_id, event); });
}

Result<bool> SqliteStore::open_deadline(const Deadline& d, std::int64_t message_id,
                                        const MessageEvent& event) {
  auto& s = *write_stmts_;
  return atomically<bool>([&]() -> Result<bool> {
    {
      auto q = s[Sql::kInsertDeadlineIfAbsent];
      if (auto r = bind_deadline(q, d); !r) return r.error();
      if (auto r = q.run("open deadline"); !r) return r.error();
    }
    if (sqlite3_changes(writer_) == 0) return false;  // one is stored: nothing changes
    if (!event.kind.empty())
      if (auto r = insert_event(s, op_head_, MessageRow::kCheck, message_id, event.at, event.kind,
                                event.detail, event.actor,
                                "deadline " + d.key.requester_gln + "/" + d.key.letter_id);
          !r)
        return r.error();
    return true;
  });
}

Result<void> SqliteStore::write_deadline(const Deadline& d, std::int64_t message_id,
                                         const MessageEvent& event) {
  auto& s = *write_stmts_;
  {
    auto q = s[Sql::kUpsertDeadline];
    if (auto r = bind_deadline(q, d); !r) return r;
    if (auto r = q.run("put deadline"); !r) return r;
  }
  // Without an event nothing an operator sees changed (the sweep moving its index on): no
  // timeline line, no audit entry.
  if (event.kind.empty()) return {};
  return insert_event(s, op_head_, MessageRow::kCheck, message_id, event.at, event.kind,
                      event.detail, event.actor,
                      "deadline " + d.key.requester_gln + "/" + d.key.letter_id);
}

// --- read side ---

Result<std::optional<LetterLocation>> SqliteStore::find_letter(const std::string& sender_gln,
                                                               const std::string& letter_id) {
  std::lock_guard lock(read_mu_);
  auto q = (*read_stmts_)[Sql::kFindLetter];
  q.bind(1, sender_gln).bind(2, letter_id);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return std::optional<LetterLocation>();
  if (rc != SQLITE_ROW) return db_error(reader_, "find letter");
  const auto type = parse_letter_type(q.text_at(1));
  if (!type) return storage_error("store: unknown letter type for letter " + letter_id);
  const auto status = parse_letter_status(q.text_at(4));
  if (!status) return storage_error("store: unknown letter status for letter " + letter_id);
  return std::optional<LetterLocation>(LetterLocation{
      .message_id = q.int64_at(0),
      .type = *type,
      .content_hash = q.text_at(2),
      .receiver_gln = q.text_at(3),
      .status = *status,
  });
}

Result<std::optional<MessageRecord>> SqliteStore::get_message(std::int64_t message_id) {
  std::lock_guard lock(read_mu_);
  auto& s = *read_stmts_;
  ReadTransaction tx(s);
  if (!tx.begun()) return tx.begun().error();
  std::optional<MessageRecord> out;
  {
    auto q = s[Sql::kSelectMessage];
    q.bind(1, message_id);
    const int rc = q.step();
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) return db_error(reader_, "read message");
    auto m = message_from_row(q);
    if (!m) return m.error();
    out = std::move(*m);
  }
  auto letters = read_letters(s, message_id);
  if (!letters) return letters.error();
  out->letters = std::move(*letters);
  return out;
}

Result<std::vector<MessageEvent>> SqliteStore::timeline(std::int64_t message_id) {
  std::lock_guard lock(read_mu_);
  auto q = (*read_stmts_)[Sql::kSelectEvents];
  q.bind(1, message_id);
  std::vector<MessageEvent> events;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW)
    events.push_back(MessageEvent{q.int64_at(0), q.time_at(1), q.text_at(2), q.text_at(3)});
  if (rc != SQLITE_DONE) return db_error(reader_, "read timeline");
  return events;
}

Result<std::vector<MessageRecord>> SqliteStore::list_messages(const MessageFilter& filter) {
  std::vector<MessageRecord> out;
  if (filter.limit <= 0) return out;
  std::lock_guard lock(read_mu_);
  auto& s = *read_stmts_;
  ReadTransaction tx(s);
  if (!tx.begun()) return tx.begun().error();
  if (is_message_search(filter)) {
    if (auto r = search_messages(s, reader_, filter, out); !r) return r.error();
  } else {
    const Sql which =
        filter.newest_first
            ? (filter.state ? (filter.endpoint ? Sql::kListByStateAndEndpointNewest
                                               : Sql::kListByStateNewest)
                            : (filter.endpoint ? Sql::kListByEndpointNewest : Sql::kListAllNewest))
            : (filter.state ? (filter.endpoint ? Sql::kListByStateAndEndpoint : Sql::kListByState)
                            : (filter.endpoint ? Sql::kListByEndpoint : Sql::kListAll));
    auto q = s[which];
    const std::int64_t bound = !filter.newest_first   ? filter.after_id
                               : filter.before_id > 0 ? filter.before_id
                                                      : std::numeric_limits<std::int64_t>::max();
    q.bind(1, bound).bind(2, std::int64_t{filter.limit});
    if (filter.state) q.bind(3, to_string(*filter.state));
    if (filter.endpoint) q.bind(4, *filter.endpoint);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      auto m = message_from_row(q);
      if (!m) return m.error();
      out.push_back(std::move(*m));
    }
    if (rc != SQLITE_DONE) return db_error(reader_, "list messages");
  }
  for (auto& m : out) {
    auto letters = read_letters(s, m.id);
    if (!letters) return letters.error();
    m.letters = std::move(*letters);
  }
  return out;
}

Result<std::optional<Deadline>> SqliteStore::find_deadline(const DeadlineKey& key) {
  std::lock_guard lock(read_mu_);
  auto q = (*read_stmts_)[Sql::kFindDeadline];
  q.bind(1, key.requester_gln).bind(2, key.letter_id);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return std::optional<Deadline>();
  if (rc != SQLITE_ROW) return db_error(reader_, "find deadline");
  auto d = deadline_from_row(q);
  if (!d) return d.error();
  return std::optional<Deadline>(std::move(*d));
}

Result<std::vector<Deadline>> SqliteStore::due_deadlines(TimePoint now, int limit) {
  if (limit <= 0) return std::vector<Deadline>();
  std::lock_guard lock(read_mu_);
  auto q = (*read_stmts_)[Sql::kDueDeadlines];
  q.bind(1, now).bind(2, std::int64_t{limit});
  return read_deadlines(q, reader_, "read due deadlines");
}

namespace {

// The state list_deadlines() selects: the filter's, or open for the overdue view.
std::optional<DeadlineState> listed_state(const DeadlineFilter& filter) {
  return filter.overdue_only ? std::optional<DeadlineState>(DeadlineState::kOpen) : filter.state;
}

unsigned deadline_list_shape(const DeadlineFilter& filter) {
  unsigned shape = 0;
  if (listed_state(filter)) shape |= kByState;
  if (filter.overdue_only) shape |= kOverdue;
  if (filter.due_before) shape |= kDueBefore;
  if (filter.form) shape |= kByForm;
  if (filter.kind) shape |= kByKind;
  if (filter.opened_before) shape |= kOpenedBefore;
  if (filter.opened_after) shape |= kOpenedAfter;
  if (filter.endpoint) shape |= kByEndpoint;
  return shape;
}

}  // namespace

std::string SqliteStore::deadline_list_statement(const DeadlineFilter& filter) {
  return deadline_list_sql(deadline_list_shape(filter));
}

std::vector<std::string> SqliteStore::start_statements() {
  const auto text = [](Sql which) { return std::string(kSql[static_cast<std::size_t>(which)]); };
  return {text(Sql::kPending), text(Sql::kReceiptsOwed), text(Sql::kDueDeadlines)};
}

Result<std::vector<Deadline>> SqliteStore::list_deadlines(const DeadlineFilter& filter) {
  if (filter.overdue_only && !filter.now)
    return make_error(Errc::kInvalid, "the overdue filter needs the current time");
  if (filter.overdue_only && filter.state && *filter.state != DeadlineState::kOpen)
    return std::vector<Deadline>();
  const std::optional<DeadlineState> state = listed_state(filter);
  if (filter.limit <= 0) return std::vector<Deadline>();
  const std::int64_t limit = filter.limit;
  const std::int64_t offset = std::max(filter.offset, 0);
  const unsigned shape = deadline_list_shape(filter);

  std::lock_guard lock(read_mu_);
  auto stmt = read_stmts_->shaped(shape, [&] { return deadline_list_sql(shape); });
  if (!stmt) return stmt.error();
  Query q(reader_, *stmt);
  q.bind(1, limit).bind(2, offset);
  if (state) q.bind(3, to_string(*state));
  if (filter.overdue_only) q.bind(4, *filter.now);
  if (filter.due_before) q.bind(5, *filter.due_before);
  if (filter.form) q.bind(6, *filter.form);
  if (filter.kind) q.bind(7, to_string(*filter.kind));
  if (filter.opened_before) q.bind(8, *filter.opened_before);
  if (filter.opened_after) q.bind(9, *filter.opened_after);
  if (filter.endpoint) q.bind(10, *filter.endpoint);
  if (filter.endpoint || !state) q.bind(11, limit + offset);
  return read_deadlines(q, reader_, "list deadlines");
}

Result<void> SqliteStore::each_deadline_opened_between(
    TimePoint from, TimePoint to, const std::function<void(const Deadline&)>& each) {
  // On the counting connection, as operator_counts: a year of deadlines for the operators'
  // statistics (read off the io thread) must not make the io thread's reads wait.
  std::lock_guard lock(count_mu_);
  auto q = (*count_stmts_)[Sql::kDeadlinesOpenedBetween];
  q.bind(1, from).bind(2, to);
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    auto d = deadline_from_row(q);
    if (!d) return d.error();
    each(*d);
  }
  if (rc != SQLITE_DONE) return db_error(counter_, "read deadlines opened");
  return {};
}

Result<std::vector<PendingDelivery>> SqliteStore::pending_deliveries() {
  std::lock_guard lock(read_mu_);
  auto q = (*read_stmts_)[Sql::kPending];
  std::vector<PendingDelivery> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW)
    out.push_back(PendingDelivery{
        .message_id = q.int64_at(0),
        .receiver_endpoint = q.text_at(1),
        .attempts = static_cast<int>(q.int64_at(2)),
        .received_at = q.time_at(3),
        .next_attempt_at = q.time_at(4),
    });
  if (rc != SQLITE_DONE) return db_error(reader_, "read pending deliveries");
  return out;
}

Result<OperatorCounts> SqliteStore::operator_counts(TimePoint now) {
  // Its own connection: a recount (OperatorCountsCache, off the io thread) must not make the
  // io thread's reads wait.
  std::lock_guard lock(count_mu_);
  auto& s = *count_stmts_;
  ReadTransaction tx(s);  // one snapshot for the three counts
  if (!tx.begun()) return tx.begun().error();
  OperatorCounts out;
  {
    auto stmt = console_statement(s, kCountOpenDeadlines);
    if (!stmt) return stmt.error();
    Query q(counter_, *stmt);
    q.bind(1, now);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
      out.deadlines.push_back({q.text_at(0), q.text_at(1), q.int64_at(2), q.int64_at(3)});
    if (rc != SQLITE_DONE) return db_error(counter_, "count open deadlines");
  }
  for (const auto& [which, into] : {std::pair{kCountDeadLetters, &out.dead_letters},
                                    std::pair{kCountReceiptsMissing, &out.receipts_missing}}) {
    auto stmt = console_statement(s, which);
    if (!stmt) return stmt.error();
    Query q(counter_, *stmt);
    auto counted = read_endpoint_counts(q, counter_, "count messages");
    if (!counted) return counted.error();
    *into = std::move(*counted);
  }
  return out;
}

Result<std::vector<std::int64_t>> SqliteStore::messages_of_citizen(const std::string& citizen_key,
                                                                   std::int64_t before_id,
                                                                   int limit) {
  std::vector<std::int64_t> out;
  if (limit <= 0) return out;
  std::lock_guard lock(read_mu_);
  auto stmt = console_statement(*read_stmts_, kMessagesOfCitizen);
  if (!stmt) return stmt.error();
  Query q(reader_, *stmt);
  q.bind(1, citizen_key)
      .bind(2, before_id > 0 ? before_id : std::numeric_limits<std::int64_t>::max())
      .bind(3, std::int64_t{limit});
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(q.int64_at(0));
  if (rc != SQLITE_DONE) return db_error(reader_, "messages of citizen");
  return out;
}

#undef SB_DEADLINE_COLUMNS

// --- retention, holds and the audit chain's head (issue 11 item 4, issue 12 item 5) ---

void SqliteStore::set_audit_key(AuditKey key) {
  audit_key_ = std::make_unique<AuditKey>(std::move(key));
  write_stmts_->audit_key = audit_key_.get();
}

namespace {

// kConflict when a hold covers the message.
Result<void> refuse_if_held(StatementCache& s, std::int64_t message_id) {
  auto q = s[Sql::kMessageHeld];
  q.bind(1, message_id);
  if (q.step() != SQLITE_ROW) return db_error(s.db(), "read holds");
  if (q.int64_at(0) != 0)
    return make_error(Errc::kConflict,
                      "message " + std::to_string(message_id) + " is under a legal hold");
  return {};
}

// The body and body_deleted_at of a message; kNotFound if unknown.
Result<std::pair<std::string, bool>> read_body(StatementCache& s, std::int64_t message_id) {
  auto q = s[Sql::kSelectBody];
  q.bind(1, message_id);
  const int rc = q.step();
  if (rc == SQLITE_DONE)
    return make_error(Errc::kNotFound, "message " + std::to_string(message_id) + " not found");
  if (rc != SQLITE_ROW) return db_error(s.db(), "read body");
  auto body = unpack_body(q.blob_at(0), static_cast<int>(q.int64_at(2)));
  if (!body)
    return storage_error("store: message " + std::to_string(message_id) + ": " +
                         body.error().detail);
  return std::pair<std::string, bool>(std::move(*body), !q.null_at(1));
}

std::string hold_subject(HoldKind kind, const std::string& key) {
  return (kind == HoldKind::kMessage ? "message " : "citizen ") + key;
}

}  // namespace

Result<void> SqliteStore::put_hold(const LegalHold& h) {
  if (h.key.empty() || h.actor.empty())
    return make_error(Errc::kInvalid, "a legal hold needs a key and an actor");
  auto& s = *write_stmts_;
  return atomically<void>([&]() -> Result<void> {
    if (h.kind == HoldKind::kMessage) {
      std::int64_t id = 0;
      const auto [end, ec] = std::from_chars(h.key.data(), h.key.data() + h.key.size(), id);
      if (ec != std::errc() || end != h.key.data() + h.key.size())
        return make_error(Errc::kInvalid, "a message hold names a message id");
      if (auto b = read_body(s, id); !b) return b.error();
    }
    {
      auto q = s[Sql::kPutHold];
      q.bind(1, to_string(h.kind)).bind(2, h.key).bind(3, h.at).bind(4, h.actor).bind(5, h.reason);
      if (auto r = q.run("put hold"); !r) return r;
    }
    return append_chain(s, op_head_, h.at, "hold-placed", h.actor, hold_subject(h.kind, h.key),
                        h.reason);
  });
}

Result<void> SqliteStore::remove_hold(HoldKind kind, const std::string& key, TimePoint at,
                                      const std::string& actor) {
  auto& s = *write_stmts_;
  return atomically<void>([&]() -> Result<void> {
    {
      auto q = s[Sql::kRemoveHold];
      q.bind(1, to_string(kind)).bind(2, key);
      if (auto r = q.run("remove hold"); !r) return r;
      if (sqlite3_changes(writer_) == 0)
        return make_error(Errc::kNotFound, "no hold on " + hold_subject(kind, key));
    }
    return append_chain(s, op_head_, at, "hold-lifted", actor, hold_subject(kind, key), "");
  });
}

Result<void> SqliteStore::delete_body(std::int64_t message_id, TimePoint at) {
  auto& s = *write_stmts_;
  return atomically<void>([&]() -> Result<void> {
    auto body = read_body(s, message_id);
    if (!body) return body.error();
    if (body->second)
      return make_error(Errc::kConflict,
                        "message " + std::to_string(message_id) + ": body already deleted");
    {
      // Only a settled delivery (a requeue may have raced the retention pass's read).
      auto q = s[Sql::kSelectState];
      q.bind(1, message_id);
      if (q.step() != SQLITE_ROW) return db_error(writer_, "read state");
      const std::string state = q.text_at(0);
      if (state != to_string(DeliveryState::kDelivered) &&
          state != to_string(DeliveryState::kRefused))
        return make_error(Errc::kConflict, "message " + std::to_string(message_id) + " is " +
                                               state + ": its body is still needed");
    }
    if (auto r = refuse_if_held(s, message_id); !r) return r;
    for (const Sql sql : {Sql::kDeleteBody, Sql::kDeleteBodyRow}) {
      auto q = s[sql];
      q.bind(1, message_id);
      if (sql == Sql::kDeleteBody) q.bind(2, at);
      if (auto r = q.run("delete body"); !r) return r;
    }
    return append_chain(s, op_head_, at, "body-deleted", "broker",
                        "message " + std::to_string(message_id), "retention",
                        "body-deleted=" + sha256_hex(body->first));
  });
}

Result<void> SqliteStore::delete_record(std::int64_t message_id, TimePoint at) {
  auto& s = *write_stmts_;
  return atomically<void>([&]() -> Result<void> {
    auto body = read_body(s, message_id);
    if (!body) return body.error();
    if (!body->second)
      return make_error(Errc::kConflict,
                        "message " + std::to_string(message_id) + ": its body is still kept");
    if (auto r = refuse_if_held(s, message_id); !r) return r;
    {
      auto q = s[Sql::kVersionsReferring];
      q.bind(1, message_id);
      const int rc = q.step();
      if (rc == SQLITE_ROW)
        return make_error(Errc::kConflict, "message " + std::to_string(message_id) +
                                               " replaced a letter version still kept");
      if (rc != SQLITE_DONE) return db_error(writer_, "read letter versions");
    }
    for (const Sql sql :
         {Sql::kDeleteMessageDeadlines, Sql::kDeleteMessageLetters, Sql::kDeleteMessageVersions,
          Sql::kDeleteMessageEvents, Sql::kDeleteMessageCitizens, Sql::kDeleteMessageEnvelopes,
          Sql::kDeleteMessageBodyRow, Sql::kDeleteMessageRow}) {
      auto q = s[sql];
      q.bind(1, message_id);
      if (auto r = q.run("delete record"); !r) return r;
    }
    return append_chain(s, op_head_, at, "record-deleted", "broker",
                        "message " + std::to_string(message_id), "retention", "record-deleted");
  });
}

Result<void> SqliteStore::reclaim_space(int pages) {
  if (pages <= 0) return {};
  // PRAGMA takes no bound parameters; the number is an int.
  const std::string sql = "PRAGMA incremental_vacuum(" + std::to_string(pages) + ")";
  return exec(writer_, sql.c_str(), "incremental vacuum");
}

Result<std::vector<RetentionFacts>> SqliteStore::retention_candidates(RetentionStage stage,
                                                                      TimePoint received_before,
                                                                      RetentionCursor after,
                                                                      int limit) {
  std::lock_guard lock(read_mu_);
  auto q =
      (*read_stmts_)[stage == RetentionStage::kBody ? Sql::kRetentionBody : Sql::kRetentionRecord];
  q.bind(1, received_before)
      .bind(2, after.received_at)
      .bind(3, after.message_id)
      .bind(4, std::int64_t{limit});
  std::vector<RetentionFacts> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    RetentionFacts f;
    f.message_id = q.int64_at(0);
    const auto type = parse_letter_type(q.text_at(1));
    const auto state = parse_delivery_state(q.text_at(2));
    const auto receipt = parse_receipt_state(q.text_at(4));
    if (!type || !state || !receipt)
      return storage_error("store: unreadable message " + std::to_string(f.message_id));
    f.type = *type;
    f.state = *state;
    f.receipt_requested = q.int64_at(3) != 0;
    f.receipt = *receipt;
    f.receipt_watched = q.int64_at(5) != 0;
    f.deadline_open = q.int64_at(6) != 0;
    f.received_at = q.time_at(7);
    f.last_event_at = q.time_at(8);
    if (!q.null_at(9)) f.body_deleted_at = q.time_at(9);
    f.held = q.int64_at(10) != 0;
    out.push_back(std::move(f));
  }
  if (rc != SQLITE_DONE) return db_error(reader_, "retention candidates");
  return out;
}

Result<std::vector<LegalHold>> SqliteStore::list_holds() {
  std::lock_guard lock(read_mu_);
  auto q = (*read_stmts_)[Sql::kListHolds];
  std::vector<LegalHold> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    const auto kind = parse_hold_kind(q.text_at(0));
    if (!kind) return storage_error("store: unknown hold kind");
    out.push_back(LegalHold{*kind, q.text_at(1), q.time_at(2), q.text_at(3), q.text_at(4)});
  }
  if (rc != SQLITE_DONE) return db_error(reader_, "list holds");
  return out;
}

Result<AuditHead> SqliteStore::audit_head() {
  std::lock_guard lock(read_mu_);
  auto q = (*read_stmts_)[Sql::kSelectChainHead];
  const int rc = q.step();
  if (rc == SQLITE_ROW) return AuditHead{q.int64_at(0), q.text_at(1)};
  if (rc == SQLITE_DONE) return AuditHead{};
  return db_error(reader_, "read the audit chain's head");
}

}  // namespace sektorbro
