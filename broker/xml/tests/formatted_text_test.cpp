// MedCom formatted text (FormattedText.xsd) read into and checked as a canonical fragment. The
// Text01 below follows the shape of MedCom's XDIS91 sample (tests/data/medcom/05_…): text with
// line breaks, here written with the schema's <Break/> and with a FixedFont table.
#include "broker/xml/formatted_text.hpp"

#include <gtest/gtest.h>

#include "broker/xml/text_encoding.hpp"

namespace sektorbro {
namespace {

constexpr std::string_view kNs = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/";

Result<std::string> read(std::string_view text01_content) {
  const std::string doc = "<Text01 xmlns=\"" + std::string(kNs) + "\">" +
                          std::string(text01_content) + "</Text01>";
  auto utf8 = to_utf8_document(doc);
  if (!utf8) return utf8.error();
  auto tree = parse_xml_document(*utf8);
  if (!tree) return tree.error();
  return formatted_text_from(*tree, kNs);
}

TEST(FormattedText, KeepsBreaksFixedFontAndItsSpacesInOrder) {
  auto f = read(
      "\n        Blodtryk og puls:<Break/><FixedFont>Dato    BT      Puls<Break/>"
      "01.11   130/85  72<Break/>   <Break/></FixedFont>Venlig hilsen<Break/>"
      "<Bold>overl&#230;ge</Bold> K. &amp; P.<Space/>\n      ");
  ASSERT_TRUE(f.ok()) << f.error().detail;
  EXPECT_EQ(*f,
            "Blodtryk og puls:<Break/><FixedFont>Dato    BT      Puls<Break/>01.11   130/85  "
            "72<Break/>   <Break/></FixedFont>Venlig hilsen<Break/><Bold>overl\xC3\xA6ge</Bold> "
            "K. &amp; P.<Space/>");
  EXPECT_TRUE(check_formatted_text(*f).ok());
  EXPECT_EQ(plain_text_of(*f),
            "Blodtryk og puls:\nDato    BT      Puls\n01.11   130/85  72\n   \nVenlig hilsen\n"
            "overl\xC3\xA6ge K. & P. ");
}

TEST(FormattedText, ReadsTheSamplesBrAsBreak) {
  auto f = read("Linje 1<br/>Linje 2<br/>");
  ASSERT_TRUE(f.ok()) << f.error().detail;
  EXPECT_EQ(*f, "Linje 1<Break/>Linje 2<Break/>");
}

TEST(FormattedText, RefusesWhatTheSchemaDoesNotAllow) {
  for (const char* bad : {"<Bold><FixedFont>x</FixedFont></Bold>", "<FixedFont><FixedFont/></FixedFont>",
                          "<Bold><Italic>x</Italic></Bold>", "<Table/>", "<Break>x</Break>",
                          "<Bold style=\"x\">y</Bold>"}) {
    auto f = read(bad);
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.error().code, Errc::kInvalid) << bad;
  }
  auto foreign = read("<x:Bold xmlns:x=\"urn:other\">y</x:Bold>");
  ASSERT_FALSE(foreign.ok());
}

TEST(FormattedText, CheckRefusesNonCanonicalOrBrokenFragments) {
  EXPECT_TRUE(check_formatted_text("a<Break/>b").ok());
  EXPECT_TRUE(check_formatted_text("").ok());
  for (const char* bad : {"a<br/>b", "<Break></Break>", "a<Bold>b", "a & b", "<Script/>",
                          " leading", "<!DOCTYPE x>"}) {
    EXPECT_FALSE(check_formatted_text(bad).ok()) << bad;
  }
}

TEST(FormattedText, PlainTextRoundTrips) {
  const std::string plain = "Linje 1\nLinje 2 <&>\n\nSidste";
  const std::string f = formatted_text_of_plain(plain);
  EXPECT_EQ(f, "Linje 1<Break/>Linje 2 &lt;&amp;&gt;<Break/><Break/>Sidste");
  EXPECT_TRUE(check_formatted_text(f).ok());
  EXPECT_EQ(plain_text_of(f), plain);
}

}  // namespace
}  // namespace sektorbro
