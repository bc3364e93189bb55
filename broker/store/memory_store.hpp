// MemoryStore: the whole Store contract in memory (leveldb's memenv idea), for tests of the
// server's drivers without SQLite. Seen through the Store interface it behaves like SqliteStore
// (store_contract_test.cpp runs one suite against both, store_differential_test.cpp compares
// them over seeded random runs): message ids increase from 1, timelines
// keep insertion order, list and deadline queries filter, order and page the same way, the same
// operations fail with the same Errc (kStale, kNotFound, kConflict, kInvalid), and reads see only
// committed batches, as SqliteStore's separate read connection does.
//
// A broker restart in a test is a new broker on the same MemoryStore object (what was committed
// stays); a crash with a batch open is rollback_batch() first, as SQLite undoes an uncommitted
// transaction when the file is opened again.
//
// Not kept: nothing is durable beyond the object's life, and the audit chain is a plain list of
// entries (seq, at, kind, actor, subject, detail as SqliteStore writes them) without hashes —
// audit_entries() returns it; the hashing and its verification are SqliteStore's
// (audit_chain.hpp, audit_verify.hpp).
//
// Atomicity: every write operation records its changes in an undo log. A failed operation is
// undone at once (no trace, the batch goes on); commit_batch replays the batch's log onto the
// committed state the readers see; rollback_batch undoes the whole batch. An operation outside a
// batch commits on its own. Costs are in proportion to what an operation writes, not to the
// size of the store (list queries scan: this is for tests, not for a million deadlines).
//
// Fault switches for tests (any thread): fail_commits(true) makes every commit fail with
// kStorage, as a full disk would — commit_batch loses the whole batch, and a write outside a
// batch (its own commit) fails without a trace. fail_writes(true) makes the next write operations
// fail with kStorage as SQLite does when a write hits a full disk mid-batch: the batch is lost
// with it, later operations in that batch fail too and its commit_batch reports the loss.
//
// Thread rules: as Store — writes from one thread, reads from any other thread concurrently; one
// mutex guards the state, so any thread is safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "broker/store/audit_chain.hpp"
#include "broker/store/lease_table.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

namespace memory_store_detail {
struct State;   // the tables (memory_store.cpp)
struct Change;  // one undoable change to them
}  // namespace memory_store_detail

class MemoryStore final : public Store {
 public:
  MemoryStore();
  ~MemoryStore() override;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  // --- fault switches (tests) ---
  void fail_commits(bool on) { fail_commits_ = on; }
  void fail_writes(bool on) { fail_writes_ = on; }

  // The committed audit entries in seq order (1, 2, 3, …); prev_hash and hash are empty.
  std::vector<AuditEntry> audit_entries();
  // store_message calls that succeeded with a body the caller packed and hashed (NewMessage::
  // packed_body and body_sha256); a call in a group replayed counts again. store_message refuses
  // (kInvalid) a packed body or a hash that is not the body's.
  int prepared_bodies() const { return prepared_bodies_; }
  // find_letter calls so far: what intake read for the letters it decided on.
  int letter_reads() const { return letter_reads_; }

  Result<void> begin_batch() override;
  Result<void> commit_batch() override;
  void rollback_batch() override;
  Result<std::int64_t> store_message(const MessagePlan& plan) override;
  // Each call is atomic, and a letter stored meanwhile is kStale before anything is kept.
  bool checks_unread_letters() const override { return true; }
  using Store::update_delivery;
  Result<void> update_delivery(std::int64_t message_id, DeliveryState state, int attempts,
                               TimePoint next_attempt_at, const std::string& last_error,
                               const MessageEvent& event,
                               std::optional<TimePoint> receipt_watch_from) override;
  Result<void> watch_receipt(std::int64_t message_id, std::optional<TimePoint> last_sent,
                             int resends) override;
  Result<void> set_receipt(std::int64_t message_id, ReceiptState receipt,
                           const MessageEvent& event) override;
  Result<void> append_event(const MessageEvent& event) override;
  Result<void> requeue(std::int64_t message_id, TimePoint now) override;
  Result<void> audit(TimePoint at, const std::string& kind, const std::string& detail) override;
  Result<void> audit_action(TimePoint at, const std::string& actor, const std::string& action,
                            const std::string& subject, const std::string& detail) override;
  Result<void> put_deadline(const Deadline& d, std::int64_t message_id,
                            const MessageEvent& event) override;
  Result<bool> open_deadline(const Deadline& d, std::int64_t message_id,
                             const MessageEvent& event) override;

  // Leases (issue 11, item 2): kept in lease_table_ (one broker per store).
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
  Result<OperatorCounts> operator_counts(TimePoint now) override;
  Result<std::vector<std::int64_t>> messages_of_citizen(const std::string& citizen_key,
                                                        std::int64_t before_id, int limit) override;

 private:
  using State = memory_store_detail::State;
  using Change = memory_store_detail::Change;
  // Runs one write operation: undone if it fails, committed at once outside a batch.
  template <typename T, typename Body>
  Result<T> atomically(Body&& body);
  void undo_to(std::size_t mark);  // caller holds mu_
  void commit_log();               // caller holds mu_

  std::mutex mu_;
  std::unique_ptr<State> committed_;  // what readers see
  std::unique_ptr<State> working_;    // committed_ plus the open batch's changes
  std::vector<Change> log_;           // the open batch's changes, oldest first
  bool in_batch_ = false;
  bool batch_lost_ = false;  // a write failed as on a full disk: the batch is gone
  std::atomic<bool> fail_commits_{false};
  std::atomic<bool> fail_writes_{false};
  std::atomic<int> prepared_bodies_{0};
  std::atomic<int> letter_reads_{0};
  LeaseTable lease_table_;  // guarded by mu_
};

}  // namespace sektorbro
