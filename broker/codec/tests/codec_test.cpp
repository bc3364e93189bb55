// Encoding and decoding of well-formed documents: round trips of every letter type built in
// code, input encodings, namespace forms, whitespace, escaping, and the canonical letter.
#include "broker/codec/codec.hpp"

#include <gtest/gtest.h>

#include "broker/codec/tests/codec_test_support.hpp"
#include "broker/codec/validation.hpp"

namespace sektorbro {
namespace {

using namespace std::chrono;
using testing::read_file;
using testing::replace;
using testing::schemas_dir;

constexpr Date kDay{year{2026}, November, day{20}};

TimePoint at(Date d, int hour, int minute) {
  return TimePoint{sys_days{d}} + hours{hour} + minutes{minute};
}

Party jobcenter() {
  return Party{"5790000123452", "123451000016001", "kommunenummer", "751", "Jobcenter Aarhus"};
}
Party psychiatry() { return Party{"5790000678907", "265161000016000", "", "", ""}; }

Letter letter(std::string id, LetterBody body, bool with_patient = true) {
  Letter l;
  l.id = std::move(id);
  l.status = LetterStatus::kCorrected;
  l.authorised = at(kDay, 8, 15) + milliseconds{250};
  l.sender = jobcenter();
  l.receiver = psychiatry();
  if (with_patient) l.patient = Patient{"0101801234"};
  l.body = std::move(body);
  return l;
}

Envelope envelope(std::vector<Letter> letters) {
  Envelope e;
  e.id = "ENV-1";
  e.sent = at(kDay, 8, 30);
  e.positive_receipt_requested = true;
  e.letters = std::move(letters);
  return e;
}

void expect_round_trip(const Envelope& e) {
  const std::string bytes = encode_envelope(e);
  auto back = decode_envelope(bytes);
  ASSERT_TRUE(back.ok()) << back.error().detail << "\n" << bytes;
  EXPECT_EQ(*back, e) << bytes;
  EXPECT_EQ(encode_envelope(*back), bytes);
}

TEST(Codec, RoundTripsEveryLetterTypeBuiltInCode) {
  CertificateRequest request{
      "L\xC3\x86"
      "285",
      "SAG-1",
      {"Første spørgsmål?", "Andet"},
      Date{year{2026}, December, day{4}}};
  Certificate certificate{
      "L\xC3\x86"
      "285",
      "JCA-1", false, "", "Linje 1\nLinje 2\tmed tab"};
  Certificate declined{
      "L\xC3\x86"
      "135",
      "JCA-2", true, "Ikke i behandling her", ""};
  DischargeNotice notice{Date{year{2026}, December, day{2}}, Date{year{2027}, January, day{25}},
                         true, false, "P2"};
  MentorResponse response{"PSY-1", MentorOutcome::kNotReached, "", "+45 12 34 56 78"};
  Reminder reminder{"JCA-1", LetterType::kCertificate, Date{year{2026}, December, day{4}}, 3,
                    "Påmindelse"};
  PositiveReceipt positive{{"ENV-0", {"A", "B"}}};
  NegativeReceipt negative{
      {"ENV-0", {}}, ReceiptLevel::kNetwork, RefuseCode::kSyntaxError, "Kunne ikke læses"};

  expect_round_trip(envelope({letter("L1", request), letter("L2", certificate),
                              letter("L3", declined), letter("L4", notice), letter("L5", response),
                              letter("L6", reminder, false), letter("L7", reminder, true)}));
  Envelope receipts = envelope({letter("R1", positive, false), letter("R2", negative, false)});
  receipts.positive_receipt_requested = false;
  expect_round_trip(receipts);
}

TEST(Codec, EscapesMarkupCharactersInText) {
  CertificateRequest request{
      "L\xC3\x86"
      "125",
      "A&B <x> \"q\" 'a' ]]>",
      {"1 < 2 && 3 > 2"},
      {}};
  Envelope e = envelope({letter("L1", request)});
  const std::string bytes = encode_envelope(e);
  EXPECT_NE(bytes.find("A&amp;B &lt;x&gt;"), std::string::npos) << bytes;
  expect_round_trip(e);
}

TEST(Codec, CarriageReturnSurvivesAsCharacterReference) {
  Certificate c{
      "L\xC3\x86"
      "125",
      "JCA-1", false, "", "a\r\nb\rc"};
  Envelope e = envelope({letter("L1", c)});
  const std::string bytes = encode_envelope(e);
  EXPECT_NE(bytes.find("a&#13;\nb&#13;c"), std::string::npos) << bytes;
  expect_round_trip(e);
}

TEST(Codec, EncodesDeterministicallyWithUtcMilliseconds) {
  Envelope e = envelope({letter("L1", DischargeNotice{kDay, kDay, false, false, ""})});
  const std::string a = encode_envelope(e);
  EXPECT_EQ(a, encode_envelope(e));
  EXPECT_TRUE(
      a.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<Emessage xmlns=\"urn:sektorbro:messaging:1\">\n"));
  EXPECT_NE(a.find("<Sent>2026-11-20T08:30:00.000Z</Sent>"), std::string::npos);
  EXPECT_EQ(a.find("<Department"), std::string::npos);  // optional and empty: omitted
}

TEST(Codec, CanonicalLetterIsStableAndTellsContentApart) {
  const Letter a = letter("L1", Reminder{"X", LetterType::kCertificate, kDay, 1, "tekst"});
  Letter b = a;
  EXPECT_EQ(encode_letter(a), encode_letter(b));
  EXPECT_TRUE(encode_letter(a).starts_with("<Letter xmlns=\"urn:sektorbro:messaging:1\">\n"));
  std::get<Reminder>(b.body).text = "tekst.";
  EXPECT_NE(encode_letter(a), encode_letter(b));
  b = a;
  b.patient = Patient{"0101801235"};
  EXPECT_NE(encode_letter(a), encode_letter(b));
}

TEST(Codec, Latin1InputDecodesLikeUtf8) {
  const std::string utf8 = read_file(schemas_dir() / "examples" / "mentor-response.xml");
  ASSERT_NE(utf8.find("Søren Østergård"), std::string::npos);
  auto from_utf8 = decode_envelope(utf8);
  ASSERT_TRUE(from_utf8.ok()) << from_utf8.error().detail;

  const std::string request =
      read_file(schemas_dir() / "examples" / "certificate-request-lae285.xml");
  auto request_utf8 = decode_envelope(request);
  ASSERT_TRUE(request_utf8.ok());

  for (const char* name : {"ISO-8859-1", "iso-8859-1", "latin1", "Latin-1"}) {
    SCOPED_TRACE(name);
    const std::string declared = std::string("encoding=\"") + name + "\"";
    auto latin = decode_envelope(testing::to_latin1(replace(utf8, "encoding=\"UTF-8\"", declared)));
    ASSERT_TRUE(latin.ok()) << latin.error().detail;
    EXPECT_EQ(*latin, *from_utf8);
    EXPECT_EQ(latin->letters[0].body.index(), from_utf8->letters[0].body.index());
    EXPECT_EQ(std::get<MentorResponse>(latin->letters[0].body).mentor_name,
              "S\xC3\xB8ren \xC3\x98sterg\xC3\xA5rd");

    auto latin_request =
        decode_envelope(testing::to_latin1(replace(request, "encoding=\"UTF-8\"", declared)));
    ASSERT_TRUE(latin_request.ok()) << latin_request.error().detail;
    EXPECT_EQ(*latin_request, *request_utf8);  // including the form code LÆ285
  }
  // The latin1 file is also what xmllint accepts.
  const auto file = testing::scratch_file(
      testing::to_latin1(replace(utf8, "encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"")));
  EXPECT_EQ(testing::xmllint(schemas_dir() / "sektorbro-message.xsd", file), 0);
}

TEST(Codec, AcceptsBomNoDeclarationCrLfAndPrefixedNamespace) {
  const std::string utf8 = read_file(schemas_dir() / "examples" / "discharge-notice.xml");
  auto base = decode_envelope(utf8);
  ASSERT_TRUE(base.ok()) << base.error().detail;

  auto with_bom = decode_envelope("\xEF\xBB\xBF" + utf8);
  ASSERT_TRUE(with_bom.ok()) << with_bom.error().detail;
  EXPECT_EQ(*with_bom, *base);

  auto no_declaration = decode_envelope(utf8.substr(utf8.find("<Emessage")));
  ASSERT_TRUE(no_declaration.ok()) << no_declaration.error().detail;
  EXPECT_EQ(*no_declaration, *base);

  std::string crlf;
  for (char c : utf8) {
    if (c == '\n') crlf.push_back('\r');
    crlf.push_back(c);
  }
  auto with_crlf = decode_envelope(crlf);
  ASSERT_TRUE(with_crlf.ok()) << with_crlf.error().detail;
  EXPECT_EQ(*with_crlf, *base);

  // <sb:Emessage xmlns:sb="..."> with every element prefixed, plus comments, a PI, CDATA and
  // xsi:schemaLocation: the same value.
  std::string prefixed;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    prefixed.push_back(utf8[i]);
    if (utf8[i] == '<' && i + 1 < utf8.size() && utf8[i + 1] != '?') {
      if (utf8[i + 1] == '/') prefixed.push_back(utf8[++i]);
      prefixed += "sb:";
    }
  }
  prefixed = replace(prefixed, "xmlns=",
                     "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                     "xsi:schemaLocation=\"urn:sektorbro:messaging:1 x.xsd\" "
                     "xmlns:sb=");
  prefixed = replace(prefixed, "<sb:Envelope>", "<!-- kommentar --><?pi data?><sb:Envelope>");
  prefixed = replace(prefixed, "Sengeafsnit P2", "<![CDATA[Sengeafsnit]]> P2");
  auto from_prefixed = decode_envelope(prefixed);
  ASSERT_TRUE(from_prefixed.ok()) << from_prefixed.error().detail << "\n" << prefixed;
  EXPECT_EQ(*from_prefixed, *base);
  EXPECT_EQ(
      testing::xmllint(schemas_dir() / "sektorbro-message.xsd", testing::scratch_file(prefixed)),
      0);
}

TEST(Codec, TrimsSurroundingWhitespaceOfValues) {
  const std::string utf8 = read_file(schemas_dir() / "examples" / "discharge-notice.xml");
  auto base = decode_envelope(utf8);
  ASSERT_TRUE(base.ok());
  std::string padded = replace(utf8, "<GLN>5790000662012</GLN>", "<GLN>\n  5790000662012\t</GLN>");
  padded = replace(padded, "<MentorEntitled>true", "<MentorEntitled>  true ");
  padded = replace(padded, "<AdmissionDate>2026-12-02", "<AdmissionDate> 2026-12-02\n");
  auto trimmed = decode_envelope(padded);
  ASSERT_TRUE(trimmed.ok()) << trimmed.error().detail;
  EXPECT_EQ(*trimmed, *base);
  EXPECT_EQ(
      testing::xmllint(schemas_dir() / "sektorbro-message.xsd", testing::scratch_file(padded)), 0);
}

TEST(Codec, ZoneOffsetsGiveTheSameInstant) {
  const std::string utf8 = read_file(schemas_dir() / "examples" / "discharge-notice.xml");
  auto local = decode_envelope(utf8);
  auto utc = decode_envelope(
      replace(utf8, "<Sent>2027-01-11T08:45:00+01:00", "<Sent>2027-01-11T07:45:00.000Z"));
  ASSERT_TRUE(local.ok() && utc.ok());
  EXPECT_EQ(local->sent, utc->sent);
}

TEST(Codec, AcceptanceRoundTripsAndRefusesBrokenInput) {
  Acceptance a{"ENV-1", "5790000123452", {"L1", "L2"}, at(kDay, 8, 30) + milliseconds{7}};
  const std::string bytes = encode_acceptance(a);
  auto back = decode_acceptance(bytes);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(*back, a);

  auto no_letters =
      decode_acceptance(replace(replace(bytes, "  <LetterIdentifier>L1</LetterIdentifier>\n", ""),
                                "  <LetterIdentifier>L2</LetterIdentifier>\n", ""));
  ASSERT_FALSE(no_letters.ok());
  EXPECT_EQ(no_letters.error().code, Errc::kInvalid);
  EXPECT_EQ(no_letters.error().detail, "Acceptance: missing element LetterIdentifier");

  auto bad_gln = decode_acceptance(replace(bytes, "5790000123452", "5790000123453"));
  ASSERT_FALSE(bad_gln.ok());
  EXPECT_EQ(bad_gln.error().detail, "SenderGLN: GLN check digit is wrong");

  auto envelope_doc = decode_acceptance(read_file(schemas_dir() / "examples" / "reminder.xml"));
  ASSERT_FALSE(envelope_doc.ok());
  EXPECT_EQ(envelope_doc.error().detail, "root element must be Acceptance");
}

}  // namespace
}  // namespace sektorbro

// ---- Correspondence (MedCom XDIS91-style general letter) ------------------------------------

namespace sektorbro {
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


Correspondence full_correspondence() {
  return plain_correspondence("Forundersøgelse", "Linje 1\nLinje 2\n\nVenlig hilsen", "høj_prioritet", "XDIS91", "XD9134L");
}

TEST(CodecCorrespondence, RoundTripsWithAndWithoutTheOptionalFields) {
  expect_round_trip(envelope({letter("C1", full_correspondence())}));
  expect_round_trip(envelope({letter("C2", plain_correspondence("Emne", "Tekst", "", "", ""))}));
  const std::string bytes =
      encode_envelope(envelope({letter("C1", plain_correspondence("Emne", "Tekst", "", "", ""))}));
  EXPECT_EQ(bytes.find("<Priority"), std::string::npos) << bytes;
  EXPECT_EQ(bytes.find("<TypeCode"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("<Type>Correspondence</Type>"), std::string::npos) << bytes;
}

TEST(CodecCorrespondence, WritesTheElementsInSchemaOrderAndValidates) {
  const std::string bytes = encode_envelope(envelope({letter("C1", full_correspondence())}));
  const auto subject = bytes.find("<Subject>Forundersøgelse</Subject>");
  const auto priority = bytes.find("<Priority>høj_prioritet</Priority>");
  const auto type = bytes.find("<TypeCode>XDIS91</TypeCode>");
  const auto version = bytes.find("<VersionCode>XD9134L</VersionCode>");
  const auto text = bytes.find("<Text>Linje 1\nLinje 2\n\nVenlig hilsen</Text>");
  ASSERT_NE(text, std::string::npos) << bytes;
  EXPECT_LT(subject, priority);
  EXPECT_LT(priority, type);
  EXPECT_LT(type, version);
  EXPECT_LT(version, text);
  ASSERT_TRUE(testing::xmllint_available());
  EXPECT_EQ(testing::xmllint(schemas_dir() / "sektorbro-message.xsd", testing::scratch_file(bytes)),
            0)
      << bytes;
}

TEST(CodecCorrespondence, RefusesBrokenLettersWithThePath) {
  const std::string good = encode_envelope(envelope({letter("C1", full_correspondence())}));
  ASSERT_TRUE(decode_envelope(good).ok());
  struct Case {
    std::string bytes;
    std::string detail;
    bool schema_refuses;
  };
  const std::vector<Case> cases{
      {replace(good, "<Subject>Forundersøgelse</Subject>", "<Subject> </Subject>"),
       "Letter[1]/Correspondence/Subject: must not be empty", true},
      {replace(good, "<Text>Linje 1\nLinje 2\n\nVenlig hilsen</Text>", ""),
       "Letter[1]/Correspondence: missing element Text", true},
      {replace(good, "<TypeCode>XDIS91</TypeCode>", "<TypeCode>XDIS 91</TypeCode>"),
       "Letter[1]/Correspondence/TypeCode: expected 1-20 letters A-Z a-z and digits", true},
      {replace(good, "<VersionCode>XD9134L</VersionCode>", "<VersionCode></VersionCode>"),
       "Letter[1]/Correspondence/VersionCode: expected 1-20 letters A-Z a-z and digits", true},
      {replace(replace(good, "<Priority>høj_prioritet</Priority>", ""), "<Subject>",
               "<Priority>høj_prioritet</Priority><Subject>"),
       "Letter[1]/Correspondence/Subject: element out of order", true},
      {replace(good, "<Patient>\n      <CPR>0101801234</CPR>\n    </Patient>\n", ""),
       "Letter[1]: missing element Patient (required on Correspondence)", false},
      {replace(good, "<Type>Correspondence</Type>", "<Type>Reminder</Type>"),
       "Letter[1]: body element Correspondence does not match Type Reminder", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.detail);
    auto r = decode_envelope(c.bytes);
    ASSERT_FALSE(r.ok()) << c.bytes;
    EXPECT_EQ(r.error().code, Errc::kInvalid);
    EXPECT_EQ(r.error().detail, c.detail);
    EXPECT_EQ(r.error().detail.find("0101801234"), std::string::npos);
    if (c.schema_refuses) {
      EXPECT_NE(
          testing::xmllint(schemas_dir() / "sektorbro-message.xsd", testing::scratch_file(c.bytes)),
          0);
    }
  }
}

TEST(CodecCorrespondence, BusinessRulesRefuseEmptyValuesBuiltInCode) {
  Envelope e = envelope({letter("C1", plain_correspondence("", "Tekst", "", "", ""))});
  auto r = validate_envelope(e, e.sent);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail, "Letter[1]/Correspondence/Subject: must not be empty");
  e = envelope({letter("C1", plain_correspondence("Emne", "", "", "", ""))});
  r = validate_envelope(e, e.sent);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail, "Letter[1]/Correspondence/Text: must not be empty");
  e = envelope({letter("C1", full_correspondence())});
  EXPECT_TRUE(validate_envelope(e, e.sent).ok());
}

}  // namespace
}  // namespace sektorbro
