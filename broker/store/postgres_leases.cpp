// PostgresStore's leases (issue 11, item 2; store.hpp, "leases"): several brokers on one
// database. A pending delivery's lease is a row of `delivery_leases` (message, owner, until,
// epoch); a singleton's a row of `singleton_leases` (name, owner, until). Claiming takes the
// pending messages nobody holds with FOR UPDATE SKIP LOCKED, so two brokers claiming at once never
// take the same message; like every write of this store it runs after the store_head lock
// (postgres_store.hpp), so the lock order is the same for every writer and brokers never
// deadlock on one another — and a lease pass of one broker never interleaves with another's.
//
// A delivery lease is held in one of two ways (schema version 7, postgres_migrations.cpp):
// - until its own `lease_until`: what lease_delivery() and a claim grant;
// - for as long as its owner's row in `broker_leases` lives, when `lease_until` is kEpochLease:
//   what a renewal turns a live lease of its own into (it "adopts" it). The row has an `epoch`;
//   an owner whose row lapsed (not renewed by its `lease_until`) starts a new epoch when it comes
//   back, and the leases of the old epoch are everybody's to take.
// So a renewal writes one row (the broker's), plus the leases granted since the last pass, not
// one row per held delivery: under a backlog of 100,000 that was ~0.6 s under the store_head
// lock every lease/3 (docs/performance.md, "PostgreSQL's renewal").
//
// The tables (delivery_leases, singleton_leases, mailbox_leases) are schema version 5,
// broker_leases and delivery_leases.epoch version 7.
#include <functional>
#include <string>

#include "broker/store/postgres_store.hpp"

namespace sektorbro {
namespace {

constexpr const char* kLeaseDelivery = R"sql(
INSERT INTO delivery_leases (message_id, owner, lease_until)
SELECT id, $2::text, $3::bigint FROM messages WHERE id = $1::bigint
ON CONFLICT (message_id) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until,
  epoch = NULL
)sql";

// A lease row whose `lease_until` is the largest bigint is held for as long as its owner's
// broker row of the same epoch lives: a broker of schema version 6, which reads `lease_until`
// only, counts it held for ever and never takes it over. Any other lease row is held until its
// `lease_until`. The full claim spells this rule out for the rows it reads, and kTakeFree for the
// row the insert meets; the renewal writes and reads such rows.
//
// What both claims end with: the messages of `free` (ids, locked) leased to $1 until $3, unless
// the lease row met is held at $2 after all, and the deliveries taken. A lease granted here ends
// at $3 unless a renewal adopts it.
const std::string kTakeFree = R"sql(
), taken AS (
  INSERT INTO delivery_leases (message_id, owner, lease_until)
  SELECT id, $1::text, $3::bigint FROM free
  ON CONFLICT (message_id) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until,
    epoch = NULL
    WHERE NOT (
      CASE WHEN delivery_leases.lease_until <> 9223372036854775807
           THEN delivery_leases.lease_until > $2::bigint
      ELSE EXISTS (SELECT 1 FROM broker_leases b
                   WHERE b.owner = delivery_leases.owner AND b.epoch = delivery_leases.epoch
                     AND b.lease_until > $2::bigint)
      END)
  RETURNING message_id
)
SELECT m.id, m.receiver_endpoint, m.attempts, m.received_at, m.next_attempt_at
FROM messages m JOIN taken t ON t.message_id = m.id
ORDER BY m.next_attempt_at, m.id
)sql";

// The full claim: the first free pending messages in order. $1 owner, $2 now, $3 until, $4 limit.
const std::string kClaim = R"sql(
WITH free AS (
  SELECT m.id FROM messages m
  LEFT JOIN delivery_leases l ON l.message_id = m.id
  WHERE m.state = 'pending' AND (l.message_id IS NULL OR NOT (
    CASE WHEN l.lease_until <> 9223372036854775807 THEN l.lease_until > $2::bigint
    ELSE EXISTS (SELECT 1 FROM broker_leases b
                 WHERE b.owner = l.owner AND b.epoch = l.epoch AND b.lease_until > $2::bigint)
    END))
  ORDER BY m.next_attempt_at, m.id
  LIMIT $4::bigint
  FOR UPDATE OF m SKIP LOCKED
)sql" + kTakeFree;

// The claim of most passes: the same takeover, found from the leases that ended instead of from
// every pending message, so it reads what is free, not what is held (a broker holding 100,000
// pending deliveries made every pass of every broker read them all). Two steps, so that the
// usual pass, where nothing ended, writes nothing, and so that the second reads messages by id
// (the planner cannot know how few the ended leases are). kEnded: the leases of their own end
// past it (the partial index delivery_leases_until), and the adopted ones of a broker whose row
// lapsed or that has moved on to a later epoch (delivery_leases_owner, per broker row). $1 now.
// What it cannot see is a pending message nobody ever leased; every broker leases what it stores
// or requeues in the same commit, so there are none but those of before leases, and the full
// claim above runs at a broker's first claim and then once a minute to take them
// (kFullClaimEvery).
constexpr const char* kEnded = R"sql(
SELECT l.message_id FROM delivery_leases l
WHERE l.lease_until <= $1::bigint AND l.lease_until < 9223372036854775807
UNION ALL
SELECT l.message_id FROM broker_leases b
JOIN delivery_leases l ON l.owner = b.owner AND l.lease_until = 9223372036854775807
  AND l.epoch = b.epoch
WHERE b.lease_until <= $1::bigint
UNION ALL
SELECT l.message_id FROM broker_leases b
JOIN delivery_leases l ON l.owner = b.owner AND l.lease_until = 9223372036854775807
  AND l.epoch < b.epoch
)sql";

// The claim among the pending messages of $5 (ids, '{1,2,…}'). $1 owner, $2 now, $3 until,
// $4 limit.
const std::string kClaimAmong = R"sql(
WITH free AS (
  SELECT m.id FROM messages m
  WHERE m.id = ANY($5::bigint[]) AND m.state = 'pending'
  ORDER BY m.next_attempt_at, m.id
  LIMIT $4::bigint
  FOR UPDATE OF m SKIP LOCKED
)sql" + kTakeFree;

// Leases on messages that are no longer pending mean nothing, whoever's they are. Reads the lease
// table (the pending messages' leases and those settled since the last pass) against the pending
// messages, and deletes the latter.
constexpr const char* kForgetSettled = R"sql(
DELETE FROM delivery_leases l
WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = l.message_id AND m.state = 'pending')
)sql";

// $1 owner, $2 now, $3 until. The owner's broker row lives on to $3 (or, lapsed or new, starts
// epoch + 1); its live leases of its own `lease_until` join the epoch; the answer is every lease
// of the epoch (store.hpp, renew_leases): the owner index's entries read, no lease row written
// but those adopted. Runs right after kForgetSettled in the same transaction (renew_leases), so
// every lease row left is on a pending message. The sub-statements share one snapshot, so the
// adopted leases are counted from `adopted`.
constexpr const char* kRenew = R"sql(
WITH alive AS (
  INSERT INTO broker_leases AS b (owner, epoch, lease_until) VALUES ($1::text, 1, $3::bigint)
  ON CONFLICT (owner) DO UPDATE SET
    epoch = CASE WHEN b.lease_until > $2::bigint THEN b.epoch ELSE b.epoch + 1 END,
    lease_until = CASE WHEN b.lease_until > $2::bigint THEN greatest(b.lease_until, $3::bigint)
                       ELSE $3::bigint END
  RETURNING epoch
), adopted AS (
  UPDATE delivery_leases l SET lease_until = 9223372036854775807, epoch = alive.epoch
  FROM alive
  WHERE l.owner = $1::text AND l.lease_until > $2::bigint AND l.lease_until < 9223372036854775807
  RETURNING l.message_id
)
SELECT l.message_id FROM delivery_leases l JOIN alive ON l.epoch = alive.epoch
WHERE l.owner = $1::text AND l.lease_until = 9223372036854775807
UNION ALL
SELECT message_id FROM adopted
)sql";

// Mailbox fetches. $1 endpoint, $2 owner, $3 now, $4 until, $5 limit. The leases of messages no
// longer pending go first (confirmed, requeued elsewhere): the table holds only live fetches.
constexpr const char* kForgetMailbox = R"sql(
DELETE FROM mailbox_leases l
WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = l.message_id AND m.state = 'pending')
)sql";
constexpr const char* kClaimMailbox = R"sql(
WITH free AS (
  SELECT m.id FROM messages m
  LEFT JOIN mailbox_leases l ON l.message_id = m.id
  WHERE m.state = 'pending' AND m.receiver_endpoint = $1::text
    AND (l.message_id IS NULL OR l.lease_until <= $3::bigint)
  ORDER BY m.id
  LIMIT $5::bigint
  FOR UPDATE OF m SKIP LOCKED
), taken AS (
  INSERT INTO mailbox_leases (message_id, owner, lease_until)
  SELECT id, $2::text, $4::bigint FROM free
  ON CONFLICT (message_id) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
    WHERE mailbox_leases.lease_until <= $3::bigint
  RETURNING message_id
)
SELECT message_id FROM taken ORDER BY message_id
)sql";

// $1 name, $2 owner, $3 now, $4 until. A row comes back when the owner holds it now.
constexpr const char* kHoldSingleton = R"sql(
INSERT INTO singleton_leases (name, owner, lease_until) VALUES ($1::text, $2::text, $4::bigint)
ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
  WHERE singleton_leases.owner = EXCLUDED.owner OR singleton_leases.lease_until <= $3::bigint
RETURNING name
)sql";

constexpr const char* kExpectDeadline = R"sql(
SELECT state = $3 AND overdue = $4 AND reminder_steps_done = $5 AND generation = $6
       AND next_action_at IS NOT DISTINCT FROM $7
FROM deadlines WHERE requester_gln = $1 AND letter_id = $2
FOR UPDATE
)sql";

constexpr const char* kExpectReceiptWatch = R"sql(
SELECT receipt_sent_at IS NOT NULL AND resends = $2 FROM messages WHERE id = $1 FOR UPDATE
)sql";

constexpr const char* kExpectDeliveryState = R"sql(
SELECT state = $2 FROM messages WHERE id = $1 FOR UPDATE
)sql";

// How often a broker also claims from every pending message, not only from the leases that ended:
// for pending messages nobody ever leased (kEnded).
constexpr Duration kFullClaimEvery = std::chrono::minutes{1};

Error storage_error(std::string detail) { return make_error(Errc::kStorage, std::move(detail)); }

std::vector<PendingDelivery> pending_from(const PgResult& r) {
  std::vector<PendingDelivery> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i)
    out.push_back(PendingDelivery{
        .message_id = r.int64_at(i, 0),
        .receiver_endpoint = r.text_at(i, 1),
        .attempts = static_cast<int>(r.int64_at(i, 2)),
        .received_at = r.time_at(i, 3),
        .next_attempt_at = r.time_at(i, 4),
    });
  return out;
}

// What a lease pass runs (PostgresStore::lease_pass_statements). The claims read pending
// messages only, through an index on the state; the DELETEs read the lease tables, which hold
// pending messages only.
PostgresStore::Statement claim_statement(const std::string& owner, TimePoint now, TimePoint until,
                                         int limit) {
  return {"lease_claim", kClaim, PgParams().text(owner).time(now).time(until).int64(limit), {}};
}
PostgresStore::Statement ended_statement(TimePoint now) {
  return {"lease_ended", kEnded, PgParams().time(now), {}};
}
PostgresStore::Statement claim_among_statement(const std::string& owner, TimePoint now,
                                               TimePoint until, int limit,
                                               const std::vector<std::int64_t>& ids) {
  std::string array = "{";
  for (const std::int64_t id : ids) {
    if (array.size() > 1) array += ',';
    array += std::to_string(id);
  }
  array += '}';
  return {"lease_claim_among",
          kClaimAmong,
          PgParams().text(owner).time(now).time(until).int64(limit).text(array),
          {}};
}
PostgresStore::Statement forget_settled_statement() {
  return {"lease_forget", kForgetSettled, {}, {}};
}
PostgresStore::Statement renew_statement(const std::string& owner, TimePoint now, TimePoint until) {
  return {"lease_renew", kRenew, PgParams().text(owner).time(now).time(until), {}};
}
PostgresStore::Statement forget_mailbox_statement() {
  return {"mailbox_forget", kForgetMailbox, {}, {}};
}
PostgresStore::Statement claim_mailbox_statement(const std::string& endpoint,
                                                 const std::string& owner, TimePoint now,
                                                 TimePoint until, int limit) {
  return {"mailbox_claim",
          kClaimMailbox,
          PgParams().text(endpoint).text(owner).time(now).time(until).int64(limit),
          {}};
}

}  // namespace

std::vector<PostgresStore::Statement> PostgresStore::lease_pass_statements(
    const std::string& owner, const std::string& endpoint, TimePoint now, TimePoint until,
    int limit) {
  return {claim_statement(owner, now, until, limit),
          ended_statement(now),
          forget_settled_statement(),
          renew_statement(owner, now, until),
          forget_mailbox_statement(),
          claim_mailbox_statement(endpoint, owner, now, until, limit)};
}

// One lease operation as one write of this store (as atomically() in postgres_store.cpp, which
// the lease operations cannot instantiate from here): in the open batch as a savepoint after the
// store_head lock, otherwise in a transaction of its own. A failed operation leaves no trace.
Result<PgResult> PostgresStore::lease_write(const std::string& name, const std::string& sql,
                                            const PgParams& params, std::string_view what,
                                            const std::vector<unsigned>& types) {
  const bool own = !in_batch_;
  if (own) {
    if (auto r = writer_->exec("BEGIN", "begin"); !r) return r.error();
    head_locked_ = false;
  } else if (!writer_->in_transaction()) {
    return storage_error("store: the batch was rolled back after an earlier failure");
  }
  Result<PgResult> result = storage_error("store: the store head is not locked");
  if (auto locked = head_locked_ ? Result<void>() : lock_head(); !locked) {
    result = locked.error();
  } else if (auto sp = own ? Result<void>() : writer_->exec("SAVEPOINT lease", "savepoint"); !sp) {
    result = sp.error();
  } else {
    result = wrun(name, sql, params, what, types);
    if (result) {
      auto done = own ? writer_->query("COMMIT", PgParams{}, "commit")
                      : writer_->query("RELEASE SAVEPOINT lease", PgParams{}, "release savepoint");
      if (done && (!own || done->command() == "COMMIT")) {
        if (own) head_locked_ = false;
        return result;
      }
      result = done ? storage_error("store: the transaction was rolled back") : done.error();
    }
    if (!own && writer_->in_transaction()) {
      (void)writer_->exec("ROLLBACK TO SAVEPOINT lease", "rollback to savepoint");
      (void)writer_->exec("RELEASE SAVEPOINT lease", "release savepoint");
      return result;
    }
  }
  if (own) {
    if (writer_->in_transaction()) (void)writer_->exec("ROLLBACK", "rollback");
    head_locked_ = false;
  }
  return result;
}

Result<void> PostgresStore::lease_delivery(std::int64_t message_id, const std::string& owner,
                                           TimePoint until) {
  auto r = lease_write("lease_delivery", kLeaseDelivery,
                       PgParams().int64(message_id).text(owner).time(until), "lease delivery");
  if (!r) return r.error();
  if (r->affected() == 0)
    return make_error(Errc::kNotFound, "message " + std::to_string(message_id) + " not found");
  return {};
}

Result<std::vector<PendingDelivery>> PostgresStore::claim_deliveries(const std::string& owner,
                                                                     TimePoint now, TimePoint until,
                                                                     int limit) {
  if (limit <= 0) return std::vector<PendingDelivery>();
  // The full claim at this owner's first claim and then at least every kFullClaimEvery; in
  // between, the claim among the leases that ended (kEnded). Per owner: a broker is one owner, a
  // test may play several.
  auto due = full_claim_due_.find(owner);
  if (due == full_claim_due_.end() || now >= due->second) {
    auto r = lease_write(claim_statement(owner, now, until, limit), "claim deliveries");
    if (!r) return r.error();
    full_claim_due_[owner] = now + kFullClaimEvery;
    return pending_from(*r);
  }
  auto ended = lease_write(ended_statement(now), "read ended leases");
  if (!ended) return ended.error();
  if (ended->rows() == 0) return std::vector<PendingDelivery>();
  std::vector<std::int64_t> ids;
  ids.reserve(static_cast<std::size_t>(ended->rows()));
  for (int i = 0; i < ended->rows(); ++i) ids.push_back(ended->int64_at(i, 0));
  auto r = lease_write(claim_among_statement(owner, now, until, limit, ids),
                       "claim deliveries whose lease ended");
  if (!r) return r.error();
  return pending_from(*r);
}

Result<std::vector<std::int64_t>> PostgresStore::renew_leases(const std::string& owner,
                                                              TimePoint now, TimePoint until) {
  // The renewal reads no message (kRenew): it counts on the forget before it in one transaction.
  const bool own = !in_batch_;
  if (own)
    if (auto r = begin_batch(); !r) return r.error();
  auto renewed = [&]() -> Result<PgResult> {
    if (auto r = lease_write(forget_settled_statement(), "forget settled leases"); !r)
      return r.error();
    return lease_write(renew_statement(owner, now, until), "renew leases");
  }();
  if (own && !renewed) rollback_batch();
  if (own && renewed)
    if (auto committed = commit_batch(); !committed) return committed.error();
  if (!renewed) return renewed.error();
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(renewed->rows()));
  for (int i = 0; i < renewed->rows(); ++i) out.push_back(renewed->int64_at(i, 0));
  return out;
}

Result<bool> PostgresStore::hold_singleton(const std::string& name, const std::string& owner,
                                           TimePoint now, TimePoint until) {
  auto r =
      lease_write("lease_singleton", kHoldSingleton,
                  PgParams().text(name).text(owner).time(now).time(until), "hold singleton lease");
  if (!r) return r.error();
  return r->rows() == 1;
}

Result<std::vector<std::int64_t>> PostgresStore::claim_mailbox(const std::string& endpoint,
                                                               const std::string& owner,
                                                               TimePoint now, TimePoint until,
                                                               int limit) {
  if (limit <= 0) return std::vector<std::int64_t>();
  if (auto r = lease_write(forget_mailbox_statement(), "forget mailbox leases"); !r)
    return r.error();
  auto r = lease_write(claim_mailbox_statement(endpoint, owner, now, until, limit),
                       "claim mailbox messages");
  if (!r) return r.error();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < r->rows(); ++i) ids.push_back(r->int64_at(i, 0));
  return ids;
}

Result<void> PostgresStore::expect_deadline(const Deadline& expected) {
  auto r = lease_write("lease_expect_deadline", kExpectDeadline,
                       PgParams()
                           .text(expected.key.requester_gln)
                           .text(expected.key.letter_id)
                           .text(to_string(expected.state))
                           .int64(expected.overdue ? 1 : 0)
                           .int64(expected.reminder_steps_done)
                           .int64(expected.generation)
                           .opt_time(expected.next_action_at),
                       "check deadline");
  if (!r) return r.error();
  if (r->rows() == 0)
    return make_error(Errc::kNotFound, "no deadline for letter " + expected.key.letter_id);
  if (r->text_at(0, 0) != "t")
    return make_error(Errc::kStale, "deadline for letter " + expected.key.letter_id +
                                        " changed since the sweep read it");
  return {};
}

Result<void> PostgresStore::expect_receipt_watch(std::int64_t message_id, int resends) {
  auto r = lease_write("lease_expect_watch", kExpectReceiptWatch,
                       PgParams().int64(message_id).int64(resends), "check receipt watch");
  if (!r) return r.error();
  if (r->rows() == 0)
    return make_error(Errc::kNotFound, "message " + std::to_string(message_id) + " not found");
  if (r->text_at(0, 0) != "t")
    return make_error(Errc::kStale, "the receipt watch of message " + std::to_string(message_id) +
                                        " changed since it was read");
  return {};
}

Result<void> PostgresStore::expect_delivery_state(std::int64_t message_id, DeliveryState state) {
  const std::string wanted(to_string(state));
  auto r = lease_write("lease_expect_state", kExpectDeliveryState,
                       PgParams().int64(message_id).text(wanted), "check delivery state");
  if (!r) return r.error();
  if (r->rows() == 0)
    return make_error(Errc::kNotFound, "message " + std::to_string(message_id) + " not found");
  if (r->text_at(0, 0) != "t")
    return make_error(Errc::kStale,
                      "message " + std::to_string(message_id) + " is no longer " + wanted);
  return {};
}

}  // namespace sektorbro
