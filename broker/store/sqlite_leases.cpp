// SqliteStore's leases (issue 11, item 2; store.hpp, "leases"). One broker per file (the file
// lock in SqliteStore::open), so the leases live in memory (LeaseTable) and are what this one
// broker's drivers hand each other; the pending deliveries and the preconditions are read on the
// writer connection, so they see the open batch.
#include <sqlite3.h>

#include <memory>

#include "broker/store/sqlite_store.hpp"

namespace sektorbro {
namespace {

struct Finalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, Finalize>;

Error lease_error(sqlite3* db, std::string_view what) {
  return make_error(Errc::kStorage,
                    "store: " + std::string(what) + ": " + std::string(sqlite3_errmsg(db)));
}

Result<Statement> prepare(sqlite3* db, const char* sql, std::string_view what) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) return lease_error(db, what);
  return Statement(stmt);
}

std::string text_at(sqlite3_stmt* s, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, col))) : std::string();
}

// The ids of every pending delivery, earliest next attempt first: read from the messages_pending
// index alone (it holds the id), so a pass under a backlog reads the index's few pages, not a
// table row per message (docs/performance.md, "Lease passes under a backlog").
constexpr const char* kPendingIds =
    "SELECT id FROM messages INDEXED BY messages_pending WHERE state = 'pending' "
    "ORDER BY next_attempt_at, id";
// What the dispatcher needs of a delivery it has just taken over.
constexpr const char* kPendingDelivery =
    "SELECT receiver_endpoint, attempts, received_at, next_attempt_at FROM messages "
    "WHERE id = ?1 AND state = 'pending'";
// The messages waiting in a mailbox: the pending ones (few), then their endpoint.
constexpr const char* kMailboxWaiting =
    "SELECT id FROM messages INDEXED BY messages_state "
    "WHERE state = 'pending' AND receiver_endpoint = ?1 ORDER BY id";

// `expected`: how many there were last time, so that a large backlog is not copied over and
// over while the vector grows.
Result<std::vector<std::int64_t>> pending_ids(sqlite3* db, std::size_t expected) {
  auto stmt = prepare(db, kPendingIds, "read pending deliveries");
  if (!stmt) return stmt.error();
  std::vector<std::int64_t> out;
  out.reserve(expected + expected / 8);
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW)
    out.push_back(sqlite3_column_int64(stmt->get(), 0));
  if (rc != SQLITE_DONE) return lease_error(db, "read pending deliveries");
  return out;
}

// The deliveries `ids` (all pending, read on the same connection within the same batch).
Result<std::vector<PendingDelivery>> taken_deliveries(sqlite3* db,
                                                      const std::vector<std::int64_t>& ids) {
  auto stmt = prepare(db, kPendingDelivery, "read a pending delivery");
  if (!stmt) return stmt.error();
  sqlite3_stmt* s = stmt->get();
  std::vector<PendingDelivery> out;
  out.reserve(ids.size());
  for (const std::int64_t id : ids) {
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, id);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) continue;  // not pending: cannot happen within the batch
    if (rc != SQLITE_ROW) return lease_error(db, "read a pending delivery");
    out.push_back(PendingDelivery{
        .message_id = id,
        .receiver_endpoint = text_at(s, 0),
        .attempts = sqlite3_column_int(s, 1),
        .received_at = from_millis(sqlite3_column_int64(s, 2)),
        .next_attempt_at = from_millis(sqlite3_column_int64(s, 3)),
    });
  }
  return out;
}

// Runs a query that takes the bound values and answers one row or none: true if a row came.
template <typename Bind>
Result<bool> exists(sqlite3* db, const char* sql, std::string_view what, Bind bind) {
  auto stmt = prepare(db, sql, what);
  if (!stmt) return stmt.error();
  bind(stmt->get());
  const int rc = sqlite3_step(stmt->get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return lease_error(db, what);
}

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

}  // namespace

std::vector<std::string> SqliteStore::lease_pass_statements() {
  return {kPendingIds, kPendingDelivery, kMailboxWaiting};
}

Result<void> SqliteStore::lease_delivery(std::int64_t message_id, const std::string& owner,
                                         TimePoint until) {
  auto found = message_on_writer(message_id);
  if (!found) return found.error();
  if (!*found)
    return make_error(Errc::kNotFound, "message " + std::to_string(message_id) + " not found");
  lease_table_.lease(message_id, owner, until);
  return {};
}

Result<std::vector<PendingDelivery>> SqliteStore::claim_deliveries(const std::string& owner,
                                                                   TimePoint now, TimePoint until,
                                                                   int limit) {
  auto pending = pending_ids(writer_, pending_seen_);
  if (!pending) return pending.error();
  pending_seen_ = pending->size();
  return taken_deliveries(writer_, lease_table_.claim(*pending, owner, now, until, limit));
}

Result<std::vector<std::int64_t>> SqliteStore::renew_leases(const std::string& owner, TimePoint now,
                                                            TimePoint until) {
  auto pending = pending_ids(writer_, pending_seen_);
  if (!pending) return pending.error();
  pending_seen_ = pending->size();
  return lease_table_.renew(*pending, owner, now, until);
}

Result<bool> SqliteStore::hold_singleton(const std::string& name, const std::string& owner,
                                         TimePoint now, TimePoint until) {
  return lease_table_.hold_singleton(name, owner, now, until);
}

Result<std::vector<std::int64_t>> SqliteStore::claim_mailbox(const std::string& endpoint,
                                                             const std::string& owner,
                                                             TimePoint now, TimePoint until,
                                                             int limit) {
  auto stmt = prepare(writer_, kMailboxWaiting, "read a mailbox");
  if (!stmt) return stmt.error();
  bind_text(stmt->get(), 1, endpoint);
  std::vector<std::int64_t> waiting;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW)
    waiting.push_back(sqlite3_column_int64(stmt->get(), 0));
  if (rc != SQLITE_DONE) return lease_error(writer_, "read a mailbox");
  return lease_table_.claim_mailbox(waiting, owner, now, until, limit);
}

Result<void> SqliteStore::expect_deadline(const Deadline& expected) {
  auto known =
      exists(writer_, "SELECT 1 FROM deadlines WHERE requester_gln = ?1 AND letter_id = ?2",
             "check deadline", [&](sqlite3_stmt* s) {
               bind_text(s, 1, expected.key.requester_gln);
               bind_text(s, 2, expected.key.letter_id);
             });
  if (!known) return known.error();
  if (!*known)
    return make_error(Errc::kNotFound, "no deadline for letter " + expected.key.letter_id);
  auto same = exists(
      writer_,
      "SELECT 1 FROM deadlines WHERE requester_gln = ?1 AND letter_id = ?2 AND state = ?3 "
      "AND overdue = ?4 AND reminder_steps_done = ?5 AND generation = ?6 AND next_action_at IS ?7",
      "check deadline", [&](sqlite3_stmt* s) {
        bind_text(s, 1, expected.key.requester_gln);
        bind_text(s, 2, expected.key.letter_id);
        bind_text(s, 3, std::string(to_string(expected.state)));
        sqlite3_bind_int(s, 4, expected.overdue ? 1 : 0);
        sqlite3_bind_int(s, 5, expected.reminder_steps_done);
        sqlite3_bind_int(s, 6, expected.generation);
        if (expected.next_action_at)
          sqlite3_bind_int64(s, 7, to_millis(*expected.next_action_at));
        else
          sqlite3_bind_null(s, 7);
      });
  if (!same) return same.error();
  if (!*same)
    return make_error(Errc::kStale, "deadline for letter " + expected.key.letter_id +
                                        " changed since the sweep read it");
  return {};
}

Result<void> SqliteStore::expect_receipt_watch(std::int64_t message_id, int resends) {
  auto known = message_on_writer(message_id);
  if (!known) return known.error();
  if (!*known)
    return make_error(Errc::kNotFound, "message " + std::to_string(message_id) + " not found");
  auto same = exists(writer_,
                     "SELECT 1 FROM messages WHERE id = ?1 AND receipt_sent_at IS NOT NULL "
                     "AND resends = ?2",
                     "check receipt watch", [&](sqlite3_stmt* s) {
                       sqlite3_bind_int64(s, 1, message_id);
                       sqlite3_bind_int(s, 2, resends);
                     });
  if (!same) return same.error();
  if (!*same)
    return make_error(Errc::kStale, "the receipt watch of message " + std::to_string(message_id) +
                                        " changed since it was read");
  return {};
}

Result<void> SqliteStore::expect_delivery_state(std::int64_t message_id, DeliveryState state) {
  auto known = message_on_writer(message_id);
  if (!known) return known.error();
  if (!*known)
    return make_error(Errc::kNotFound, "message " + std::to_string(message_id) + " not found");
  const std::string wanted(to_string(state));
  auto same = exists(writer_, "SELECT 1 FROM messages WHERE id = ?1 AND state = ?2",
                     "check delivery state", [&](sqlite3_stmt* s) {
                       sqlite3_bind_int64(s, 1, message_id);
                       bind_text(s, 2, wanted);
                     });
  if (!same) return same.error();
  if (!*same)
    return make_error(Errc::kStale,
                      "message " + std::to_string(message_id) + " is no longer " + wanted);
  return {};
}

}  // namespace sektorbro
