// The drivers (intake, dispatcher, deadline sweeper, API router) against an in-memory store, a
// scripted transport and a manual clock: no socket, no sleeping (issue 8).
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "broker/server/tests/broker_under_test.hpp"

namespace sektorbro::testing {
namespace {

class DriversTest : public ::testing::Test, protected Parties {
 protected:
  BrokerConfig config = test_config(*this);
  std::unique_ptr<BrokerUnderTest> b = std::make_unique<BrokerUnderTest>(config);

  Envelope request(const std::string& id) {
    return make_certificate_request(jc, psy, "ENV-" + id, id, b->clock.now());
  }
  std::optional<MessageRecord> delivered(const std::string& gln, const std::string& id) {
    std::optional<MessageRecord> m;
    const bool ok = b->run_until([&] {
      m = b->message_of(gln, id);
      return m && m->state != DeliveryState::kPending;
    });
    b->settle();  // what the outcome sets off (a relayed refusal, a receipt) has run too
    return ok ? b->message_of(gln, id) : std::nullopt;
  }
  // What a broker stopped with a backlog leaves: its store, and when it stopped.
  struct Left {
    std::shared_ptr<MemoryStore> store;
    TimePoint at{};
  };
  // Posts `count` requests named `prefix`0, `prefix`1, … while every attempt fails, so all stay
  // pending, then stops `b` as a killed broker stops: no more renewals.
  void leave_a_backlog(const std::string& prefix, int count, Left& left) {
    b->transport.answer_with([](const OutboundRequest&) {
      return TransportResponse{0, "", "down"};
    });
    for (int i = 0; i < count; ++i)
      ASSERT_EQ(b->post(request(prefix + std::to_string(i))).result(), http::status::accepted);
    ASSERT_TRUE(
        b->run_until([&] { return b->transport.count() == static_cast<std::size_t>(count); }));
    b->settle();
    left = Left{b->store, b->clock.now()};
    b.reset();
  }
};

TEST_F(DriversTest, AnAcceptedRequestIsStoredThenDeliveredInOneTryAndItsClockStarts) {
  const auto answer = b->post(request("REQ1"));
  EXPECT_EQ(answer.result(), http::status::accepted);
  EXPECT_NE(answer.body().find("Acceptance"), std::string::npos);
  const auto m = delivered(jc.gln, "REQ1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->state, DeliveryState::kDelivered);
  EXPECT_EQ(m->attempts, 1);
  ASSERT_EQ(b->transport.count(), 1u);
  EXPECT_EQ(b->transport.sent()[0].url, "http://127.0.0.1:9/psy");
  EXPECT_EQ(b->timeline_kinds(m->id),
            (std::vector<std::string>{"received", "delivered", "deadline-opened"}));
  auto deadline = b->store->find_deadline(DeadlineKey{jc.gln, "REQ1"});
  ASSERT_TRUE(deadline && deadline->has_value());
  EXPECT_EQ((*deadline)->owed_by, "psy");
  // Its body was packed and hashed before the writer took it (Intake's prepare step; the
  // store checks both against the body).
  EXPECT_EQ(b->store->prepared_bodies(), 1);
}

// Intake decodes and hashes on the codec thread when it has one (main.cpp gives it one): the
// answer waits for that thread, and is the same as inline — an acceptance, a refusal with its
// MedCom code, a resend's first answer.
TEST_F(DriversTest, IntakeDecodesOnItsCodecThreadAndAnswersAsInline) {
  asio::thread_pool codec(1);
  b->broker().intake().set_codec_executor(codec.get_executor());
  std::promise<void> release;
  asio::post(codec, [gate = release.get_future().share()] { gate.wait(); });  // busy

  const Envelope e = request("REQ1");
  auto answer = b->start(BrokerUnderTest::post_request(encode_envelope(e)));
  b->run_ready();
  EXPECT_FALSE(answer->has_value()) << "answered before the codec thread decoded it";
  EXPECT_FALSE(b->message_of(jc.gln, "REQ1"));
  release.set_value();
  ASSERT_TRUE(b->run_until([&] { return answer->has_value(); }));
  EXPECT_EQ((*answer)->result(), http::status::accepted);
  EXPECT_NE((*answer)->body().find("Acceptance"), std::string::npos);
  ASSERT_TRUE(delivered(jc.gln, "REQ1"));

  const auto malformed = b->post("<Emessage");
  EXPECT_EQ(malformed.result(), http::status::bad_request);
  EXPECT_NE(malformed.body().find("syntaksfejl"), std::string::npos);
  Envelope resend = e;
  resend.id = "ENV-REQ1-B";
  const auto again = b->post(resend);
  EXPECT_EQ(again.result(), http::status::accepted);
  EXPECT_EQ(again.body(), (*answer)->body());  // MedCom: a resend gets exactly the first answer
  EXPECT_EQ(b->transport.count(), 1u);
  b.reset();  // the broker goes before the codec thread it was given
}

// A document cut off before its sender (a FHIR message cut before the Organization its
// MessageHeader names is the common case; here a native one cut before its first Letter) is
// refused to the endpoint the transport authenticated, not to the broker itself; unauthenticated
// (plain loopback), to the broker as before.
TEST_F(DriversTest, ADocumentWhoseSenderCannotBeReadIsRefusedToTheAuthenticatedEndpoint) {
  const std::string whole = encode_envelope(request("REQ1"));
  const std::string cut = whole.substr(0, whole.find("<Letter"));
  ASSERT_LT(cut.size(), whole.size());

  const Intake::Answer from_psy = b->receive_from("psy", cut);
  EXPECT_EQ(from_psy.status, http::status::bad_request);
  auto refusal = decode_envelope(from_psy.body);
  ASSERT_TRUE(refusal) << refusal.error().detail << "\n" << from_psy.body;
  ASSERT_EQ(refusal->letters.size(), 1u);
  EXPECT_EQ(refusal->letters[0].type(), LetterType::kNegativeReceipt);
  EXPECT_EQ(refusal->letters[0].receiver.gln, psy.gln);
  EXPECT_EQ(refusal->letters[0].receiver.sor, psy.sor);

  const auto unauthenticated = b->post(cut);
  auto to_broker = decode_envelope(unauthenticated.body());
  ASSERT_TRUE(to_broker) << to_broker.error().detail;
  EXPECT_EQ(to_broker->letters.at(0).receiver.gln, broker.gln);
  EXPECT_EQ(b->transport.count(), 0u);
}

TEST_F(DriversTest, RefusalsAnswerWithTheMedcomCodeAndStoreNothing) {
  Envelope unknown = request("REQ1");
  unknown.letters[0].receiver = make_party("579000011111", "265161000016222", "Ukendt");
  const auto a = b->post(unknown);
  EXPECT_EQ(a.result(), http::status::unprocessable_entity);
  EXPECT_NE(a.body().find("ukendt_lokationsnummer"), std::string::npos);

  const auto malformed = b->post("<Emessage");
  EXPECT_EQ(malformed.result(), http::status::bad_request);
  EXPECT_NE(malformed.body().find("syntaksfejl"), std::string::npos);

  auto listed = b->store->list_messages(MessageFilter{});
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  EXPECT_EQ(b->transport.count(), 0u);
}

TEST_F(DriversTest, AResendGetsTheFirstAnswerAndIsNotDeliveredAgain) {
  const Envelope e = request("REQ1");
  const auto first = b->post(e);
  ASSERT_EQ(first.result(), http::status::accepted);
  ASSERT_TRUE(delivered(jc.gln, "REQ1"));
  Envelope resend = e;
  resend.id = "ENV-REQ1-B";  // MedCom: a resend has a new envelope id, the same letters
  const auto second = b->post(resend);
  EXPECT_EQ(second.result(), http::status::accepted);
  EXPECT_EQ(second.body(), first.body()) << "byte for byte the first answer";
  const auto m = b->message_of(jc.gln, "REQ1");
  ASSERT_TRUE(m);
  EXPECT_EQ(b->timeline_kinds(m->id).back(), "duplicate");
  EXPECT_EQ(b->transport.count(), 1u);

  Envelope reused = request("REQ1");
  std::get<CertificateRequest>(reused.letters[0].body).case_reference = "another case";
  EXPECT_EQ(b->post(reused).result(), http::status::conflict);
}

// Issue 8: a letter sent as new is decided without reading whether it is stored; the store
// checks that before it writes (Store::checks_unread_letters). A resend is found there and decided
// again with the letter read: it gets the first answer, and reused content is still a conflict.
TEST_F(DriversTest, ANewLetterIsDecidedUnreadAndTheStoreFindsAResend) {
  const Envelope e = request("REQ1");
  int reads = b->store->letter_reads();
  const auto first = b->post(e);
  ASSERT_EQ(first.result(), http::status::accepted);
  EXPECT_EQ(b->store->letter_reads(), reads) << "REQ1 was read before it was stored";
  ASSERT_TRUE(delivered(jc.gln, "REQ1"));

  Envelope resend = e;
  resend.id = "ENV-REQ1-B";
  reads = b->store->letter_reads();
  const auto second = b->post(resend);
  EXPECT_EQ(second.result(), http::status::accepted);
  EXPECT_EQ(second.body(), first.body());
  EXPECT_GT(b->store->letter_reads(), reads) << "decided again with REQ1 read";
  EXPECT_EQ(b->timeline_kinds(b->message_of(jc.gln, "REQ1")->id).back(), "duplicate");

  Envelope reused = request("REQ1");
  std::get<CertificateRequest>(reused.letters[0].body).case_reference = "another case";
  EXPECT_EQ(b->post(reused).result(), http::status::conflict);
  EXPECT_EQ(b->transport.count(), 1u);
}

TEST_F(DriversTest, ACorrectionIsANewVersionAndKeepsTheClock) {
  ASSERT_EQ(b->post(request("REQ1")).result(), http::status::accepted);
  ASSERT_TRUE(delivered(jc.gln, "REQ1"));
  const auto before = b->store->find_deadline(DeadlineKey{jc.gln, "REQ1"});
  ASSERT_TRUE(before && before->has_value());
  const std::int64_t old_id = b->message_of(jc.gln, "REQ1")->id;

  b->clock.advance(std::chrono::hours{26});
  Envelope fix = request("REQ1");
  fix.id = "ENV-REQ1-FIX";
  fix.letters[0].status = LetterStatus::kCorrected;
  std::get<CertificateRequest>(fix.letters[0].body).questions.push_back("Og en rettelse?");
  ASSERT_EQ(b->post(fix).result(), http::status::accepted);
  const auto now_latest = delivered(jc.gln, "REQ1");
  ASSERT_TRUE(now_latest);
  EXPECT_NE(now_latest->id, old_id);
  EXPECT_EQ(b->timeline_kinds(old_id).back(), "superseded");
  const auto after = b->store->find_deadline(DeadlineKey{jc.gln, "REQ1"});
  ASSERT_TRUE(after && after->has_value());
  EXPECT_EQ((*after)->due, (*before)->due) << "a same-form correction keeps the clock";
}

TEST_F(DriversTest, AReceiptInTheDeliveryAnswerMarksTheOriginalAndGoesBackToTheSender) {
  const Envelope e = request("REQ1");
  b->transport.answer_with([&](const OutboundRequest& r) {
    if (r.url.ends_with("/psy"))
      return TransportResponse{
          200, encode_envelope(make_positive_receipt(e, "ENV-K1", "K1", b->clock.now())), ""};
    return TransportResponse{200, "", ""};
  });
  ASSERT_EQ(b->post(e).result(), http::status::accepted);
  std::optional<MessageRecord> original;
  ASSERT_TRUE(b->run_until([&] {
    original = b->message_of(jc.gln, "REQ1");
    return original && original->receipt == ReceiptState::kPositive;
  }));
  const auto receipt = delivered(psy.gln, "K1");
  ASSERT_TRUE(receipt);
  EXPECT_EQ(receipt->receiver_endpoint, "jc");
  EXPECT_EQ(receipt->state, DeliveryState::kDelivered);
  ASSERT_EQ(b->transport.count(), 2u);
  EXPECT_EQ(b->transport.sent()[1].url, "http://127.0.0.1:9/jc");
}

TEST_F(DriversTest, TransientFailuresBackOffThenDeadLetter) {
  b->transport.answer_with([](const OutboundRequest&) { return TransportResponse{503, "", ""}; });
  ASSERT_EQ(b->post(request("REQ1")).result(), http::status::accepted);
  ASSERT_TRUE(b->run_until([&] { return b->transport.count() == 1; }));
  std::optional<MessageRecord> m;
  ASSERT_TRUE(b->run_until([&] {
    m = b->message_of(jc.gln, "REQ1");
    return m && m->attempts == 1;
  }));
  EXPECT_EQ(m->state, DeliveryState::kPending);
  EXPECT_EQ(m->next_attempt_at, b->clock.now() + std::chrono::seconds{2});
  // Not before the backoff has passed.
  b->advance(std::chrono::seconds{1});
  EXPECT_EQ(b->transport.count(), 1u);
  // 2 s, 4 s, 8 s: the fourth attempt is the last (max_attempts 4).
  for (const int wait : {1, 4, 8}) {
    const std::size_t before = b->transport.count();
    b->advance(std::chrono::seconds{wait});
    EXPECT_EQ(b->transport.count(), before + 1) << "after " << wait << " s";
  }
  const auto dead = delivered(jc.gln, "REQ1");
  ASSERT_TRUE(dead);
  EXPECT_EQ(dead->state, DeliveryState::kDeadLettered);
  EXPECT_EQ(dead->attempts, 4);
  const auto kinds = b->timeline_kinds(dead->id);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "attempt-failed"), 3);
  EXPECT_EQ(kinds.back(), "dead-lettered");
}

TEST_F(DriversTest, AMissingReceiptIsResentTwiceThenAlerted) {
  ASSERT_EQ(b->post(request("REQ1")).result(), http::status::accepted);
  ASSERT_TRUE(delivered(jc.gln, "REQ1"));
  ASSERT_EQ(b->transport.count(), 1u);
  for (int resend = 1; resend <= 2; ++resend) {
    b->advance(std::chrono::minutes{15});
    ASSERT_TRUE(b->run_until([&] { return b->transport.count() == 1u + resend; })) << resend;
    const std::string body = b->transport.sent().back().body;
    EXPECT_NE(body.find("REQ1"), std::string::npos) << "the same letter";
    EXPECT_EQ(body.find("ENV-REQ1"), std::string::npos) << "in a new envelope";
  }
  b->advance(std::chrono::minutes{15});
  const auto m = b->message_of(jc.gln, "REQ1");
  ASSERT_TRUE(m);
  const auto kinds = b->timeline_kinds(m->id);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "resent"), 2);
  EXPECT_EQ(kinds.back(), "receipt-missing");
  EXPECT_EQ(b->transport.count(), 3u) << "no third resend";
}

TEST_F(DriversTest, ARestartResumesPendingDeliveriesFromTheStore) {
  b->transport.answer_with([](const OutboundRequest&) { return TransportResponse{0, "", "down"}; });
  ASSERT_EQ(b->post(request("REQ1")).result(), http::status::accepted);
  ASSERT_TRUE(b->run_until([&] {
    auto m = b->message_of(jc.gln, "REQ1");
    return m && m->attempts == 1;
  }));
  auto store = b->store;
  const TimePoint t = b->clock.now();
  b.reset();  // the broker goes away; the store stays

  auto again = std::make_unique<BrokerUnderTest>(config, store);
  again->clock.set(t + std::chrono::seconds{3});
  again->advance(Duration{0});
  std::optional<MessageRecord> m;
  ASSERT_TRUE(again->run_until([&] {
    m = again->message_of(jc.gln, "REQ1");
    return m && m->state == DeliveryState::kDelivered;
  }));
  EXPECT_EQ(m->attempts, 2);
  EXPECT_EQ(again->transport.count(), 1u);
}

// A backlog larger than one lease pass takes over (1,000 deliveries) resumes at once after a
// restart: before, the rest waited for a lease pass every lease/3 (10 s), so 50,000 pending
// deliveries came back at ~100 per second. The restarted broker is another node, as a new
// process is, once the old one's leases have ended; then its clock stays, so no pass falls due.
TEST_F(DriversTest, ARestartResumesABacklogLargerThanOneLeasePassWithoutWaiting) {
  constexpr int kBacklog = 1'150;
  Left left;
  ASSERT_NO_FATAL_FAILURE(leave_a_backlog("R", kBacklog, left));
  auto store = left.store;
  const TimePoint t = left.at;

  BrokerConfig restarted = config;
  restarted.cluster.node = "restarted";
  auto again = std::make_unique<BrokerUnderTest>(restarted, store);
  again->clock.set(t + config.cluster.lease + std::chrono::seconds{1});
  again->advance(Duration{0});
  EXPECT_TRUE(again->run_until([&] { return again->transport.count() == kBacklog; }))
      << again->transport.count() << " of " << kBacklog << " attempted";
  again->settle();
  for (const int i : {0, 999, 1'000, kBacklog - 1}) {
    const auto m = again->message_of(jc.gln, "R" + std::to_string(i));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->state, DeliveryState::kDelivered) << "R" << i;
  }
}

// A broker restarted under the same node name before its leases ended: the store renews them
// for it (they are its own), though the new process never saw them; it reads what it needs of
// each and resumes them at once, not a lease later. A few are read one by one, many in one read
// of the pending deliveries (Dispatcher's kReadOneByOne, 16).
TEST_F(DriversTest, ARestartUnderTheSameNodeNameResumesTheDeliveriesItsLeasesStillHold) {
  for (const int backlog : {3, 40}) {
    SCOPED_TRACE(backlog);
    const std::string prefix = "S" + std::to_string(backlog) + "-";
    if (!b) b = std::make_unique<BrokerUnderTest>(config);  // a new broker on a new store
    Left left;
    ASSERT_NO_FATAL_FAILURE(leave_a_backlog(prefix, backlog, left));
    auto again = std::make_unique<BrokerUnderTest>(config, left.store);  // the same node name
    // Past the retry's backoff (2 s); the leases, renewed by the last pass before the restart,
    // hold for 20 s at least.
    again->clock.set(left.at + std::chrono::seconds{5});
    again->advance(Duration{0});
    EXPECT_TRUE(again->run_until([&] {
      return again->transport.count() == static_cast<std::size_t>(backlog);
    })) << again->transport.count()
        << " of " << backlog << " attempted";
    again->settle();
    for (const int i : {0, backlog - 1}) {
      const auto m = again->message_of(jc.gln, prefix + std::to_string(i));
      ASSERT_TRUE(m);
      EXPECT_EQ(m->state, DeliveryState::kDelivered) << prefix << i;
    }
  }
}

TEST_F(DriversTest, ARestartKeepsWatchingTheReceiptsOwedFromTheStoresIndex) {
  ASSERT_EQ(b->post(request("REQ1")).result(), http::status::accepted);
  ASSERT_EQ(b->post(request("REQ2")).result(), http::status::accepted);
  ASSERT_TRUE(delivered(jc.gln, "REQ1"));
  ASSERT_TRUE(delivered(jc.gln, "REQ2"));
  // REQ2's receipt comes; REQ1's does not.
  const Envelope receipt = make_positive_receipt(request("REQ2"), "ENV-K2", "K2", b->clock.now());
  ASSERT_EQ(b->post(receipt).result(), http::status::accepted);
  b->advance(std::chrono::minutes{15});  // first resend of REQ1
  auto owed = b->store->receipts_owed();
  ASSERT_TRUE(owed);
  ASSERT_EQ(owed->size(), 1u);
  EXPECT_EQ(owed->front().resends, 1);
  EXPECT_EQ(owed->front().receiver_endpoint, "psy");

  auto store = b->store;
  const TimePoint t = b->clock.now();
  const std::size_t sent_before = b->transport.count();
  b.reset();
  auto again = std::make_unique<BrokerUnderTest>(config, store);
  again->clock.set(t);
  again->advance(std::chrono::minutes{15});  // the second and last resend, after the restart
  ASSERT_EQ(again->transport.count(), 1u) << "only REQ1, once";
  EXPECT_NE(again->transport.sent()[0].body.find("REQ1"), std::string::npos);
  again->advance(std::chrono::minutes{15});
  const auto m = again->message_of(jc.gln, "REQ1");
  ASSERT_TRUE(m);
  EXPECT_EQ(again->timeline_kinds(m->id).back(), "receipt-missing");
  owed = again->store->receipts_owed();
  ASSERT_TRUE(owed);
  EXPECT_TRUE(owed->empty());
  EXPECT_GT(sent_before, 0u);
}

TEST_F(DriversTest, AStoreThatCannotCommitDoesNotCauseADeliveryStorm) {
  ASSERT_EQ(b->post(request("REQ1")).result(), http::status::accepted);
  b->store->fail_commits(true);  // the disk is full from now on
  // The delivery succeeds but cannot be recorded: it is tried again later, backing off.
  ASSERT_TRUE(b->run_until([&] { return b->transport.count() >= 1; }));
  for (int second = 0; second < 60; ++second) b->advance(std::chrono::seconds{1});
  // Unrecorded attempts back off 2, 4, 8, 16, 32 s: at most 6 tries in a minute, not 60.
  EXPECT_LE(b->transport.count(), 6u);
  EXPECT_GE(b->transport.count(), 3u);
  b->store->fail_commits(false);
  b->advance(std::chrono::minutes{2});
  const auto m = delivered(jc.gln, "REQ1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->state, DeliveryState::kDelivered);
}

TEST_F(DriversTest, ADischargeNoticeOpensTheJobcentersDeadlineAndTheReplyClosesIt) {
  const Date discharge{std::chrono::sys_days{std::chrono::year{2025} / 12 / 10}};
  const Envelope notice = make_discharge_notice(psy, jc, "ENV-N1", "N1", b->clock.now(), discharge);
  ASSERT_EQ(b->post(notice).result(), http::status::accepted);
  auto d = b->store->find_deadline(DeadlineKey{psy.gln, "N1"});
  ASSERT_TRUE(d && d->has_value());
  EXPECT_EQ((*d)->state, DeadlineState::kOpen);
  EXPECT_EQ((*d)->owed_by, "jc");
  const Envelope reply = make_mentor_response(jc, psy, "ENV-M1", "M1", "N1", b->clock.now());
  ASSERT_EQ(b->post(reply).result(), http::status::accepted);
  d = b->store->find_deadline(DeadlineKey{psy.gln, "N1"});
  ASSERT_TRUE(d && d->has_value());
  EXPECT_EQ((*d)->state, DeadlineState::kAnsweredOnTime);
  // A second reply to the same notice is refused.
  const Envelope twice = make_mentor_response(jc, psy, "ENV-M2", "M2", "N1", b->clock.now());
  EXPECT_EQ(b->post(twice).result(), http::status::conflict);
}

TEST_F(DriversTest, TheOperatorsApiRoutesReadsAndRequeues) {
  b->transport.answer_with([](const OutboundRequest&) { return TransportResponse{422, "", ""}; });
  ASSERT_EQ(b->post(request("REQ1")).result(), http::status::accepted);
  const auto refused = delivered(jc.gln, "REQ1");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->state, DeliveryState::kRefused);
  const auto health = b->get("/v1/health");
  EXPECT_EQ(health.result(), http::status::ok);
  EXPECT_NE(health.body().find("\"ready\""), std::string::npos);
  const auto list = b->get("/v1/messages?state=refused");
  EXPECT_NE(list.body().find("REQ1"), std::string::npos);
  // The refusal went back to the jobcenter as the broker's negative receipt.
  ASSERT_EQ(b->transport.count(), 2u);
  EXPECT_EQ(b->transport.sent()[1].url, "http://127.0.0.1:9/jc");
  b->transport.answer_with({});
  const auto requeued = b->send(http::verb::post, "/v1/messages/" + jc.gln + "/REQ1/requeue");
  EXPECT_EQ(requeued.result(), http::status::ok);
  std::optional<MessageRecord> m;
  ASSERT_TRUE(b->run_until([&] {
    m = b->message_of(jc.gln, "REQ1");
    return m && m->state == DeliveryState::kDelivered;
  }));
  ASSERT_EQ(b->transport.count(), 3u);
  EXPECT_EQ(b->transport.sent()[2].url, "http://127.0.0.1:9/psy");
  EXPECT_EQ(b->get("/v1/nothing-here").result(), http::status::not_found);
}

// The operators' statistics are read and counted on the broker's reports thread and answered
// through the io thread: the figures of the requests delivered, as JSON and CSV; a bad month is
// refused before anything is read.
TEST_F(DriversTest, TheStatisticsAreCountedOffTheIoThreadAndAnsweredThroughIt) {
  ASSERT_EQ(b->post(request("REQ1")).result(), http::status::accepted);
  ASSERT_EQ(b->post(request("REQ2")).result(), http::status::accepted);
  ASSERT_TRUE(delivered(jc.gln, "REQ1"));
  ASSERT_TRUE(delivered(jc.gln, "REQ2"));
  const auto json = b->get("/v1/stats/certificates");
  ASSERT_EQ(json.result(), http::status::ok) << json.body();
  const auto figures = nlohmann::json::parse(json.body());
  ASSERT_EQ(figures["rows"].size(), 1u) << json.body();
  EXPECT_EQ(figures["rows"][0]["unit"], "psy");
  EXPECT_EQ(figures["rows"][0]["received"], 2);
  EXPECT_EQ(figures["rows"][0]["open"], 2);
  const auto csv = b->get("/v1/stats/certificates?format=csv");
  ASSERT_EQ(csv.result(), http::status::ok);
  EXPECT_NE(csv.body().find("psy"), std::string::npos);
  const auto mentor = b->get("/v1/stats/mentor-responses");
  ASSERT_EQ(mentor.result(), http::status::ok);
  EXPECT_EQ(nlohmann::json::parse(mentor.body())["rows"].size(), 0u);
  EXPECT_EQ(b->get("/v1/stats/certificates?from=2026-13").result(), http::status::bad_request);
}

}  // namespace
}  // namespace sektorbro::testing
