// The edge for what issue 9 wires last: FHIR JSON in (and the answer in JSON), deliveries
// written for the receiver (FHIR content type, SBDH payload per endpoint, the original FHIR id
// in acknowledgements), EHMI ReceiptException types per fault, and envelope receipts the broker
// refuses. Inputs: MedCom's samples in tests/data/medcom (SOURCES.tsv) and our own FHIR test
// messages in tests/data/medcom/fhir (XML ones name the public MedCom example each follows; the
// JSON ones are their JSON forms).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <variant>

#include "adapters/fhir/fhir_acknowledgement.hpp"
#include "adapters/fhir/fhir_json.hpp"
#include "adapters/fhir/fhir_native.hpp"
#include "adapters/sbdh/sbdh_document.hpp"
#include "adapters/sbdh/sbdh_native.hpp"
#include "adapters/sbdh/sbdh_receipts.hpp"
#include "broker/codec/codec.hpp"
#include "broker/edge/edge_codec.hpp"
#include "tests/harness/sample_messages.hpp"

namespace sektorbro {
namespace {

using testing::make_party;

const TimePoint kNow = *parse_timestamp("2026-11-20T09:31:00+01:00");

std::string data(const std::string& name) {
  std::ifstream in(std::string(SEKTORBRO_SOURCE_DIR) + "/tests/data/medcom/" + name,
                   std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

Envelope network_refusal(const OriginalIds& original, const Party& to, RefuseCode code,
                         std::string text = "refused") {
  Envelope e;
  e.id = "SB1";
  e.sent = kNow;
  Letter l;
  l.id = "SB1";
  l.authorised = kNow;
  l.sender = make_party("579000099999", "1", "Sektorbro");
  l.receiver = to;
  NegativeReceipt nr;
  nr.level = ReceiptLevel::kNetwork;
  nr.code = code;
  nr.text = std::move(text);
  nr.original = {original.envelope_id.empty() ? "ukendt" : original.envelope_id,
                 original.letter_ids};
  l.body = nr;
  e.letters.push_back(l);
  return e;
}

Endpoint endpoint(Dialect dialect, SbdhPayload payload = SbdhPayload::kNative) {
  Endpoint e;
  e.id = "x";
  e.dialect = dialect;
  e.sbdh_payload = payload;
  return e;
}

TEST(EdgeFhirJson, AJsonCareCommunicationIsTheSameLetterAsItsXmlForm) {
  auto json = decode_inbound(data("fhir/care_communication.json"), kNow);
  ASSERT_TRUE(json) << json.error().detail;
  auto xml = decode_inbound(data("fhir/care_communication.xml"), kNow);
  ASSERT_TRUE(xml) << xml.error().detail;
  EXPECT_TRUE(json->fhir);
  EXPECT_TRUE(json->fhir_json);
  EXPECT_FALSE(xml->fhir_json);
  ASSERT_TRUE(json->envelope && xml->envelope);
  EXPECT_EQ(json->envelope->letters, xml->envelope->letters);
  EXPECT_EQ(json->envelope->id, xml->envelope->id);
  EXPECT_EQ(json->original.fhir_header_id, "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");
  auto discharge = decode_inbound(data("fhir/hospital_notification_discharge.json"), kNow);
  ASSERT_TRUE(discharge) << discharge.error().detail;
  EXPECT_EQ(discharge->envelope->letters.at(0).type(), LetterType::kDischargeNotice);
}

TEST(EdgeFhirJson, AJsonSenderIsRefusedInJson) {
  // A hospital-stay event MedCom does not define, as JSON: refused, and the fatal-error
  // Acknowledgement comes back as FHIR JSON naming the sender's own MessageHeader.id.
  auto admit_json = adapters::fhir_xml_to_json(data("fhir/hospital_notification_unknown_event.xml"));
  ASSERT_TRUE(admit_json) << admit_json.error().detail;
  auto decoded = decode_inbound(*admit_json, kNow);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::kUnsupportedType);
  const Inbound unread = read_leniently(*admit_json);
  EXPECT_TRUE(unread.fhir);
  EXPECT_TRUE(unread.fhir_json);
  EXPECT_EQ(unread.original.fhir_header_id, "5f7b9d1f-3a4c-4b6d-8e8f-0a2b4c6d8e0a");
  const std::string answer = refused_answer(
      unread.dialect, &unread,
      network_refusal(unread.original, make_party("579000067890", "265161000016000", "P"),
                      RefuseCode::kVersionProblem),
      kNow, "X1", Errc::kUnsupportedType);
  ASSERT_TRUE(adapters::looks_like_json(answer)) << answer;
  EXPECT_EQ(answer_content_type(answer), "application/fhir+json; charset=utf-8");
  const auto parsed = nlohmann::json::parse(answer);
  EXPECT_EQ(parsed["resourceType"], "Bundle");
  auto back = adapters::fhir_json_to_xml(answer);
  ASSERT_TRUE(back) << back.error().detail;
  auto ack = adapters::parse_fhir_acknowledgement(*back);
  ASSERT_TRUE(ack) << ack.error().detail;
  EXPECT_EQ(ack->code, adapters::FhirAckCode::kFatalError);
  EXPECT_EQ(ack->response_identifier, "5f7b9d1f-3a4c-4b6d-8e8f-0a2b4c6d8e0a");
  EXPECT_EQ(ack->issues.at(0).detail_code, "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE");

  // The same refusal of the XML form stays XML.
  const Inbound xml = read_leniently(data("fhir/hospital_notification_unknown_event.xml"));
  const std::string xml_answer = refused_answer(
      xml.dialect, &xml,
      network_refusal(xml.original, make_party("579000067890", "265161000016000", "P"),
                      RefuseCode::kVersionProblem),
      kNow, "X1", Errc::kUnsupportedType);
  EXPECT_TRUE(sniff_fhir(xml_answer));
  EXPECT_EQ(answer_content_type(xml_answer), "application/fhir+xml; charset=utf-8");
}

TEST(EdgeFhirJson, JsonThatIsNoFhirMessageIsRefusedClearly) {
  auto not_json = decode_inbound("{\"resourceType\": \"Bundle\", ", kNow);
  ASSERT_FALSE(not_json);
  EXPECT_EQ(not_json.error().code, Errc::kMalformed);
  auto patient = decode_inbound(R"({"resourceType": "Patient", "id": "p"})", kNow);
  ASSERT_FALSE(patient);
  EXPECT_EQ(patient.error().code, Errc::kInvalid);
  // Read leniently it is still a JSON sender: the refusal is JSON.
  const Inbound unread = read_leniently("{\"resourceType\": \"Bundle\", ");
  EXPECT_TRUE(unread.fhir_json);
}

TEST(EdgeDelivery, EachDialectGetsItsContentType) {
  EXPECT_EQ(delivery_content_type(endpoint(Dialect::kFhir)), "application/fhir+xml");
  EXPECT_EQ(delivery_content_type(endpoint(Dialect::kNative)), "application/xml; charset=utf-8");
  EXPECT_EQ(delivery_content_type(endpoint(Dialect::kOioxml)), "application/xml");
  EXPECT_EQ(delivery_content_type(endpoint(Dialect::kSbdh)), "application/xml");
  EXPECT_EQ(answer_content_type("<Acceptance/>"), "application/xml; charset=utf-8");
}

TEST(EdgeDelivery, AnSbdhReceiverGetsThePayloadItsConfigNames) {
  auto from_fhir = decode_inbound(data("fhir/care_communication.xml"), kNow);
  ASSERT_TRUE(from_fhir) << from_fhir.error().detail;
  const Envelope& letter = *from_fhir->envelope;
  struct Case {
    SbdhPayload payload;
    std::string mime;
  };
  for (const Case& c : {Case{SbdhPayload::kNative, "application/xml"},
                        Case{SbdhPayload::kFhir, "application/fhir+xml"}}) {
    auto bytes = encode_for_receiver(letter, endpoint(Dialect::kSbdh, c.payload), kNow, "S-1");
    ASSERT_TRUE(bytes) << bytes.error().detail;
    auto doc = adapters::parse_sbdh(*bytes);
    ASSERT_TRUE(doc) << doc.error().detail;
    EXPECT_EQ(doc->instance_id, "S-1");
    EXPECT_EQ(doc->mime_type, c.mime) << to_string(c.payload);
    auto back = decode_inbound(*bytes, kNow);
    ASSERT_TRUE(back) << back.error().detail;
    EXPECT_EQ(back->envelope->letters, letter.letters) << to_string(c.payload);
  }
  // The sample XDIS91 with SOR codes as an OIOXML payload.
  auto from_oioxml =
      decode_inbound(data("05_oioxml_XDIS91_pluspositivkvitt_to_municipality.xml"), kNow);
  ASSERT_TRUE(from_oioxml);
  Envelope x = *from_oioxml->envelope;
  for (auto& l : x.letters) {
    l.sender.sor = "1";
    l.receiver.sor = "2";
  }
  auto oioxml = encode_for_receiver(x, endpoint(Dialect::kSbdh, SbdhPayload::kOioxml), kNow, "S-2");
  ASSERT_TRUE(oioxml) << oioxml.error().detail;
  auto odoc = adapters::parse_sbdh(*oioxml);
  ASSERT_TRUE(odoc);
  EXPECT_EQ(odoc->standard, "XDIS91");
  EXPECT_EQ(odoc->type, "Emessage");
  // A Sektorbro-only letter has no OIOXML or FHIR form: refused when written.
  const Envelope request = testing::make_certificate_request(
      make_party("579000012345", "2", "JC"), make_party("579000054321", "3", "P"), "E1", "R1",
      kNow);
  auto none = encode_for_receiver(request, endpoint(Dialect::kSbdh, SbdhPayload::kFhir), kNow, "S");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::kUnsupportedType);
}

TEST(EdgeDelivery, AnAcknowledgementToAFhirReceiverNamesTheOriginalFhirMessageId) {
  OriginalIds original;
  original.envelope_id = "F7d1c2f3a5b6e4";
  original.letter_ids = {"F0b9e8d7c6f5a4"};
  Envelope receipt = network_refusal(original, make_party("579000067890", "2", "P"),
                                     RefuseCode::kUnknownLocation);
  for (const Endpoint& to : {endpoint(Dialect::kFhir), endpoint(Dialect::kSbdh, SbdhPayload::kFhir)}) {
    auto bytes = encode_for_receiver(receipt, to, kNow, "S-3", "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");
    ASSERT_TRUE(bytes) << bytes.error().detail;
    std::string fhir = *bytes;
    if (to.dialect == Dialect::kSbdh) fhir = adapters::parse_sbdh(*bytes)->payload;
    auto ack = adapters::parse_fhir_acknowledgement(fhir);
    ASSERT_TRUE(ack) << ack.error().detail;
    EXPECT_EQ(ack->response_identifier, "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");
  }
}

// An SBDH envelope from our own SBDH sender: the sample's envelope around a native letter.
adapters::SbdhDocument sbdh_sample() {
  auto doc = adapters::parse_sbdh(data("10_ehmiSBDH_envelope_with_FHIR_message.xml"));
  EXPECT_TRUE(doc) << doc.error().detail;
  return *doc;
}

TEST(EdgeEhmi, EachRefusalOfAnSbdhEnvelopeHasItsReceiptExceptionType) {
  Inbound in;
  in.dialect = Dialect::kSbdh;
  in.sbdh = sbdh_sample();
  const Envelope refusal = network_refusal({}, make_party("579000012345", "2", "JC"),
                                           RefuseCode::kUnknownLocation, "no such receiver");
  const std::vector<std::pair<Errc, std::string>> cases = {
      {Errc::kMalformed, "Syntax"},           {Errc::kInvalid, "Syntax"},
      {Errc::kTooLarge, "Syntax"},            {Errc::kUnknownSender, "Authorization"},
      {Errc::kUnknownReceiver, "Authorization"}, {Errc::kReceiverMismatch, "Authorization"},
      {Errc::kUnsupportedType, "Sequence"},   {Errc::kUnknownReference, "Sequence"},
      {Errc::kDuplicateConflict, "Sequence"},
  };
  for (const auto& [fault, type] : cases) {
    const std::string answer = refused_answer(Dialect::kSbdh, &in, refusal, kNow, "R1", fault);
    auto doc = adapters::parse_sbdh(answer);
    ASSERT_TRUE(doc) << errc_name(fault) << ": " << answer;
    EXPECT_EQ(doc->type, "ReceiptException");
    EXPECT_EQ(doc->original_envelope_id, in.sbdh->instance_id);
    auto signal = adapters::read_signal(*doc);
    ASSERT_TRUE(signal) << signal.error().detail;
    EXPECT_EQ(signal->exception_type, type) << errc_name(fault);
    EXPECT_EQ(signal->reason, "no such receiver");
  }
  // The broker's own trouble: no ReceiptException (it would end the exchange); 503 says resend.
  EXPECT_EQ(refused_answer(Dialect::kSbdh, &in, refusal, kNow, "R1", Errc::kStorage), "");
  EXPECT_EQ(refused_answer(Dialect::kSbdh, &in, refusal, kNow, "R1", Errc::kStale), "");
}

TEST(EdgeEhmi, AnEnvelopeReceiptForAnUnknownEnvelopeGetsASequenceException) {
  const std::string bytes = data("12_ehmiSBDH_ReceiptAcknowledgement.xml");
  auto in = decode_inbound(bytes, kNow);
  ASSERT_TRUE(in) << in.error().detail;
  // Where EHMI's sample names the envelope it answers: the ORIGINALENVELOPEIDENTIFIER scope
  // and the receipt scope both say 9a6ff822-…; the ebBP signal names the MESSAGEIDENTIFIER.
  EXPECT_EQ(signal_envelope_candidates(*in),
            (std::vector<std::string>{"9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc",
                                      "489de4f2-0d8d-4de2-a7ce-ccb93568799f"}));
  auto refused = check_signal_reference(*in, false);
  ASSERT_FALSE(refused);
  const Envelope refusal = network_refusal({}, make_party("579000012309", "2", "X"),
                                           RefuseCode::kUnspecified, refused.error().detail);
  const std::string answer =
      refused_answer(Dialect::kSbdh, &*in, refusal, kNow, "R2", refused.error().code);
  auto doc = adapters::parse_sbdh(answer);
  ASSERT_TRUE(doc) << answer;
  EXPECT_EQ(doc->type, "ReceiptException");
  EXPECT_EQ(doc->receiver_gln, in->sbdh->sender_gln);
  EXPECT_EQ(doc->original_envelope_id, in->sbdh->instance_id);
  auto signal = adapters::read_signal(*doc);
  ASSERT_TRUE(signal);
  EXPECT_EQ(signal->exception_type, "Sequence");
  EXPECT_NE(signal->reason.find("did not send"), std::string::npos) << signal->reason;
}

}  // namespace
}  // namespace sektorbro
