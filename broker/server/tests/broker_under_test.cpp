#include "broker/server/tests/broker_under_test.hpp"

#include <gtest/gtest.h>

namespace sektorbro::testing {
namespace {

Endpoint endpoint(const std::string& id, const Party& party, EndpointKind kind,
                  std::vector<LetterType> accepts) {
  Endpoint e;
  e.id = id;
  e.party = party;
  e.kind = kind;
  e.url = "http://127.0.0.1:9/" + id;
  e.accepts = std::move(accepts);
  return e;
}

}  // namespace

BrokerConfig test_config(const Parties& p) {
  BrokerConfig c;
  c.listen.allow_plain_http = true;
  c.identity = p.broker;
  c.endpoints = {
      endpoint("jc", p.jc, EndpointKind::kJobcenter,
               {LetterType::kCertificate, LetterType::kDischargeNotice, LetterType::kReminder}),
      endpoint(
          "psy", p.psy, EndpointKind::kPsychiatry,
          {LetterType::kCertificateRequest, LetterType::kMentorResponse, LetterType::kReminder})};
  c.delivery.retry.jitter = 0.0;  // exact instants in the tests
  c.delivery.retry.max_attempts = 4;
  c.delivery.retry.initial_backoff = std::chrono::seconds{2};
  c.delivery.receipt_timeout = std::chrono::minutes{15};
  c.delivery.max_resends = 2;
  c.deadlines.sweep_interval = std::chrono::hours{24 * 365};  // the tests sweep by hand
  return c;
}

BrokerUnderTest::BrokerUnderTest(BrokerConfig config, std::shared_ptr<MemoryStore> shared)
    : BrokerUnderTest(std::move(config), std::move(shared), nullptr) {}

BrokerUnderTest::BrokerUnderTest(BrokerConfig config, std::shared_ptr<MemoryStore> shared,
                                 std::shared_ptr<GroupCommitWriter> writer,
                                 const Clock* lease_clock)
    : clock(from_millis(1'764'576'000'000)),  // Monday 2025-12-01 08:00 UTC
      store(shared ? std::move(shared) : std::make_shared<MemoryStore>()),
      config_(std::move(config)) {
  writer_ = writer ? std::move(writer) : std::make_shared<GroupCommitWriter>(*store, 64);
  broker_ = std::make_unique<Broker>(io_, config_, *store, *writer_, transport, clock, &clock,
                                     lease_clock);
  auto started = broker_->start();
  EXPECT_TRUE(started) << (started ? "" : started.error().detail);
}

BrokerUnderTest::~BrokerUnderTest() {
  broker_->stop();
  // Let what is in flight finish while the broker still exists: every job submitted to the
  // writer is done and its completion has run on io_. A completion still queued in io_ when the
  // broker is gone resumes (or destroys) a coroutine of a destroyed driver — under load the 50 ms
  // that were here were not always enough (a SEGFAULT in CI). A barrier job's completion comes
  // after every earlier one (the writer runs jobs and their `done`s in order, and io_ runs what
  // they post in order); it is repeated until a round in which nothing else was committed.
  // Brokers that share a store or a writer (ClusterTest) keep the short bound: their fixture
  // settles them all before any goes, and the others' jobs answer the others.
  run_until([] { return false; }, std::chrono::milliseconds{50});
  const bool alone = writer_.use_count() == 1 && store.use_count() == 1;
  for (int round = 0; alone && round < 20; ++round) {
    const std::uint64_t before = writer_->jobs_committed();
    auto reached = std::make_shared<bool>(false);
    writer_->submit(GroupCommitWriter::Job{
        [](Store&) {},
        [this, reached](const Result<void>&) { asio::post(io_, [reached] { *reached = true; }); }});
    if (!run_until([&] { return *reached; }, std::chrono::seconds{10})) break;
    run_until([] { return false; }, std::chrono::milliseconds{5});
    if (writer_->jobs_committed() <= before + 1) break;
  }
  broker_.reset();
  writer_.reset();
}

bool BrokerUnderTest::run_until(const std::function<bool()>& done,
                                std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io_.restart();
    io_.run_one_for(std::chrono::milliseconds{5});
  }
  return true;
}

HttpResponse BrokerUnderTest::call(HttpRequest request) {
  std::optional<HttpResponse> answer;
  PeerIdentity peer;
  peer.remote_address = "127.0.0.1";
  asio::co_spawn(io_, broker_->handle(std::move(request), peer),
                 [&answer](std::exception_ptr e, HttpResponse r) {
                   if (e) std::rethrow_exception(e);
                   answer = std::move(r);
                 });
  EXPECT_TRUE(run_until([&] { return answer.has_value(); })) << "no answer in time";
  return answer.value_or(HttpResponse{});
}

HttpResponse BrokerUnderTest::post(const std::string& body) {
  return post_as(body, "application/xml");
}

HttpRequest BrokerUnderTest::post_request(const std::string& body,
                                          const std::string& content_type) {
  HttpRequest request{http::verb::post, "/v1/messages", 11};
  request.set(http::field::content_type, content_type);
  request.body() = body;
  request.prepare_payload();
  return request;
}

Intake::Answer BrokerUnderTest::receive_from(const std::string& endpoint, std::string bytes) {
  std::optional<Intake::Answer> answer;
  asio::co_spawn(io_, broker_->intake().receive(std::move(bytes), endpoint, endpoint),
                 [&answer](std::exception_ptr e, Intake::Answer a) {
                   if (e) std::rethrow_exception(e);
                   answer = std::move(a);
                 });
  EXPECT_TRUE(run_until([&] { return answer.has_value(); })) << "no answer in time";
  settle();
  return answer.value_or(Intake::Answer{});
}

HttpResponse BrokerUnderTest::post_as(const std::string& body, const std::string& content_type) {
  HttpResponse answer = call(post_request(body, content_type));
  settle();
  return answer;
}

HttpResponse BrokerUnderTest::send(http::verb verb, const std::string& target) {
  return call(HttpRequest{verb, target, 11});
}

std::shared_ptr<std::optional<HttpResponse>> BrokerUnderTest::start(http::verb verb,
                                                                    const std::string& target) {
  return start(HttpRequest{verb, target, 11});
}

std::shared_ptr<std::optional<HttpResponse>> BrokerUnderTest::start(HttpRequest request) {
  auto answer = std::make_shared<std::optional<HttpResponse>>();
  PeerIdentity peer;
  peer.remote_address = "127.0.0.1";
  asio::co_spawn(io_, broker_->handle(std::move(request), peer),
                 [answer](std::exception_ptr e, HttpResponse r) {
                   if (e) std::rethrow_exception(e);
                   *answer = std::move(r);
                 });
  return answer;
}

void BrokerUnderTest::run_ready() {
  // Bounded: a handler that keeps re-posting itself must not hang the test.
  for (int round = 0; round < 100'000; ++round) {
    io_.restart();
    if (io_.poll() == 0) return;
  }
  ADD_FAILURE() << "the io_context never ran out of ready handlers";
}

void BrokerUnderTest::advance(Duration d) {
  clock.advance(d);
  bool swept = false;
  broker_->dispatcher().pump();
  asio::co_spawn(io_, broker_->sweeper().sweep(), [&swept](std::exception_ptr) { swept = true; });
  EXPECT_TRUE(run_until([&] { return swept; }));
  settle();
}

void BrokerUnderTest::settle() {
  EXPECT_TRUE(run_until([&] { return broker_->dispatcher().busy() == 0; }))
      << "deliveries still in flight";
}

std::optional<MessageRecord> BrokerUnderTest::message_of(const std::string& sender_gln,
                                                         const std::string& letter_id) {
  auto where = store->find_letter(sender_gln, letter_id);
  if (!where || !*where) return std::nullopt;
  auto m = store->get_message((*where)->message_id);
  if (!m || !*m) return std::nullopt;
  return **m;
}

std::vector<std::string> BrokerUnderTest::timeline_kinds(std::int64_t message_id) {
  std::vector<std::string> out;
  auto events = store->timeline(message_id);
  if (events)
    for (const auto& e : *events) out.push_back(e.kind);
  return out;
}

}  // namespace sektorbro::testing
