// The edge's one lenient XML reader (issue 9): elements are reported only from the part of a
// damaged document that is well-formed up to its first fault.
#include "broker/edge/well_formed_prefix.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sektorbro {
namespace {

// "path=text" (or "path@value") for every element reported, in order.
std::vector<std::string> walk(std::string_view bytes, PrefixLimits limits = {}) {
  std::vector<std::string> out;
  walk_well_formed_prefix(
      bytes,
      [&](const PrefixElement& e) {
        std::string path;
        for (auto n : e.path) path += (path.empty() ? "" : "/") + std::string(n);
        out.push_back(e.value.empty() ? path + "=" + std::string(e.text)
                                      : path + "@" + std::string(e.value));
        return true;
      },
      limits);
  return out;
}

using V = std::vector<std::string>;

TEST(WellFormedPrefix, AWholeDocumentIsReportedElementByElementAsTheyClose) {
  const std::string doc =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c --><a x='1'><b>1</b><c><d>2</d></c>"
      "<![CDATA[<x>]]><?pi y?><e/></a>";
  EXPECT_EQ(walk(doc), (V{"a/b=1", "a/c/d=2", "a/c=", "a/e=", "a="}));
  EXPECT_EQ(walk_well_formed_prefix(doc, [](const PrefixElement&) { return true; }), doc.size());
}

TEST(WellFormedPrefix, ACutOffDocumentIsReadUpToTheCutAndNoFurther) {
  const std::string doc = "<a><b>1</b><c>2</c><d>3</d></a>";
  EXPECT_EQ(walk(doc.substr(0, doc.find("<d>") + 4)), (V{"a/b=1", "a/c=2"}));
  EXPECT_EQ(walk(doc.substr(0, doc.find("</c>") + 2)), (V{"a/b=1"}));  // "2</" is no text yet
  EXPECT_EQ(walk("<a><b value=\"12"), V{});                            // inside an attribute value
  EXPECT_EQ(walk("<a><b value=\"12\""), V{});                          // the tag not closed
  EXPECT_EQ(walk("<a><b value=\"12\"/"), V{});                         // nor here
  EXPECT_EQ(walk("<a><b value=\"12\"/>"), V{"a/b@12"});
  EXPECT_EQ(walk("<a><b>1</b"), V{});
  EXPECT_EQ(walk("<a><Identif"), V{});
}

TEST(WellFormedPrefix, NothingAfterTheFirstFaultIsReported) {
  // An end tag that does not match.
  EXPECT_EQ(walk("<a><b>1</b><c>2</d><e>3</e></a>"), V{"a/b=1"});
  // A reference to an entity XML does not predefine; the five and character references are fine.
  EXPECT_EQ(walk("<a><b>1</b><c>x&nbsp;y</c><e>3</e></a>"), V{"a/b=1"});
  EXPECT_EQ(walk("<a><c>&lt;&amp;&#229;&#xE5;</c><e>3</e></a>"),
            (V{"a/c=&lt;&amp;&#229;&#xE5;", "a/e=3", "a="}));
  EXPECT_EQ(walk("<a><b>1</b><c>&#0;</c></a>"), V{"a/b=1"});  // not an XML character
  EXPECT_EQ(walk("<a><b>1</b><c>&#x110000;</c></a>"), V{"a/b=1"});
  EXPECT_EQ(walk("<a><b>1</b><c>\x01</c></a>"), V{"a/b=1"});  // a C0 control
  EXPECT_EQ(walk("<a><b>1</b><c>]]></c></a>"), V{"a/b=1"});
  EXPECT_EQ(walk("<a><b>1</b><c>x<y</c></a>"), V{"a/b=1"});            // '<' starting no tag
  EXPECT_EQ(walk("<a><b>1</b><c x='1' x='2'>3</c></a>"), V{"a/b=1"});  // attribute twice
  EXPECT_EQ(walk("<a><b>1</b><c x='1'y='2'>3</c></a>"), V{"a/b=1"});
  EXPECT_EQ(walk("<a><b>1</b><c x='<'>3</c></a>"), V{"a/b=1"});
  EXPECT_EQ(walk("<a><b>1</b><!-- x -- y --><c>3</c></a>"), V{"a/b=1"});
  EXPECT_EQ(walk("<a><b>1</b><!ELEMENT c ANY><c>3</c></a>"), V{"a/b=1"});
  // Text outside the root, and a second root, are faults; so is a DOCTYPE (never expanded).
  EXPECT_EQ(walk("x<a><b>1</b></a>"), V{});
  EXPECT_EQ(walk("<!DOCTYPE a [<!ENTITY e \"1\">]><a><b>&e;</b></a>"), V{});
  EXPECT_EQ(walk("<a/><b>1</b>"), V{"a="});
}

TEST(WellFormedPrefix, BytesInvalidInTheDeclaredEncodingEndTheReading) {
  const std::string body = "<a><b>1</b><c>K\xE6re</c><e>3</e></a>";  // Latin-1 "Kære"
  const V latin1{"a/b=1", "a/c=K\xE6re", "a/e=3", "a="};
  EXPECT_EQ(walk(body), V{"a/b=1"});  // no declaration: UTF-8, and 0xE6 'r' is not UTF-8
  EXPECT_EQ(walk("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + body), V{"a/b=1"});
  EXPECT_EQ(walk("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>" + body), latin1);
  EXPECT_EQ(walk("<?xml version='1.0' encoding='windows-1252'?>" + body), latin1);
  EXPECT_EQ(walk("<?xml version='1.0' encoding='windows-1252'?><a><b>1</b><c>\x81</c></a>"),
            V{"a/b=1"});  // one of windows-1252's five undefined bytes
  EXPECT_EQ(walk("\xEF\xBB\xBF<a><b>K\xC3\xA6re</b></a>"), (V{"a/b=K\xC3\xA6re", "a="}));
  // An encoding not on the broker's list: nothing can be read safely.
  EXPECT_EQ(walk("<?xml version=\"1.0\" encoding=\"EBCDIC-DK\"?><a><b>1</b></a>"), V{});
  // UTF-16 is not on it either.
  EXPECT_EQ(walk(std::string("\xFF\xFE<\0a\0>\0", 8)), V{});
}

TEST(WellFormedPrefix, NamesAreLocalAndPrimitivesKeepTheirValue) {
  EXPECT_EQ(walk("<f:Bundle xmlns:f=\"http://hl7.org/fhir\"><f:id value=\"u-1\"/>"
                 "<f:entry><f:resource><f:MessageHeader><f:id value='h-2'/>"),
            (V{"Bundle/id@u-1", "Bundle/entry/resource/MessageHeader/id@h-2"}));
}

TEST(WellFormedPrefix, NestingDeeperThanTheLimitEndsTheReading) {
  std::string deep = "<a><b>1</b>";
  for (int i = 0; i < 100000; ++i) deep += "<x>";
  EXPECT_EQ(walk(deep), V{"a/b=1"});
  PrefixLimits shallow;
  shallow.max_depth = 2;
  EXPECT_EQ(walk("<a><b>1</b><c><d>2</d></c></a>", shallow), V{"a/b=1"});
  PrefixLimits short_read;
  short_read.max_bytes = 11;
  EXPECT_EQ(walk("<a><b>1</b><c>2</c></a>", short_read), V{"a/b=1"});
}

TEST(WellFormedPrefix, TheCallerMayStopTheWalk) {
  int seen = 0;
  walk_well_formed_prefix("<a><b>1</b><c>2</c></a>", [&](const PrefixElement&) {
    ++seen;
    return false;
  });
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace sektorbro
