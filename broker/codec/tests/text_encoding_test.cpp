// to_utf8_document: the XML layer's character layer as the native codec uses it.
#include "broker/xml/text_encoding.hpp"

#include <gtest/gtest.h>

namespace sektorbro {
namespace {

std::string ok_or_detail(const Result<std::string>& r) {
  return r.ok() ? *r : "error: " + r.error().detail;
}

TEST(TextEncoding, Latin1BecomesUtf8) {
  EXPECT_EQ(ok_or_detail(
                to_utf8_document("<?xml version='1.0' encoding='ISO-8859-1'?><a>\xC6\xF8\xE5</a>")),
            "<?xml version='1.0' encoding='ISO-8859-1'?><a>\xC3\x86\xC3\xB8\xC3\xA5</a>");
}

TEST(TextEncoding, Utf8PassesWithBomDropped) {
  EXPECT_EQ(ok_or_detail(to_utf8_document("\xEF\xBB\xBF<a>\xC3\x86 \xF0\x9F\x99\x82</a>")),
            "<a>\xC3\x86 \xF0\x9F\x99\x82</a>");
}

TEST(TextEncoding, LineEndsBecomeLf) {
  EXPECT_EQ(ok_or_detail(to_utf8_document("<a>1\r\n2\r3\n\r\n</a>")), "<a>1\n2\n3\n\n</a>");
  EXPECT_EQ(ok_or_detail(to_utf8_document("<?xml version=\"1.0\" encoding=\"latin1\"?>\r\n<a/>")),
            "<?xml version=\"1.0\" encoding=\"latin1\"?>\n<a/>");
}

TEST(TextEncoding, RefusesBadSequences) {
  for (const char* bad : {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x80",
                          "\xC3", "\xF5\x80\x80\x80", "\xEF\xBF\xBE", "\x01", "\x1F"}) {
    const auto r = to_utf8_document(std::string("<a>") + bad + "</a>");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, Errc::kMalformed);
    EXPECT_NE(r.error().detail.find("at byte offset 3"), std::string::npos) << r.error().detail;
  }
}

TEST(TextEncoding, RefusesUnknownEncodingsAndBadDeclarations) {
  for (const char* decl : {"<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>",
                           "<?xml version=\"1.0\" encoding=\"KOI8-R\"?><a/>",
                           "<?xml version=\"1.0\" encoding=UTF-8?><a/>",
                           "<?xml version=\"1.0\" encoding=\"UTF-8\"<a/>"}) {
    const auto r = to_utf8_document(decl);
    ASSERT_FALSE(r.ok()) << decl;
    EXPECT_EQ(r.error().code, Errc::kMalformed);
  }
}

// The native codec reads through the one XML layer (issue 9), so it takes every encoding the
// MedCom adapters take: windows-1252 as declared, and a UTF-8 BOM wins over a Latin-1 label.
TEST(TextEncoding, TakesTheSameEncodingsAsTheAdapters) {
  auto cp1252 = to_utf8_document("<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\x80</a>");
  ASSERT_TRUE(cp1252.ok()) << cp1252.error().detail;
  EXPECT_EQ(*cp1252, "<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\xE2\x82\xAC</a>");
  auto bom = to_utf8_document("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xC3\xA6</a>");
  ASSERT_TRUE(bom.ok()) << bom.error().detail;
  EXPECT_EQ(*bom, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xC3\xA6</a>");
}

}  // namespace
}  // namespace sektorbro
