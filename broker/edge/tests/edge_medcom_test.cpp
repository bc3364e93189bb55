// The edge with MedCom's other dialects (issue 9): FHIR in and out, refusals a sender can match
// (read leniently from documents that cannot be decoded), EHMI SBDH with OIOXML and FHIR
// payloads, and SBDH envelope receipts that must answer an envelope the broker sent. Pure: no
// sockets. Inputs: MedCom's samples in tests/data/medcom (see SOURCES.tsv) and our own FHIR test
// messages in tests/data/medcom/fhir (each names the public MedCom example it follows).
#include <gtest/gtest.h>

#include <fstream>
#include <variant>

#include "adapters/fhir/fhir_acknowledgement.hpp"
#include "adapters/fhir/fhir_native.hpp"
#include "adapters/oioxml/oioxml_codec.hpp"
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

const std::string kXdis91 = "05_oioxml_XDIS91_pluspositivkvitt_to_municipality.xml";

// The broker's own network refusal of `original` with `code`, addressed to `to`.
Envelope refusal_of(const OriginalIds& original, const Party& to, RefuseCode code) {
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
  nr.text = "the receiver is not a known endpoint";
  nr.original = {original.envelope_id, original.letter_ids};
  l.body = nr;
  e.letters.push_back(l);
  return e;
}

TEST(EdgeFhir, ACareCommunicationIsRecognisedAndDecoded) {
  const std::string bytes = data("fhir/care_communication.xml");
  EXPECT_TRUE(sniff_fhir(bytes));
  EXPECT_FALSE(sniff_fhir(data(kXdis91)));
  auto in = decode_inbound(bytes, kNow);
  ASSERT_TRUE(in) << in.error().detail;
  EXPECT_TRUE(in->fhir);
  ASSERT_TRUE(in->envelope);
  EXPECT_EQ(in->envelope->letters.at(0).type(), LetterType::kCorrespondence);
  EXPECT_EQ(in->original.fhir_header_id, "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");
}

TEST(EdgeFhir, ADischargeNotificationIsADischargeNotice) {
  auto in = decode_inbound(data("fhir/hospital_notification_discharge.xml"), kNow);
  ASSERT_TRUE(in) << in.error().detail;
  ASSERT_TRUE(in->envelope);
  EXPECT_EQ(in->envelope->letters.at(0).type(), LetterType::kDischargeNotice);
}

TEST(EdgeFhir, ARefusalIsAFatalErrorAcknowledgementOfTheSendersMessage) {
  const std::string bytes = data("fhir/hospital_notification_unknown_event.xml");
  auto decoded = decode_inbound(bytes, kNow);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::kUnsupportedType);
  const Inbound unread = read_leniently(bytes);
  EXPECT_TRUE(unread.fhir);
  EXPECT_EQ(unread.original.fhir_header_id, "5f7b9d1f-3a4c-4b6d-8e8f-0a2b4c6d8e0a");
  const Party sender = make_party("579000067890", "265161000016000", "Psykiatri");
  const std::string answer =
      refused_answer(unread.dialect, &unread,
                     refusal_of(unread.original, sender, RefuseCode::kVersionProblem), kNow, "X1");
  auto ack = adapters::parse_fhir_acknowledgement(answer);
  ASSERT_TRUE(ack) << ack.error().detail << "\n" << answer;
  EXPECT_EQ(ack->code, adapters::FhirAckCode::kFatalError);
  EXPECT_EQ(ack->response_identifier, "5f7b9d1f-3a4c-4b6d-8e8f-0a2b4c6d8e0a");
  ASSERT_FALSE(ack->issues.empty());
  EXPECT_EQ(ack->issues[0].detail_code, "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE");
}

TEST(EdgeFhir, ReceiptsGoOutAsAcknowledgementsThatNameTheOriginal) {
  OriginalIds original;
  original.envelope_id = "E1";
  original.letter_ids = {"JCA-1"};
  Envelope e =
      refusal_of(original, make_party("579000012345", "2", "JC"), RefuseCode::kUnknownLocation);
  auto bytes = encode_outbound_fhir(e, kNow);
  ASSERT_TRUE(bytes) << bytes.error().detail;
  auto ack = adapters::parse_fhir_acknowledgement(*bytes);
  ASSERT_TRUE(ack) << ack.error().detail;
  EXPECT_EQ(ack->response_identifier, adapters::uuid_for_native_id("JCA-1"));
  EXPECT_EQ(ack->issues.at(0).detail_code, "MSG_Receiver_Identifier_UNKNOWN");
  // And an Acknowledgement coming in names the native letter again.
  auto in = decode_inbound(*bytes, kNow);
  ASSERT_TRUE(in) << in.error().detail;
  ASSERT_TRUE(in->envelope);
  const auto& nr = std::get<NegativeReceipt>(in->envelope->letters.at(0).body);
  EXPECT_EQ(nr.original.original_letter_ids, std::vector<std::string>{"JCA-1"});
  EXPECT_EQ(nr.code, RefuseCode::kUnknownLocation);
  // For a letter that came as FHIR, the acknowledgement names the sender's own message id.
  auto relayed = encode_outbound_fhir(e, kNow, "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");
  ASSERT_TRUE(relayed) << relayed.error().detail;
  EXPECT_EQ(adapters::parse_fhir_acknowledgement(*relayed)->response_identifier,
            "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");
}

TEST(EdgeFhir, OnlyMedcomMessagesCanBeCarried) {
  const Envelope request =
      testing::make_certificate_request(make_party("579000012345", "2", "JC"),
                                        make_party("579000054321", "3", "P"), "E1", "R1", kNow);
  EXPECT_FALSE(can_carry(request.letters[0], Dialect::kNative, true));
  EXPECT_TRUE(can_carry(request.letters[0], Dialect::kSbdh, false));
  auto out = encode_outbound_fhir(request, kNow);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Errc::kUnsupportedType);
}

TEST(EdgeRefusal, AnUndecodableOioxmlLetterStillNamesItsSenderEnvelopeAndLetters) {
  std::string bytes = data(kXdis91);
  bytes.replace(bytes.find("pluspositivkvitt"), 16, "altid");  // breaks the schema
  ASSERT_FALSE(decode_inbound(bytes, kNow));
  const Inbound unread = read_leniently(bytes);
  EXPECT_EQ(unread.dialect, Dialect::kOioxml);
  EXPECT_EQ(unread.original.sender_gln, "5790001382445");
  EXPECT_EQ(unread.original.envelope_id, "KuvNrerwerwe99");
  EXPECT_EQ(unread.original.letter_ids, std::vector<std::string>{"Brevt23400929"});
  const std::string xctl01 =
      refused_answer(unread.dialect, &unread,
                     refusal_of(unread.original, Party{"5790001382445", "1", "", "", ""},
                                RefuseCode::kSyntaxError),
                     kNow, "X1");
  auto receipt = adapters::parse_oioxml(xctl01);
  ASSERT_TRUE(receipt) << receipt.error().detail;
  const auto& letter = receipt->message.letters.at(0);
  EXPECT_EQ(letter.receiver.ean, "5790001382445");  // to the original sender
  EXPECT_EQ(letter.original->envelope_id, "KuvNrerwerwe99");
  EXPECT_EQ(letter.original->letters.at(0).letter_id, "Brevt23400929");
}

TEST(EdgeRefusal, NativeAndGarbageAreReadLenientlyToo) {
  const Envelope request =
      testing::make_certificate_request(make_party("579000012345", "265161000016001", "JC"),
                                        make_party("579000054321", "3", "P"), "E1", "R1", kNow);
  std::string bytes = encode_envelope(request);
  bytes.replace(bytes.find("<Question>"), 10, "<Questio>");  // not well-formed any more
  // The ids come before the fault (the body's mismatched end tag): they are read; the envelope
  // cut inside its first letter's Identifier names the envelope only.
  const OriginalIds broken = read_leniently(bytes).original;
  EXPECT_EQ(broken.envelope_id, "E1");
  EXPECT_EQ(broken.letter_ids, std::vector<std::string>{"R1"});
  EXPECT_EQ(broken.sender_gln, request.letters[0].sender.gln);
  const std::string whole = encode_envelope(request);
  const OriginalIds early =
      read_leniently(whole.substr(0, whole.find("<Identifier>R1") + 13)).original;
  EXPECT_EQ(early.envelope_id, "E1");
  EXPECT_TRUE(early.letter_ids.empty());
  EXPECT_TRUE(early.sender_gln.empty());
  const Inbound ok = read_leniently(encode_envelope(request));
  EXPECT_EQ(ok.original.envelope_id, "E1");
  EXPECT_EQ(ok.original.letter_ids, std::vector<std::string>{"R1"});
  EXPECT_EQ(ok.original.sender_gln, request.letters[0].sender.gln);
  EXPECT_EQ(ok.original.sender_sor, "265161000016001");
  EXPECT_EQ(read_leniently("not xml").original, OriginalIds{});
}

// Issue 9: a damaged native document (cut off in the middle of its letter body, an entity XML
// does not know, a byte that is not UTF-8) is refused to its sender, naming its envelope and
// letter, read from the part that is well-formed before the fault.
TEST(EdgeRefusal, ADamagedNativeDocumentIsRefusedToItsSenderNamingEnvelopeAndLetter) {
  const Party jc = make_party("579000012345", "265161000016001", "JC");
  const Envelope request = testing::make_certificate_request(
      jc, make_party("579000054321", "265161000016003", "P"), "E1", "R1", kNow);
  const std::string whole = encode_envelope(request);
  const std::size_t body = whole.find("<Question>") + 14;
  std::string entity = whole;
  entity.insert(body, "&nbsp;");
  std::string latin1 = whole;
  latin1.insert(body, "K\xE6re");
  for (const std::string& bytes : {whole.substr(0, body), entity, latin1}) {
    ASSERT_FALSE(decode_inbound(bytes, kNow));
    const Inbound unread = read_leniently(bytes);
    EXPECT_EQ(unread.dialect, Dialect::kNative);
    EXPECT_EQ(unread.original.sender_gln, jc.gln);
    EXPECT_EQ(unread.original.sender_sor, jc.sor);
    EXPECT_EQ(unread.original.envelope_id, "E1");
    EXPECT_EQ(unread.original.letter_ids, std::vector<std::string>{"R1"});
    const std::string answer =
        refused_answer(unread.dialect, &unread,
                       refusal_of(unread.original, jc, RefuseCode::kSyntaxError), kNow, "X1");
    auto receipt = decode_envelope(answer);
    ASSERT_TRUE(receipt) << receipt.error().detail << "\n" << answer;
    const Letter& r = receipt->letters.at(0);
    EXPECT_EQ(r.receiver.gln, jc.gln);
    const auto& n = std::get<NegativeReceipt>(r.body);
    EXPECT_EQ(n.original.original_envelope_id, "E1");
    EXPECT_EQ(n.original.original_letter_ids, std::vector<std::string>{"R1"});
  }
}

// Issue 9: the same for MedCom's XDIS91 sample (an OIOXML Emessage): cut off in the letter
// body, an undeclared entity there, a byte that is not UTF-8 under a UTF-8 declaration. Its
// XCTL01 goes to the sender's EANIdentifier and names the envelope and the letter.
TEST(EdgeRefusal, ADamagedOioxmlDocumentGetsItsXctl01ToItsSender) {
  const std::string sample = data(kXdis91);
  const std::size_t body = sample.find("<Text01>") + 20;
  std::string entity = sample;
  entity.insert(body, "&nbsp;");
  std::string utf8 = sample;
  utf8.replace(utf8.find("iso-8859-1"), 10, "UTF-8");
  utf8.insert(utf8.find("<Text01>") + 20, "K\xE6re");
  for (const std::string& bytes : {sample.substr(0, body), entity, utf8}) {
    ASSERT_FALSE(decode_inbound(bytes, kNow));
    const Inbound unread = read_leniently(bytes);
    EXPECT_EQ(unread.dialect, Dialect::kOioxml);
    EXPECT_EQ(unread.original.sender_gln, "5790001382445");
    EXPECT_EQ(unread.original.envelope_id, "KuvNrerwerwe99");
    EXPECT_EQ(unread.original.letter_ids, std::vector<std::string>{"Brevt23400929"});
    const std::string xctl01 =
        refused_answer(unread.dialect, &unread,
                       refusal_of(unread.original, Party{"5790001382445", "1", "", "", ""},
                                  RefuseCode::kSyntaxError),
                       kNow, "X1");
    auto receipt = adapters::parse_oioxml(xctl01);
    ASSERT_TRUE(receipt) << receipt.error().detail << "\n" << xctl01;
    const auto& letter = receipt->message.letters.at(0);
    EXPECT_EQ(letter.receiver.ean, "5790001382445");
    EXPECT_EQ(letter.original->envelope_id, "KuvNrerwerwe99");
    EXPECT_EQ(letter.original->letters.at(0).letter_id, "Brevt23400929");
  }
}

// What comes after the first fault is never read, even an identifier that is intact there: an
// entity in the Envelope leaves the letter and its sender unknown.
TEST(EdgeRefusal, NothingAfterTheFirstFaultIsTrusted) {
  std::string bytes = data(kXdis91);
  bytes.insert(bytes.find("pluspositivkvitt"), "&nbsp;");
  const OriginalIds o = read_leniently(bytes).original;
  EXPECT_EQ(o.envelope_id, "KuvNrerwerwe99");  // closed before the fault
  EXPECT_TRUE(o.letter_ids.empty());
  EXPECT_TRUE(o.sender_gln.empty());
  // A letter id cut off mid-way is not named either (it may be a different id).
  const std::string sample = data(kXdis91);
  const OriginalIds cut =
      read_leniently(sample.substr(0, sample.find("Brevt23400929") + 5)).original;
  EXPECT_EQ(cut.envelope_id, "KuvNrerwerwe99");
  EXPECT_TRUE(cut.letter_ids.empty());
}

// An OIOXML sender that names its SOR code (Identifier with IdentifierCode sorkode) has it
// read, whole or damaged; a sender's other identifier (lokationsnummer) is not a SOR code.
TEST(EdgeRefusal, AnOioxmlSendersSorCodeIsReadWhenItNamesOne) {
  EXPECT_TRUE(read_leniently(data(kXdis91)).original.sender_sor.empty());
  std::string sor = data(kXdis91);
  sor.replace(sor.find("<Identifier>5790001382445"), 25, "<Identifier>265161000016001");
  sor.replace(sor.find("lokationsnummer"), 15, "sorkode");
  EXPECT_EQ(read_leniently(sor).original.sender_sor, "265161000016001");
  const std::string cut = sor.substr(0, sor.find("<Patient>"));
  ASSERT_FALSE(decode_inbound(cut, kNow));
  EXPECT_EQ(read_leniently(cut).original.sender_sor, "265161000016001");
  EXPECT_EQ(read_leniently(cut).original.sender_gln, "5790001382445");
}

// EHMI carries classic OIOXML and FHIR, not only Sektorbro's native Emessage.
TEST(EdgeSbdh, AnOioxmlPayloadIsDecoded) {
  const Envelope native =
      testing::make_certificate_request(make_party("579000012345", "2", "JC"),
                                        make_party("579000054321", "3", "P"), "E1", "R1", kNow);
  adapters::SbdhWrapOptions options;
  options.instance_id = "2b0a6c1e-0000-4000-8000-000000000001";
  options.created = kNow;
  auto sbdh = adapters::wrap_native_envelope(native, options);
  ASSERT_TRUE(sbdh) << sbdh.error().detail;
  sbdh->payload = data(kXdis91);
  sbdh->mime_type = "application/xml";
  sbdh->standard = "XDIS91";
  sbdh->sender_gln = "5790001382445";
  sbdh->receiver_gln = "5790000121441";
  auto in = decode_inbound(adapters::write_sbdh(*sbdh), kNow);
  ASSERT_TRUE(in) << in.error().detail;
  EXPECT_EQ(in->dialect, Dialect::kSbdh);
  ASSERT_TRUE(in->envelope);
  EXPECT_EQ(in->envelope->letters.at(0).type(), LetterType::kCorrespondence);
  EXPECT_EQ(in->envelope->id, "KuvNrerwerwe99");

  // The EHMI envelope must name the payload's parties.
  sbdh->receiver_gln = "5790000054321";
  auto mismatch = decode_inbound(adapters::write_sbdh(*sbdh), kNow);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, Errc::kInvalid);

  // A FHIR payload: our discharge notification.
  sbdh->payload = data("fhir/hospital_notification_discharge.xml");
  sbdh->mime_type = "application/fhir+xml";
  sbdh->sender_gln = "5790000678907";
  sbdh->receiver_gln = "5790000123452";
  auto fhir = decode_inbound(adapters::write_sbdh(*sbdh), kNow);
  ASSERT_TRUE(fhir) << fhir.error().detail;
  EXPECT_EQ(fhir->envelope->letters.at(0).type(), LetterType::kDischargeNotice);
}

// Out again: the same letter in an SBDH with an OIOXML or a FHIR payload, the business scopes
// filled for the payload, and read back by the broker's own intake as the same letter.
TEST(EdgeSbdh, OioxmlAndFhirPayloadsGoOutAndReadBack) {
  auto from_fhir = decode_inbound(data("fhir/care_communication.xml"), kNow);
  ASSERT_TRUE(from_fhir) << from_fhir.error().detail;
  const Envelope& letter = *from_fhir->envelope;
  auto fhir = encode_outbound_sbdh(letter, SbdhPayload::kFhir, kNow, "sbdh-out-1");
  ASSERT_TRUE(fhir) << fhir.error().detail;
  auto doc = adapters::parse_sbdh(*fhir);
  ASSERT_TRUE(doc) << doc.error().detail;
  EXPECT_EQ(doc->standard, "care-communication-message");
  EXPECT_EQ(doc->type, "Bundle");
  EXPECT_EQ(doc->mime_type, "application/fhir+xml");
  EXPECT_EQ(doc->message_id, "0b9e8d7c-6f5a-4e3d-8c2b-1a0f9e8d7c6b");  // the sender's own id
  EXPECT_EQ(doc->sender_gln, "5790000678907");
  EXPECT_EQ(doc->receiver_sor, "123451000016001");
  EXPECT_EQ(doc->patient_id, "0101801234");
  auto back = decode_inbound(*fhir, kNow);
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(back->envelope->letters, letter.letters);

  auto from_oioxml = decode_inbound(data(kXdis91), kNow);
  ASSERT_TRUE(from_oioxml);
  Envelope x = *from_oioxml->envelope;
  for (auto& l : x.letters) {
    l.sender.sor = "1";
    l.receiver.sor = "2";
  }
  auto oioxml = encode_outbound_sbdh(x, SbdhPayload::kOioxml, kNow, "sbdh-out-2");
  ASSERT_TRUE(oioxml) << oioxml.error().detail;
  auto odoc = adapters::parse_sbdh(*oioxml);
  ASSERT_TRUE(odoc) << odoc.error().detail;
  EXPECT_EQ(odoc->standard, "XDIS91");
  EXPECT_EQ(odoc->message_id, "Brevt23400929");
  EXPECT_EQ(odoc->message_envelope_id, "KuvNrerwerwe99");
  auto oback = decode_inbound(*oioxml, kNow);
  ASSERT_TRUE(oback) << oback.error().detail;
  EXPECT_EQ(std::get<Correspondence>(oback->envelope->letters.at(0).body),
            std::get<Correspondence>(x.letters.at(0).body));
}

TEST(EdgeSbdh, MedcomsHomeCareObservationSampleIsRefusedAsUnsupported) {
  auto in = decode_inbound(data("10_ehmiSBDH_envelope_with_FHIR_message.xml"), kNow);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().code, Errc::kUnsupportedType);
}

TEST(EdgeSbdh, AnEnvelopeReceiptMustAnswerAnEnvelopeTheBrokerSent) {
  auto in = decode_inbound(data("12_ehmiSBDH_ReceiptAcknowledgement.xml"), kNow);
  ASSERT_TRUE(in) << in.error().detail;
  ASSERT_TRUE(in->signal);
  EXPECT_EQ(in->signal_original_envelope_id, "9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc");
  EXPECT_TRUE(check_signal_reference(*in, true));
  auto unknown = check_signal_reference(*in, false);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kUnknownReference);
  EXPECT_NE(unknown.error().detail.find("9a6ff822-08de-5a6f-9670-9fa4b9d2f0dc"), std::string::npos);
}

}  // namespace
}  // namespace sektorbro
