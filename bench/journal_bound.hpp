// JournalBound: what an append-only intake journal could cost the writer at best, for
// sektorbro-store-bench (docs/performance.md, "Where the writer's time goes, and what is left").
//
// Each letter's intake (its packed body and a record of its facts, with the audit seal of its
// "received" event) and each delivery outcome (its state and the deadline it opens, with the
// seals of its two events) are one INSERT each into `journal (seq INTEGER PRIMARY KEY, record
// BLOB)`, committed in the caller's groups with the store's file settings (WAL,
// synchronous=FULL, 4 KiB pages, checkpoint every 1,000 pages). The work done outside SQLite is
// the store's: the body packed and hashed, one seal per event, chained.
//
// It is a bound, not a design: it keeps none of the tables intake's lookups, the dispatcher's
// restart and the console's pages read, so a real journal would add the work of building them.
// Opened with `keep_tables`, it keeps those the queries select on — the store's own schema
// (SqliteStore creates it) without the tables the journal would replace (bodies, timeline
// events, the audit chain's table): each intake also inserts its message and letter rows, each
// outcome updates the message row (state, receipt watch) and inserts the deadline. With
// `keep_bodies` the bodies stay in their table too: what a journal could still save if a body
// must remain erasable on its own (retention, issue 11), as in an append-only record it is not.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "broker/core/result.hpp"
#include "broker/deadlines/deadline.hpp"
#include "broker/store/store.hpp"

namespace sektorbro::bench {

class JournalBound {
 public:
  // With `keep_bodies` (and `keep_tables`), bodies go to the store's own `message_bodies` table,
  // as a store must keep them for retention to erase one (issue 11), not into the record.
  static Result<std::unique_ptr<JournalBound>> open(const std::string& path,
                                                    bool keep_tables = false,
                                                    bool keep_bodies = false);
  ~JournalBound();
  JournalBound(const JournalBound&) = delete;
  JournalBound& operator=(const JournalBound&) = delete;

  Result<void> begin_batch();
  Result<void> commit_batch();
  void rollback_batch();
  // One record per message stored; its seq is the message's id.
  Result<std::int64_t> store_message(const MessagePlan& plan);
  // One record per outcome: the delivery's event and the deadline it opens with its event.
  Result<void> record_outcome(std::int64_t message_id, const MessageEvent& delivered,
                              const Deadline& opened, const MessageEvent& opened_event);

 private:
  JournalBound() = default;
  Result<std::int64_t> append(const std::string& record);
  // Chains an audit seal for `event` onto the head, as the store's audit chain does.
  void seal(const MessageEvent& event, std::string_view binding);

  sqlite3* db_ = nullptr;
  Result<void> keep_message(std::int64_t id, const MessagePlan& plan);
  Result<void> keep_outcome(std::int64_t id, TimePoint at, const Deadline& opened);

  sqlite3_stmt* insert_ = nullptr;
  // With keep_tables: the message, letter, outcome and deadline statements; null otherwise.
  sqlite3_stmt* message_ = nullptr;
  sqlite3_stmt* letter_ = nullptr;
  sqlite3_stmt* outcome_ = nullptr;
  sqlite3_stmt* deadline_ = nullptr;
  sqlite3_stmt* body_ = nullptr;  // with keep_bodies
  std::int64_t audit_seq_ = 0;
  std::string audit_hash_ = std::string(64, '0');
};

}  // namespace sektorbro::bench
