#include "broker/edge/edge_codec.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "adapters/oioxml/oioxml_codec.hpp"
#include "broker/codec/codec.hpp"
#include "tests/harness/sample_messages.hpp"

namespace sektorbro {
namespace {

using testing::make_party;

const TimePoint kNow = *parse_timestamp("2026-11-23T09:00:00Z");

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const Party kJc = make_party("579000012345", "265161000016001", "Jobcenter Testby");
const Party kPsy = make_party("579000054321", "265161000016003", "Psykiatrien Testby");

TEST(Edge, SniffsEachDialectFromTheRootElement) {
  EXPECT_EQ(sniff_dialect(
                encode_envelope(testing::make_certificate_request(kJc, kPsy, "E1", "R1", kNow))),
            Dialect::kNative);
  EXPECT_EQ(sniff_dialect(read_file(SEKTORBRO_SOURCE_DIR
                                    "/tests/data/medcom/05_oioxml_XDIS91_pluspositivkvitt_to_"
                                    "municipality.xml")),
            Dialect::kOioxml);
  EXPECT_EQ(
      sniff_dialect(read_file(SEKTORBRO_SOURCE_DIR
                              "/tests/data/medcom/10_ehmiSBDH_envelope_with_FHIR_message.xml")),
      Dialect::kSbdh);
  EXPECT_EQ(
      sniff_dialect("<!-- <Emessage xmlns=\"http://rep.oio.dk/sundcom.dk/medcom.dk/xml/"
                    "schemas/2006/07/01/\"> --><Emessage xmlns=\"urn:sektorbro:messaging:1\">"),
      Dialect::kNative);
  EXPECT_EQ(sniff_dialect("not xml"), Dialect::kNative);
}

TEST(Edge, ANativeEnvelopeTravelsInsideSbdhAndComesBackEqual) {
  const Envelope request = testing::make_certificate_request(kJc, kPsy, "E1", "R1", kNow);
  auto bytes = encode_outbound(request, Dialect::kSbdh, kNow, "SBDH1");
  ASSERT_TRUE(bytes) << bytes.error().detail;
  auto in = decode_inbound(*bytes, kNow);
  ASSERT_TRUE(in) << in.error().detail;
  EXPECT_EQ(in->dialect, Dialect::kSbdh);
  ASSERT_TRUE(in->envelope);
  EXPECT_EQ(*in->envelope, request);
  // The broker acknowledges the envelope EHMI style, not with its own acceptance.
  const std::string ack = accepted_answer(*in, "<Acceptance/>", kNow, "ACK1");
  EXPECT_NE(ack.find("ReceiptAcknowledgement"), std::string::npos);
  auto ack_in = decode_inbound(ack, kNow);
  ASSERT_TRUE(ack_in) << ack_in.error().detail;
  EXPECT_TRUE(ack_in->signal);
  EXPECT_FALSE(ack_in->envelope);
}

TEST(Edge, OioxmlCarriesCorrespondenceAndReceiptsOnly) {
  EXPECT_TRUE(expressible(LetterType::kCorrespondence, Dialect::kOioxml));
  EXPECT_TRUE(expressible(LetterType::kPositiveReceipt, Dialect::kOioxml));
  EXPECT_FALSE(expressible(LetterType::kCertificateRequest, Dialect::kOioxml));
  EXPECT_TRUE(expressible(LetterType::kCertificateRequest, Dialect::kSbdh));
  const auto refused = encode_outbound(
      testing::make_certificate_request(kJc, kPsy, "E1", "R1", kNow), Dialect::kOioxml, kNow, "X");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnsupportedType);
  EXPECT_NE(refused.error().detail.find("CertificateRequest"), std::string::npos);
}

TEST(Edge, TheXdis91SampleBecomesNativeCorrespondence) {
  auto in = decode_inbound(
      read_file(SEKTORBRO_SOURCE_DIR "/tests/data/medcom/05_oioxml_XDIS91_pluspositivkvitt_to_"
                                     "municipality.xml"),
      kNow);
  ASSERT_TRUE(in) << in.error().detail;
  ASSERT_TRUE(in->envelope);
  EXPECT_EQ(in->envelope->id, "KuvNrerwerwe99");
  EXPECT_TRUE(in->envelope->positive_receipt_requested);
  ASSERT_EQ(in->envelope->letters.size(), 1u);
  EXPECT_EQ(in->envelope->letters[0].type(), LetterType::kCorrespondence);
  EXPECT_EQ(in->envelope->letters[0].sender.gln, "5790001382445");
}

TEST(Edge, RefusalsAreWrittenInTheSendersDialect) {
  Envelope refusal;
  refusal.id = "SB1";
  refusal.sent = kNow;
  Letter l;
  l.id = "SB1";
  l.authorised = kNow;
  l.sender = make_party("579000099999", "1", "Sektorbro");
  l.receiver = kJc;
  NegativeReceipt nr;
  nr.level = ReceiptLevel::kNetwork;
  nr.code = RefuseCode::kUnknownLocation;
  nr.text = "receiver GLN 5790000777773 is not a known endpoint";
  nr.original = {"E1", {"R1"}};
  l.body = nr;
  refusal.letters.push_back(l);
  const std::string native = refused_answer(Dialect::kNative, nullptr, refusal, kNow, "X1");
  EXPECT_TRUE(decode_envelope(native));
  const std::string xctl01 = refused_answer(Dialect::kOioxml, nullptr, refusal, kNow, "X1");
  EXPECT_NE(xctl01.find("XCTL01"), std::string::npos) << xctl01;
  EXPECT_NE(xctl01.find("ukendt_lokationsnummer"), std::string::npos);
}

}  // namespace
}  // namespace sektorbro
