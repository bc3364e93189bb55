// The word-at-a-time fast paths (ascii_words.hpp) against byte-by-byte rules: the tests put
// every kind of byte at every position around the eight-byte steps, so a wrong word test shows
// as a wrong escape or a missed error at that position.
#include "broker/xml/ascii_words.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "broker/xml/text_encoding.hpp"
#include "broker/xml/xml_builder.hpp"

namespace sektorbro {
namespace {

std::uint64_t word_of(const std::string& eight) { return ascii_words::load(eight.data()); }

TEST(AsciiWords, AgreeWithByteTestsForEveryByteAtEveryPosition) {
  for (int pos = 0; pos < 8; ++pos) {
    for (int b = 0; b < 256; ++b) {
      std::string eight(8, 'a');
      eight[static_cast<std::size_t>(pos)] = static_cast<char>(b);
      const std::uint64_t w = word_of(eight);
      EXPECT_EQ(ascii_words::has_zero_byte(w), b == 0) << pos << " " << b;
      EXPECT_EQ(ascii_words::has_byte(w, '&'), b == '&') << pos << " " << b;
      EXPECT_EQ(ascii_words::has_byte(w, 0x7F), b == 0x7F) << pos << " " << b;
      EXPECT_EQ(ascii_words::all_in_20_to_7f(w), b >= 0x20 && b <= 0x7F) << pos << " " << b;
    }
  }
}

TEST(AsciiWords, AgreeWithByteTestsOnPseudoRandomWords) {
  std::uint64_t x = 88172645463325252ULL;  // xorshift64: the same words every run
  for (int k = 0; k < 200000; ++k) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    // Bias towards bytes near the boundaries, where an off-by-one would show.
    std::uint64_t w = x & 0x7F7F7F7F7F7F7F7FULL;
    if (k % 3 == 0) w = x;
    bool zero = false, amp = false, in_range = true;
    for (int i = 0; i < 8; ++i) {
      const auto b = static_cast<unsigned char>(w >> (8 * i));
      zero = zero || b == 0;
      amp = amp || b == '&';
      in_range = in_range && b >= 0x20 && b <= 0x7F;
    }
    ASSERT_EQ(ascii_words::has_zero_byte(w), zero) << std::hex << w;
    ASSERT_EQ(ascii_words::has_byte(w, '&'), amp) << std::hex << w;
    ASSERT_EQ(ascii_words::all_in_20_to_7f(w), in_range) << std::hex << w;
  }
}

// append_escaped's rules one byte at a time, as the header states them.
std::string escaped_bytewise(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t len = xml_char_length(text, i);
    if (len == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
      continue;
    }
    if (len > 1) {
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    switch (text[i]) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '\r':
        out.append("&#13;");
        break;
      default:
        out.push_back(text[i]);
        break;
    }
    ++i;
  }
  return out;
}

const std::string kSpecials[] = {"&",    "<",        ">",
                                 "\r",   "\t",       "\n",
                                 "\x7F", "\x01",     std::string(1, '\0'),
                                 "\xFF", "\xC3\xA6", "\xE2\x82\xAC",
                                 "\xC3", "\"",       " "};

TEST(AsciiWords, AppendEscapedEqualsTheByteRulesAtEveryPosition) {
  for (const auto& special : kSpecials) {
    for (std::size_t pos = 0; pos <= 24; ++pos) {
      for (std::size_t length : {pos + 1, pos + 8, std::size_t{40}}) {
        if (length < pos) continue;
        std::string text(length, 'x');
        text.insert(pos, special);
        std::string out = "prefix";
        append_escaped(out, text);
        EXPECT_EQ(out, "prefix" + escaped_bytewise(text))
            << "special byte " << static_cast<int>(static_cast<unsigned char>(special[0])) << " at "
            << pos << " in " << length;
      }
    }
  }
}

TEST(AsciiWords, Utf8CheckFindsAForbiddenByteAtEveryPosition) {
  for (const std::string& bad :
       {std::string(1, '\x01'), std::string(1, '\0'), std::string("\xFF")}) {
    for (std::size_t pos = 0; pos <= 24; ++pos) {
      std::string body(40, 'y');
      body.insert(pos, bad);
      const std::string doc = "<a>" + body + "</a>";
      auto r = to_utf8_document(doc);
      ASSERT_FALSE(r.ok()) << pos;
      EXPECT_NE(r.error().detail.find("byte offset " + std::to_string(3 + pos)), std::string::npos)
          << r.error().detail;
    }
  }
}

TEST(AsciiWords, Utf8CheckKeepsTextAndFoldsLineEndsAtEveryPosition) {
  for (std::size_t pos = 0; pos <= 24; ++pos) {
    std::string body(40, 'z');
    body.insert(pos, "\r\n\t\x7F\xC3\xA6");
    auto r = to_utf8_document("<a>" + body + "</a>");
    ASSERT_TRUE(r.ok()) << r.error().detail;
    std::string expected(40, 'z');
    expected.insert(pos, "\n\t\x7F\xC3\xA6");
    EXPECT_EQ(*r, "<a>" + expected + "</a>") << pos;
  }
}

}  // namespace
}  // namespace sektorbro
