// A receipt lands on the version of a letter whose envelope it names, through the real broker
// on a manual clock (issue 9; MedCom reliable messaging, domain.md §3): the jobcenter's request
// is delivered, resent by the broker in a new envelope when no receipt comes in time, then
// corrected by the jobcenter (rettetbrev: a new version, a new message). Psychiatry's receipt
// naming the resend's envelope answers the first version, not the correction, and reaches the
// jobcenter naming its letter.
#include "tests/integration/broker_fixture.hpp"

namespace sektorbro::testing {
namespace {

// Monday 23 November 2026, 10:00 in Copenhagen.
const TimePoint kStart = *parse_timestamp("2026-11-23T09:00:00Z");

class MedcomReceiptVersionFlow : public BrokerFixture {
 protected:
  MedcomReceiptVersionFlow() {
    config["clock"] = {{"mode", "manual"}, {"start", format_timestamp(kStart)}};
    config["deadlines"] = {{"sweep_interval_ms", 60000}};  // sweeps (and receipt checks) on advance
  }
  void advance(std::chrono::seconds by) {
    const auto r = client.post(
        broker->url("/v1/test/clock/advance?seconds=" + std::to_string(by.count())), "");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // The stored message jc sent in envelope `id`, as the operators' list shows it.
  nlohmann::json by_envelope(const std::string& id) {
    const nlohmann::json list = get_json("/v1/messages?envelope=" + id);
    const auto& messages = list.contains("messages") ? list["messages"] : list;
    return messages.size() == 1 ? messages[0] : nlohmann::json{};
  }
  std::string receipt_of(const std::string& envelope_id) {
    return by_envelope(envelope_id).value("receipt", "?");
  }
  Envelope request(const std::string& envelope_id) const {
    return make_certificate_request(jc_party, psy_party, envelope_id, "REQ1", kStart);
  }
};

TEST_F(MedcomReceiptVersionFlow, AReceiptNamingAResendsEnvelopeLandsOnTheVersionResent) {
  start();  // psy answers 200 without a receipt
  ASSERT_EQ(post(request("RV1")).status, 202);
  ASSERT_TRUE(eventually([&] { return by_envelope("RV1").value("state", "") == "delivered"; }));
  advance(std::chrono::minutes{15});  // no receipt in time: the broker resends
  ASSERT_TRUE(psy.wait_until([](auto& r) { return r.size() == 2; }, std::chrono::seconds{20}));
  auto resent = decode_envelope(psy.received()[1].body);
  ASSERT_TRUE(resent) << resent.error().detail;
  ASSERT_NE(resent->id, "RV1") << "a resend goes in a new envelope";

  Envelope fix = request("RV2");
  fix.letters[0].status = LetterStatus::kCorrected;
  std::get<CertificateRequest>(fix.letters[0].body).questions.push_back("Og en rettelse?");
  ASSERT_EQ(post(fix).status, 202);
  ASSERT_TRUE(psy.wait_until([](auto& r) { return r.size() == 3; }, std::chrono::seconds{20}));

  // psy's receipt of the resend it got.
  ASSERT_EQ(post(make_positive_receipt(*resent, "RVK1", "RVKV1", kStart)).status, 202);
  EXPECT_EQ(receipt_of("RV1"), "positive") << "the version the receipt names";
  EXPECT_EQ(receipt_of("RV2"), "none") << "not the newest version";
  // The receipt reaches the jobcenter naming the letter it sent.
  ASSERT_TRUE(jc.wait_until([](auto& r) { return !r.empty(); }, std::chrono::seconds{20}));
  auto relayed = decode_envelope(jc.received().front().body);
  ASSERT_TRUE(relayed) << relayed.error().detail;
  ASSERT_EQ(relayed->letters.size(), 1u);
  ASSERT_EQ(relayed->letters[0].type(), LetterType::kPositiveReceipt);
  EXPECT_EQ(std::get<PositiveReceipt>(relayed->letters[0].body).original.original_letter_ids,
            std::vector<std::string>{"REQ1"});
}

// A receipt naming an envelope in which the letter never went to its writer answers nothing: it
// is refused with a MedCom receipt naming that envelope, and no version is marked receipted.
TEST_F(MedcomReceiptVersionFlow, AReceiptNamingAnEnvelopeNeverSentIsRefused) {
  start();
  ASSERT_EQ(post(request("RV1")).status, 202);
  ASSERT_TRUE(eventually([&] { return by_envelope("RV1").value("state", "") == "delivered"; }));
  auto delivered = decode_envelope(psy.received().at(0).body);
  ASSERT_TRUE(delivered) << delivered.error().detail;
  Envelope never = *delivered;
  never.id = "RVNEVER";
  const auto answer = post(make_positive_receipt(never, "RVK2", "RVKV2", kStart));
  EXPECT_EQ(answer.status, 422) << answer.body;
  EXPECT_NE(answer.body.find("RVNEVER"), std::string::npos) << answer.body;
  EXPECT_EQ(receipt_of("RV1"), "none");
}

}  // namespace
}  // namespace sektorbro::testing
