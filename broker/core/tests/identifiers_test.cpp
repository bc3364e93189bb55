#include "broker/core/identifiers.hpp"

#include <gtest/gtest.h>

namespace sektorbro {
namespace {

TEST(Gln, AcceptsRealMedcomNumbers) {
  // GLNs from MedCom's public sample messages.
  EXPECT_TRUE(is_valid_gln("5790001382445"));
  EXPECT_TRUE(is_valid_gln("5790000121441"));
  EXPECT_TRUE(is_valid_gln("5790000120420"));
}

TEST(Gln, RejectsWrongCheckDigitAndShape) {
  EXPECT_FALSE(is_valid_gln("5790001382446"));
  EXPECT_FALSE(is_valid_gln("579000138244"));
  EXPECT_FALSE(is_valid_gln("57900013824x5"));
  EXPECT_EQ(gln_check_digit("579000138244"), '5');
}

TEST(Cpr, ShapeOnlyNoModulus11) {
  EXPECT_TRUE(is_valid_cpr("2512489996"));
  EXPECT_TRUE(is_valid_cpr("0101001234"));  // fails modulus 11, still valid (domain.md §2)
  EXPECT_FALSE(is_valid_cpr("3213489996"));
  EXPECT_FALSE(is_valid_cpr("251248999"));
  EXPECT_FALSE(is_valid_cpr("25124899a6"));
}

TEST(Cpr, MaskHidesTheSequenceNumber) {
  EXPECT_EQ(mask_cpr("2512489996"), "251248-****");
  EXPECT_EQ(mask_cpr("12"), "******-****");
}

TEST(MessageId, MedcomLengthAndSafeCharacters) {
  EXPECT_TRUE(is_valid_message_id("KuvNrerwerwe99"));
  EXPECT_FALSE(is_valid_message_id("KuvNrerwerwe990"));  // 15 chars
  EXPECT_FALSE(is_valid_message_id(""));
  EXPECT_FALSE(is_valid_message_id("a/b"));
}

TEST(Sha256, KnownVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace sektorbro
