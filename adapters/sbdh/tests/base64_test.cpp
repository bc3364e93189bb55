#include "adapters/sbdh/base64.hpp"

#include <gtest/gtest.h>

namespace sektorbro::adapters {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), plain);
  }
}

TEST(Base64, AllBytesRoundTripAndWhitespaceIsSkipped) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string enc = base64_encode(all);
  EXPECT_EQ(base64_decode(enc), all);
  std::string wrapped = "\n  ";
  for (std::size_t i = 0; i < enc.size(); i += 76) wrapped += enc.substr(i, 76) + "\r\n\t";
  EXPECT_EQ(base64_decode(wrapped), all);
}

TEST(Base64, RefusesWhatIsNotStrictBase64) {
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zm9v!", "Zg==Zg==", "Zh==", "Zm9=", "=Zm9",
                          "Zm9vYg==x", "Zm-v", "Zm_v"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace sektorbro::adapters
