// decode_envelope on broken input: the error code and the exact detail, and that no detail
// echoes a CPR number. Cases the schema can express are also run through xmllint, which must
// refuse them too (the XSD and the codec stay in step).
#include <gtest/gtest.h>

#include <regex>
#include <vector>

#include "broker/codec/codec.hpp"
#include "broker/codec/tests/codec_test_support.hpp"

namespace sektorbro {
namespace {

using testing::replace;

constexpr const char* kCpr = "2412859876";

// A valid LÆ285 request; the cases below break it one way each.
const std::string kRequest = R"(<?xml version="1.0" encoding="UTF-8"?>
<Emessage xmlns="urn:sektorbro:messaging:1">
  <Envelope>
    <Identifier>ENV-1</Identifier>
    <Sent>2026-11-20T09:30:00+01:00</Sent>
    <AcknowledgementCode>pluspositivkvitt</AcknowledgementCode>
  </Envelope>
  <Letter>
    <Identifier>L1</Identifier>
    <Type>CertificateRequest</Type>
    <Status>nytbrev</Status>
    <Authorised>2026-11-20T09:25:00+01:00</Authorised>
    <Sender>
      <GLN>5790000123452</GLN>
      <SOR>123451000016001</SOR>
    </Sender>
    <Receiver>
      <GLN>5790000678907</GLN>
      <SOR>265161000016000</SOR>
    </Receiver>
    <Patient>
      <CPR>2412859876</CPR>
    </Patient>
    <CertificateRequest>
      <Form>LÆ285</Form>
      <CaseReference>SAG-1</CaseReference>
      <Question>Hvordan går det?</Question>
      <ReplyDeadline>2026-12-04</ReplyDeadline>
    </CertificateRequest>
  </Letter>
</Emessage>
)";

const std::string kReceipt = R"(<?xml version="1.0" encoding="UTF-8"?>
<Emessage xmlns="urn:sektorbro:messaging:1">
  <Envelope>
    <Identifier>ENV-2</Identifier>
    <Sent>2026-11-20T09:31:00+01:00</Sent>
    <AcknowledgementCode>minuspositivkvitt</AcknowledgementCode>
  </Envelope>
  <Letter>
    <Identifier>R1</Identifier>
    <Type>PositiveReceipt</Type>
    <Status>nytbrev</Status>
    <Authorised>2026-11-20T09:31:00+01:00</Authorised>
    <Sender>
      <GLN>5790000678907</GLN>
      <SOR>265161000016000</SOR>
    </Sender>
    <Receiver>
      <GLN>5790000123452</GLN>
      <SOR>123451000016001</SOR>
    </Receiver>
    <PositiveReceipt>
      <OriginalEnvelopeIdentifier>ENV-1</OriginalEnvelopeIdentifier>
      <OriginalLetterIdentifier>L1</OriginalLetterIdentifier>
    </PositiveReceipt>
  </Letter>
</Emessage>
)";

std::string letter_of(const std::string& doc) {
  const auto begin = doc.find("  <Letter>");
  const auto end = doc.find("</Letter>") + 10;
  return doc.substr(begin, end - begin);
}

// kRequest with a second letter (id L2) appended after the first.
std::string two_letters(const std::string& second_from, const std::string& second_to) {
  const std::string second = replace(
      replace(letter_of(kRequest), "<Identifier>L1", "<Identifier>L2"), second_from, second_to);
  return replace(kRequest, "</Emessage>", second + "</Emessage>");
}

// The byte offset of `what` in `doc`, plus `skip`, as text.
std::string at(const std::string& doc, const std::string& what, std::size_t skip = 0) {
  return std::to_string(doc.find(what) + skip);
}

std::string nested(int depth) {
  std::string s = "<Emessage xmlns=\"urn:sektorbro:messaging:1\">";
  for (int i = 0; i < depth; ++i) s += "<a>";
  for (int i = 0; i < depth; ++i) s += "</a>";
  return s + "</Emessage>";
}

enum class Xsd { kRejects, kNotChecked };

struct Case {
  const char* name;
  std::string input;
  Errc code;
  std::string detail;
  Xsd xsd = Xsd::kNotChecked;
};

std::vector<Case> cases() {
  const std::string r = kRequest;
  return {
      {"wrong namespace", replace(r, "urn:sektorbro:messaging:1", "urn:medcom:other"),
       Errc::kInvalid, "Emessage: namespace must be urn:sektorbro:messaging:1", Xsd::kRejects},
      {"no namespace", replace(r, " xmlns=\"urn:sektorbro:messaging:1\"", ""), Errc::kInvalid,
       "Emessage: namespace must be urn:sektorbro:messaging:1", Xsd::kRejects},
      {"prefixed, wrong namespace",
       replace(replace(r, "<Emessage xmlns=\"urn:sektorbro:messaging:1\"",
                       "<x:Emessage xmlns:x=\"urn:other\" xmlns=\"urn:sektorbro:messaging:1\""),
               "</Emessage>", "</x:Emessage>"),
       Errc::kInvalid, "Emessage: namespace must be urn:sektorbro:messaging:1", Xsd::kRejects},
      {"wrong root", replace(replace(r, "<Emessage", "<Message"), "</Emessage>", "</Message>"),
       Errc::kInvalid, "root element must be Emessage", Xsd::kRejects},
      {"missing Envelope",
       replace(r, r.substr(r.find("  <Envelope>"), r.find("  <Letter>") - r.find("  <Envelope>")),
               ""),
       Errc::kInvalid, "Emessage: missing element Envelope", Xsd::kRejects},
      {"repeated Identifier",
       replace(r, "<Identifier>ENV-1</Identifier>",
               "<Identifier>ENV-1</Identifier><Identifier>ENV-9</Identifier>"),
       Errc::kInvalid, "Envelope/Identifier: repeated element", Xsd::kRejects},
      {"elements out of order",
       replace(replace(r, "<Identifier>ENV-1</Identifier>", ""), "</AcknowledgementCode>",
               "</AcknowledgementCode><Identifier>ENV-1</Identifier>"),
       Errc::kInvalid, "Envelope/Identifier: element out of order", Xsd::kRejects},
      {"no letter", replace(r, letter_of(r), ""), Errc::kInvalid,
       "Emessage: missing element Letter", Xsd::kRejects},
      {"bad GLN check digit", replace(r, "5790000123452", "5790000123453"), Errc::kInvalid,
       "Letter[1]/Sender/GLN: GLN check digit is wrong"},
      {"short GLN", replace(r, "5790000678907", "579000067890"), Errc::kInvalid,
       "Letter[1]/Receiver/GLN: expected 13 digits", Xsd::kRejects},
      {"SOR with letters", replace(r, "123451000016001", "12345100001600A"), Errc::kInvalid,
       "Letter[1]/Sender/SOR: expected 1-20 digits", Xsd::kRejects},
      {"CPR month 13", replace(r, kCpr, "2413859876"), Errc::kInvalid,
       "Letter[1]/Patient/CPR: expected DDMMYYSSSS with a possible day and month", Xsd::kRejects},
      {"CPR 9 digits", replace(r, kCpr, "241285987"), Errc::kInvalid,
       "Letter[1]/Patient/CPR: expected 10 digits", Xsd::kRejects},
      {"CPR with dash", replace(r, kCpr, "241285-9876"), Errc::kInvalid,
       "Letter[1]/Patient/CPR: expected 10 digits", Xsd::kRejects},
      {"impossible date", replace(r, "2026-12-04", "2026-02-30"), Errc::kInvalid,
       "Letter[1]/CertificateRequest/ReplyDeadline: expected an existing date YYYY-MM-DD",
       Xsd::kRejects},
      {"dateTime without zone", replace(r, "2026-11-20T09:30:00+01:00", "2026-11-20T09:30:00"),
       Errc::kInvalid,
       "Envelope/Sent: expected a dateTime with a time zone, e.g. 2026-11-20T09:30:00+01:00",
       Xsd::kRejects},
      {"zone offset beyond 14:00",
       replace(r, "2026-11-20T09:25:00+01:00", "2026-11-20T09:25:00+14:30"), Errc::kInvalid,
       "Letter[1]/Authorised: expected a dateTime with a time zone, e.g. "
       "2026-11-20T09:30:00+01:00",
       Xsd::kRejects},
      {"bad status", replace(r, "nytbrev", "ny"), Errc::kInvalid,
       "Letter[1]/Status: expected one of nytbrev, rettetbrev, annulleretbrev", Xsd::kRejects},
      {"letter id too long", replace(r, "<Identifier>L1", "<Identifier>L12345678901234"),
       Errc::kInvalid, "Letter[1]/Identifier: expected 1-14 characters of A-Z a-z 0-9 . _ -",
       Xsd::kRejects},
      {"empty case reference", replace(r, "SAG-1", " "), Errc::kInvalid,
       "Letter[1]/CertificateRequest/CaseReference: must not be empty", Xsd::kRejects},
      {"form code shape", replace(r, "LÆ285", "LAE285"), Errc::kInvalid,
       "Letter[1]/CertificateRequest/Form: expected a form code: LÆ and three digits",
       Xsd::kRejects},
      {"unknown element", replace(r, "</AcknowledgementCode>", "</AcknowledgementCode><Colour/>"),
       Errc::kInvalid, "Envelope: unknown element Colour", Xsd::kRejects},
      {"foreign-namespace element",
       replace(r, "</Receiver>", "</Receiver><x:Note xmlns:x=\"urn:other\">hej</x:Note>"),
       Errc::kInvalid, "Letter[1]: element Note is not in namespace urn:sektorbro:messaging:1",
       Xsd::kRejects},
      {"unexpected attribute", replace(r, "<Identifier>ENV-1", "<Identifier lang=\"da\">ENV-1"),
       Errc::kInvalid, "Envelope/Identifier: unexpected attribute", Xsd::kRejects},
      {"text in a container", replace(r, "<Sender>", "<Sender>hej"), Errc::kInvalid,
       "Letter[1]/Sender: unexpected text content", Xsd::kRejects},
      {"child in a leaf", replace(r, "<Question>Hvordan", "<Question><b>x</b>Hvordan"),
       Errc::kInvalid, "Letter[1]/CertificateRequest/Question[1]: unexpected child element",
       Xsd::kRejects},
      {"mismatched Type and body", replace(r, "<Type>CertificateRequest", "<Type>Certificate"),
       Errc::kInvalid,
       "Letter[1]: body element CertificateRequest does not match Type Certificate"},
      {"two bodies", replace(r, "  </Letter>", "    <Reminder/>\n  </Letter>"), Errc::kInvalid,
       "Letter[1]: more than one of CertificateRequest|Certificate|DischargeNotice|"
       "MentorResponse|Reminder|PositiveReceipt|NegativeReceipt|Correspondence|HospitalStayNotice",
       Xsd::kRejects},
      {"missing patient",
       replace(r, "    <Patient>\n      <CPR>2412859876</CPR>\n    </Patient>\n", ""),
       Errc::kInvalid, "Letter[1]: missing element Patient (required on CertificateRequest)"},
      {"receipt with patient",
       replace(kReceipt, "    <PositiveReceipt>",
               "    <Patient><CPR>2412859876</CPR></Patient>\n    <PositiveReceipt>"),
       Errc::kInvalid, "Letter[1]/Patient: not allowed on PositiveReceipt"},
      {"positive receipt without letter ids",
       replace(kReceipt, "      <OriginalLetterIdentifier>L1</OriginalLetterIdentifier>\n", ""),
       Errc::kInvalid, "Letter[1]/PositiveReceipt: missing element OriginalLetterIdentifier",
       Xsd::kRejects},
      {"mixed senders", two_letters("5790000123452", "5790000246809"), Errc::kInvalid,
       "Letter[2]/Sender/GLN: all letters of an envelope must have the same sender"},
      {"mixed receivers", two_letters("5790000678907", "5790000135790"), Errc::kInvalid,
       "Letter[2]/Receiver/GLN: all letters of an envelope must have the same receiver"},
      {"duplicate letter id", two_letters("<Identifier>L2", "<Identifier>L1"), Errc::kInvalid,
       "Letter[2]/Identifier: letter identifier repeated within the envelope"},
      {"bad CPR in second letter", two_letters(kCpr, "24128598"), Errc::kInvalid,
       "Letter[2]/Patient/CPR: expected 10 digits", Xsd::kRejects},
      {"DOCTYPE",
       replace(r, "<Emessage", "<!DOCTYPE Emessage [<!ENTITY x \"2412859876\">]>\n<Emessage"),
       Errc::kMalformed, "DOCTYPE declarations are not allowed"},
      {"ENTITY", replace(r, "<Emessage", "<!ENTITY x SYSTEM \"file:///etc/passwd\">\n<Emessage"),
       Errc::kMalformed, "ENTITY declarations are not allowed"},
      {"undefined entity reference", replace(r, "SAG-1", "&cpr;"), Errc::kMalformed,
       "undefined entity reference at byte offset " + at(r, "SAG-1")},
      {"reference to a non-character", replace(r, "SAG-1", "&#0;"), Errc::kMalformed,
       "character reference to a non-character at byte offset " + at(r, "SAG-1")},
      {"nesting 10,000 deep", nested(10000), Errc::kMalformed, "element nesting deeper than 64"},
      {"nesting 65 deep", nested(64), Errc::kMalformed, "element nesting deeper than 64"},
      {"invalid UTF-8 byte", replace(r, "SAG-1", "SAG\xFF"), Errc::kMalformed,
       "invalid UTF-8 at byte offset " + at(r, "SAG-1", 3)},
      {"overlong UTF-8", replace(r, "SAG-1", "SAG\xC0\xAF"), Errc::kMalformed,
       "invalid UTF-8 at byte offset " + at(r, "SAG-1", 3)},
      {"UTF-8 surrogate", replace(r, "SAG-1", "SAG\xED\xA0\x80"), Errc::kMalformed,
       "invalid UTF-8 at byte offset " + at(r, "SAG-1", 3)},
      {"truncated UTF-8 sequence", r.substr(0, 40) + "\xC3", Errc::kMalformed,
       "invalid UTF-8 at byte offset 40"},
      {"control character", replace(r, "SAG-1", "SAG\x01"), Errc::kMalformed,
       "control character not allowed in XML at byte offset " + at(r, "SAG-1", 3)},
      {"truncated document", r.substr(0, r.find("</Patient>")), Errc::kMalformed,
       "not well-formed XML: unexpected end of data at byte offset " + at(r, "</Patient>")},
      {"mismatched closing tag", replace(r, "</Sender>", "</Sendr>"), Errc::kMalformed,
       "not well-formed XML: invalid closing tag name at byte offset " + at(r, "</Sender>", 7)},
      {"two root elements", r + "<Emessage/>", Errc::kMalformed, "more than one root element"},
      {"undeclared prefix", replace(r, "<Sender>", "<Sender q:a=\"1\">"), Errc::kMalformed,
       "undeclared namespace prefix"},
      {"unsupported encoding", replace(r, "UTF-8", "KOI8-R"), Errc::kMalformed,
       "XML declaration: unsupported encoding (use UTF-8, ISO-8859-1 or windows-1252)"},
      {"UTF-16 BOM", "\xFF\xFE<" + r, Errc::kMalformed,
       "unsupported encoding: UTF-16 (use UTF-8, ISO-8859-1 or windows-1252)"},
      {"empty input", "", Errc::kMalformed, "no root element"},
  };
}

TEST(BrokenInput, EachCaseGivesItsCodeAndDetail) {
  const auto all = cases();
  ASSERT_GE(all.size(), 25u);
  for (const auto& c : all) {
    SCOPED_TRACE(c.name);
    ASSERT_EQ(c.input.find("REPLACE-TARGET-NOT-FOUND"), std::string::npos);
    const auto result = decode_envelope(c.input);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(errc_name(result.error().code), std::string(errc_name(c.code)));
    EXPECT_EQ(result.error().detail, c.detail);
  }
}

TEST(BrokenInput, SchemaRefusesWhatItCanExpress) {
  ASSERT_TRUE(testing::xmllint_available()) << "xmllint (Debian package libxml2-utils) is needed";
  const auto xsd = testing::schemas_dir() / "sektorbro-message.xsd";
  int checked = 0;
  for (const auto& c : cases()) {
    if (c.xsd != Xsd::kRejects) continue;
    SCOPED_TRACE(c.name);
    EXPECT_EQ(testing::xmllint(xsd, testing::scratch_file(c.input)), 3);  // 3: invalid
    ++checked;
  }
  EXPECT_GE(checked, 20);
  // The unbroken templates are valid, so the refusals above are due to the breakage.
  EXPECT_EQ(testing::xmllint(xsd, testing::scratch_file(kRequest)), 0);
  EXPECT_EQ(testing::xmllint(xsd, testing::scratch_file(kReceipt)), 0);
}

TEST(BrokenInput, TemplatesDecode) {
  EXPECT_TRUE(decode_envelope(kRequest).ok());
  EXPECT_TRUE(decode_envelope(kReceipt).ok());
  EXPECT_TRUE(decode_envelope(two_letters("SAG-1", "SAG-2")).ok());
  // 64 levels pass the depth check and fail on the schema instead.
  const auto deepest_allowed = decode_envelope(nested(63));
  ASSERT_FALSE(deepest_allowed.ok());
  EXPECT_EQ(deepest_allowed.error().detail, "Emessage: unknown element a");
}

// No detail may carry a CPR number, wherever in the document the number is put.
TEST(BrokenInput, DetailsNeverEchoCprDigits) {
  const std::string r = kRequest;
  std::vector<std::string> inputs;
  for (const auto& c : cases()) inputs.push_back(c.input);
  const std::vector<std::pair<std::string, std::string>> placements = {
      {"<Identifier>ENV-1", "<Identifier>2412859876-2412859876"},
      {"5790000123452", "2412859876"},
      {"123451000016001", "2412859876x"},
      {"LÆ285", "2412859876"},
      {"2026-12-04", "2412859876"},
      {"2026-11-20T09:30:00+01:00", "2412859876"},
      {"nytbrev", "2412859876"},
      {"pluspositivkvitt", "2412859876"},
      {"CertificateRequest</Type>", "2412859876</Type>"},
      {"<Sender>", "<Sender>2412859876"},
      {"<Sender>", "<Sender cpr=\"2412859876\">"},
      {"<Sender>", "<Sender><C2412859876/>"},
      {"<Sender>", "<Sender><x:Cpr xmlns:x=\"urn:2412859876\"/>"},
      {"<Question>", "<Question><b>2412859876</b>"},
      {"SAG-1", "&c2412859876;"},
      {"SAG-1", "2412859876\xFF"},
      {"urn:sektorbro:messaging:1", "urn:2412859876"},
      {"<Emessage", "<E2412859876"},
      {"  <Envelope>", "  <Envelope>2412859876"},
  };
  for (const auto& [from, to] : placements) inputs.push_back(replace(r, from, to));
  inputs.push_back(replace(kReceipt, "<PositiveReceipt>",
                           "<Patient><CPR>2412859876</CPR></Patient><PositiveReceipt>"));

  const std::regex long_digit_run("[0-9]{6,}");
  for (const auto& input : inputs) {
    const auto result = decode_envelope(input);
    ASSERT_FALSE(result.ok()) << input;
    const std::string& detail = result.error().detail;
    EXPECT_EQ(detail.find("241285"), std::string::npos) << detail;
    EXPECT_EQ(detail.find("9876"), std::string::npos) << detail;
    EXPECT_FALSE(std::regex_search(detail, long_digit_run)) << detail;
  }
}

}  // namespace
}  // namespace sektorbro
