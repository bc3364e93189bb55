#include "broker/xml/text_encoding.hpp"

#include <gtest/gtest.h>

#include "adapters/common/tests/sample_files.hpp"

namespace sektorbro::adapters {
namespace {

std::string doc(std::string_view encoding, std::string_view body) {
  return "<?xml version=\"1.0\" encoding=\"" + std::string(encoding) + "\"?>\n<a>" +
         std::string(body) + "</a>";
}

TEST(DocumentEncoding, XdisSampleDeclaresLatin1ButIsUtf8) {
  const std::string bytes = testing::read_sample(testing::kXdis91);
  ASSERT_FALSE(bytes.empty());
  auto d = decode_document(bytes);
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_EQ(d->declared, TextEncoding::kIso88591);
  EXPECT_EQ(d->used, TextEncoding::kUtf8);
  EXPECT_TRUE(d->relabelled());
  EXPECT_NE(d->utf8.find("Vandværksvej 99"), std::string::npos);
  EXPECT_EQ(d->utf8.find("Ã"), std::string::npos);
}

TEST(DocumentEncoding, GenuineLatin1IsHonoured) {
  auto d = decode_document(doc("ISO-8859-1", "Vandv\xE6rksvej, H\xF8je Taastrup, \xC5rhus"));
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_EQ(d->used, TextEncoding::kIso88591);
  EXPECT_FALSE(d->relabelled());
  EXPECT_NE(d->utf8.find("<a>Vandværksvej, Høje Taastrup, Århus</a>"), std::string::npos);
}

TEST(DocumentEncoding, OneRealLatin1LetterKeepsTheDeclarationDespiteUtf8LookingPairs) {
  // "Ã¦" as Latin-1 bytes C3 A6 next to a lone E6 (æ): not valid UTF-8 as a whole.
  auto d = decode_document(doc("iso-8859-1", "\xC3\xA6 og \xE6"));
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_EQ(d->used, TextEncoding::kIso88591);
  EXPECT_NE(d->utf8.find("<a>Ã¦ og æ</a>"), std::string::npos);
}

TEST(DocumentEncoding, Windows1252DeclarationIsAlsoRelabelledWhenUtf8) {
  auto d = decode_document(doc("windows-1252", "S\xC3\xB8ren"));
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_EQ(d->declared, TextEncoding::kWindows1252);
  EXPECT_EQ(d->used, TextEncoding::kUtf8);
  EXPECT_NE(d->utf8.find("<a>Søren</a>"), std::string::npos);
}

TEST(DocumentEncoding, AsciiOnlyKeepsTheDeclaration) {
  auto d = decode_document(doc("ISO-8859-1", "plain"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->used, TextEncoding::kIso88591);
  EXPECT_EQ(d->utf8, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<a>plain</a>");
}

TEST(DocumentEncoding, Windows1252HighBytes) {
  auto d = decode_document(doc("windows-1252", "\x80 \x93x\x94 \xE6"));
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_NE(d->utf8.find("<a>€ “x” æ</a>"), std::string::npos);
  auto undefined = decode_document(doc("windows-1252", "\x81"));
  ASSERT_FALSE(undefined.ok());
  EXPECT_EQ(undefined.error().code, Errc::kMalformed);
}

TEST(DocumentEncoding, BomMeansUtf8EvenWhenLatin1IsDeclared) {
  auto d = decode_document("\xEF\xBB\xBF" + doc("ISO-8859-1", "plain"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->used, TextEncoding::kUtf8);
}

TEST(DocumentEncoding, NoDeclarationIsUtf8AndInvalidUtf8IsRefused) {
  auto d = decode_document("<a>\xC3\xB8</a>");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->used, TextEncoding::kUtf8);
  auto bad = decode_document(doc("UTF-8", "\xE6 is not UTF-8"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kMalformed);
  EXPECT_NE(bad.error().detail.find("invalid UTF-8"), std::string::npos);
}

TEST(DocumentEncoding, RefusesUnsupportedEncodingsAndUtf16AndControls) {
  EXPECT_FALSE(decode_document(doc("EBCDIC", "x")).ok());
  EXPECT_FALSE(decode_document(std::string("\xFF\xFE<\0a\0", 6)).ok());
  EXPECT_FALSE(decode_document(doc("ISO-8859-1", "\x01")).ok());
  EXPECT_FALSE(decode_document("<?xml version=\"1.0\" encoding=\"UTF-8\"").ok());
}

TEST(DocumentEncoding, LineEndsAreNormalised) {
  auto d = decode_document(doc("ISO-8859-1", "a\r\nb\rc"));
  ASSERT_TRUE(d.ok());
  EXPECT_NE(d->utf8.find("a\nb\nc"), std::string::npos);
}

// UTF-8 is checked in runs of plain ASCII (issue 8); line ends next to multibyte characters,
// at the very start and end, and a CR LF split across a run boundary all still fold to LF.
TEST(DocumentEncoding, Utf8LineEndsFoldAcrossRunsAndMultibyteCharacters) {
  auto d = decode_document(doc("UTF-8", "\r\n\xC3\xA6\r\n\xC3\xB8\r\r\nx\t\xE2\x82\xAC\r"));
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_NE(d->utf8.find("\n\xC3\xA6\n\xC3\xB8\n\nx\t\xE2\x82\xAC\n"), std::string::npos);
  EXPECT_EQ(d->utf8.find('\r'), std::string::npos);
  auto control = decode_document(doc("UTF-8", "abc\x01"));
  ASSERT_FALSE(control.ok());
  EXPECT_NE(control.error().detail.find("control character"), std::string::npos);
}

// to_utf8_view checks a UTF-8 document without CR where it lies (the view is of the input,
// after a BOM) and converts any other into its storage: the text and the errors are always
// to_utf8_document's.
TEST(DocumentEncoding, TheViewIsTheInputWhenNothingChangesAndTheDocumentOtherwise) {
  const std::string plain = doc("UTF-8", "s\xC3\xB8 og \xE2\x82\xAC\n<b/>\t");
  const std::string bom = "\xEF\xBB\xBF" + plain;
  const std::string crlf = doc("UTF-8", "one\r\ntwo\rthree");
  const std::string latin1 = doc("ISO-8859-1", "s\xF8");
  for (const std::string* input : {&plain, &bom, &crlf, &latin1}) {
    std::string storage;
    auto view = to_utf8_view(*input, storage);
    auto copy = to_utf8_document(*input);
    ASSERT_TRUE(view.ok() && copy.ok());
    EXPECT_EQ(*view, *copy);
    const bool in_input =
        view->data() >= input->data() && view->data() < input->data() + input->size();
    EXPECT_EQ(in_input, input == &plain || input == &bom);
    EXPECT_EQ(storage.empty(), in_input);
  }
  std::string storage;
  EXPECT_EQ(to_utf8_view(bom, storage)->data(), bom.data() + 3);
  for (const std::string& bad : {doc("UTF-8", "x\xC0\xAFy"), doc("UTF-8", "x\r\n\xFFy"),
                                 doc("UTF-8", "a\x01b"), doc("UTF-8", "\xEF\xBF\xBE")}) {
    std::string s;
    auto view = to_utf8_view(bad, s);
    auto copy = to_utf8_document(bad);
    ASSERT_FALSE(view.ok());
    ASSERT_FALSE(copy.ok());
    EXPECT_EQ(view.error().detail, copy.error().detail);
  }
}

TEST(DocumentEncoding, Latin1OutputUsesReferencesAboveFF) {
  EXPECT_EQ(utf8_to_latin1_xml("æ€a"), "\xE6&#8364;a");
}

// Found by fuzz_oioxml: Latin-1 text "Ã¦" written as Latin-1 is the bytes C3 A6, which the
// mislabelled-UTF-8 rule would read back as "æ".
TEST(DocumentEncoding, Latin1OutputThatLooksLikeUtf8UsesReferences) {
  // A real Latin-1 letter elsewhere keeps the bytes invalid UTF-8: plain Latin-1 is safe.
  EXPECT_EQ(utf8_to_latin1_xml("Ã¦ og ø"), "\xC3\xA6 og \xF8");
  const std::string out = utf8_to_latin1_xml("Ã¦ og o");
  EXPECT_EQ(out, "&#195;&#166; og o");
  auto d = decode_document("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>" + out + "</a>");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->used, TextEncoding::kIso88591);
}

}  // namespace
}  // namespace sektorbro::adapters
