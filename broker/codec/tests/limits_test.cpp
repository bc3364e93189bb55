// The size limits of the pre-scan (limits.hpp): each limit passes at its value and refuses one
// over it, through decode_envelope's overload, and the defaults hold for decode_envelope(bytes).
#include <gtest/gtest.h>

#include <string>

#include "broker/codec/codec.hpp"
#include "broker/codec/tests/codec_test_support.hpp"

namespace sektorbro {
namespace {

// A valid envelope whose Question holds `question` verbatim (it may contain markup).
std::string request_with(const std::string& question) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<Emessage xmlns="urn:sektorbro:messaging:1"><Envelope><Identifier>ENV-1</Identifier>
<Sent>2026-11-20T09:30:00+01:00</Sent><AcknowledgementCode>pluspositivkvitt</AcknowledgementCode>
</Envelope><Letter><Identifier>L1</Identifier><Type>CertificateRequest</Type><Status>nytbrev</Status>
<Authorised>2026-11-20T09:25:00+01:00</Authorised>
<Sender><GLN>5790000123452</GLN><SOR>123451000016001</SOR></Sender>
<Receiver><GLN>5790000678907</GLN><SOR>265161000016000</SOR></Receiver>
<Patient><CPR>0101801234</CPR></Patient>
<CertificateRequest><Form>LÆ125</Form><CaseReference>SAG-1</CaseReference>
<Question>)" +
         question + R"(</Question></CertificateRequest></Letter></Emessage>)";
}

// The number of elements in request_with(text without markup).
constexpr std::size_t kBaseElements = 22;

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

void expect_malformed(const Result<Envelope>& r, const std::string& detail_part) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_NE(r.error().detail.find(detail_part), std::string::npos) << r.error().detail;
}

TEST(DecodeLimits, DefaultsAreTheDocumentedOnes) {
  EXPECT_EQ(kDefaultDecodeLimits.max_depth, 64);
  EXPECT_EQ(kDefaultDecodeLimits.max_elements, 100'000u);
  EXPECT_EQ(kDefaultDecodeLimits.max_attributes, 64u);
  EXPECT_EQ(kDefaultDecodeLimits.max_text_bytes, 1024u * 1024u);
}

TEST(DecodeLimits, BaseDocumentDecodes) {
  auto r = decode_envelope(request_with("Hvordan?"));
  ASSERT_TRUE(r) << r.error().detail;
}

TEST(DecodeLimits, ElementCountIsCheckedBeforeTheSchema) {
  DecodeLimits limits;
  limits.max_elements = kBaseElements + 3;
  // Three extra elements reach the schema check (unknown element), a fourth the limit.
  auto at = decode_envelope(request_with(repeat("<x/>", 3)), limits);
  ASSERT_FALSE(at);
  EXPECT_EQ(at.error().code, Errc::kInvalid);
  expect_malformed(decode_envelope(request_with(repeat("<x/>", 4)), limits),
                   "more than " + std::to_string(kBaseElements + 3) + " elements");
}

TEST(DecodeLimits, DefaultElementLimitRefusesAHundredThousandSiblings) {
  expect_malformed(decode_envelope(request_with(repeat("<x/>", 100'000))),
                   "more than 100000 elements");
}

TEST(DecodeLimits, AttributeCountPerElement) {
  DecodeLimits limits;
  limits.max_attributes = 3;
  const auto with_attributes = [](int n) {
    std::string attrs;
    for (int i = 0; i < n; ++i) attrs += " a" + std::to_string(i) + "='v'";
    return request_with("<x" + attrs + "/>");
  };
  auto at = decode_envelope(with_attributes(3), limits);
  ASSERT_FALSE(at);
  EXPECT_EQ(at.error().code, Errc::kInvalid);  // the schema refuses <x>, the limit does not
  expect_malformed(decode_envelope(with_attributes(4), limits), "more than 3 attributes");
  expect_malformed(decode_envelope(with_attributes(1000)), "more than 64 attributes");
}

// Found while writing the limits: the duplicate-attribute check after RapidXML is quadratic, so
// without the limit 40,000 attributes (390 KB) took 4 s and a 4 MiB body would hold the broker's
// thread for minutes. The pre-scan refuses such a document in one linear pass.
TEST(DecodeLimits, HundredsOfThousandsOfAttributesAreRefusedBeforeTheParser) {
  std::string attrs;
  for (int i = 0; i < 400'000; ++i) attrs += " a" + std::to_string(i) + "=''";
  expect_malformed(decode_envelope(request_with("<x" + attrs + "/>")), "more than 64 attributes");
}

TEST(DecodeLimits, NamespaceDeclarationsCountAsAttributes) {
  DecodeLimits limits;
  limits.max_attributes = 1;
  auto doc = request_with("x");
  doc.replace(doc.find("<Emessage "), 10, "<Emessage xmlns:p='urn:p' ");
  expect_malformed(decode_envelope(doc, limits), "more than 1 attributes");
}

TEST(DecodeLimits, TextLengthPerElement) {
  DecodeLimits limits;
  limits.max_text_bytes = 100;
  ASSERT_TRUE(decode_envelope(request_with(std::string(100, 'x')), limits));
  expect_malformed(decode_envelope(request_with(std::string(101, 'x')), limits),
                   "longer than 100 bytes");
  expect_malformed(decode_envelope(request_with(std::string(3 * 1024 * 1024, 'x'))),
                   "longer than 1048576 bytes");
}

TEST(DecodeLimits, TextLengthAddsUpPiecesAroundCommentsCdataAndReferences) {
  DecodeLimits limits;
  limits.max_text_bytes = 100;
  const std::string piece(30, 'x');
  // 30 + 42 (the CDATA section, markup included) + 5 (&amp;) + 30 = 107; the comment is free.
  const std::string text = piece + "<!--c--><![CDATA[" + piece + "]]>&amp;" + piece;
  expect_malformed(decode_envelope(request_with(text), limits), "longer than 100 bytes");
  limits.max_text_bytes = 107;
  ASSERT_TRUE(decode_envelope(request_with(text), limits));
}

TEST(DecodeLimits, TextOfSiblingsIsCountedPerElement) {
  DecodeLimits limits;
  limits.max_text_bytes = 60;
  // Two Questions of 50 bytes each: each element stays under the limit.
  const std::string q(50, 'q');
  ASSERT_TRUE(decode_envelope(request_with(q + "</Question><Question>" + q), limits));
}

TEST(DecodeLimits, AttributeValueLength) {
  DecodeLimits limits;
  limits.max_text_bytes = 20;
  expect_malformed(decode_envelope(request_with("<x a='" + std::string(21, 'v') + "'/>"), limits),
                   "attribute value longer than 20 bytes");
}

TEST(DecodeLimits, DepthLimitIsConfigurable) {
  DecodeLimits limits;
  limits.max_depth = 5;  // Emessage/Letter/CertificateRequest/Question is 4 deep
  auto at = decode_envelope(request_with("<x/>"), limits);  // empty-element tag: no new level
  ASSERT_FALSE(at);
  EXPECT_EQ(at.error().code, Errc::kInvalid);
  expect_malformed(decode_envelope(request_with("<x><y></y></x>"), limits),
                   "nesting deeper than 5");
  expect_malformed(decode_envelope(request_with(repeat("<a>", 10'000) + repeat("</a>", 10'000))),
                   "nesting deeper than 64");
}

TEST(DecodeLimits, DetailsNeverEchoContent) {
  DecodeLimits limits;
  limits.max_text_bytes = 10;
  auto r = decode_envelope(request_with("0101801234 Kanariefugl"), limits);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail.find("Kanariefugl"), std::string::npos);
  EXPECT_EQ(r.error().detail.find("0101801234"), std::string::npos);
}

}  // namespace
}  // namespace sektorbro
