#include "broker/edge/edge_codec.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "adapters/oioxml/oioxml_codec.hpp"
#include "broker/codec/codec.hpp"
#include "broker/xml/xml_document.hpp"
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

// The broker's refusal for the tests below: to `to`, about envelope E1.
Envelope refusal_to(const Party& to, RefuseCode code, std::string text) {
  Envelope refusal;
  refusal.id = "SB2";
  refusal.sent = kNow;
  Letter l;
  l.id = "SB2";
  l.authorised = kNow;
  l.sender = make_party("579000099999", "1", "Sektorbro");
  l.receiver = to;
  NegativeReceipt nr;
  nr.level = ReceiptLevel::kNetwork;
  nr.code = code;
  nr.text = std::move(text);
  nr.original = {"ukendt", {}};
  l.body = nr;
  refusal.letters.push_back(l);
  return refusal;
}

Envelope notice_without_consent() {
  const Date discharge{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}};
  Envelope e = testing::make_discharge_notice(kPsy, kJc, "UDS1", "UDSKR1", kNow, discharge);
  std::get<DischargeNotice>(e.letters[0].body).consent = false;
  return e;
}

// Issue 9: a cut-off SBDH envelope is still answered with an EHMI ReceiptException (Syntax),
// addressed to the sender and naming the envelope as far as its header tells.
TEST(Edge, ACutOffSbdhEnvelopeGetsASyntaxReceiptExceptionToItsSender) {
  auto bytes = encode_outbound(notice_without_consent(), Dialect::kSbdh, kNow, "SBDHU1");
  ASSERT_TRUE(bytes);
  const std::string cut = bytes->substr(0, bytes->size() * 2 / 3);
  ASSERT_FALSE(decode_inbound(cut, kNow));
  const Inbound in = read_leniently(cut);
  ASSERT_TRUE(in.sbdh);
  EXPECT_EQ(in.original.sender_gln, kPsy.gln);
  const std::string answer =
      refused_answer(Dialect::kSbdh, &in, refusal_to(kPsy, RefuseCode::kSyntaxError, "cut off"),
                     kNow, "X2", Errc::kMalformed);
  auto doc = adapters::parse_sbdh(answer);
  ASSERT_TRUE(doc) << doc.error().detail << "\n" << answer;
  auto signal = adapters::read_signal(*doc);
  ASSERT_TRUE(signal) << signal.error().detail;
  EXPECT_TRUE(signal->exception);
  EXPECT_EQ(signal->exception_type, "Syntax");
  EXPECT_EQ(doc->receiver_gln, kPsy.gln);
  EXPECT_EQ(doc->sender_gln, kJc.gln);
  EXPECT_EQ(doc->original_envelope_id, "SBDHU1");

  // Cut inside the header's Sender: no party read; the answer goes to the refusal's receiver.
  const std::string early = bytes->substr(0, bytes->find("Identifier") + 3);
  const Inbound unread = read_leniently(early);
  ASSERT_TRUE(unread.sbdh);
  EXPECT_TRUE(unread.original.sender_gln.empty());
  const Party broker = make_party("579000099999", "1", "Sektorbro");
  const std::string to_broker = refused_answer(
      Dialect::kSbdh, &unread, refusal_to(broker, RefuseCode::kSyntaxError, "cut off"), kNow, "X3",
      Errc::kMalformed);
  auto broker_doc = adapters::parse_sbdh(to_broker);
  ASSERT_TRUE(broker_doc) << broker_doc.error().detail << "\n" << to_broker;
  EXPECT_EQ(broker_doc->receiver_gln, broker.gln);
  EXPECT_NE(adapters::read_signal(*broker_doc)->reason.find("InstanceIdentifier"),
            std::string::npos);
}

// Issue 9: a cut-off FHIR message gets an Acknowledgement naming the MessageHeader.id read from
// the bytes; when the id itself is cut off, an OperationOutcome (MedCom's Acknowledgement needs
// response.identifier).
TEST(Edge, ACutOffFhirMessageIsAnsweredNamingItsMessageHeaderIdWhenReadable) {
  auto bytes = encode_outbound_fhir(notice_without_consent(), kNow);
  ASSERT_TRUE(bytes);
  auto whole = adapters::parse_fhir_message(*bytes);
  ASSERT_TRUE(whole);
  const Envelope refusal = refusal_to(kPsy, RefuseCode::kSyntaxError, "cut off");
  const std::size_t header = bytes->find("<MessageHeader");
  ASSERT_NE(header, std::string::npos);
  const std::size_t id_end = bytes->find("/>", bytes->find("<id", header));
  const std::string after_id = bytes->substr(0, id_end + 2);
  ASSERT_FALSE(decode_inbound(after_id, kNow));
  const Inbound in = read_leniently(after_id);
  EXPECT_EQ(in.original.fhir_header_id, whole->header_id);
  const std::string answer = refused_answer(Dialect::kNative, &in, refusal, kNow, "X4");
  auto ack = adapters::parse_fhir_acknowledgement(answer);
  ASSERT_TRUE(ack) << ack.error().detail << "\n" << answer;
  EXPECT_EQ(ack->response_identifier, whole->header_id);
  EXPECT_EQ(ack->code, adapters::FhirAckCode::kFatalError);

  const std::string before_id = bytes->substr(0, id_end - 4);  // inside the id's value
  const Inbound unread = read_leniently(before_id);
  EXPECT_TRUE(unread.fhir);
  EXPECT_TRUE(unread.original.fhir_header_id.empty());
  const std::string outcome = refused_answer(Dialect::kNative, &unread, refusal, kNow, "X5");
  auto tree = parse_xml_document(outcome);
  ASSERT_TRUE(tree) << outcome;
  EXPECT_EQ(tree->name, "OperationOutcome");
  EXPECT_NE(outcome.find("no MessageHeader.id could be read"), std::string::npos) << outcome;
  EXPECT_EQ(answer_content_type(outcome), "application/fhir+xml; charset=utf-8");
}

// Damaged bytes cost bounded work: many open scopes and nothing else is read quickly, and
// yields no ids.
TEST(Edge, LenientReadingOfManyOpenScopesIsBoundedAndFindsNothing) {
  std::string bytes =
      "<StandardBusinessDocument xmlns=\"http://www.unece.org/cefact/namespaces/"
      "StandardBusinessDocumentHeader\"><StandardBusinessDocumentHeader>";
  for (int i = 0; i < 200000; ++i) bytes += "<Scope>";
  const Inbound in = read_leniently(bytes);
  ASSERT_TRUE(in.sbdh);
  EXPECT_TRUE(in.sbdh->sender_gln.empty());
  EXPECT_TRUE(in.sbdh->instance_id.empty());
  EXPECT_TRUE(in.original.letter_ids.empty());
}

// Issue 9: FHIR's HospitalNotification has no place for consent; never dropped silently.
TEST(Edge, ADischargeNoticeWithConsentIsNotCarriedInFhir) {
  Envelope e = notice_without_consent();
  EXPECT_TRUE(can_carry(e.letters[0], Dialect::kFhir, true));
  std::get<DischargeNotice>(e.letters[0].body).consent = true;
  auto refused = can_carry(e.letters[0], Dialect::kFhir, true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnsupportedType);
  EXPECT_NE(refused.error().detail.find("consent"), std::string::npos);
  EXPECT_TRUE(can_carry(e.letters[0], Dialect::kSbdh, false));
  EXPECT_TRUE(can_carry(e.letters[0], Dialect::kNative, false));
}

}  // namespace
}  // namespace sektorbro
