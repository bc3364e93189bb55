// to_utf8_document: the XML layer's character layer as the native codec uses it.
#include "broker/xml/text_encoding.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "broker/codec/codec.hpp"

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

// The native codec reads through the one XML layer (issue 9), so it takes the same list of
// encodings as the MedCom adapters (windows-1252 too), but trusts the declaration: no repair of
// mislabelled UTF-8, and a UTF-8 BOM under a Latin-1 label is refused.
TEST(TextEncoding, TakesTheSameEncodingsAsTheAdaptersAndTrustsTheLabel) {
  auto cp1252 = to_utf8_document("<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\x80</a>");
  ASSERT_TRUE(cp1252.ok()) << cp1252.error().detail;
  EXPECT_EQ(*cp1252, "<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\xE2\x82\xAC</a>");
  auto mislabelled = to_utf8_document("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xC3\xA6</a>");
  ASSERT_TRUE(mislabelled.ok());
  EXPECT_EQ(*mislabelled, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xC3\x83\xC2\xA6</a>");
  auto bom = to_utf8_document("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>");
  ASSERT_FALSE(bom.ok());
  EXPECT_EQ(bom.error().code, Errc::kMalformed);
}

}  // namespace
}  // namespace sektorbro

namespace sektorbro {
namespace {

// The two encoding rows of the hostile catalogue (tests/hostile) that depend on the native
// codec trusting the declaration: refused with the catalogue's fragments.
TEST(TextEncoding, HostileCatalogueEncodingRowsAreRefused) {
  const auto read = [](const char* name) {
    std::ifstream in(std::string(SEKTORBRO_SOURCE_DIR) + "/tests/hostile/cases/" + name,
                     std::ios::binary);
    return std::string{std::istreambuf_iterator<char>(in), {}};
  };
  auto latin1 = decode_envelope(read("057-latin1-declared-utf8-text.bin"));
  ASSERT_FALSE(latin1.ok());
  EXPECT_NE(latin1.error().detail.find("Form: expected a form code"), std::string::npos)
      << latin1.error().detail;
  auto bom = decode_envelope(read("059-bom-with-latin1-declaration.bin"));
  ASSERT_FALSE(bom.ok());
  EXPECT_NE(bom.error().detail.find("UTF-8 BOM is present"), std::string::npos)
      << bom.error().detail;
}

}  // namespace
}  // namespace sektorbro
