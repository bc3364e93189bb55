// SqliteStore: the embedded Store. One SQLite file in WAL mode with synchronous=FULL, so a
// commit returns only after fsync. Two connections: one for the writer thread, one for reads.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "broker/store/audit_chain.hpp"
#include "broker/store/lease_table.hpp"
#include "broker/store/store.hpp"

struct sqlite3;

namespace sektorbro {

class StatementCache;  // the prepared statements of one connection (sqlite_store.cpp)
class WalSync;         // the writer's deferred WAL syncs (timed_vfs.hpp)
// Checkpoints mostly off the writer thread (wal_checkpointer.hpp).
class WalCheckpointer;

// SQLite's knobs that change speed but never meaning (durability stays synchronous=FULL). The
// defaults are the ones chosen by measurement with bench/store_bench.cpp (docs/performance.md,
// "SQLite settings"); the bench opens stores with other values to compare.
struct SqliteTuning {
  int page_size = 4096;           // bytes; takes effect only when the file is created
  int wal_autocheckpoint = 1000;  // WAL pages between automatic checkpoints
  std::int64_t mmap_bytes = 0;    // reads through mmap up to this many bytes; 0 = off
  // true: checkpoints copy the WAL's bulk on a thread of their own and the writer only the
  // frames committed meanwhile (wal_checkpointer.hpp); false: SQLite's automatic checkpoint
  // inside a commit. Off by default: side by side it changed neither the p99 at 1,000 msg/s nor
  // the CPU per letter beyond noise (docs/performance.md, "The tail at 1,000 msg/s"); the
  // writer's share of a checkpoint is mostly its two syncs, which stay on the writer.
  bool checkpoint_in_background = false;
  // Page cache per connection (SQLite's default is 2 MiB). A sweep over a million open deadlines
  // touches one table page per due row; with 2 MiB a sweep of 1000 rows no longer fits and every
  // row becomes a read (bench/deadline_bench.cpp). Allocated only as pages are used.
  int cache_kib = 32 * 1024;
  // Where the writer keeps its statement journals (temp_store). Every Store call runs in a
  // SAVEPOINT inside the commit group's transaction, so each page a call changes that an earlier
  // call of the same group already changed is first copied to the sub-journal. On disk (SQLite's
  // default, a deleted temp file in /var/tmp) that was ~145 KB of write() per letter, ten times
  // the WAL's bytes (docs/performance.md, "The hidden sub-journal"); in memory it is a memcpy.
  // Rolling back a savepoint reads it; nothing durable depends on it.
  bool subjournal_in_memory = true;
  // Whether defer_sync(true) may leave each commit's WAL sync to sync_committed() on another
  // thread (timed_vfs.hpp, WalSync), so the writer runs the next group during the fsync
  // instead of waiting: ~15 % more letters a second side by side (docs/performance.md, "The
  // fsync off the writer's path"). Nothing is acknowledged before its sync either way.
  bool defer_wal_sync = true;
};

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) the database at `path` and migrates the schema.
  // Start-up errors come back as kStorage with a one-line reason.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   const SqliteTuning& tuning = {});
  ~SqliteStore() override;

  Result<void> begin_batch() override;
  Result<void> commit_batch() override;
  void rollback_batch() override;
  bool defer_sync(bool on) override;
  Result<void> sync_committed() override;
  // The deferred WAL syncs (tests): null until defer_sync(true) has attached them.
  const WalSync* wal_sync() const { return wal_sync_.get(); }
  Result<std::int64_t> store_message(const MessagePlan& plan) override;
  // The writer's lookup runs in its open transaction, on pages it has just written: cheaper
  // than a read transaction on the io thread (docs/performance.md, "Letters left unread").
  bool checks_unread_letters() const override { return true; }
  using Store::update_delivery;
  Result<void> update_delivery(std::int64_t message_id, DeliveryState state, int attempts,
                               TimePoint next_attempt_at, const std::string& last_error,
                               const MessageEvent& event,
                               std::optional<TimePoint> receipt_watch_from) override;
  Result<void> set_receipt(std::int64_t message_id, ReceiptState receipt,
                           const MessageEvent& event) override;
  Result<void> watch_receipt(std::int64_t message_id, std::optional<TimePoint> last_sent,
                             int resends) override;
  Result<void> append_event(const MessageEvent& event) override;
  Result<void> requeue(std::int64_t message_id, TimePoint now) override;
  Result<void> audit(TimePoint at, const std::string& kind, const std::string& detail) override;
  Result<void> audit_action(TimePoint at, const std::string& actor, const std::string& action,
                            const std::string& subject, const std::string& detail) override;
  Result<void> put_deadline(const Deadline& d, std::int64_t message_id,
                            const MessageEvent& event) override;
  Result<bool> open_deadline(const Deadline& d, std::int64_t message_id,
                             const MessageEvent& event) override;

  // Leases (issue 11, item 2): kept in lease_table_ (the file lock: one broker per file;
  // sqlite_leases.cpp).
  Result<void> lease_delivery(std::int64_t message_id, const std::string& owner,
                              TimePoint until) override;
  Result<std::vector<PendingDelivery>> claim_deliveries(const std::string& owner, TimePoint now,
                                                        TimePoint until, int limit) override;
  Result<std::vector<std::int64_t>> renew_leases(const std::string& owner, TimePoint now,
                                                 TimePoint until) override;
  // Leases live in this process, so a claim writes nothing another broker waits on.
  int claim_slice() const override { return std::numeric_limits<int>::max(); }
  Result<bool> hold_singleton(const std::string& name, const std::string& owner, TimePoint now,
                              TimePoint until) override;
  Result<std::vector<std::int64_t>> claim_mailbox(const std::string& endpoint,
                                                  const std::string& owner, TimePoint now,
                                                  TimePoint until, int limit) override;
  Result<void> expect_deadline(const Deadline& expected) override;
  Result<void> expect_receipt_watch(std::int64_t message_id, int resends) override;
  Result<void> expect_delivery_state(std::int64_t message_id, DeliveryState state) override;
  void guard_calls(bool guarded) override { guard_calls_ = guarded; }
  bool batch_spoiled() const override { return spoiled_; }

  Result<std::optional<LetterLocation>> find_letter(const std::string& sender_gln,
                                                    const std::string& letter_id) override;
  Result<std::optional<std::int64_t>> find_letter_version(const std::string& sender_gln,
                                                          const std::string& letter_id,
                                                          const std::string& content_hash) override;
  Result<std::optional<MessageRecord>> get_message(std::int64_t message_id) override;
  Result<std::vector<MessageEvent>> timeline(std::int64_t message_id) override;
  Result<std::vector<MessageRecord>> list_messages(const MessageFilter& filter) override;
  Result<std::vector<PendingDelivery>> pending_deliveries() override;
  Result<std::vector<ReceiptOwed>> receipts_owed() override;
  Result<void> record_sent_envelope(const std::string& instance_identifier, std::int64_t message_id,
                                    TimePoint sent_at) override;
  Result<std::optional<SentEnvelope>> find_sent_envelope(
      const std::string& instance_identifier) override;
  Result<std::optional<Deadline>> find_deadline(const DeadlineKey& key) override;
  Result<std::vector<Deadline>> due_deadlines(TimePoint now, int limit) override;
  Result<std::vector<Deadline>> list_deadlines(const DeadlineFilter& filter) override;
  // The statement list_deadlines(filter) runs: its query plan reads index ranges only, never the
  // whole table, for every combination of filters (sqlite_store_deadlines_test checks).
  static std::string deadline_list_statement(const DeadlineFilter& filter);
  // The statements whose cost must follow the work pending, not the store's history: what a start
  // reads (pending_deliveries, receipts_owed, due_deadlines; issue 8 item 4) and what a lease pass
  // and a mailbox fetch read (claim_deliveries, renew_leases, claim_mailbox; sqlite_leases.cpp).
  // The store runs these same texts; sqlite_store_test checks their plans.
  static std::vector<std::string> start_statements();
  static std::vector<std::string> lease_pass_statements();
  Result<void> each_deadline_opened_between(
      TimePoint from, TimePoint to, const std::function<void(const Deadline&)>& each) override;
  Result<void> put_hold(const LegalHold& h) override;
  Result<void> remove_hold(HoldKind kind, const std::string& key, TimePoint at,
                           const std::string& actor) override;
  Result<void> delete_body(std::int64_t message_id, TimePoint at) override;
  Result<void> delete_record(std::int64_t message_id, TimePoint at) override;
  Result<void> reclaim_space(int pages) override;
  Result<std::vector<RetentionFacts>> retention_candidates(RetentionStage stage,
                                                           TimePoint received_before,
                                                           RetentionCursor after,
                                                           int limit) override;
  Result<std::vector<LegalHold>> list_holds() override;
  Result<AuditHead> audit_head() override;

  // Seals every audit entry written from now on with HMAC-SHA256 under `key` (issue 12, item
  // 5; audit_chain.hpp). Call once after open(), before the first write.
  void set_audit_key(AuditKey key);
  Result<OperatorCounts> operator_counts(TimePoint now) override;
  Result<std::vector<std::int64_t>> messages_of_citizen(const std::string& citizen_key,
                                                        std::int64_t before_id, int limit) override;

 private:
  SqliteStore(sqlite3* writer, sqlite3* reader, sqlite3* counter);
  Result<void> load_audit_head();
  // Whether message `id` exists, as the writer connection sees it (the open batch included),
  // through a statement prepared once: the lease and precondition checks (sqlite_leases.cpp).
  Result<bool> message_on_writer(std::int64_t id);
  // The latest version of a letter as the writer connection sees it: its message and content
  // hash, empty when none is stored (store_message's checks of what a decision took as given).
  struct StoredLetter {
    std::int64_t message_id = 0;
    std::string content_hash;
    bool operator==(const StoredLetter&) const = default;
  };
  Result<std::optional<StoredLetter>> letter_on_writer(const std::string& sender_gln,
                                                       const std::string& letter_id);
  // put_deadline's writes, inside the caller's savepoint.
  Result<void> write_deadline(const Deadline& d, std::int64_t message_id,
                              const MessageEvent& event);
  template <typename T, typename Op>
  Result<T> atomically(Op&& op);
  sqlite3* writer_;
  sqlite3* reader_;
  std::unique_ptr<StatementCache> write_stmts_;  // writer thread only
  std::unique_ptr<StatementCache> read_stmts_;   // guarded by read_mu_
  // operator_counts() and each_deadline_opened_between() alone: a recount reads every open deadline
  // (hundreds of ms at a million), the statistics a year of deadlines, and neither may hold the
  // connection the io thread's reads wait for (WAL: readers run side by side).
  sqlite3* counter_;
  std::unique_ptr<StatementCache> count_stmts_;  // guarded by count_mu_
  std::mutex count_mu_;
  bool in_batch_ = false;    // writer thread only
  bool guard_calls_ = true;  // each call in its own SAVEPOINT (Store::guard_calls); writer only
  bool spoiled_ = false;     // a call failed unguarded: the batch must be rolled back
  // The audit chain's head as of the last released savepoint (writer thread only). A write
  // operation appends on op_head_, a copy taken when it starts, and it becomes audit_head_ only
  // when the operation's savepoint is released; rollback_batch() and a failed commit reload it
  // from the file. So appending costs one insert, and a rolled-back entry is never chained on.
  AuditHead audit_head_;
  AuditHead op_head_;
  bool audit_head_known_ = false;
  std::mutex read_mu_;
  std::unique_ptr<AuditKey> audit_key_;  // set_audit_key(); null: unkeyed
  int lock_fd_ = -1;              // the exclusive lock on "<path>.lock" (one broker per file)
  LeaseTable lease_table_;        // writer thread only
  std::size_t pending_seen_ = 0;  // pending deliveries at the last lease pass (writer thread)
  // With SqliteTuning::checkpoint_in_background: the writer connection's WAL hook and the thread
  // that checkpoints; stopped first when the store closes.
  std::unique_ptr<WalCheckpointer> checkpointer_;
  bool may_defer_sync_ = false;        // SqliteTuning::defer_wal_sync
  std::shared_ptr<WalSync> wal_sync_;  // defer_sync(true): the writer's commits leave their sync
};

}  // namespace sektorbro
