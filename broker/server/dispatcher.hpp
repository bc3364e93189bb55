// Dispatcher: the imperative shell of delivery. It takes what the outbox (broker/delivery)
// says is due, writes each stored message in its receiver's dialect, posts it through the
// transport, reads any receipt in the answer (through Intake, like a posted one), and commits
// the step delivery_transition decides; it resends when a receipt does not come and relays a
// receiver's refusal to the sender. A CertificateRequest's deadline opens when it is delivered.
//
// Several brokers on one database (issue 11, item 2): it attempts only deliveries whose lease it
// holds (broker/delivery/lease_rules.hpp; Store "leases"). A message this broker stores starts
// leased to it; every lease/3 a lease pass renews what it holds and takes over what nobody holds
// any more (a broker that died), in one commit; a lease lost meanwhile is dropped from the queue.
//
// Thread rules: io thread only; transfers run on the transport's thread, commits on the
// writer's, both awaited.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/core/clock.hpp"
#include "broker/deadlines/calendar.hpp"
#include "broker/delivery/delivery_queue.hpp"
#include "broker/delivery/delivery_transition.hpp"
#include "broker/delivery/lease_rules.hpp"
#include "broker/delivery/receipt_watch.hpp"
#include "broker/delivery/transport.hpp"
#include "broker/http/asio.hpp"
#include "broker/metrics/broker_metrics.hpp"
#include "broker/routing/router.hpp"
#include "broker/server/broker_letters.hpp"
#include "broker/server/fresh_messages.hpp"
#include "broker/server/intake.hpp"
#include "broker/store/group_commit_writer.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

class Dispatcher {
 public:
  Dispatcher(asio::io_context& io, const BrokerConfig& config, const Directory& directory,
             const WorkingCalendar& calendar, Store& store, GroupCommitWriter& writer,
             Transport& transport, const Clock& clock, BrokerIds& ids, Intake& intake,
             metrics::BrokerMetrics& metrics);

  // Loads the pending deliveries and the receipts still owed, then starts delivering.
  Result<void> start();
  // Stops starting attempts; those in flight finish.
  void stop();

  // Queues a stored message for an attempt at `at` and starts what is due. The attempt is made
  // only under a lease: without one known here, the next lease pass looks for it.
  void schedule(std::int64_t message_id, const std::string& endpoint, TimePoint at);
  // The same for a message this broker has just leased to itself until `until` (in the commit
  // that stored or requeued it: Store::lease_delivery).
  void schedule_leased(std::int64_t message_id, const std::string& endpoint, TimePoint at,
                       TimePoint until);
  // This broker's name in the leases (cluster.node) and the end of a lease granted at `now`.
  const std::string& node() const { return node_; }
  // The citizen index's key (issue 10): the negative receipts the broker relays are keyed by the
  // refused message's patients. Unset: no keys.
  void set_citizen_keyer(const CitizenKeyer* keyer) { citizen_keyer_ = keyer; }
  TimePoint lease_from(TimePoint now) const { return lease_until(now, config_.cluster.lease); }
  // Leases are measured on the lease clock (issue 11): real time, not the business clock (the
  // Broker sets it; unset, the business clock). Now on it, and the end of a lease granted now.
  void set_lease_clock(const Clock& lease_clock) { lease_clock_ = &lease_clock; }
  TimePoint lease_now() const { return (lease_clock_ != nullptr ? *lease_clock_ : clock_).now(); }
  TimePoint lease_end() const { return lease_from(lease_now()); }
  // Renews the leases held and takes over deliveries nobody holds, in one commit, then queues
  // what it took (also what the lease timer runs every lease/3). One pass at a time; asked for
  // while one runs, another follows it.
  void renew_and_claim();
  std::size_t leases_held() const { return leases_.size(); }
  // Receipts came for these messages: no resend.
  void receipted(const std::vector<std::int64_t>& message_ids);
  // A message was handed over (delivered, or confirmed from a mailbox): watch for its receipt.
  void watch_receipt(std::int64_t message_id, const std::string& endpoint, TimePoint now);
  // Resends what waited too long for its receipt; gives up after the last resend.
  asio::awaitable<void> check_receipts(TimePoint now);
  // Starts every attempt that is due (e.g. after a manual clock moved).
  void pump();

  // A stored (native) body as `to` receives it: in its dialect (an SBDH receiver with its
  // sbdh_payload; a FHIR receipt naming the original FHIR message id), and for a resend in a new
  // envelope with the given id and time `now`. `instance_id`, when given, is set to the SBDH
  // envelope's InstanceIdentifier (issue 9: recorded before it is sent). `sent_fhir_key`, when
  // given, is set to sent_fhir_message_key() of the FHIR message written (empty if none): it is
  // recorded before it is sent too, so the receiver's Acknowledgement finds this message.
  Result<std::string> outbound_body(const std::string& stored, const Endpoint& to, TimePoint now,
                                    const std::optional<std::string>& resend_envelope_id = {},
                                    std::string* instance_id = nullptr,
                                    std::string* sent_fhir_key = nullptr);

  // What delivering `message` (a CertificateRequest) does to deadlines: its clock starts at its
  // delivery to the psychiatry unit (domain.md §5); a corrected one is applied then. Opening
  // writes are DeadlineWrite::if_absent: a new request costs no read here, and a delivery
  // again (or a racing one) leaves the stored deadline as it is.
  // `requests`, when given, are the message's CertificateRequest letters as Intake decoded them
  // (so the stored body is not decoded again); otherwise the body is decoded.
  std::vector<DeadlineWrite> deadlines_on_delivery(const MessageRecord& message, TimePoint now,
                                                   const std::vector<Letter>* requests = nullptr);

  std::size_t waiting() const { return queue_.waiting(); }
  std::size_t in_flight() const { return queue_.in_flight(); }
  // Attempts begun and not yet settled (their outcome committed or given up): 0 when idle.
  std::size_t busy() const { return busy_; }

  // A message Intake has just stored: kept in memory for its first attempt, so the attempt reads
  // nothing back from the store (fresh_messages.hpp: bounded by what the entries hold; beyond
  // the bound the attempt reads the store). `requests` are its CertificateRequest letters
  // (their deadlines open at delivery). The plan itself is not kept.
  void remember(std::int64_t message_id, std::shared_ptr<const MessagePlan> plan,
                std::shared_ptr<const std::vector<Letter>> requests);
  std::size_t receipts_owed() const { return receipts_.size(); }
  // Sets the per-endpoint waiting / in-flight gauges (at scrape time).
  void report_load() const;

 private:
  struct ResponseReceipts {
    bool negative = false;  // a negative receipt or an EHMI ReceiptException
    bool relayed = false;   // a business receipt was taken and relayed to the sender
  };
  void arm_timer();
  void arm_lease_timer();
  asio::awaitable<void> lease_pass();
  // Queues each of `deliveries` that is in `unqueued`, and takes it out of `unqueued`.
  void queue_among(std::unordered_set<std::int64_t>& unqueued,
                   const std::vector<PendingDelivery>& deliveries);
  // Leases a pass renewed for deliveries this process did not know: queues those still pending
  // (read one by one when few, else in one pending_deliveries() read) and forgets the rest.
  void resume_renewed(std::unordered_set<std::int64_t> unknown);
  asio::awaitable<void> attempt(std::int64_t message_id);
  using FreshRequests = std::shared_ptr<const std::vector<Letter>>;
  // The message for its attempt: from FreshMessages if kept there (and then its decoded
  // requests into `*requests`), else from the store.
  Result<std::optional<MessageRecord>> load(std::int64_t message_id, FreshRequests* requests);
  asio::awaitable<TransportResponse> post_to(const Endpoint& to, std::string body);
  asio::awaitable<ResponseReceipts> receipts_in_response(const TransportResponse& response,
                                                         const Endpoint& receiver,
                                                         std::int64_t message_id,
                                                         bool expects_receipt, TimePoint now);
  asio::awaitable<void> relay_refusal(const MessageRecord& original, const std::string& reason);
  Result<void> rebuild_receipt_watch();
  Duration receipt_timeout_for(const std::string& endpoint_id) const;
  double random01();

  asio::io_context& io_;
  const BrokerConfig& config_;
  const Directory& directory_;
  const WorkingCalendar& calendar_;
  Store& store_;
  GroupCommitWriter& writer_;
  Transport& transport_;
  const Clock& clock_;
  BrokerIds& ids_;
  Intake& intake_;
  metrics::BrokerMetrics& metrics_;
  DeliveryQueue queue_;
  ReceiptWatch receipts_;
  asio::steady_timer timer_;
  bool stopping_ = false;
  // Attempts whose outcome the store could not record, per message: the backoff counts them.
  std::map<std::int64_t, int> unrecorded_;
  std::uint64_t random_state_;
  std::size_t busy_ = 0;
  // Fresh messages not yet attempted (fresh_messages.hpp).
  FreshMessages fresh_;
  // Leases (issue 11, item 2).
  std::string node_;
  const CitizenKeyer* citizen_keyer_ = nullptr;
  LeaseBook leases_;
  asio::steady_timer lease_timer_;
  TimePoint last_lease_pass_{};  // when the last pass began (on the lease clock)
  const Clock* lease_clock_ = nullptr;
  bool lease_pass_running_ = false;
  bool lease_pass_again_ = false;
  bool resumed_logged_ = false;
};

}  // namespace sektorbro
