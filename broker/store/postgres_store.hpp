// PostgresStore: the Store on PostgreSQL (issue 11, item 1), for one or several brokers sharing
// one database. Same contract and semantics as SqliteStore (store.hpp); the schema and its
// versions are in postgres_migrations.cpp.
//
// Connections: one for the writer thread, one for reads (guarded by a mutex, like SqliteStore's
// reader). Every statement is prepared once per connection; every value is a bound parameter.
//
// Transactions: a batch is one transaction (group commit: one commit, one WAL flush, per batch);
// each write operation inside it is a savepoint, so a failed operation leaves no trace and the
// rest of the batch still commits. Outside a batch an operation is its own transaction.
//
// Several brokers on one database: the first write of every transaction locks the one row of
// `store_head` (SELECT … FOR UPDATE), held until commit or rollback, and only then reads the audit
// chain's head and the highest message id. So writers take turns per transaction: the chain
// stays one chain, message ids grow in commit order, and the kStale preconditions of
// store_message() are checked against everything any broker committed before.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "broker/store/audit_chain.hpp"
#include "broker/store/postgres_connection.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

class PostgresStore final : public Store {
 public:
  // Connects twice to `conninfo` (a libpq connection string or URI) and migrates the schema.
  // Start-up errors come back as kStorage with a one-line reason that never holds the password.
  static Result<std::unique_ptr<PostgresStore>> open(const std::string& conninfo);
  ~PostgresStore() override;

  Result<void> begin_batch() override;
  Result<void> commit_batch() override;
  void rollback_batch() override;
  Result<std::int64_t> store_message(const MessagePlan& plan) override;
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

  // Leases (issue 11, item 2): tables delivery_leases, broker_leases and singleton_leases
  // (postgres_leases.cpp). renew_leases runs in a transaction of its own outside a batch.
  Result<void> lease_delivery(std::int64_t message_id, const std::string& owner,
                              TimePoint until) override;
  Result<std::vector<PendingDelivery>> claim_deliveries(const std::string& owner, TimePoint now,
                                                        TimePoint until, int limit) override;
  Result<std::vector<std::int64_t>> renew_leases(const std::string& owner, TimePoint now,
                                                 TimePoint until) override;
  Result<bool> hold_singleton(const std::string& name, const std::string& owner, TimePoint now,
                              TimePoint until) override;
  Result<std::vector<std::int64_t>> claim_mailbox(const std::string& endpoint,
                                                  const std::string& owner, TimePoint now,
                                                  TimePoint until, int limit) override;
  Result<void> expect_deadline(const Deadline& expected) override;
  Result<void> expect_receipt_watch(std::int64_t message_id, int resends) override;
  Result<void> expect_delivery_state(std::int64_t message_id, DeliveryState state) override;

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
  // A statement as the store runs it: its prepared name, SQL, parameters and their types (empty:
  // the server infers them). Public so that the plan tests can EXPLAIN what the store runs
  // (postgres_store_test.cpp).
  struct Statement {
    std::string name;
    std::string sql;
    PgParams params;
    std::vector<unsigned> types;
  };
  // The statement list_deadlines() runs for `filter`: a name per filter shape. Nullopt when the
  // filter can match nothing (an overdue filter with a state other than open, a limit of 0); an
  // error when it cannot be run (the overdue filter without the current time).
  static Result<std::optional<Statement>> deadline_list_query(const DeadlineFilter& filter);
  // The statements whose cost must follow the work pending, not the store's history, with the
  // arguments they are run with: what a start reads (pending_deliveries, receipts_owed,
  // due_deadlines; issue 8 item 4) and what every lease pass runs (claim_deliveries,
  // renew_leases, claim_mailbox; issue 11 item 2). postgres_store.cpp and postgres_leases.cpp
  // run these same statements.
  static std::vector<Statement> start_statements(TimePoint now, int limit);
  static std::vector<Statement> lease_pass_statements(const std::string& owner,
                                                      const std::string& endpoint, TimePoint now,
                                                      TimePoint until, int limit);
  Result<void> each_deadline_opened_between(
      TimePoint from, TimePoint to, const std::function<void(const Deadline&)>& each) override;
  Result<OperatorCounts> operator_counts(TimePoint now) override;
  Result<std::vector<std::int64_t>> messages_of_citizen(const std::string& citizen_key,
                                                        std::int64_t before_id, int limit) override;
  // Retention, holds and the chain's head (issue 11 item 4, issue 12 item 5;
  // postgres_store.cpp, the end).
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

 private:
  PostgresStore(std::unique_ptr<PgConnection> writer, std::unique_ptr<PgConnection> reader,
                std::unique_ptr<PgConnection> counter);
  // list_messages() with the console's search criteria (issue 10).
  Result<std::vector<MessageRecord>> search_messages(const MessageFilter& filter);

  // --- helpers for member functions defined in other files (e.g. postgres_leases.cpp) ---
  //
  // atomically(op): runs `op` (returning Result<T>) as one write operation on the writer
  // connection: inside the open batch as a savepoint, otherwise as its own transaction; the
  // store_head row is locked first, so `op` runs as the only writer on the database. On error
  // nothing `op` wrote remains. `op` writes through wexec()/wrun() and may append to the audit
  // chain with append_chain(op_head_, …) (it becomes the head only when the operation holds).
  template <typename T, typename Op>
  Result<T> atomically(Op&& op);
  // atomically<void>(op) for files other than postgres_store.cpp (the template is defined there).
  Result<void> write_operation(const std::function<Result<void>()>& op);
  // Writer connection: a statement prepared on first use under `name` (keep names unique per
  // file, e.g. "lease_take"), run with `params` (together with what atomically() queued before
  // it: use wrun, not writer().run, inside an operation). `types` as in PgConnection::prepare.
  Result<PgResult> wrun(const std::string& name, const std::string& sql, const PgParams& params,
                        std::string_view what, const std::vector<unsigned>& types = {});
  // Reader connection, the same; the caller must hold read_mu_.
  Result<PgResult> rrun(const std::string& name, const std::string& sql, const PgParams& params,
                        std::string_view what, const std::vector<unsigned>& types = {});
  Result<PgResult> rrun(const Statement& s, std::string_view what) {
    return rrun(s.name, s.sql, s.params, what, s.types);
  }
  // Counting connection, the same; the caller must hold count_mu_.
  Result<PgResult> crun(const std::string& name, const std::string& sql, const PgParams& params,
                        std::string_view what, const std::vector<unsigned>& types = {});
  PgConnection& writer() { return *writer_; }
  PgConnection& reader() { return *reader_; }  // hold read_mu_

  Result<void> lock_head();  // within the writer's open transaction
  // `binding`: what the entry binds of the row it records (audit_chain.hpp, issue 12 item 5);
  // `timeline_of`: the message whose timeline event the entry is (schema version 6).
  Result<void> append_chain(AuditHead& head, TimePoint at, std::string_view kind,
                            std::string_view actor, std::string_view subject,
                            std::string_view detail, std::string_view binding = {},
                            std::optional<std::int64_t> timeline_of = std::nullopt);
  // A timeline event: its chain entry, for a message that exists (kNotFound otherwise).
  Result<void> insert_event(std::int64_t message_id, TimePoint at, std::string_view kind,
                            std::string_view detail, std::string_view actor,
                            std::string_view subject_more = {}, std::string_view binding = {});
  Result<void> write_deadline(const Deadline& d, std::int64_t message_id,
                              const MessageEvent& event);
  Result<std::vector<NewLetter>> read_letters(std::int64_t message_id);

  std::unique_ptr<PgConnection> writer_;
  std::unique_ptr<PgConnection> reader_;
  // operator_counts() and each_deadline_opened_between() alone: the gauges' recount reads every
  // open deadline, the statistics a year of deadlines, and neither may hold the connection the
  // io thread's reads wait for (as SqliteStore's counting connection).
  std::unique_ptr<PgConnection> counter_;
  std::mutex count_mu_;
  bool in_batch_ = false;  // writer thread only
  // When each owner's next claim reads every pending message (postgres_leases.cpp, the claims).
  std::unordered_map<std::string, TimePoint> full_claim_due_;  // writer thread only
  // Set once the current transaction holds the store_head lock; audit_head_ and next_id_ are
  // valid only then (another broker may write between our transactions).
  bool head_locked_ = false;
  AuditHead audit_head_;  // as of the last released savepoint
  AuditHead op_head_;     // the running operation's copy
  // The next message id (store_head.last_message_id + 1), as of the last released savepoint.
  std::int64_t next_id_ = 1;
  std::int64_t op_next_id_ = 1;  // the running operation's copy
  // Statements atomically() queued to go out with the operation's first one (BEGIN, or the
  // RELEASE of the previous operation's savepoint and SAVEPOINT op). Writer thread only.
  std::vector<std::string> prelude_;
  bool release_pending_ = false;  // a successful operation's savepoint is still open (batch)
  std::mutex read_mu_;
  // postgres_leases.cpp: one lease operation as one write (see there).
  Result<PgResult> lease_write(const std::string& name, const std::string& sql,
                               const PgParams& params, std::string_view what,
                               const std::vector<unsigned>& types = {});
  Result<PgResult> lease_write(const Statement& s, std::string_view what) {
    return lease_write(s.name, s.sql, s.params, what, s.types);
  }
};

}  // namespace sektorbro
