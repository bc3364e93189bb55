// Refusals of damaged documents through the real broker (issue 9 item 5): a native or OIOXML
// document that cannot be decoded — cut off in the middle of its letter body, an entity XML does
// not know, a byte that is not UTF-8 under a UTF-8 declaration — is refused with syntaksfejl in
// the sender's dialect (a native NegativeReceipt, MedCom's XCTL01), addressed to the original
// sender's GLN and naming the original envelope and letter, which the broker reads from the part
// of the bytes that is well-formed before the fault (broker/edge/well_formed_prefix.hpp).
// Nothing is stored or delivered. The OIOXML input is MedCom's public XDIS91 sample
// (tests/data/medcom/05_…, readdressed); the XCTL01 is checked against MedCom's XSD for receipts.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/oioxml/oioxml_codec.hpp"
#include "broker/codec/codec.hpp"
#include "tests/harness/sample_messages.hpp"
#include "tests/integration/broker_fixture.hpp"
#include "tests/integration/medcom_test_files.hpp"

namespace sektorbro::testing {
namespace {

// The three kinds of damage, each placed inside the letter body at `at`.
std::vector<std::pair<std::string, std::string>> damaged(const std::string& whole, std::size_t at) {
  std::string entity = whole;
  entity.insert(at, "&nbsp;");
  std::string latin1 = whole;
  latin1.insert(at, "K\xE6re");  // Latin-1 "Kære": not UTF-8
  return {{"cut off", whole.substr(0, at)}, {"undeclared entity", entity}, {"not UTF-8", latin1}};
}

class DamagedDocumentRefusal : public BrokerFixture {
 protected:
  DamagedDocumentRefusal() {
    for (auto& e : config["endpoints"]) e["accepts"].push_back("Correspondence");
  }
};

TEST_F(DamagedDocumentRefusal, ANativeDocumentGetsItsNegativeReceiptAtTheOriginalSender) {
  start();
  const std::string whole = encode_envelope(
      make_certificate_request(jc_party, psy_party, "DMGENV1", "DMGREQ1", clock.now()));
  const std::size_t body = whole.find("<Question>") + 14;
  ASSERT_NE(body, std::string::npos + 14);
  for (const auto& [what, bytes] : damaged(whole, body)) {
    SCOPED_TRACE(what);
    const HttpResult refused = post_raw(bytes);
    EXPECT_EQ(refused.status, 400) << refused.body;
    auto receipt = decode_envelope(refused.body);
    ASSERT_TRUE(receipt) << receipt.error().detail << "\n" << refused.body;
    ASSERT_EQ(receipt->letters.size(), 1u);
    const Letter& r = receipt->letters[0];
    ASSERT_EQ(r.type(), LetterType::kNegativeReceipt) << refused.body;
    EXPECT_EQ(r.receiver.gln, jc_party.gln);  // the original sender, not the broker itself
    EXPECT_EQ(r.receiver.sor, jc_party.sor);
    EXPECT_EQ(r.sender.gln, broker_party.gln);
    const auto& n = std::get<NegativeReceipt>(r.body);
    EXPECT_EQ(n.code, RefuseCode::kSyntaxError);
    EXPECT_EQ(n.level, ReceiptLevel::kNetwork);
    EXPECT_EQ(n.original.original_envelope_id, "DMGENV1");
    EXPECT_EQ(n.original.original_letter_ids, std::vector<std::string>{"DMGREQ1"});
  }
  EXPECT_TRUE(psy.received().empty());
  EXPECT_TRUE(get_json("/v1/messages")["messages"].empty());  // nothing stored
}

TEST_F(DamagedDocumentRefusal, AnOioxmlDocumentGetsItsXctl01AtTheOriginalSender) {
  config["endpoints"][0]["dialect"] = "oioxml";  // jc
  start();
  std::string whole = read_medcom_sample("05_oioxml_XDIS91_pluspositivkvitt_to_municipality.xml");
  replace_all(whole, "5790001382445", jc_party.gln);
  replace_all(whole, "5790000121441", psy_party.gln);
  // Declared UTF-8 (the sample's bytes are UTF-8 already), so that a Latin-1 byte is damage.
  whole.replace(whole.find("iso-8859-1"), 10, "UTF-8");
  const std::size_t body = whole.find("<Text01>") + 30;
  for (const auto& [what, bytes] : damaged(whole, body)) {
    SCOPED_TRACE(what);
    const HttpResult refused = post_raw(bytes);
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(xmllint_against("2005-08-07/EMessage.xsd", refused.body), 0) << refused.body;
    auto receipt = adapters::parse_oioxml(refused.body);
    ASSERT_TRUE(receipt) << receipt.error().detail << "\n" << refused.body;
    ASSERT_EQ(receipt->message.letters.size(), 1u);
    const adapters::OioxmlLetter& l = receipt->message.letters[0];
    EXPECT_EQ(l.kind, adapters::OioxmlLetterKind::kNegativeVansReceipt);
    EXPECT_EQ(l.receiver.ean, jc_party.gln);  // the original sender, not the broker itself
    EXPECT_EQ(l.sender.ean, broker_party.gln);
    ASSERT_TRUE(l.original);
    EXPECT_EQ(l.original->envelope_id, "KuvNrerwerwe99");
    std::string code = l.original->refuse_code;
    if (code.empty() && !l.original->letters.empty()) code = l.original->letters[0].refuse_code;
    EXPECT_EQ(code, "syntaksfejl") << refused.body;
    ASSERT_EQ(l.original->letters.size(), 1u);
    EXPECT_EQ(l.original->letters[0].letter_id, "Brevt23400929");
  }
  EXPECT_TRUE(psy.received().empty());
  EXPECT_TRUE(get_json("/v1/messages")["messages"].empty());  // nothing stored
}

}  // namespace
}  // namespace sektorbro::testing
