// OIOXML XDIS91 through the real broker without loss (issue 9): MedCom's public XDIS91 sample
// (tests/data/medcom/05_…, readdressed to our endpoints) goes in from a jobcenter on classic
// OIOXML and comes out (a) to a psychiatry system on OIOXML, valid against MedCom's own XSD
// (schemas/medcom/2006-07-01) and with every letter element equal to what was sent — line
// breaks, patient name and address, episode-of-care status, party addresses, speciality code
// and the BIN attachment reference — and (b) to one on the native dialect, with the same
// content in the native letter.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/oioxml/oioxml_codec.hpp"
#include "adapters/oioxml/oioxml_native.hpp"
#include "broker/codec/codec.hpp"
#include "tests/integration/broker_fixture.hpp"
#include "tests/integration/medcom_test_files.hpp"

namespace sektorbro::testing {
namespace {

using std::chrono::seconds;

class MedcomXdis91Flow : public BrokerFixture {
 protected:
  MedcomXdis91Flow() {
    for (auto& e : config["endpoints"]) e["accepts"].push_back("Correspondence");
    config["endpoints"][0]["dialect"] = "oioxml";  // jc
  }
  std::string sample() const {
    std::string xml =
        read_file(std::string(SEKTORBRO_SOURCE_DIR) +
                  "/tests/data/medcom/05_oioxml_XDIS91_pluspositivkvitt_to_municipality.xml");
    replace_all(xml, "5790001382445", jc_party.gln);
    replace_all(xml, "5790000121441", psy_party.gln);
    return xml;
  }
};

TEST_F(MedcomXdis91Flow, OioxmlToOioxmlArrivesValidAndComplete) {
  config["endpoints"][2]["dialect"] = "oioxml";  // psy
  start();
  const std::string sent = sample();
  auto original = adapters::parse_oioxml(sent);
  ASSERT_TRUE(original) << original.error().detail;
  const HttpResult accepted = post_raw(sent);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  ASSERT_TRUE(psy.wait_until([](auto& r) { return !r.empty(); }, seconds{20}));
  const std::string arrived = psy.received().front().body;
  EXPECT_EQ(xmllint_against("2006-07-01/EMessage.xsd", arrived), 0) << arrived;
  auto got = adapters::parse_oioxml(arrived);
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_EQ(got->message.letters.size(), 1u);
  const adapters::OioxmlLetter& a = got->message.letters[0];
  const adapters::OioxmlLetter& b = original->message.letters[0];
  // Every element of the letter, compared one by one (a new envelope is allowed).
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.version_code, b.version_code);
  EXPECT_EQ(a.statistical_code, b.statistical_code);
  EXPECT_EQ(a.authorised, b.authorised);
  EXPECT_EQ(a.type_code, b.type_code);
  EXPECT_EQ(a.status_code, b.status_code);
  EXPECT_EQ(a.episode_of_care_id, b.episode_of_care_id);
  EXPECT_EQ(a.sender, b.sender);
  EXPECT_EQ(a.receiver, b.receiver);
  EXPECT_EQ(a.patient_cpr, b.patient_cpr);
  EXPECT_EQ(a.patient_surname, b.patient_surname);
  EXPECT_EQ(a.patient_given_name, b.patient_given_name);
  EXPECT_EQ(a.patient_address, b.patient_address);
  EXPECT_EQ(a.episode_of_care_status, b.episode_of_care_status);
  EXPECT_EQ(a.priority, b.priority);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.formatted_text, b.formatted_text);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.references, b.references);
  EXPECT_EQ(a, b);
  EXPECT_EQ(got->message.positive_receipt_requested, original->message.positive_receipt_requested);
  EXPECT_NE(arrived.find("<Break/>"), std::string::npos);
}

TEST_F(MedcomXdis91Flow, OioxmlToNativeCarriesTheSameContent) {
  start();
  const std::string sent = sample();
  auto original = adapters::parse_oioxml(sent);
  ASSERT_TRUE(original);
  auto expected = adapters::oioxml_to_native(original->message, clock.now());
  ASSERT_TRUE(expected) << expected.error().detail;
  const HttpResult accepted = post_raw(sent);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  ASSERT_TRUE(psy.wait_until([](auto& r) { return !r.empty(); }, seconds{20}));
  auto got = decode_envelope(psy.received().front().body);
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_EQ(got->letters.size(), 1u);
  const Letter& l = got->letters[0];
  const Letter& want = expected->letters[0];
  EXPECT_EQ(l.id, want.id);
  EXPECT_EQ(l.patient, want.patient);
  EXPECT_EQ(l.sender.gln, want.sender.gln);
  EXPECT_EQ(l.sender.name, want.sender.name);
  EXPECT_EQ(l.receiver.gln, want.receiver.gln);
  // The Correspondence in full: text, formatted text, details, attachment.
  EXPECT_EQ(std::get<Correspondence>(l.body), std::get<Correspondence>(want.body));
  const auto& c = std::get<Correspondence>(l.body);
  EXPECT_EQ(c.patient_details.surname, "Ann Berggren");
  EXPECT_EQ(c.patient_details.episode_of_care_status, "inaktiv");
  EXPECT_EQ(c.sender_details.speciality_code, "ikkeklassificeret");
  ASSERT_EQ(c.attachments.size(), 1u);
  EXPECT_EQ(c.attachments[0].object_id, "c39ea6b2605245e4a207415e0205ab6f");
}

}  // namespace
}  // namespace sektorbro::testing
