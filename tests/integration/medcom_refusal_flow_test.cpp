// Refusals a MedCom sender can use, through the real broker (issue 9): an OIOXML XDIS91 letter
// (MedCom's public sample tests/data/medcom/05_…, readdressed) for a receiver the broker does
// not know is answered with MedCom's XCTL01 carrying ukendt_lokationsnummer, addressed to the
// original sender and naming the original envelope and letter, valid against MedCom's XSD for
// receipts (schemas/medcom/2005-08-07).
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/oioxml/oioxml_codec.hpp"
#include "tests/harness/sample_messages.hpp"
#include "tests/integration/broker_fixture.hpp"
#include "tests/integration/medcom_test_files.hpp"

namespace sektorbro::testing {
namespace {

class MedcomRefusalFlow : public BrokerFixture {
 protected:
  MedcomRefusalFlow() {
    for (auto& e : config["endpoints"]) e["accepts"].push_back("Correspondence");
    config["endpoints"][0]["dialect"] = "oioxml";  // jc
  }
};

TEST_F(MedcomRefusalFlow, AnUnknownReceiverGetsXctl01UkendtLokationsnummerToTheSender) {
  start();
  const std::string unknown = make_party("579000099998", "1", "Ukendt").gln;
  std::string xml =
      read_file(std::string(SEKTORBRO_SOURCE_DIR) +
                "/tests/data/medcom/05_oioxml_XDIS91_pluspositivkvitt_to_municipality.xml");
  replace_all(xml, "5790001382445", jc_party.gln);
  replace_all(xml, "5790000121441", unknown);
  const HttpResult refused = post_raw(xml);
  EXPECT_GE(refused.status, 400) << refused.body;
  EXPECT_EQ(xmllint_against("2005-08-07/EMessage.xsd", refused.body), 0) << refused.body;
  auto receipt = adapters::parse_oioxml(refused.body);
  ASSERT_TRUE(receipt) << receipt.error().detail << "\n" << refused.body;
  ASSERT_EQ(receipt->message.letters.size(), 1u);
  const adapters::OioxmlLetter& l = receipt->message.letters[0];
  EXPECT_EQ(l.kind, adapters::OioxmlLetterKind::kNegativeVansReceipt);
  EXPECT_EQ(l.receiver.ean, jc_party.gln);  // to the original sender
  ASSERT_TRUE(l.original);
  EXPECT_EQ(l.original->envelope_id, "KuvNrerwerwe99");
  std::string code = l.original->refuse_code;
  if (code.empty() && !l.original->letters.empty()) code = l.original->letters[0].refuse_code;
  EXPECT_EQ(code, "ukendt_lokationsnummer") << refused.body;
  ASSERT_FALSE(l.original->letters.empty());
  EXPECT_EQ(l.original->letters[0].letter_id, "Brevt23400929");
}

// Issue 9 item 5: an OIOXML document that does not decode (this one lacks its Envelope/Sent,
// which MedCom's schema requires) is refused with an XCTL01 syntaksfejl that is addressed to
// the original sender and names the original envelope and letter, read from the bytes.
TEST_F(MedcomRefusalFlow, AnUndecodableOioxmlGetsXctl01ToTheOriginalSenderNamingItsEnvelope) {
  start();
  std::string xml =
      read_file(std::string(SEKTORBRO_SOURCE_DIR) +
                "/tests/data/medcom/05_oioxml_XDIS91_pluspositivkvitt_to_municipality.xml");
  replace_all(xml, "5790001382445", jc_party.gln);
  replace_all(xml, "5790000121441", psy_party.gln);
  const auto sent_begin = xml.find("<Sent>");
  const auto sent_end = xml.find("</Sent>");
  ASSERT_NE(sent_begin, std::string::npos);
  xml.erase(sent_begin, sent_end + 7 - sent_begin);
  const HttpResult refused = post_raw(xml);
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(xmllint_against("2005-08-07/EMessage.xsd", refused.body), 0) << refused.body;
  auto receipt = adapters::parse_oioxml(refused.body);
  ASSERT_TRUE(receipt) << receipt.error().detail << "\n" << refused.body;
  ASSERT_EQ(receipt->message.letters.size(), 1u);
  const adapters::OioxmlLetter& l = receipt->message.letters[0];
  EXPECT_EQ(l.kind, adapters::OioxmlLetterKind::kNegativeVansReceipt);
  EXPECT_EQ(l.receiver.ean, jc_party.gln);  // to the original sender, not the broker itself
  EXPECT_NE(l.receiver.ean, broker_party.gln);
  ASSERT_TRUE(l.original);
  EXPECT_EQ(l.original->envelope_id, "KuvNrerwerwe99");
  std::string code = l.original->refuse_code;
  if (code.empty() && !l.original->letters.empty()) code = l.original->letters[0].refuse_code;
  EXPECT_EQ(code, "syntaksfejl") << refused.body;
  ASSERT_FALSE(l.original->letters.empty());
  EXPECT_EQ(l.original->letters[0].letter_id, "Brevt23400929");
  EXPECT_TRUE(psy.received().empty());
}

// Issue 12 item 1 through the real broker: the endpoint's GLN with another endpoint's SOR is
// refused (403, never delivered), and a psychiatry unit may not send a CertificateRequest even
// to a jobcenter configured to take one.
class SenderIdentityFlow : public BrokerFixture {
 protected:
  SenderIdentityFlow() { config["endpoints"][0]["accepts"].push_back("CertificateRequest"); }
};

TEST_F(SenderIdentityFlow, AnotherEndpointsSorOrALetterTypeOfTheOtherKindIsRefused) {
  start();
  Envelope spoofed = make_certificate_request(jc_party, psy_party, "E-SOR", "R-SOR", clock.now());
  spoofed.letters[0].sender.sor = jc2_party.sor;
  const HttpResult sor = post(spoofed);
  EXPECT_EQ(sor.status, 403) << sor.body;
  EXPECT_NE(sor.body.find("R-SOR"), std::string::npos) << "names the original letter";

  const HttpResult kind =
      post(make_certificate_request(psy_party, jc_party, "E-KIND", "R-KIND", clock.now()));
  EXPECT_EQ(kind.status, 403) << kind.body;
  EXPECT_NE(kind.body.find("does not send CertificateRequest"), std::string::npos) << kind.body;

  // The same request from the jobcenter itself goes through.
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E-OK", "R-OK", clock.now())).status,
            202);
  ASSERT_TRUE(eventually([&] { return received_letter(psy, "R-OK"); }));
  EXPECT_FALSE(received_letter(psy, "R-SOR"));
  EXPECT_FALSE(received_letter(jc, "R-KIND"));
}

}  // namespace
}  // namespace sektorbro::testing
