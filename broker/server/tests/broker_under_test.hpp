// The broker's drivers without a socket (issue 8): a Broker on an in-memory store
// (MemoryStore), a scripted transport and a manual clock, driven on the test's own io_context.
// Nothing sleeps: the test runs the io_context until a condition holds, with a bound, and moves
// the clock by hand.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/codec/codec.hpp"
#include "broker/core/clock.hpp"
#include "broker/server/broker.hpp"
#include "broker/store/group_commit_writer.hpp"
#include "broker/store/memory_store.hpp"
#include "tests/harness/sample_messages.hpp"

namespace sektorbro::testing {

// A transport that records every request and answers from a script: by default 200 with an
// empty body. Answers synchronously on the caller's thread (the io thread), as a fast network.
class ScriptedTransport final : public Transport {
 public:
  using Script = std::function<TransportResponse(const OutboundRequest&)>;
  void post(OutboundRequest request, std::function<void(TransportResponse)> done) override {
    TransportResponse response;
    {
      std::lock_guard lock(mu_);
      response = script_ ? script_(request) : TransportResponse{200, "", ""};
      sent_.push_back(std::move(request));
    }
    done(std::move(response));
  }
  void answer_with(Script script) {
    std::lock_guard lock(mu_);
    script_ = std::move(script);
  }
  std::vector<OutboundRequest> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  std::size_t count() const {
    std::lock_guard lock(mu_);
    return sent_.size();
  }

 private:
  mutable std::mutex mu_;
  Script script_;
  std::vector<OutboundRequest> sent_;
};

struct Parties {
  Party jc = make_party("579000012345", "265161000016001", "Jobcenter Test");
  Party psy = make_party("579000054321", "265161000016003", "Psykiatrien Test");
  Party broker = make_party("579000099999", "265161000016999", "Sektorbro");
};

BrokerConfig test_config(const Parties& p);

class BrokerUnderTest {
 public:
  explicit BrokerUnderTest(BrokerConfig config, std::shared_ptr<MemoryStore> store = {});
  // Several brokers on one store (issue 11, item 2): they share its one writer, as brokers on
  // one PostgreSQL share the database's serialised commits; each has its own clock and transport.
  // `lease_clock`: the clock leases are measured on (Broker's constructor); by default this
  // broker's manual clock.
  BrokerUnderTest(BrokerConfig config, std::shared_ptr<MemoryStore> store,
                  std::shared_ptr<GroupCommitWriter> writer, const Clock* lease_clock = nullptr);
  ~BrokerUnderTest();

  // POST /v1/messages on the plain loopback listener, answered once committed.
  HttpResponse post(const std::string& body);
  HttpResponse post(const Envelope& e) { return post(encode_envelope(e)); }
  // The same with another Content-Type (issue 9: application/fhir+json).
  HttpResponse post_as(const std::string& body, const std::string& content_type);
  HttpResponse get(const std::string& target) { return send(http::verb::get, target); }
  HttpResponse send(http::verb verb, const std::string& target);
  // Starts a request without waiting for its answer: the answer appears in the returned slot
  // once run_until() (or run_ready()) has run the broker far enough. For requests that must be
  // in flight at the same time.
  std::shared_ptr<std::optional<HttpResponse>> start(http::verb verb, const std::string& target);
  std::shared_ptr<std::optional<HttpResponse>> start(HttpRequest request);
  // A document as Intake takes it from an endpoint the transport authenticated (its TLS
  // certificate, or the inbox it dropped the file in), answered once committed.
  Intake::Answer receive_from(const std::string& endpoint, std::string bytes);
  // A POST /v1/messages request, as post() sends it.
  static HttpRequest post_request(const std::string& body,
                                  const std::string& content_type = "application/xml");
  // Runs every handler that is ready now, until none is: each coroutine started is then
  // suspended on something outside the io_context (a store commit, a timer). No waiting.
  void run_ready();
  // Runs the io_context until `done()` holds; false if it did not within the bound.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds bound = std::chrono::seconds{10});
  // Moves the manual clock, then starts what fell due and runs one deadline sweep (which also
  // checks receipts owed), as POST /v1/test/clock/advance does, and settles.
  void advance(Duration d);
  // Runs until no delivery attempt is in flight (each one's outcome committed or failed).
  void settle();

  std::optional<MessageRecord> message_of(const std::string& sender_gln,
                                          const std::string& letter_id);
  std::vector<std::string> timeline_kinds(std::int64_t message_id);

  ManualClock clock;
  std::shared_ptr<MemoryStore> store;
  ScriptedTransport transport;
  Broker& broker() { return *broker_; }
  std::shared_ptr<GroupCommitWriter> writer() { return writer_; }

 private:
  HttpResponse call(HttpRequest request);
  BrokerConfig config_;
  asio::io_context io_;
  std::shared_ptr<GroupCommitWriter> writer_;
  std::unique_ptr<Broker> broker_;
};

}  // namespace sektorbro::testing
