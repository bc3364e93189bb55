// End to end through the real broker binary: requests, certificates, discharge notices and the
// receipts that answer them, between real HTTP receivers on 127.0.0.1.
#include <regex>

#include "tests/integration/broker_fixture.hpp"

namespace sektorbro::testing {
namespace {

using std::chrono::seconds;

// Receivers that answer every delivery with the positive receipt MedCom asks for.
ReplyPlan answer_with_receipt(const ReceivedRequest& request) {
  auto envelope = decode_envelope(request.body);
  if (!envelope) return ReplyPlan{400, "", "text/plain", {}};
  if (!envelope->positive_receipt_requested) return ReplyPlan{};
  static std::atomic<int> n{0};
  const std::string id = "KV" + std::to_string(++n);
  return ReplyPlan{200,
                   encode_envelope(make_positive_receipt(*envelope, id, id, envelope->sent)),
                   "application/xml",
                   {}};
}

class MessageFlow : public BrokerFixture {};

TEST_F(MessageFlow, RequestReachesPsychiatryCertificateReachesJobcenterReceiptsBothWays) {
  jc.set_handler(answer_with_receipt);
  psy.set_handler(answer_with_receipt);
  start();

  const Envelope request =
      make_certificate_request(jc_party, psy_party, "ENV1", "REQ1", clock.now(), "LÆ285");
  const HttpResult accepted = post(request);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  auto acceptance = decode_acceptance(accepted.body);
  ASSERT_TRUE(acceptance) << accepted.body;
  EXPECT_EQ(acceptance->envelope_id, "ENV1");
  EXPECT_EQ(acceptance->letter_ids, std::vector<std::string>{"REQ1"});

  // Psychiatry receives the request, unchanged.
  ASSERT_TRUE(psy.wait_until([](auto& r) { return !r.empty(); }, seconds{20}));
  auto delivered = decode_envelope(psy.received().front().body);
  ASSERT_TRUE(delivered);
  EXPECT_EQ(*delivered, request);

  // Psychiatry's positive receipt reaches the jobcenter (end to end, not the broker's own).
  ASSERT_TRUE(eventually([&] { return !envelopes_of(jc, LetterType::kPositiveReceipt).empty(); }));
  const auto receipt = envelopes_of(jc, LetterType::kPositiveReceipt).front();
  EXPECT_EQ(receipt.sender().gln, psy_party.gln);
  const auto& original = std::get<PositiveReceipt>(receipt.letters.front().body).original;
  EXPECT_EQ(original.original_envelope_id, "ENV1");
  EXPECT_EQ(original.original_letter_ids, std::vector<std::string>{"REQ1"});

  // Psychiatry answers with the certificate; the jobcenter gets it and its receipt goes back.
  const Envelope certificate =
      make_certificate(psy_party, jc_party, "ENV2", "ATT1", "REQ1", clock.now(), "LÆ285");
  ASSERT_EQ(post(certificate).status, 202);
  ASSERT_TRUE(eventually([&] { return !envelopes_of(jc, LetterType::kCertificate).empty(); }));
  EXPECT_EQ(envelopes_of(jc, LetterType::kCertificate).front(), certificate);
  ASSERT_TRUE(eventually([&] { return !envelopes_of(psy, LetterType::kPositiveReceipt).empty(); }));
  EXPECT_EQ(std::get<PositiveReceipt>(
                envelopes_of(psy, LetterType::kPositiveReceipt).front().letters.front().body)
                .original.original_letter_ids,
            std::vector<std::string>{"ATT1"});

  // The operators' view of the request: delivered, receipted, with its timeline.
  ASSERT_TRUE(eventually([&] {
    const auto m = message(jc_party, "REQ1");
    return m.value("state", "") == "delivered" && m.value("receipt", "") == "positive";
  }));
  const auto m = message(jc_party, "REQ1");
  std::vector<std::string> events;
  for (const auto& e : m["timeline"]) events.push_back(e["event"]);
  EXPECT_EQ(events.front(), "received");
  EXPECT_NE(std::find(events.begin(), events.end(), "delivered"), events.end());
  EXPECT_NE(std::find(events.begin(), events.end(), "receipt"), events.end());
}

TEST_F(MessageFlow, DischargeNoticeAndMentorResponse) {
  jc.set_handler(answer_with_receipt);
  psy.set_handler(answer_with_receipt);
  start();
  const Date discharge{std::chrono::floor<std::chrono::days>(clock.now()) + std::chrono::days{3}};
  ASSERT_EQ(
      post(make_discharge_notice(psy_party, jc_party, "E1", "UDS1", clock.now(), discharge)).status,
      202);
  ASSERT_TRUE(eventually([&] { return received_letter(jc, "UDS1"); }));
  ASSERT_EQ(
      post(make_mentor_response(jc_party, psy_party, "E2", "MEN1", "UDS1", clock.now())).status,
      202);
  ASSERT_TRUE(eventually([&] { return received_letter(psy, "MEN1"); }));
  // A mentor response that refers to a notice nobody sent is refused.
  const HttpResult stray =
      post(make_mentor_response(jc_party, psy_party, "E3", "MEN2", "UDS999", clock.now()));
  EXPECT_EQ(stray.status, 422);
  EXPECT_NE(stray.body.find("UDS999"), std::string::npos);
}

TEST_F(MessageFlow, RefusalByTheReceiverReachesTheSenderAsANegativeReceipt) {
  // First psychiatry refuses with a plain 4xx: the broker writes the negative receipt.
  psy.set_handler([](const ReceivedRequest&) { return ReplyPlan{400, "", "text/plain", {}}; });
  start();
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E1", "REQ1", clock.now())).status,
            202);
  ASSERT_TRUE(eventually([&] { return !envelopes_of(jc, LetterType::kNegativeReceipt).empty(); }));
  {
    const auto nr = envelopes_of(jc, LetterType::kNegativeReceipt).front();
    const auto& body = std::get<NegativeReceipt>(nr.letters.front().body);
    EXPECT_EQ(nr.sender().gln, broker_party.gln);
    EXPECT_EQ(body.original.original_letter_ids, std::vector<std::string>{"REQ1"});
    EXPECT_NE(body.text.find("HTTP 400"), std::string::npos);
  }
  EXPECT_TRUE(
      eventually([&] { return message(jc_party, "REQ1").value("state", "") == "refused"; }));

  // Then psychiatry answers 200 with its own application-level negative receipt: relayed as is.
  psy.set_handler([](const ReceivedRequest& r) {
    auto e = decode_envelope(r.body);
    return ReplyPlan{200,
                     encode_envelope(make_negative_receipt(*e, "NK1", "NK1", e->sent,
                                                           RefuseCode::kVersionProblem,
                                                           "kan ikke modtage denne attest")),
                     "application/xml",
                     {}};
  });
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E2", "REQ2", clock.now())).status,
            202);
  ASSERT_TRUE(
      eventually([&] { return envelopes_of(jc, LetterType::kNegativeReceipt).size() == 2; }));
  const auto nr = envelopes_of(jc, LetterType::kNegativeReceipt).back();
  const auto& body = std::get<NegativeReceipt>(nr.letters.front().body);
  EXPECT_EQ(nr.sender().gln, psy_party.gln);
  EXPECT_EQ(body.level, ReceiptLevel::kApplication);
  EXPECT_EQ(body.code, RefuseCode::kVersionProblem);
  EXPECT_EQ(body.original.original_letter_ids, std::vector<std::string>{"REQ2"});
  EXPECT_TRUE(eventually([&] {
    const auto m = message(jc_party, "REQ2");
    return m.value("state", "") == "refused" && m.value("receipt", "") == "negative";
  }));
}

TEST_F(MessageFlow, AReceiverThatFailsThreeTimesThenRecoversGetsTheMessageOnce) {
  std::atomic<int> calls{0};
  psy.set_handler([&](const ReceivedRequest&) {
    return ++calls <= 3 ? ReplyPlan{503, "", "text/plain", {}} : ReplyPlan{};
  });
  start();
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E1", "REQ1", clock.now())).status,
            202);
  ASSERT_TRUE(
      eventually([&] { return message(jc_party, "REQ1").value("state", "") == "delivered"; }));
  const auto m = message(jc_party, "REQ1");
  EXPECT_EQ(m["attempts"], 4);
  EXPECT_EQ(calls.load(), 4);  // three failures and one success: accepted exactly once
  int failures = 0;
  for (const auto& e : m["timeline"]) failures += e["event"] == "attempt-failed";
  EXPECT_EQ(failures, 3);
  // A later message still goes straight through: nothing more is sent for the first.
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E2", "REQ2", clock.now())).status,
            202);
  ASSERT_TRUE(
      eventually([&] { return message(jc_party, "REQ2").value("state", "") == "delivered"; }));
  EXPECT_EQ(calls.load(), 5);
}

TEST_F(MessageFlow, DeadLetteredAfterTheLimitAndRequeuedByAnOperator) {
  config["delivery"]["retry"]["max_attempts"] = 3;
  std::atomic<bool> up{false};
  psy.set_handler([&](const ReceivedRequest&) {
    return up ? ReplyPlan{} : ReplyPlan{503, "", "text/plain", {}};
  });
  start();
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E1", "REQ1", clock.now())).status,
            202);
  ASSERT_TRUE(
      eventually([&] { return message(jc_party, "REQ1").value("state", "") == "dead-lettered"; }));
  const auto dead = get_json("/v1/dead-letters");
  ASSERT_EQ(dead["messages"].size(), 1u);
  EXPECT_EQ(dead["messages"][0]["letters"][0]["id"], "REQ1");
  EXPECT_EQ(dead["messages"][0]["attempts"], 3);

  up = true;
  const auto requeued =
      client.post(broker->url("/v1/messages/" + jc_party.gln + "/REQ1/requeue"), "");
  EXPECT_EQ(requeued.status, 200) << requeued.body;
  ASSERT_TRUE(
      eventually([&] { return message(jc_party, "REQ1").value("state", "") == "delivered"; }));
  EXPECT_TRUE(get_json("/v1/dead-letters")["messages"].empty());
  // Requeueing a delivered message is a conflict.
  EXPECT_EQ(client.post(broker->url("/v1/messages/" + jc_party.gln + "/REQ1/requeue"), "").status,
            409);
}

TEST_F(MessageFlow, ResendsGetTheIdenticalAnswerAndAreDeliveredOnce) {
  start();
  Envelope request = make_certificate_request(jc_party, psy_party, "E1", "REQ1", clock.now());
  const HttpResult first = post(request);
  ASSERT_EQ(first.status, 202) << first.error << first.body;
  ASSERT_TRUE(
      eventually([&] { return message(jc_party, "REQ1").value("state", "") == "delivered"; }));

  // MedCom resend: same letter id and content, new envelope id and time.
  request.id = "E1R";
  request.sent = request.sent + std::chrono::minutes{15};
  const HttpResult resend = post(request);
  EXPECT_EQ(resend.status, 202);
  EXPECT_EQ(resend.body, first.body);
  // Delivered exactly once; the resend is on the timeline.
  EXPECT_EQ(psy.received().size(), 1u);
  const auto m = message(jc_party, "REQ1");
  bool seen = false;
  for (const auto& e : m["timeline"]) seen = seen || e["event"] == "duplicate";
  EXPECT_TRUE(seen);

  // The same letter id with different content is refused.
  Envelope reused =
      make_certificate_request(jc_party, psy_party, "E2", "REQ1", clock.now(), "LÆ225");
  const HttpResult conflict = post(reused);
  EXPECT_EQ(conflict.status, 409);
  auto nr = decode_envelope(conflict.body);
  ASSERT_TRUE(nr) << conflict.body;
  EXPECT_NE(std::get<NegativeReceipt>(nr->letters.front().body).text.find("REQ1"),
            std::string::npos);

  // Letter ids are unique per sender only: another jobcenter may use REQ1 too.
  EXPECT_EQ(post(make_certificate_request(jc2_party, psy_party, "E1", "REQ1", clock.now())).status,
            202);
  ASSERT_TRUE(eventually([&] { return psy.received().size() == 2; }));
}

TEST_F(MessageFlow, BadInputGetsANetworkNegativeReceiptAndNothingIsStored) {
  start();
  struct Case {
    std::string name;
    std::string body;
    int status;
    RefuseCode code;
  };
  Envelope unknown_receiver =
      make_certificate_request(jc_party, psy_party, "E1", "R1", clock.now());
  unknown_receiver.letters[0].receiver = make_party("579000077777", "1", "Ukendt");
  Envelope wrong_type = make_certificate_request(jc_party, jc2_party, "E2", "R2", clock.now());
  Envelope wrong_sor = make_certificate_request(jc_party, psy_party, "E3", "R3", clock.now());
  wrong_sor.letters[0].receiver.sor = "123";
  const std::vector<Case> cases = {
      {"not xml", "this is not xml", 400, RefuseCode::kSyntaxError},
      {"truncated", encode_envelope(unknown_receiver).substr(0, 200), 400,
       RefuseCode::kSyntaxError},
      {"unknown receiver", encode_envelope(unknown_receiver), 422, RefuseCode::kUnknownLocation},
      {"type not taken", encode_envelope(wrong_type), 422, RefuseCode::kVersionProblem},
      {"receiver SOR", encode_envelope(wrong_sor), 422, RefuseCode::kReceiverIdProblem},
      {"certificate for unknown request",
       encode_envelope(make_certificate(psy_party, jc_party, "E4", "A1", "NOSUCH", clock.now())),
       422, RefuseCode::kUnspecified},
  };
  for (const auto& c : cases) {
    const HttpResult r = post_raw(c.body);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    auto receipt = decode_envelope(r.body);
    ASSERT_TRUE(receipt) << c.name << ": " << r.body;
    const auto& nr = std::get<NegativeReceipt>(receipt->letters.front().body);
    EXPECT_EQ(nr.level, ReceiptLevel::kNetwork) << c.name;
    EXPECT_EQ(nr.code, c.code) << c.name << ": " << nr.text;
    EXPECT_FALSE(nr.text.empty()) << c.name;
    EXPECT_EQ(receipt->sender().gln, broker_party.gln) << c.name;
  }
  EXPECT_TRUE(get_json("/v1/messages")["messages"].empty());
  EXPECT_TRUE(psy.received().empty());
  // The broker is still serving.
  EXPECT_EQ(get_json("/v1/health").value("status", ""), "ready");
}

TEST_F(MessageFlow, OperatorsSeeMaskedCprAndFilterByStateAndEndpoint) {
  psy.set_handler([](const ReceivedRequest&) { return ReplyPlan{503, "", "text/plain", {}}; });
  config["delivery"]["retry"]["initial_backoff_ms"] = 60000;
  config["delivery"]["retry"]["max_backoff_ms"] = 60000;
  start();
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E1", "REQ1", clock.now(), "LÆ125",
                                          "2512489996"))
                .status,
            202);
  const std::string view = client.get(broker->url("/v1/messages/" + jc_party.gln + "/REQ1")).body;
  EXPECT_EQ(view.find("2512489996"), std::string::npos);
  EXPECT_NE(view.find("251248-****"), std::string::npos);
  EXPECT_EQ(get_json("/v1/messages?state=pending&endpoint=psy")["messages"].size(), 1u);
  EXPECT_EQ(get_json("/v1/messages?state=delivered")["messages"].size(), 0u);
  EXPECT_EQ(get_json("/v1/messages?endpoint=jc2")["messages"].size(), 0u);
  EXPECT_EQ(get_json("/v1/messages?state=bogus")["http_status"], 400);
  EXPECT_EQ(get_json("/v1/messages/" + jc_party.gln + "/NOPE")["http_status"], 404);
  // Nothing CPR-shaped reaches the log either.
  EXPECT_FALSE(std::regex_search(broker->log(), std::regex(R"(\b\d{6}-?\d{4}\b)")));
}

TEST_F(MessageFlow, KillNineMidTrafficLosesNothingAcknowledged) {
  start();
  std::vector<std::string> acknowledged;
  std::mutex mu;
  std::atomic<bool> crashed{false};
  auto sender = [&](int t) {
    HttpClient own;
    for (int i = 0; i < 400 && !crashed; ++i) {
      const std::string id = "T" + std::to_string(t) + "N" + std::to_string(i);
      const auto r = own.post(
          broker->url("/v1/messages"),
          encode_envelope(make_certificate_request(jc_party, psy_party, id, id, clock.now())),
          "application/xml", std::chrono::seconds{5});
      if (r.status == 202) {
        std::lock_guard lock(mu);
        acknowledged.push_back(id);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(sender, t);
  // Crash once a good share has been acknowledged, while the senders are still sending.
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(mu);
        return acknowledged.size() >= 200;
      },
      std::chrono::seconds{60}));
  crash();
  crashed = true;
  for (auto& t : threads) t.join();
  restart();
  std::vector<std::string> expected;
  {
    std::lock_guard lock(mu);
    expected = acknowledged;
  }
  ASSERT_GE(expected.size(), 200u);
  const bool all = psy.wait_until(
      [&](const std::vector<ReceivedRequest>& got) {
        std::set<std::string> ids;
        for (const auto& r : got)
          if (auto e = decode_envelope(r.body)) ids.insert(e->letters.front().id);
        return std::all_of(expected.begin(), expected.end(),
                           [&](const std::string& id) { return ids.contains(id); });
      },
      std::chrono::seconds{60});
  EXPECT_TRUE(all) << "acknowledged " << expected.size() << ", delivered " << psy.received().size();
}

TEST_F(MessageFlow, AReceiptPostedLaterIsMatchedAndRelayed) {
  start();  // psy answers deliveries with a bare 200: its receipt comes later, as a message
  const Envelope request = make_certificate_request(jc_party, psy_party, "E1", "REQ1", clock.now());
  ASSERT_EQ(post(request).status, 202);
  ASSERT_TRUE(psy.wait_until([](auto& r) { return !r.empty(); }, seconds{20}));
  ASSERT_EQ(post(make_positive_receipt(request, "K1", "KV1", clock.now())).status, 202);
  ASSERT_TRUE(eventually([&] { return received_letter(jc, "KV1"); }));
  EXPECT_TRUE(
      eventually([&] { return message(jc_party, "REQ1").value("receipt", "") == "positive"; }));
  // A receipt for a letter psychiatry never received is refused.
  Envelope stranger = make_certificate_request(jc2_party, psy_party, "E9", "REQ9", clock.now());
  const HttpResult stray = post(make_positive_receipt(stranger, "K2", "KV2", clock.now()));
  EXPECT_EQ(stray.status, 422) << stray.body;
}

TEST_F(MessageFlow, ASlowEndpointDoesNotHoldUpDeliveriesToOthers) {
  config["delivery"]["per_endpoint_concurrency"] = 1;
  psy.set_handler([](const ReceivedRequest&) {
    return ReplyPlan{200, "", "text/plain", std::chrono::milliseconds{4000}};
  });
  start();
  for (int i = 1; i <= 3; ++i) {
    const std::string id = "REQ" + std::to_string(i);
    ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E" + id, id, clock.now())).status,
              202);
  }
  ASSERT_TRUE(psy.wait_until([](auto& r) { return !r.empty(); }, seconds{20}));
  ASSERT_EQ(post(make_discharge_notice(psy_party, jc_party, "E9", "UDS1", clock.now(),
                                       Date{std::chrono::floor<std::chrono::days>(clock.now()) +
                                            std::chrono::days{3}}))
                .status,
            202);
  // The jobcenter gets its notice while psychiatry is still busy with the first request.
  ASSERT_TRUE(jc.wait_until([](auto& r) { return !r.empty(); }, seconds{3}));
  EXPECT_EQ(psy.received().size(), 1u);
}

TEST(BrokerStartup, ABadConfigurationIsOneClearLineAndExitCodeTwo) {
  TempDir dir;
  std::string error;
  auto broker = BrokerProcess::start(BrokerProcess::default_binary(), dir.path(),
                                     R"({"identity": {"gln": "5790000000000"}, "endpoints": []})",
                                     error, std::chrono::seconds{10});
  EXPECT_FALSE(broker);
  EXPECT_NE(error.find("sektorbro: "), std::string::npos) << error;
}

}  // namespace
}  // namespace sektorbro::testing
