#include "adapters/oioxml/oioxml_receipts.hpp"

#include <gtest/gtest.h>

#include "adapters/common/tests/sample_files.hpp"
#include "broker/xml/xml_document.hpp"

namespace sektorbro::adapters {
namespace {

TimePoint at(int y, unsigned m, unsigned d, int hh, int mm) {
  return std::chrono::sys_days(std::chrono::year{y} / m / d) + std::chrono::hours(hh) +
         std::chrono::minutes(mm);
}

OioxmlEmessage sample(const char* name) {
  auto r = parse_oioxml(testing::read_sample(name));
  EXPECT_TRUE(r.ok()) << name;
  return r.ok() ? r->message : OioxmlEmessage{};
}

const OioxmlReceiptIds kIds{"KvitKuv0001", "KvitBrev0001", at(2023, 11, 20, 16, 46), {}};

// Element paths in document order, e.g. "Emessage/PositiveReceipt/Letter/Identifier", with the
// namespace of each element; `skip` names elements left out (with their subtrees).
void collect(const XmlNode& n, const std::string& prefix, std::string_view skip,
             std::vector<std::string>& out) {
  const std::string path = prefix.empty() ? n.name : prefix + "/" + n.name;
  out.push_back(n.ns + " " + path);
  for (const auto& c : n.children)
    if (c.name != skip) collect(c, path, skip, out);
}

std::vector<std::string> shape(std::string_view bytes, std::string_view skip = {}) {
  auto decoded = decode_document(bytes);
  EXPECT_TRUE(decoded.ok());
  auto tree = parse_xml_document(decoded->utf8);
  EXPECT_TRUE(tree.ok());
  std::vector<std::string> out;
  if (tree.ok()) collect(*tree, "", skip, out);
  return out;
}

std::string leaf(const XmlNode& root, std::initializer_list<std::string_view> path) {
  const XmlNode* n = &root;
  for (auto name : path) {
    n = n->child(root.ns, name);
    if (n == nullptr) return "<missing>";
  }
  return n->text;
}

TEST(OioxmlReceipts, PositiveReceiptForXdis91MatchesMedComFieldByField) {
  const OioxmlEmessage original = sample(testing::kXdis91);
  auto bytes = write_positive_receipt(original, kIds);
  ASSERT_TRUE(bytes.ok()) << bytes.error().detail;

  // Same elements, same order, same namespace as MedCom's own XCTL03 (sample 03).
  EXPECT_EQ(shape(*bytes), shape(testing::read_sample(testing::kXctl03)));

  auto decoded = decode_document(*bytes);
  ASSERT_TRUE(decoded.ok());
  auto tree = parse_xml_document(decoded->utf8);
  ASSERT_TRUE(tree.ok());
  const XmlNode& r = *tree;
  EXPECT_EQ(r.ns, "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/");
  // Envelope: the receipt's own ids and time; a receipt never asks for a receipt.
  EXPECT_EQ(leaf(r, {"Envelope", "Sent", "Date"}), "2023-11-20");
  EXPECT_EQ(leaf(r, {"Envelope", "Sent", "Time"}), "17:46");
  EXPECT_EQ(leaf(r, {"Envelope", "Identifier"}), "KvitKuv0001");
  EXPECT_EQ(leaf(r, {"Envelope", "AcknowledgementCode"}), "minuspositivkvitt");
  // Letter.
  EXPECT_EQ(leaf(r, {"PositiveReceipt", "Letter", "Identifier"}), "KvitBrev0001");
  EXPECT_EQ(leaf(r, {"PositiveReceipt", "Letter", "VersionCode"}), "XC0330Q");
  EXPECT_EQ(leaf(r, {"PositiveReceipt", "Letter", "StatisticalCode"}), "XCTL03");
  // The receipt goes from the original receiver back to the original sender, EAN only.
  EXPECT_EQ(leaf(r, {"PositiveReceipt", "Sender", "EANIdentifier"}), "5790000121441");
  EXPECT_EQ(leaf(r, {"PositiveReceipt", "Receiver", "EANIdentifier"}), "5790001382445");
  // Points back at the original envelope and letter.
  EXPECT_EQ(leaf(r, {"PositiveReceipt", "OriginalEmessage", "OriginalEnvelopeIdentifier"}),
            "KuvNrerwerwe99");
  EXPECT_EQ(leaf(r, {"PositiveReceipt", "OriginalEmessage", "OriginalSender", "EANIdentifier"}),
            "5790001382445");
  EXPECT_EQ(leaf(r, {"PositiveReceipt", "OriginalEmessage", "OriginalReceiver", "EANIdentifier"}),
            "5790000121441");
  EXPECT_EQ(leaf(r, {"PositiveReceipt", "OriginalEmessage", "OriginalLetter",
                     "OriginalLetterIdentifier"}),
            "Brevt23400929");
  EXPECT_EQ(
      leaf(r, {"PositiveReceipt", "OriginalEmessage", "OriginalLetter", "OriginalVersionCode"}),
      "XD9134L");
  // No patient data travels in a receipt.
  EXPECT_EQ(bytes->find("2512489996"), std::string::npos);
  EXPECT_TRUE(bytes->starts_with(R"(<?xml version="1.0" encoding="ISO-8859-1"?>)"
                                 "\n<Emessage "));
}

TEST(OioxmlReceipts, NegativeReceiptIsShapedLikeMedComsXctl02) {
  const OioxmlEmessage original = sample(testing::kXdis91);
  OioxmlRefusal refusal{RefuseCode::kVersionProblem, "Kan ikke modtage XDIS91.\nHilsen", {}, false};
  auto bytes = write_negative_receipt(original, refusal, kIds);
  ASSERT_TRUE(bytes.ok()) << bytes.error().detail;
  EXPECT_EQ(shape(*bytes, "Break"), shape(testing::read_sample(testing::kXctl02), "Break"));
  EXPECT_NE(bytes->find("<VersionCode>XC0230Q</VersionCode><StatisticalCode>XCTL02<"),
            std::string::npos);
  EXPECT_NE(bytes->find("<OriginalVersionCode>XD9134L</OriginalVersionCode>"
                        "<RefuseCode>problem_med_version</RefuseCode>"
                        "<RefuseText>Kan ikke modtage XDIS91.<Break/>Hilsen</RefuseText>"),
            std::string::npos);
}

TEST(OioxmlReceipts, NetworkReceiptForTheWholeEnvelope) {
  const OioxmlEmessage original = sample(testing::kXdis91);
  OioxmlReceiptIds ids = kIds;
  ids.sender_ean = "5790000120420";  // the broker's own GLN
  auto m = build_network_receipt(original,
                                 {RefuseCode::kUnknownLocation, "Ukendt modtager", {}, true}, ids);
  ASSERT_TRUE(m.ok()) << m.error().detail;
  const OioxmlLetter& l = m->letters.at(0);
  EXPECT_EQ(l.kind, OioxmlLetterKind::kNegativeVansReceipt);
  EXPECT_EQ(l.version_code, "XC0130Q");
  EXPECT_EQ(l.statistical_code, "XCTL01");
  EXPECT_EQ(l.sender.ean, "5790000120420");
  EXPECT_EQ(l.receiver.ean, "5790001382445");
  ASSERT_TRUE(l.original);
  EXPECT_TRUE(l.original->letters.empty());
  EXPECT_EQ(l.original->refuse_code, "ukendt_lokationsnummer");
  const std::string bytes = write_oioxml(*m);
  EXPECT_NE(bytes.find("<NegativeVansReceipt><Letter>"), std::string::npos);
  auto back = parse_oioxml(bytes);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(back->message, *m);
  auto native = receipts_to_native(back->message);
  ASSERT_TRUE(native.ok()) << native.error().detail;
  const auto& neg = std::get<NegativeReceipt>(native->at(0).body);
  EXPECT_EQ(neg.level, ReceiptLevel::kNetwork);
  EXPECT_EQ(neg.code, RefuseCode::kUnknownLocation);
  EXPECT_EQ(neg.text, "Ukendt modtager");
  EXPECT_TRUE(neg.original.original_letter_ids.empty());  // the whole envelope
}

TEST(OioxmlReceipts, RefusesToReceiptAReceiptAndBadIds) {
  auto r = build_positive_receipt(sample(testing::kXctl03), kIds);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail, "original: a receipt is never receipted");
  OioxmlReceiptIds long_id = kIds;
  long_id.letter_id = "123456789012345";
  EXPECT_FALSE(build_positive_receipt(sample(testing::kXdis91), long_id).ok());
  OioxmlReceiptIds no_env = kIds;
  no_env.envelope_id.clear();
  EXPECT_FALSE(build_positive_receipt(sample(testing::kXdis91), no_env).ok());
  auto unknown_letter = build_negative_receipt(
      sample(testing::kXdis91), {RefuseCode::kSyntaxError, "x", {"NotThere"}, false}, kIds);
  ASSERT_FALSE(unknown_letter.ok());
  EXPECT_EQ(unknown_letter.error().code, Errc::kInvalid);
}

TEST(OioxmlReceipts, RefusesOnlyTheNamedLettersOfAMultiLetterEnvelope) {
  OioxmlEmessage original = sample(testing::kXdis91);
  OioxmlLetter second = original.letters[0];
  second.id = "Brev2";
  original.letters.push_back(second);
  auto m =
      build_negative_receipt(original, {RefuseCode::kSyntaxError, "fejl", {"Brev2"}, false}, kIds);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->letters[0].original->letters.size(), 1u);
  EXPECT_EQ(m->letters[0].original->letters[0].letter_id, "Brev2");
  auto positive = build_positive_receipt(original, kIds);
  ASSERT_TRUE(positive.ok());
  EXPECT_EQ(positive->letters[0].original->letters.size(), 2u);
}

TEST(OioxmlReceipts, SamplesToNative) {
  auto neg = receipts_to_native(sample(testing::kXctl02));
  ASSERT_TRUE(neg.ok()) << neg.error().detail;
  ASSERT_EQ(neg->size(), 1u);
  const Letter& l = neg->at(0);
  EXPECT_EQ(l.id, "BrevNr5678");
  EXPECT_EQ(l.sender.gln, "5790000120420");
  EXPECT_EQ(l.receiver.gln, "5790000181872");
  EXPECT_EQ(l.authorised, at(1999, 11, 11, 17, 50));
  const auto& body = std::get<NegativeReceipt>(l.body);
  EXPECT_EQ(body.level, ReceiptLevel::kApplication);
  EXPECT_EQ(body.code, RefuseCode::kVersionProblem);
  EXPECT_EQ(body.original.original_envelope_id, "MEDREF01095");
  EXPECT_EQ(body.original.original_letter_ids, std::vector<std::string>{"1111MAN01095"});
  EXPECT_TRUE(body.text.starts_with("EDI-brev med nummeret 1111MAN01095"));

  auto pos = receipts_to_native(sample(testing::kXctl03));
  ASSERT_TRUE(pos.ok());
  const auto& p = std::get<PositiveReceipt>(pos->at(0).body);
  EXPECT_EQ(p.original.original_envelope_id, "MEDREF01095");
  EXPECT_EQ(p.original.original_letter_ids, std::vector<std::string>{"1111FRE01095"});

  auto xdis = receipts_to_native(sample(testing::kXdis91));
  ASSERT_FALSE(xdis.ok());
  EXPECT_EQ(xdis.error().code, Errc::kUnsupportedType);
}

TEST(OioxmlReceipts, NativeToOioxmlToNativeRoundTrip) {
  const OioxmlEmessage original = sample(testing::kXdis91);
  for (auto level : {ReceiptLevel::kApplication, ReceiptLevel::kNetwork}) {
    for (auto code :
         {RefuseCode::kUnspecified, RefuseCode::kUnknownLocation, RefuseCode::kReceiverIdProblem,
          RefuseCode::kVersionProblem, RefuseCode::kSyntaxError}) {
      Letter native;
      native.id = "R1";
      native.body =
          NegativeReceipt{{"KuvNrerwerwe99", {"Brevt23400929"}}, level, code, "Afvist\nlinje to"};
      auto m = receipt_from_native(original, native, kIds);
      ASSERT_TRUE(m.ok()) << m.error().detail;
      auto parsed = parse_oioxml(write_oioxml(*m));
      ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
      auto back = receipts_to_native(parsed->message);
      ASSERT_TRUE(back.ok()) << back.error().detail;
      EXPECT_EQ(std::get<NegativeReceipt>(back->at(0).body),
                std::get<NegativeReceipt>(native.body));
      EXPECT_EQ(back->at(0).id, "KvitBrev0001");
      EXPECT_EQ(back->at(0).sender.gln, "5790000121441");
    }
  }
  Letter positive;
  positive.body = PositiveReceipt{{"KuvNrerwerwe99", {"Brevt23400929"}}};
  auto m = receipt_from_native(original, positive, kIds);
  ASSERT_TRUE(m.ok());
  auto back = receipts_to_native(*m);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<PositiveReceipt>(back->at(0).body), std::get<PositiveReceipt>(positive.body));

  Letter other_envelope = positive;
  other_envelope.body = PositiveReceipt{{"Other", {"Brevt23400929"}}};
  EXPECT_FALSE(receipt_from_native(original, other_envelope, kIds).ok());
  Letter not_receipt;
  not_receipt.body = Reminder{};
  EXPECT_FALSE(receipt_from_native(original, not_receipt, kIds).ok());
}

TEST(OioxmlReceipts, DifferentCodesPerLetterAreSpelledOutAndCprIsRedacted) {
  OioxmlEmessage m = sample(testing::kXctl02);
  auto& letters = m.letters[0].original->letters;
  letters[0].refuse_text = "CPR 2512489996 ukendt";
  OioxmlOriginalLetter second{"Brev2", "H0130R", "syntaksfejl", "Fejl i linje 3"};
  letters.push_back(second);
  auto native = receipts_to_native(m);
  ASSERT_TRUE(native.ok());
  const auto& neg = std::get<NegativeReceipt>(native->at(0).body);
  EXPECT_EQ(neg.code, RefuseCode::kUnspecified);
  EXPECT_EQ(neg.text,
            "1111MAN01095: problem_med_version: CPR ********** ukendt\n"
            "Brev2: syntaksfejl: Fejl i linje 3");
  EXPECT_EQ(neg.original.original_letter_ids, (std::vector<std::string>{"1111MAN01095", "Brev2"}));

  // An unknown code is kUnspecified, never an error: receipts must flow.
  letters.pop_back();
  letters[0].refuse_code = "ny_kode";
  auto unknown = receipts_to_native(m);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(std::get<NegativeReceipt>(unknown->at(0).body).code, RefuseCode::kUnspecified);
}

}  // namespace
}  // namespace sektorbro::adapters
