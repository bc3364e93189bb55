#include "broker/store/postgres_migrations.hpp"

#include <iterator>
#include <string>

namespace sektorbro {
namespace {

// The advisory lock key migrations take (transaction scoped): "sb-migr" in ASCII.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7166086797035890)";

// kPostgresMigrations[v] takes a database from version v to v + 1. Version 1 is the SQLite
// store's schema 5 in PostgreSQL's words (same tables, columns and meanings; instants are
// milliseconds since the epoch in bigint, flags 0/1), plus `store_head`: the one row every
// writer locks (SELECT … FOR UPDATE) before it writes, so that brokers sharing the database
// append to ONE audit chain and hand out message ids in commit order.
constexpr const char* kPostgresMigrations[] = {
    R"sql(
CREATE TABLE store_head (
  id  integer PRIMARY KEY CHECK (id = 1)
);
INSERT INTO store_head (id) VALUES (1);

CREATE TABLE messages (
  id                bigint  PRIMARY KEY,
  envelope_id       text    NOT NULL,
  sender_gln        text    NOT NULL,
  receiver_gln      text    NOT NULL,
  sender_endpoint   text    NOT NULL,
  receiver_endpoint text    NOT NULL,
  body              bytea   NOT NULL,
  acceptance        bytea   NOT NULL,
  receipt_requested integer NOT NULL CHECK (receipt_requested IN (0, 1)),
  contains_cpr      integer NOT NULL CHECK (contains_cpr IN (0, 1)),
  received_at       bigint  NOT NULL,
  state             text    NOT NULL
                    CHECK (state IN ('pending', 'delivered', 'refused', 'dead-lettered')),
  attempts          integer NOT NULL CHECK (attempts >= 0),
  next_attempt_at   bigint  NOT NULL,
  last_error        text    NOT NULL DEFAULT '',
  receipt           text    NOT NULL DEFAULT 'none'
                    CHECK (receipt IN ('none', 'positive', 'negative')),
  receipt_sent_at   bigint,
  resends           integer NOT NULL DEFAULT 0
);
CREATE INDEX messages_pending ON messages (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX messages_state ON messages (state, id);
CREATE INDEX messages_sender_endpoint ON messages (sender_endpoint, id);
CREATE INDEX messages_receiver_endpoint ON messages (receiver_endpoint, id);
CREATE INDEX messages_receipt_owed ON messages (receipt_sent_at)
  WHERE receipt_sent_at IS NOT NULL;

CREATE TABLE letters (
  sender_gln   text    NOT NULL,
  letter_id    text    NOT NULL,
  message_id   bigint  NOT NULL REFERENCES messages (id),
  position     integer NOT NULL,
  type         text    NOT NULL,
  content_hash text    NOT NULL,
  status       text    NOT NULL DEFAULT 'nytbrev'
               CHECK (status IN ('nytbrev', 'rettetbrev', 'annulleretbrev')),
  PRIMARY KEY (sender_gln, letter_id)
);
CREATE INDEX letters_message ON letters (message_id, position);

CREATE TABLE letter_versions (
  message_id    bigint  NOT NULL REFERENCES messages (id),
  position      integer NOT NULL,
  sender_gln    text    NOT NULL,
  letter_id     text    NOT NULL,
  type          text    NOT NULL,
  status        text    NOT NULL CHECK (status IN ('nytbrev', 'rettetbrev', 'annulleretbrev')),
  content_hash  text    NOT NULL,
  superseded_by bigint  NOT NULL REFERENCES messages (id),
  superseded_at bigint  NOT NULL,
  PRIMARY KEY (message_id, position)
);
CREATE INDEX letter_versions_letter ON letter_versions (sender_gln, letter_id, content_hash);

CREATE TABLE events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id bigint NOT NULL REFERENCES messages (id),
  at         bigint NOT NULL,
  kind       text   NOT NULL,
  detail     text   NOT NULL
);
CREATE INDEX events_message ON events (message_id, id);

CREATE TABLE audit (
  id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at     bigint NOT NULL,
  kind   text   NOT NULL,
  detail text   NOT NULL
);

CREATE TABLE deadlines (
  id                  bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  requester_gln       text    NOT NULL,
  letter_id           text    NOT NULL,
  kind                text    NOT NULL CHECK (kind IN ('certificate', 'mentor-response')),
  owed_by             text    NOT NULL,
  owed_to             text    NOT NULL,
  form                text    NOT NULL,
  opened_at           bigint  NOT NULL,
  due                 text    NOT NULL CHECK (due ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
  due_end             bigint  NOT NULL,
  state               text    NOT NULL CHECK (state IN ('open', 'answered-on-time',
                                                        'answered-late', 'declined', 'cancelled')),
  answered_at         bigint,
  closed_at           bigint,
  days_late           integer NOT NULL,
  overdue             integer NOT NULL CHECK (overdue IN (0, 1)),
  reminder_steps_done integer NOT NULL,
  next_action_at      bigint,
  generation          integer NOT NULL,
  discharge_date      text    CHECK (discharge_date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
  lead_time_days      integer,
  notice_late         integer NOT NULL CHECK (notice_late IN (0, 1)),
  UNIQUE (requester_gln, letter_id)
);
CREATE INDEX deadlines_next_action ON deadlines (next_action_at, id)
  WHERE next_action_at IS NOT NULL;
CREATE INDEX deadlines_state_due ON deadlines (state, due_end, id);
CREATE INDEX deadlines_owed_by ON deadlines (owed_by, state, due_end);
CREATE INDEX deadlines_owed_to ON deadlines (owed_to, state, due_end);
CREATE INDEX deadlines_opened ON deadlines (opened_at, id);

-- The hash-chained audit log (issue 5; audit_chain.hpp). Append-only: the trigger stops an
-- UPDATE or a DELETE by mistake (a deliberate one drops it first; the chain is what shows that).
CREATE TABLE audit_chain (
  seq       bigint PRIMARY KEY,
  at        bigint NOT NULL,
  kind      text   NOT NULL,
  actor     text   NOT NULL,
  subject   text   NOT NULL,
  detail    text   NOT NULL,
  prev_hash text   NOT NULL,
  hash      text   NOT NULL
);
CREATE INDEX audit_chain_hash ON audit_chain (hash);
CREATE FUNCTION audit_chain_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_chain is append-only';
END
$$;
CREATE TRIGGER audit_chain_no_change BEFORE UPDATE OR DELETE ON audit_chain
  FOR EACH ROW EXECUTE FUNCTION audit_chain_append_only();
)sql",
    // 1 → 2: the EHMI SBDH envelopes the broker sent (issue 9), as SQLite's version 6: an
    // envelope-level receipt is correlated with the message it answers.
    R"sql(
CREATE TABLE sent_envelopes (
  instance_identifier text   PRIMARY KEY,
  message_id          bigint NOT NULL REFERENCES messages (id),
  sent_at             bigint NOT NULL
);
CREATE INDEX sent_envelopes_message ON sent_envelopes (message_id);
)sql",
    // 2 → 3: the operators' console (issue 10), as the SQLite store's migration 6 → 7: the MedCom
    // alert "receipt missing" in the row, filled once from the timelines; partial indexes for the
    // gauges and the searches; the citizen index (keyed hashes of CPR numbers, never the numbers).
    R"sql(
ALTER TABLE messages ADD COLUMN receipt_missing integer NOT NULL DEFAULT 0
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
  citizen_key text   NOT NULL,
  message_id  bigint NOT NULL REFERENCES messages (id),
  PRIMARY KEY (citizen_key, message_id)
);
)sql",
    // Retention and the bound audit chain (issue 11 item 4, issue 12 item 5), as SQLite's
    // version 8: bindings, deleted bodies, legal holds, the retention scans' partial indexes.
    R"sql(
ALTER TABLE audit_chain ADD COLUMN binding text NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN body_deleted_at bigint;
CREATE INDEX messages_retention_body ON messages (received_at, id)
  WHERE body_deleted_at IS NULL;
CREATE INDEX messages_retention_record ON messages (received_at, id)
  WHERE body_deleted_at IS NOT NULL;
CREATE TABLE holds (
  kind   text   NOT NULL CHECK (kind IN ('message', 'citizen')),
  key    text   NOT NULL,
  at     bigint NOT NULL,
  actor  text   NOT NULL,
  reason text   NOT NULL,
  PRIMARY KEY (kind, key)
);
CREATE INDEX citizen_index_message ON citizen_index (message_id);
)sql",
    // 4 → 5: several brokers on one database (issue 11, item 2).
    // - The lease tables, which brokers of version 4 created on first use (CREATE TABLE IF NOT
    //   EXISTS, postgres_leases.cpp then): hence IF NOT EXISTS here, and their live leases stay.
    // - Mailbox leases: a message fetched from a mailbox (broker_mailbox.cpp) is handed to one
    //   fetcher at a time across the brokers until its lease ends (Store::claim_mailbox).
    // - The last message id handed out, in the store_head row every writer locks (transactional,
    //   so a rolled-back write takes no id, unlike a SEQUENCE): max(id) + 1 handed an id out
    //   again once retention had deleted the newest record. It starts at every id ever used:
    //   the largest in `messages` and the largest an audit entry names ("message N"; the chain
    //   keeps the entries of deleted records), so no id of a deleted record comes back either.
    R"sql(
CREATE TABLE IF NOT EXISTS delivery_leases (
  message_id  bigint PRIMARY KEY,
  owner       text   NOT NULL,
  lease_until bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS delivery_leases_owner ON delivery_leases (owner, lease_until);
CREATE TABLE IF NOT EXISTS singleton_leases (
  name        text   PRIMARY KEY,
  owner       text   NOT NULL,
  lease_until bigint NOT NULL
);
CREATE TABLE mailbox_leases (
  message_id  bigint PRIMARY KEY,
  owner       text   NOT NULL,
  lease_until bigint NOT NULL
);
ALTER TABLE store_head ADD COLUMN last_message_id bigint NOT NULL DEFAULT 0;
UPDATE store_head SET last_message_id = greatest(
  (SELECT coalesce(max(id), 0) FROM messages),
  (SELECT coalesce(max(substring(subject FROM '^message ([0-9]{1,18})')::bigint), 0)
   FROM audit_chain WHERE subject ~ '^message [0-9]'));
)sql",
    // 5 → 6: the timeline read from the audit chain (issue 8), as SQLite's version 11: a new
    // timeline event is written once, as its chain entry with message_id set; the events of
    // before stay in `events` and are read first. message_id is outside the seal: the verifier
    // holds it to the sealed subject.
    R"sql(
ALTER TABLE audit_chain ADD COLUMN message_id bigint;
CREATE INDEX audit_chain_timeline ON audit_chain (message_id, seq) WHERE message_id IS NOT NULL;
)sql",
    // 6 → 7: a lease pass writes one row per broker, not one per held delivery (issue 8;
    // postgres_leases.cpp). A broker's row in `broker_leases` lives while it renews it; a lease
    // it has adopted (lease_until the largest bigint, and the epoch) lives as long as that row.
    // The leases of before keep their own lease_until and are adopted by their owner's next pass.
    // The owner index covers the renewal's reads (the leases of an owner's epoch, and those it
    // granted since the last pass: a lease_until range) and a claim's of a lapsed broker's
    // leases; the partial index on lease_until a claim's of the leases that ended on their own.
    R"sql(
CREATE TABLE broker_leases (
  owner       text   PRIMARY KEY,
  epoch       bigint NOT NULL,
  lease_until bigint NOT NULL
);
ALTER TABLE delivery_leases ADD COLUMN epoch bigint;
DROP INDEX delivery_leases_owner;
CREATE INDEX delivery_leases_owner ON delivery_leases (owner, lease_until, epoch);
CREATE INDEX delivery_leases_until ON delivery_leases (lease_until)
  WHERE lease_until < 9223372036854775807;
)sql",
};

constexpr int kVersion = static_cast<int>(std::size(kPostgresMigrations));

}  // namespace

int postgres_schema_version() { return kVersion; }

Result<int> read_postgres_schema_version(PgConnection& conn) {
  auto exists = conn.query("SELECT to_regclass('schema_version') IS NOT NULL", PgParams{},
                           "read schema version");
  if (!exists) return exists.error();
  if (exists->text_at(0, 0) != "t") return 0;
  auto v = conn.query("SELECT version FROM schema_version", PgParams{}, "read schema version");
  if (!v) return v.error();
  if (v->rows() != 1)
    return make_error(Errc::kStorage, "store: schema_version must hold exactly one row (it holds " +
                                          std::to_string(v->rows()) + ")");
  return static_cast<int>(v->int64_at(0, 0));
}

Result<void> migrate_postgres(PgConnection& conn) { return migrate_postgres_to(conn, kVersion); }

Result<void> migrate_postgres_to(PgConnection& conn, int target) {
  if (target < 1 || target > kVersion)
    return make_error(Errc::kInvalid, "no schema version " + std::to_string(target));
  if (auto r = conn.exec("BEGIN", "begin migration"); !r) return r;
  auto fail = [&](Error e) -> Result<void> {
    (void)conn.exec("ROLLBACK", "rollback migration");
    return e;
  };
  if (auto r = conn.exec(kMigrationLock, "lock for migration"); !r) return fail(r.error());
  auto version = read_postgres_schema_version(conn);
  if (!version) return fail(version.error());
  if (*version > kVersion || *version < 0)
    return fail(make_error(Errc::kStorage, "schema version " + std::to_string(*version) +
                                               " is newer than this broker supports (" +
                                               std::to_string(kVersion) + ")"));
  if (*version >= target) return conn.exec("COMMIT", "commit migration");
  if (*version == 0)
    if (auto r = conn.exec("CREATE TABLE schema_version (version integer NOT NULL); "
                           "INSERT INTO schema_version (version) VALUES (0)",
                           "create schema_version");
        !r)
      return fail(r.error());
  for (int v = *version; v < target; ++v)
    if (auto r =
            conn.exec(kPostgresMigrations[v], "migrate schema to version " + std::to_string(v + 1));
        !r)
      return fail(r.error());
  if (auto r = conn.query("UPDATE schema_version SET version = $1", PgParams().int64(target),
                          "set schema version");
      !r)
    return fail(r.error());
  if (auto r = conn.exec("COMMIT", "commit migration"); !r) return fail(r.error());
  return {};
}

}  // namespace sektorbro
