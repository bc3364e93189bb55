#include "broker/xml/xml_document.hpp"

#include <gtest/gtest.h>

#include "broker/xml/xml_builder.hpp"

namespace sektorbro::adapters {
namespace {

TEST(XmlDocument, ResolvesNamespacesAndKeepsAttributes) {
  auto t = parse_xml_document(
      R"(<r xmlns="urn:a" xmlns:b="urn:b"><b:x k="v &amp; w" b:q="1">t</b:x><y/></r>)");
  ASSERT_TRUE(t.ok()) << t.error().detail;
  EXPECT_EQ(t->ns, "urn:a");
  const XmlNode* x = t->child("urn:b", "x");
  ASSERT_NE(x, nullptr);
  ASSERT_NE(x->attribute("k"), nullptr);
  EXPECT_EQ(*x->attribute("k"), "v & w");
  EXPECT_EQ(x->attribute("q"), nullptr);  // prefixed: not the unprefixed attribute
  EXPECT_EQ(x->text, "t");
  EXPECT_NE(t->child("urn:a", "y"), nullptr);
  EXPECT_EQ(t->child("urn:b", "y"), nullptr);
}

TEST(XmlDocument, TextWithBreaksKeepsTheirPlace) {
  auto t = parse_xml_document("<r>one<Break/>two<x/>three<Break/></r>");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(text_with_breaks(*t, "Break"), "one\ntwothree\n");
}

// Found by fuzz_fhir: RapidXML reads "fu@lUrl" as one name; XML 1.0 §2.3 does not.
TEST(XmlDocument, RefusesNamesThatAreNotXmlNames) {
  EXPECT_EQ(parse_xml_document(R"(<r><fu@lUrl value="x"/></r>)").error().code, Errc::kMalformed);
  EXPECT_EQ(parse_xml_document(R"(<r><a b@c="x"/></r>)").error().code, Errc::kMalformed);
  EXPECT_EQ(parse_xml_document(R"(<r><1a/></r>)").error().code, Errc::kMalformed);
  EXPECT_TRUE(parse_xml_document(R"(<r xmlns:f="u"><f:full-Url.x_1 v="1"/><bÃ¦r/></r>)").ok());
}

TEST(XmlDocument, RefusesDoctypeEntitiesDepthAndUndeclaredPrefixes) {
  auto doctype = parse_xml_document(R"(<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>)");
  ASSERT_FALSE(doctype.ok());
  EXPECT_EQ(doctype.error().code, Errc::kMalformed);
  EXPECT_FALSE(parse_xml_document("<r>&e;</r>").ok());
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  auto d = parse_xml_document(deep);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().detail.find("nesting"), std::string::npos);
  EXPECT_FALSE(parse_xml_document("<p:r/>").ok());
  EXPECT_FALSE(parse_xml_document("<r><a></r>").ok());
}

TEST(XmlDocument, RedactsCprLikeNumbers) {
  EXPECT_EQ(redact_cpr_like("cpr 2512489996 tlf 86345678"), "cpr ********** tlf 86345678");
  EXPECT_EQ(redact_cpr_like("251248-9996."), "******-****.");
  EXPECT_EQ(redact_cpr_like("5790000120420"), "5790000120420");  // 13 digits: a GLN
}

TEST(XmlBuilder, EscapesAndRoundTripsThroughTheParser) {
  XmlBuilder w("", false);
  w.open("r", {{"xmlns", "urn:a"}, {"k", "a\"<&\tb"}});
  w.leaf("t", "x < y & z");
  w.leaf_with_breaks("b", "l1\nl2 & more", "br");
  w.empty("e", {{"value", "ok"}});
  w.close();
  const std::string xml = w.finish();
  EXPECT_EQ(xml, R"(<r xmlns="urn:a" k="a&quot;&lt;&amp;&#9;b"><t>x &lt; y &amp; z</t>)"
                 R"(<b>l1<br/>l2 &amp; more</b><e value="ok"/></r>)");
  auto t = parse_xml_document(xml);
  ASSERT_TRUE(t.ok()) << t.error().detail;
  EXPECT_EQ(*t->attribute("k"), "a\"<&\tb");
  EXPECT_EQ(text_with_breaks(*t->child("urn:a", "b"), "br"), "l1\nl2 & more");
}

// Each parse reuses its thread's working memory (the text buffer per depth, the pre-scan's
// lists, RapidXML's copy): nothing of one document may show in the next, whether that one is
// deeper, shallower, or follows a document large enough to have its memory given back.
TEST(XmlDocument, ConsecutiveParsesOnOneThreadShareNothing) {
  const std::string deep =
      "<r xmlns=\"urn:a\">\n  <a>\n    <b>one</b>\n    <c>  two  </c>\n  </a>\n  tail\n</r>";
  auto first = parse_xml_document(deep);
  ASSERT_TRUE(first.ok()) << first.error().detail;
  EXPECT_EQ(first->text, "\n  \n  tail\n");
  const XmlNode* a = first->child("urn:a", "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->text, "\n    \n    \n  ");
  EXPECT_EQ(a->children.at(1).text, "  two  ");
  EXPECT_EQ(a->children.at(1).text_offset, 10u);  // after two of a's indentation runs

  auto second =
      parse_xml_elements("<r xmlns=\"urn:a\"><x>y</x>z</r>", "urn:a", kDefaultDecodeLimits);
  ASSERT_TRUE(second.ok()) << second.error().detail;
  EXPECT_EQ(second->text, "z");
  ASSERT_EQ(second->children.size(), 1u);
  EXPECT_EQ(second->children[0].text, "y");
  EXPECT_TRUE(second->children[0].in_namespace);

  std::string large = "<r>";
  for (int i = 0; i < 20000; ++i) large += "\n  <e>" + std::to_string(i) + "</e>";
  large += "\n</r>";
  ASSERT_GT(large.size(), 256u * 1024u);
  auto big = parse_xml_document(large);
  ASSERT_TRUE(big.ok()) << big.error().detail;
  EXPECT_EQ(big->children.size(), 20000u);
  EXPECT_EQ(big->children.back().text, "19999");
  EXPECT_EQ(big->text.size(), 20000u * 3 + 1);

  auto again = parse_xml_document(deep);
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_EQ(again->text, first->text);
  EXPECT_EQ(again->child("urn:a", "a")->text, a->text);
  EXPECT_FALSE(parse_xml_document("<r><a></r>").ok());
  auto after_error = parse_xml_document("<r>ok</r>");
  ASSERT_TRUE(after_error.ok());
  EXPECT_EQ(after_error->text, "ok");
}

// close() takes each element's name from its start tag in the output, the first 16 levels from
// an inline stack and deeper ones from the heap: indentation and end tags hold past that depth,
// and a name passed as a temporary string is not needed after open().
TEST(XmlBuilder, ClosesDeepNestingFromItsOwnOutput) {
  XmlBuilder w(R"(<?xml version="1.0" encoding="UTF-8"?>)", true, 16);
  std::string expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  constexpr int kDepth = 20;
  for (int i = 0; i < kDepth; ++i) {
    w.open(std::string("level") + std::to_string(i) + "-with-a-long-name",
           {{"n", std::to_string(i)}});
    expected += std::string(2 * i, ' ') + "<level" + std::to_string(i) + "-with-a-long-name n=\"" +
                std::to_string(i) + "\">\n";
  }
  w.leaf("x", "t");
  expected += std::string(2 * kDepth, ' ') + "<x>t</x>\n";
  for (int i = kDepth - 1; i >= 0; --i) {
    w.close();
    expected += std::string(2 * i, ' ') + "</level" + std::to_string(i) + "-with-a-long-name>\n";
  }
  const std::string xml = w.finish();
  EXPECT_EQ(xml, expected);
  EXPECT_TRUE(parse_xml_document(xml).ok());

  XmlBuilder flat("", false);
  flat.open("a");
  flat.open("b");
  flat.close();
  flat.open("c");
  flat.close();
  flat.close();
  EXPECT_EQ(flat.finish(), "<a><b></b><c></c></a>");
}

}  // namespace
}  // namespace sektorbro::adapters
