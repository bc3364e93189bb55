// Per-endpoint dialects through the real broker (issue 4): a jobcenter that speaks classic
// MedCom OIOXML and a psychiatry system on EHMI SBDH exchange correspondence and receipts; what a
// receiver's dialect cannot carry is refused at the door with a reason.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/oioxml/oioxml_codec.hpp"
#include "adapters/sbdh/sbdh_native.hpp"
#include "adapters/sbdh/sbdh_receipts.hpp"
#include "tests/integration/broker_fixture.hpp"

namespace sektorbro::testing {
namespace {

using std::chrono::seconds;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos;
       pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

class DialectFlow : public BrokerFixture {
 protected:
  DialectFlow() {
    for (auto& e : config["endpoints"]) e["accepts"].push_back("Correspondence");
    config["endpoints"][0]["dialect"] = "oioxml";  // jc
    config["endpoints"][2]["dialect"] = "sbdh";    // psy
  }
  // MedCom's public XDIS91 sample, addressed from our jobcenter to our psychiatry department.
  std::string xdis91_from_jobcenter() const {
    std::string xml =
        read_file(std::string(SEKTORBRO_SOURCE_DIR) +
                  "/tests/data/medcom/05_oioxml_XDIS91_pluspositivkvitt_to_municipality.xml");
    replace_all(xml, "5790001382445", jc_party.gln);
    replace_all(xml, "5790000121441", psy_party.gln);
    return xml;
  }
};

// The SBDH receiver answers every envelope with EHMI's envelope-level acknowledgement.
ReplyPlan acknowledge_envelope(const ReceivedRequest& r) {
  auto document = adapters::parse_sbdh(r.body);
  if (!document) return ReplyPlan{400, "", "text/plain", {}};
  auto ack = adapters::make_receipt_acknowledgement(
      *document, {"ACK" + document->instance_id.substr(0, 8), document->created});
  if (!ack) return ReplyPlan{};
  return ReplyPlan{200, adapters::write_sbdh(*ack), "application/xml", {}};
}

TEST_F(DialectFlow, AnOioxmlJobcenterAndAnSbdhPsychiatryTalk) {
  psy.set_handler(acknowledge_envelope);
  start();

  // 1. The jobcenter sends XDIS91 correspondence in OIOXML (ISO-8859-1 declared).
  const HttpResult accepted = post_raw(xdis91_from_jobcenter());
  ASSERT_EQ(accepted.status, 202) << accepted.body;

  // 2. Psychiatry receives it inside an SBDH envelope, as a native Correspondence letter.
  ASSERT_TRUE(psy.wait_until([](auto& r) { return !r.empty(); }, seconds{20}));
  auto sbdh = adapters::parse_sbdh(psy.received().front().body);
  ASSERT_TRUE(sbdh) << sbdh.error().detail;
  EXPECT_EQ(sbdh->sender_gln, jc_party.gln);
  EXPECT_EQ(sbdh->receiver_gln, psy_party.gln);
  auto letter = adapters::unwrap_native_envelope(*sbdh);
  ASSERT_TRUE(letter) << letter.error().detail;
  ASSERT_EQ(letter->letters.size(), 1u);
  EXPECT_EQ(letter->letters[0].type(), LetterType::kCorrespondence);
  EXPECT_EQ(letter->letters[0].id, "Brevt23400929");
  EXPECT_EQ(letter->id, "KuvNrerwerwe99");

  // 3. Psychiatry's business receipt (a native PositiveReceipt in SBDH) goes back; the broker
  //    acknowledges the envelope EHMI style and the jobcenter gets a MedCom XCTL03.
  Envelope receipt = make_positive_receipt(*letter, "KV1", "KV1", clock.now());
  adapters::SbdhWrapOptions options;
  options.instance_id = "SBDHKV1";
  options.created = clock.now();
  auto wrapped = adapters::wrap_native_envelope(receipt, options);
  ASSERT_TRUE(wrapped) << wrapped.error().detail;
  const HttpResult receipted = post_raw(adapters::write_sbdh(*wrapped));
  ASSERT_EQ(receipted.status, 202) << receipted.body;
  EXPECT_NE(receipted.body.find("ReceiptAcknowledgement"), std::string::npos);
  ASSERT_TRUE(jc.wait_until([](auto& r) { return !r.empty(); }, seconds{20}));
  auto xctl03 = adapters::parse_oioxml(jc.received().front().body);
  ASSERT_TRUE(xctl03) << xctl03.error().detail;
  ASSERT_EQ(xctl03->message.letters.size(), 1u);
  EXPECT_NE(jc.received().front().body.find("XCTL03"), std::string::npos);
  EXPECT_NE(jc.received().front().body.find("Brevt23400929"), std::string::npos);
  EXPECT_TRUE(eventually(
      [&] { return message(jc_party, "Brevt23400929").value("receipt", "") == "positive"; }));
}

// EHMI's envelope receipts through the real broker (issue 9): the acknowledgement psychiatry's
// handler puts in its answer, and one it posts later, are recorded on the letter's timeline; one
// for an envelope the broker never sent is refused with a Sequence ReceiptException.
TEST_F(DialectFlow, EhmiEnvelopeReceiptsAreCorrelatedWithTheEnvelopesTheBrokerSent) {
  psy.set_handler(acknowledge_envelope);
  start();
  ASSERT_EQ(post_raw(xdis91_from_jobcenter()).status, 202);
  ASSERT_TRUE(psy.wait_until([](auto& r) { return !r.empty(); }, seconds{20}));
  auto sent = adapters::parse_sbdh(psy.received().front().body);
  ASSERT_TRUE(sent) << sent.error().detail;
  const auto acknowledgements = [&] {
    const nlohmann::json m = message(jc_party, "Brevt23400929");
    int n = 0;
    for (const auto& e : m["timeline"]) n += e["event"] == "ehmi-receipt-acknowledgement";
    return n;
  };
  EXPECT_TRUE(eventually([&] { return acknowledgements() == 1; }));

  auto later = adapters::make_receipt_acknowledgement(*sent, {"ACKLATER1", clock.now()});
  ASSERT_TRUE(later);
  const HttpResult posted = post_raw(adapters::write_sbdh(*later));
  EXPECT_EQ(posted.status, 202) << posted.body;
  EXPECT_TRUE(eventually([&] { return acknowledgements() == 2; }));

  adapters::SbdhDocument never = *sent;
  never.instance_id = "0f0e0d0c-0b0a-4908-8706-050403020100";
  auto unknown = adapters::make_receipt_acknowledgement(never, {"ACKNEVER1", clock.now()});
  ASSERT_TRUE(unknown);
  const HttpResult refused = post_raw(adapters::write_sbdh(*unknown));
  EXPECT_EQ(refused.status, 422) << refused.body;
  auto exception = adapters::parse_sbdh(refused.body);
  ASSERT_TRUE(exception) << refused.body;
  EXPECT_EQ(exception->type, "ReceiptException");
  auto signal = adapters::read_signal(*exception);
  ASSERT_TRUE(signal) << signal.error().detail;
  EXPECT_EQ(signal->exception_type, "Sequence");
  EXPECT_EQ(acknowledgements(), 2);
}

// Issue 9 item 5: an SBDH envelope written to a file drop (psychiatry's "URL" a folder) is
// recorded like one pushed over HTTP — every delivery goes through Dispatcher::attempt, which
// records the envelope before it leaves — so the envelope receipt psychiatry posts for the file
// is taken and goes on the letter's timeline, not refused as for an envelope never sent.
TEST_F(DialectFlow, AnSbdhEnvelopeWrittenToAFileDropIsRecordedAndItsReceiptTaken) {
  namespace fs = std::filesystem;
  const std::string outbox = dir.path() + "/psy-outbox";
  fs::create_directories(outbox);
  config["endpoints"][2]["url"] = "file://" + outbox;
  start();
  ASSERT_EQ(post_raw(xdis91_from_jobcenter()).status, 202);
  std::string written;
  ASSERT_TRUE(eventually([&] {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(outbox, ec))
      if (e.is_regular_file() && e.path().filename().string().front() != '.') {
        written = read_file(e.path().string());
        return true;
      }
    return false;
  }));
  auto sent = adapters::parse_sbdh(written);
  ASSERT_TRUE(sent) << sent.error().detail;
  const auto acknowledgements = [&] {
    const nlohmann::json m = message(jc_party, "Brevt23400929");
    int n = 0;
    for (const auto& e : m["timeline"]) n += e["event"] == "ehmi-receipt-acknowledgement";
    return n;
  };
  EXPECT_EQ(acknowledgements(), 0);
  auto ack = adapters::make_receipt_acknowledgement(*sent, {"ACKFILE1", clock.now()});
  ASSERT_TRUE(ack);
  const HttpResult posted = post_raw(adapters::write_sbdh(*ack));
  EXPECT_EQ(posted.status, 202) << posted.body;
  EXPECT_TRUE(eventually([&] { return acknowledgements() == 1; }));
}

TEST_F(DialectFlow, WhatTheReceiversDialectCannotCarryIsRefusedAtTheDoor) {
  config["endpoints"][0]["dialect"] = "native";  // jc speaks native now
  config["endpoints"][2]["dialect"] = "oioxml";  // psychiatry on classic OIOXML
  start();
  const HttpResult r =
      post(make_certificate_request(jc_party, psy_party, "E1", "REQ1", clock.now()));
  EXPECT_EQ(r.status, 422);
  auto nr = decode_envelope(r.body);
  ASSERT_TRUE(nr) << r.body;
  const auto& body = std::get<NegativeReceipt>(nr->letters.front().body);
  EXPECT_EQ(body.code, RefuseCode::kVersionProblem);
  EXPECT_NE(body.text.find("oioxml"), std::string::npos) << body.text;
  EXPECT_TRUE(psy.received().empty());
}

TEST_F(DialectFlow, AnOioxmlSenderIsRefusedWithAnXctl01) {
  start();
  std::string xml = xdis91_from_jobcenter();
  replace_all(xml, psy_party.gln, make_party("579000077777", "1", "x").gln);  // unknown receiver
  const HttpResult r = post_raw(xml);
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("XCTL01"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("ukendt_lokationsnummer"), std::string::npos);
}

TEST_F(DialectFlow, AnEndpointMustSpeakItsOwnDialect) {
  start();
  // The jobcenter is configured for OIOXML; a native document from it is refused.
  const HttpResult r =
      post(make_certificate_request(jc_party, psy_party, "E1", "REQ1", clock.now()));
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("speaks oioxml"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace sektorbro::testing
