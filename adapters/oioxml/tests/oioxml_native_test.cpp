#include "adapters/oioxml/oioxml_native.hpp"

#include <gtest/gtest.h>

#include "adapters/common/tests/sample_files.hpp"
#include "broker/codec/codec.hpp"
#include "broker/codec/validation.hpp"

namespace sektorbro::adapters {
namespace {

// A Correspondence with the five plain fields set and no MedCom details.
Correspondence plain_correspondence(std::string subject, std::string text, std::string priority,
                                    std::string type_code, std::string version_code) {
  Correspondence c;
  c.subject = std::move(subject);
  c.text = std::move(text);
  c.priority = std::move(priority);
  c.medcom_type_code = std::move(type_code);
  c.medcom_version_code = std::move(version_code);
  return c;
}


constexpr const char* kSampleCpr = "2512489996";  // in MedCom's XDIS91 sample

TimePoint at(int y, unsigned m, unsigned d, int hh, int mm) {
  return std::chrono::sys_days(std::chrono::year{y} / m / d) + std::chrono::hours(hh) +
         std::chrono::minutes(mm);
}

OioxmlEmessage sample(const char* name) {
  auto r = parse_oioxml(testing::read_sample(name));
  EXPECT_TRUE(r.ok()) << name;
  return r.ok() ? r->message : OioxmlEmessage{};
}

const TimePoint kReceived = at(2023, 11, 20, 16, 46);

Envelope xdis91_as_native() {
  auto env = oioxml_to_native(sample(testing::kXdis91), kReceived);
  EXPECT_TRUE(env.ok()) << env.error().detail;
  return env.ok() ? *env : Envelope{};
}

void expect_no_cpr(const Error& e) {
  EXPECT_EQ(e.detail.find(kSampleCpr), std::string::npos) << e.detail;
  EXPECT_EQ(e.detail.find("251248"), std::string::npos) << e.detail;
}

TEST(OioxmlNative, Xdis91SampleBecomesACorrespondenceLetter) {
  const Envelope env = xdis91_as_native();
  EXPECT_EQ(env.id, "KuvNrerwerwe99");
  EXPECT_EQ(env.sent, at(2023, 11, 20, 16, 45));  // 17:45 Copenhagen winter time
  EXPECT_TRUE(env.positive_receipt_requested);
  ASSERT_EQ(env.letters.size(), 1u);
  const Letter& l = env.letters[0];
  EXPECT_EQ(l.id, "Brevt23400929");
  EXPECT_EQ(l.status, LetterStatus::kNew);
  EXPECT_EQ(l.authorised, at(2023, 11, 20, 16, 45));
  EXPECT_EQ(l.type(), LetterType::kCorrespondence);

  EXPECT_EQ(l.sender.gln, "5790001382445");
  EXPECT_EQ(l.sender.identifier_code, "lokationsnummer");
  EXPECT_EQ(l.sender.identifier, "5790001382445");
  EXPECT_EQ(l.sender.name, "Medcom testcenter");
  EXPECT_EQ(l.sender.sor, "");  // no sorkode: the broker fills it from its directory
  EXPECT_EQ(l.receiver.gln, "5790000121441");
  EXPECT_EQ(l.receiver.identifier_code, "kommunenummer");
  EXPECT_EQ(l.receiver.identifier, "5790000121441");
  EXPECT_EQ(l.receiver.name, "Hjemmeplejen, Odense Kommune");
  EXPECT_EQ(l.receiver.sor, "");
  ASSERT_TRUE(l.patient);
  EXPECT_EQ(l.patient->cpr, kSampleCpr);

  const auto& c = std::get<Correspondence>(l.body);
  EXPECT_EQ(c.subject, "Forunders\xC3\xB8gelse");
  EXPECT_EQ(c.priority, "h\xC3\xB8j_prioritet");
  EXPECT_EQ(c.medcom_type_code, "XDIS91");
  EXPECT_EQ(c.medcom_version_code, "XD9134L");
  EXPECT_TRUE(
      c.text.starts_with("Afdeling A har modtaget en henvisning p\xC3\xA5 ovenst\xC3\xA5"
                         "ende patient.\nForinden der foretages visitation, bedes f\xC3\xB8lgende"))
      << c.text;
  EXPECT_NE(c.text.find("Sænkningsresultat\n\nResultaterne bedes fremsendt som et "
                        "\"korrespondancebrev\".\n\nVenlig hilsen\noverlæge K. Petersen\n"),
            std::string::npos)
      << c.text;
  EXPECT_TRUE(c.text.ends_with("15.01.1999")) << c.text;
}

TEST(OioxmlNative, OnceTheBrokerFillsSorTheLetterIsAValidNativeMessage) {
  Envelope env = xdis91_as_native();
  for (auto& l : env.letters) {
    l.sender.sor = "123451000016001";
    l.receiver.sor = "265161000016000";
  }
  const std::string bytes = encode_envelope(env);
  auto back = decode_envelope(bytes);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(*back, env);
  EXPECT_TRUE(validate_envelope(*back, kReceived).ok());
}

TEST(OioxmlNative, SorkodeIdentifierGivesTheSor) {
  OioxmlEmessage m = sample(testing::kXdis91);
  m.letters[0].receiver.identifier_code = "sorkode";
  m.letters[0].receiver.identifier = "265161000016000";
  m.letters[0].sender.identifier_code = "ydernummer";
  m.letters[0].sender.identifier = "012345";
  auto env = oioxml_to_native(m, kReceived);
  ASSERT_TRUE(env.ok()) << env.error().detail;
  EXPECT_EQ(env->letters[0].receiver.sor, "265161000016000");
  EXPECT_EQ(env->letters[0].receiver.identifier_code, "sorkode");
  EXPECT_EQ(env->letters[0].sender.sor, "");
  EXPECT_EQ(env->letters[0].sender.identifier_code, "ydernummer");

  // An IdentifierCode the native model does not know is dropped with its Identifier.
  m.letters[0].sender.identifier_code = "privat";
  env = oioxml_to_native(m, kReceived);
  ASSERT_TRUE(env.ok()) << env.error().detail;
  EXPECT_EQ(env->letters[0].sender.identifier_code, "");
  EXPECT_EQ(env->letters[0].sender.identifier, "");
}

TEST(OioxmlNative, StatusCodesMap) {
  OioxmlEmessage m = sample(testing::kXdis91);
  for (auto [code, status] :
       {std::pair{"nytbrev", LetterStatus::kNew}, std::pair{"rettetbrev", LetterStatus::kCorrected},
        std::pair{"annulleretbrev", LetterStatus::kCancelled}, std::pair{"", LetterStatus::kNew}}) {
    m.letters[0].status_code = code;
    auto env = oioxml_to_native(m, kReceived);
    ASSERT_TRUE(env.ok()) << code << ": " << env.error().detail;
    EXPECT_EQ(env->letters[0].status, status) << code;
  }
  m.letters[0].status_code = "slettetbrev";
  auto env = oioxml_to_native(m, kReceived);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().code, Errc::kInvalid);
  EXPECT_EQ(env.error().detail,
            "Emessage/ClinicalEmail[1]/Letter/StatusCode: expected nytbrev, rettetbrev or "
            "annulleretbrev");
}

TEST(OioxmlNative, MinuspositivkvittAndMissingAuthorisation) {
  OioxmlEmessage m = sample(testing::kXdis91);
  m.positive_receipt_requested = false;
  m.letters[0].authorised.reset();
  m.sent = at(2023, 11, 20, 17, 0);
  auto env = oioxml_to_native(m, kReceived);
  ASSERT_TRUE(env.ok()) << env.error().detail;
  EXPECT_FALSE(env->positive_receipt_requested);
  EXPECT_EQ(env->letters[0].authorised, m.sent);
}

TEST(OioxmlNative, LettersThatDoNotFitTheNativeModelAreRefusedWithoutCpr) {
  struct Case {
    std::string name;
    std::function<void(OioxmlEmessage&)> edit;
    Errc code;
    std::string detail;
  };
  const std::vector<Case> cases{
      {"no patient", [](OioxmlEmessage& m) { m.letters[0].patient_cpr.clear(); }, Errc::kInvalid,
       "Emessage/ClinicalEmail[1]/Patient/CivilRegistrationNumber: missing (required on "
       "Correspondence)"},
      {"bad cpr", [](OioxmlEmessage& m) { m.letters[0].patient_cpr = "2513489996"; },
       Errc::kInvalid,
       "Emessage/ClinicalEmail[1]/Patient/CivilRegistrationNumber: expected DDMMYYSSSS with a "
       "possible day and month"},
      {"no subject", [](OioxmlEmessage& m) { m.letters[0].subject.clear(); }, Errc::kInvalid,
       "Emessage/ClinicalEmail[1]/AdditionalInformation/Subject: missing (the native letter "
       "needs one)"},
      {"no text", [](OioxmlEmessage& m) { m.letters[0].text.clear(); }, Errc::kInvalid,
       "Emessage/ClinicalEmail[1]/ClinicalInformation: no text (the native letter needs one)"},
      {"letter id", [](OioxmlEmessage& m) { m.letters[0].id = "Brev 1"; }, Errc::kInvalid,
       "Emessage/ClinicalEmail[1]/Letter/Identifier: not a native identifier (1-14 of A-Z a-z "
       "0-9 . _ -)"},
      {"envelope id", [](OioxmlEmessage& m) { m.envelope_id = "Kuv/1"; }, Errc::kInvalid,
       "Emessage/Envelope/Identifier: not a native identifier (1-14 of A-Z a-z 0-9 . _ -)"},
      {"cpr as type code", [](OioxmlEmessage& m) { m.letters[0].type_code = kSampleCpr; },
       Errc::kUnsupportedType,
       "Emessage/ClinicalEmail[1]: OIOXML letter ClinicalEmail (an unreadable MedCom type code) "
       "has no native counterpart; only XDIS91 correspondence and XCTL01/02/03 receipts cross"},
      {"other clinical email type", [](OioxmlEmessage& m) { m.letters[0].type_code = "XDIS20"; },
       Errc::kUnsupportedType,
       "Emessage/ClinicalEmail[1]: OIOXML letter ClinicalEmail (MedCom type XDIS20) has no "
       "native counterpart; only XDIS91 correspondence and XCTL01/02/03 receipts cross"},
      {"another MedCom letter",
       [](OioxmlEmessage& m) {
         m.letters[0].kind = OioxmlLetterKind::kOther;
         m.letters[0].element = "DischargeLetter";
         m.letters[0].type_code = "XDIS01";
       },
       Errc::kUnsupportedType,
       "Emessage/DischargeLetter[1]: OIOXML letter DischargeLetter (MedCom type XDIS01) has no "
       "native counterpart; only XDIS91 correspondence and XCTL01/02/03 receipts cross"},
      {"duplicate letter", [](OioxmlEmessage& m) { m.letters.push_back(m.letters[0]); },
       Errc::kInvalid,
       "Emessage/ClinicalEmail[2]/Letter/Identifier: letter identifier repeated within the "
       "envelope"},
      {"receipt with a letter",
       [](OioxmlEmessage& m) { m.letters.push_back(sample(testing::kXctl03).letters[0]); },
       Errc::kInvalid,
       "Emessage/PositiveReceipt[2]: receipts must not share an envelope with other letters"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    OioxmlEmessage m = sample(testing::kXdis91);
    c.edit(m);
    auto env = oioxml_to_native(m, kReceived);
    ASSERT_FALSE(env.ok());
    EXPECT_EQ(env.error().code, c.code);
    EXPECT_EQ(env.error().detail, c.detail);
    expect_no_cpr(env.error());
  }
}

TEST(OioxmlNative, CorrespondenceGoesBackToOioxmlAsXdis91) {
  const OioxmlEmessage original = sample(testing::kXdis91);
  Envelope env = xdis91_as_native();
  auto bytes = native_to_oioxml(env, {});
  ASSERT_TRUE(bytes.ok()) << bytes.error().detail;
  EXPECT_TRUE(bytes->starts_with(R"(<?xml version="1.0" encoding="ISO-8859-1"?>)"));
  auto parsed = parse_oioxml(*bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
  const OioxmlEmessage& m = parsed->message;
  EXPECT_EQ(m.namespace_uri, kOioxmlNamespace20060701);
  EXPECT_EQ(m.envelope_id, original.envelope_id);
  EXPECT_EQ(m.sent, original.sent);
  EXPECT_EQ(m.positive_receipt_requested, original.positive_receipt_requested);
  ASSERT_EQ(m.letters.size(), 1u);
  const OioxmlLetter& a = m.letters[0];
  const OioxmlLetter& b = original.letters[0];
  EXPECT_EQ(a.kind, OioxmlLetterKind::kClinicalEmail);
  for (auto field :
       {&OioxmlLetter::id, &OioxmlLetter::version_code, &OioxmlLetter::statistical_code,
        &OioxmlLetter::type_code, &OioxmlLetter::status_code, &OioxmlLetter::patient_cpr,
        &OioxmlLetter::priority, &OioxmlLetter::subject, &OioxmlLetter::text})
    EXPECT_EQ(a.*field, b.*field);
  EXPECT_EQ(a.authorised, b.authorised);
  for (auto party : {&OioxmlLetter::sender, &OioxmlLetter::receiver}) {
    EXPECT_EQ((a.*party).ean, (b.*party).ean);
    EXPECT_EQ((a.*party).identifier, (b.*party).identifier);
    EXPECT_EQ((a.*party).identifier_code, (b.*party).identifier_code);
  }
  // Nothing is lost on the way (issue 9): every MedCom element of the sample comes back.
  EXPECT_EQ(a.sender, b.sender);
  EXPECT_EQ(a.receiver, b.receiver);
  EXPECT_EQ(a.sender.department_name, "Certificering");
  EXPECT_EQ(a.patient_surname, b.patient_surname);
  EXPECT_EQ(a.patient_given_name, b.patient_given_name);
  EXPECT_EQ(a.patient_address, b.patient_address);
  EXPECT_EQ(a.episode_of_care_status, b.episode_of_care_status);
  EXPECT_EQ(a.formatted_text, b.formatted_text);
  EXPECT_EQ(a.references, b.references);

  // And back to native: the same letter.
  auto again = oioxml_to_native(m, kReceived);
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_EQ(*again, env);
}

TEST(OioxmlNative, NativeCorrespondenceGetsXdis91CodesAndItsSorAsSorkode) {
  Letter l;
  l.id = "JCA-2026-0042";
  l.status = LetterStatus::kCorrected;
  l.authorised = at(2026, 7, 1, 8, 3);  // summer time: 10:03 in Copenhagen
  l.sender = Party{"5790000123452", "123451000016001", "kommunenummer", "751", "Jobcenter Aarhus"};
  l.receiver = Party{"5790000678907", "265161000016000", "", "", ""};
  l.patient = Patient{"0101801234"};
  l.body = plain_correspondence("Emne", "Linje 1\nLinje 2", "", "", "");
  // MedCom's schema requires the patient's surname and episode-of-care status on XDIS91.
  std::get<Correspondence>(l.body).patient_details.surname = "Jensen";
  std::get<Correspondence>(l.body).patient_details.episode_of_care_status = "ambulant";
  Envelope e{"ENV-1", at(2026, 7, 1, 8, 5), false, {l}};
  auto m = native_to_oioxml_message(e);
  ASSERT_TRUE(m.ok()) << m.error().detail;
  const OioxmlLetter& o = m->letters.at(0);
  EXPECT_EQ(o.version_code, "XD9134L");
  EXPECT_EQ(o.statistical_code, "XDIS91");
  EXPECT_EQ(o.type_code, "XDIS91");
  EXPECT_EQ(o.status_code, "rettetbrev");
  EXPECT_EQ(o.sender.identifier_code, "kommunenummer");
  EXPECT_EQ(o.sender.identifier, "751");
  EXPECT_EQ(o.receiver.identifier_code, "sorkode");
  EXPECT_EQ(o.receiver.identifier, "265161000016000");
  EXPECT_FALSE(m->positive_receipt_requested);
  auto bytes = native_to_oioxml(e, {TextEncoding::kUtf8, false});
  ASSERT_TRUE(bytes.ok());
  EXPECT_NE(bytes->find("<Time>10:03</Time>"), std::string::npos) << *bytes;
  EXPECT_NE(bytes->find("<Text01>Linje 1<Break/>Linje 2</Text01>"), std::string::npos) << *bytes;
  EXPECT_NE(bytes->find("<AcknowledgementCode>minuspositivkvitt<"), std::string::npos);

  // The SOR comes back as the receiver's SOR.
  auto parsed = parse_oioxml(*bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
  auto native = oioxml_to_native(parsed->message, at(2026, 7, 1, 8, 6));
  ASSERT_TRUE(native.ok()) << native.error().detail;
  EXPECT_EQ(native->letters[0].receiver.sor, "265161000016000");
  EXPECT_EQ(std::get<Correspondence>(native->letters[0].body).text, "Linje 1\nLinje 2");

  std::get<Correspondence>(e.letters[0].body).medcom_type_code = "XDIS20";
  auto refused = native_to_oioxml_message(e);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().detail,
            "Letter[1]/TypeCode: a Correspondence is written as XDIS91 only");
}

TEST(OioxmlNative, OioxmlReceiptsBecomeNativeReceipts) {
  auto pos = oioxml_to_native(sample(testing::kXctl03), kReceived);
  ASSERT_TRUE(pos.ok()) << pos.error().detail;
  EXPECT_EQ(pos->id, "KuvertNr1234");
  EXPECT_FALSE(pos->positive_receipt_requested);
  ASSERT_EQ(pos->letters.size(), 1u);
  EXPECT_EQ(pos->letters[0].id, "BrevNr5678");
  EXPECT_EQ(pos->letters[0].sender.gln, "5790000120420");
  const auto& p = std::get<PositiveReceipt>(pos->letters[0].body);
  EXPECT_EQ(p.original.original_envelope_id, "MEDREF01095");
  EXPECT_EQ(p.original.original_letter_ids, std::vector<std::string>{"1111FRE01095"});

  auto neg = oioxml_to_native(sample(testing::kXctl02), kReceived);
  ASSERT_TRUE(neg.ok()) << neg.error().detail;
  const auto& n = std::get<NegativeReceipt>(neg->letters.at(0).body);
  EXPECT_EQ(n.level, ReceiptLevel::kApplication);
  EXPECT_EQ(n.code, RefuseCode::kVersionProblem);
  EXPECT_NE(n.text.find("Horsens Sygehus, laboratoriet"), std::string::npos) << n.text;

  // A receipt that (wrongly) asks for a receipt still arrives, as one that does not.
  OioxmlEmessage plus = sample(testing::kXctl03);
  plus.positive_receipt_requested = true;
  auto fixed = oioxml_to_native(plus, kReceived);
  ASSERT_TRUE(fixed.ok()) << fixed.error().detail;
  EXPECT_FALSE(fixed->positive_receipt_requested);
}

// The psychiatry's native receipt for the XDIS91 sample, as it goes back to the OIOXML sender.
Envelope native_receipt_for_xdis91(LetterBody body) {
  const Envelope original = xdis91_as_native();
  Letter r;
  r.id = "KvitBrev0001";
  r.authorised = at(2023, 11, 20, 16, 46);
  r.sender = original.receiver();
  r.receiver = original.sender();
  r.body = std::move(body);
  return Envelope{"KvitKuv0001", at(2023, 11, 20, 16, 46), false, {r}};
}

TEST(OioxmlNative, NativePositiveReceiptIsWrittenAsMedComsXctl03ForTheOriginal) {
  const Envelope receipt =
      native_receipt_for_xdis91(PositiveReceipt{{"KuvNrerwerwe99", {"Brevt23400929"}}});
  auto bytes = native_to_oioxml(receipt, {});
  ASSERT_TRUE(bytes.ok()) << bytes.error().detail;
  // Exactly what the receipt writer makes from the original document itself.
  auto expected = write_positive_receipt(sample(testing::kXdis91),
                                         {"KvitKuv0001", "KvitBrev0001", receipt.sent, {}});
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(*bytes, *expected);
  EXPECT_EQ(bytes->find(kSampleCpr), std::string::npos);

  // And it reads back as the same native receipt (parties by GLN).
  auto parsed = parse_oioxml(*bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
  auto back = oioxml_to_native(parsed->message, kReceived);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(back->letters.at(0).body, receipt.letters[0].body);
  EXPECT_EQ(back->letters.at(0).sender.gln, receipt.letters[0].sender.gln);
  EXPECT_EQ(back->letters.at(0).receiver.gln, receipt.letters[0].receiver.gln);
}

TEST(OioxmlNative, NativeNegativeReceiptsBecomeXctl02AndXctl01) {
  for (auto level : {ReceiptLevel::kApplication, ReceiptLevel::kNetwork}) {
    SCOPED_TRACE(std::string(to_string(level)));
    const NegativeReceipt body{{"KuvNrerwerwe99", {"Brevt23400929"}},
                               level,
                               RefuseCode::kReceiverIdProblem,
                               "Afdelingen findes ikke.\nKontakt IT"};
    const Envelope receipt = native_receipt_for_xdis91(body);
    auto m = native_to_oioxml_message(receipt);
    ASSERT_TRUE(m.ok()) << m.error().detail;
    const OioxmlLetter& l = m->letters.at(0);
    EXPECT_EQ(l.kind, level == ReceiptLevel::kNetwork ? OioxmlLetterKind::kNegativeVansReceipt
                                                      : OioxmlLetterKind::kNegativeReceipt);
    EXPECT_EQ(l.statistical_code, level == ReceiptLevel::kNetwork ? "XCTL01" : "XCTL02");
    ASSERT_TRUE(l.original);
    ASSERT_EQ(l.original->letters.size(), 1u);
    EXPECT_EQ(l.original->letters[0].version_code, "XD9134L");
    EXPECT_EQ(l.original->letters[0].refuse_code, "problem_med_modtagerID");

    OioxmlRefusal refusal{body.code, body.text, {}, false};
    const OioxmlReceiptIds ids{"KvitKuv0001", "KvitBrev0001", receipt.sent, {}};
    auto expected = level == ReceiptLevel::kNetwork
                        ? write_network_receipt(sample(testing::kXdis91), refusal, ids)
                        : write_negative_receipt(sample(testing::kXdis91), refusal, ids);
    ASSERT_TRUE(expected.ok());
    auto bytes = native_to_oioxml(receipt, {});
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(*bytes, *expected);

    auto parsed = parse_oioxml(*bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
    auto back = oioxml_to_native(parsed->message, kReceived);
    ASSERT_TRUE(back.ok()) << back.error().detail;
    EXPECT_EQ(back->letters.at(0).body, receipt.letters[0].body);
  }
}

TEST(OioxmlNative, NetworkRefusalOfAWholeEnvelopeNamesNoLetter) {
  Envelope receipt = native_receipt_for_xdis91(NegativeReceipt{
      {"KuvNrerwerwe99", {}}, ReceiptLevel::kNetwork, RefuseCode::kSyntaxError, "Ulæselig"});
  receipt.letters[0].sender = Party{"5790000120420", "1", "", "", ""};  // the broker itself
  auto m = native_to_oioxml_message(receipt);
  ASSERT_TRUE(m.ok()) << m.error().detail;
  const OioxmlLetter& l = m->letters.at(0);
  EXPECT_EQ(l.kind, OioxmlLetterKind::kNegativeVansReceipt);
  EXPECT_EQ(l.sender.ean, "5790000120420");
  EXPECT_EQ(l.receiver.ean, "5790001382445");
  ASSERT_TRUE(l.original);
  EXPECT_TRUE(l.original->letters.empty());
  EXPECT_EQ(l.original->refuse_code, "syntaksfejl");
  EXPECT_EQ(l.original->refuse_text, "Ulæselig");
  EXPECT_EQ(l.original->sender.ean, "5790001382445");

  // A positive receipt must name a letter.
  auto bad =
      native_to_oioxml_message(native_receipt_for_xdis91(PositiveReceipt{{"KuvNrerwerwe99", {}}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kInvalid);
}

TEST(OioxmlNative, OtherNativeLettersAreRefusedForOioxml) {
  const Envelope base = xdis91_as_native();
  const std::vector<std::pair<LetterBody, std::string>> cases{
      {CertificateRequest{"L\xC3\x86"
                          "125",
                          "SAG-1",
                          {"?"},
                          {}},
       "CertificateRequest"},
      {Certificate{"L\xC3\x86"
                   "125",
                   "JCA-1", false, "", "tekst"},
       "Certificate"},
      {DischargeNotice{}, "DischargeNotice"},
      {MentorResponse{"PSY-1", MentorOutcome::kAccepted, "", ""}, "MentorResponse"},
      {Reminder{"JCA-1", LetterType::kCertificate, {}, 1, "tekst"}, "Reminder"},
  };
  for (const auto& [body, name] : cases) {
    SCOPED_TRACE(name);
    Envelope e = base;
    e.letters[0].body = body;
    auto r = native_to_oioxml(e, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::kUnsupportedType);
    EXPECT_EQ(r.error().detail, "Letter[1]: OIOXML has no MedCom standard for " + name +
                                    "; the receiver cannot be sent this letter");
  }
  // One unsupported letter refuses the envelope, wherever it is.
  Envelope mixed = base;
  mixed.letters.push_back(base.letters[0]);
  mixed.letters[1].id = "Brev2";
  mixed.letters[1].body = DischargeNotice{};
  auto r = native_to_oioxml(mixed, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUnsupportedType);
  EXPECT_TRUE(r.error().detail.starts_with("Letter[2]: ")) << r.error().detail;

  // Receipts and letters do not share an OIOXML envelope either.
  mixed.letters[1].body = PositiveReceipt{{"E", {"L"}}};
  r = native_to_oioxml(mixed, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInvalid);
}

}  // namespace
}  // namespace sektorbro::adapters
