// The citizen index's key: HMAC-SHA256 of the ten-digit CPR number under a key from a file. The
// expected value was computed independently (Python's hmac module) for this key and number.
#include "broker/console/citizen_key.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sektorbro {
namespace {

constexpr const char* kKey = "0123456789abcdef0123456789abcdef";  // 32 bytes

std::string write_temp(const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("sb-citizen-key-" + std::to_string(getpid()) + "-" +
                     std::to_string(content.size()));
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

TEST(CitizenKeyer, IsHmacSha256OfTheTenDigitsUnderTheKey) {
  const CitizenKeyer keyer{std::string(kKey)};
  EXPECT_EQ(keyer.key_of("0101001234"),
            "6580ec409b1c7b1b4f0b83effdd434cc4c19fcc1843f5bd8b2aeb61cccc28c59");
  // The printed form with a dash is the same citizen.
  EXPECT_EQ(keyer.key_of("010100-1234"), keyer.key_of("0101001234"));
  // Another key, another value: a store copy without the key file cannot be searched.
  const CitizenKeyer other{std::string(kKey) + "x"};
  EXPECT_EQ(other.key_of("0101001234"),
            "a90c6c1ba7d58a88b8dbc2d3c338b3f1080432a11adb58bd0c3b29977b228738");
}

TEST(CitizenKeyer, RefusesWhatIsNotCprShaped) {
  const CitizenKeyer keyer{std::string(kKey)};
  for (const char* bad : {"", "123", "01010012345", "0101-001234", "01010O1234", "010100--1234"})
    EXPECT_FALSE(keyer.key_of(bad).has_value()) << bad;
}

TEST(CitizenKeyer, KeysOfAreDistinctAndInOrder) {
  const CitizenKeyer keyer{std::string(kKey)};
  const auto keys = keyer.keys_of({"0101001234", "nonsense", "010100-1234", "0202002345"});
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0], *keyer.key_of("0101001234"));
  EXPECT_EQ(keys[1], *keyer.key_of("0202002345"));
}

TEST(CitizenKeyer, ReadsTheKeyFileAndRefusesAShortOrMissingOne) {
  const std::string good = write_temp(kKey);
  auto keyer = CitizenKeyer::from_file(good);
  ASSERT_TRUE(keyer.ok()) << keyer.error().detail;
  EXPECT_EQ(keyer->key_of("0101001234"), CitizenKeyer{std::string(kKey)}.key_of("0101001234"));
  std::filesystem::remove(good);

  const std::string short_file = write_temp("too short");
  auto refused = CitizenKeyer::from_file(short_file);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::kConfig);
  EXPECT_NE(refused.error().detail.find("fewer than 32 bytes"), std::string::npos);
  EXPECT_EQ(refused.error().detail.find("too short"), std::string::npos);  // never the content
  std::filesystem::remove(short_file);

  EXPECT_FALSE(CitizenKeyer::from_file("/nonexistent/sektorbro-key").ok());
}

}  // namespace
}  // namespace sektorbro
