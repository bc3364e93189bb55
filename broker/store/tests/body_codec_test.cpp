// Bodies at rest (body_codec.hpp): what is packed unpacks byte for byte; what cannot be unpacked
// is an error, never a wrong body.
#include "broker/store/body_codec.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sektorbro {
namespace {

std::string letter_xml(int paragraphs) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Emessage><Envelope>";
  for (int i = 0; i < paragraphs; ++i)
    xml += "<Paragraph n=\"" + std::to_string(i) +
           "\">Borgeren er udskrevet fra psykiatrisk afdeling, æøå ÆØÅ.</Paragraph>\n";
  return xml + "</Envelope></Emessage>\n";
}

TEST(BodyCodec, XmlIsCompressedAndUnpacksByteForByte) {
  const std::string body = letter_xml(60);
  const PackedBody packed = pack_body(body);
  EXPECT_EQ(packed.codec, BodyCodec::kZstd);
  EXPECT_LT(packed.bytes.size(), body.size() / 4);
  auto back = unpack_body(packed.bytes, static_cast<int>(packed.codec));
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, body);
}

TEST(BodyCodec, SmallOrIncompressibleBodiesAreKeptAsGiven) {
  const std::string small = "<a/>";
  EXPECT_EQ(pack_body(small).codec, BodyCodec::kIdentity);
  EXPECT_EQ(pack_body(small).bytes, small);

  std::mt19937 rng(7);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  const PackedBody packed = pack_body(noise);
  EXPECT_EQ(packed.codec, BodyCodec::kIdentity);
  EXPECT_EQ(packed.bytes, noise);
  auto back = unpack_body(packed.bytes, static_cast<int>(packed.codec));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, noise);
}

TEST(BodyCodec, BytesThatAreNotOurFrameAreAStorageError) {
  const PackedBody packed = pack_body(letter_xml(20));
  ASSERT_EQ(packed.codec, BodyCodec::kZstd);

  std::string damaged = packed.bytes;
  damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 0x5a);
  damaged.resize(damaged.size() - 3);
  auto a = unpack_body(damaged, 1);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Errc::kStorage);

  auto b = unpack_body("<Emessage/>", 1);  // a plain body marked compressed
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Errc::kStorage);

  auto c = unpack_body(packed.bytes, 7);  // a codec this broker does not know
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kStorage);

  auto d = unpack_body(packed.bytes, 1, 100);  // says it is larger than any body taken
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, Errc::kStorage);
}

}  // namespace
}  // namespace sektorbro
