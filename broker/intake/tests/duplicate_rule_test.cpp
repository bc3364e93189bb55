#include "broker/intake/duplicate_rule.hpp"

#include <gtest/gtest.h>

namespace sektorbro {
namespace {

NewLetter letter(const std::string& id, const std::string& hash,
                 LetterStatus status = LetterStatus::kNew) {
  return NewLetter{id, LetterType::kCertificateRequest, hash, status};
}
StoredVersions stored(std::int64_t message, const std::string& hash) {
  LetterLocation l;
  l.message_id = message;
  l.content_hash = hash;
  return StoredVersions{l, std::nullopt};
}

TEST(DuplicateRule, UnknownLettersAreNew) {
  const auto v = apply_duplicate_rule({letter("A", "h1"), letter("B", "h2")}, {{}, {}});
  EXPECT_EQ(v.kind, DuplicateVerdict::Kind::kNew);
  EXPECT_TRUE(v.supersedes.empty());
}

TEST(DuplicateRule, AnIdenticalResendIsADuplicateOfTheFirstMessage) {
  const auto v =
      apply_duplicate_rule({letter("A", "h1"), letter("B", "h2")}, {stored(7, "h1"), stored(7, "h2")});
  EXPECT_EQ(v.kind, DuplicateVerdict::Kind::kDuplicate);
  EXPECT_EQ(v.original_message_id, 7);
}

TEST(DuplicateRule, OtherContentUnderAUsedIdIsAConflict) {
  const auto v = apply_duplicate_rule({letter("A", "other")}, {stored(7, "h1")});
  EXPECT_EQ(v.kind, DuplicateVerdict::Kind::kConflict);
  EXPECT_EQ(v.conflicting_letter_id, "A");
}

TEST(DuplicateRule, ACorrectionSupersedesTheLatestVersion) {
  const auto v = apply_duplicate_rule({letter("A", "h2", LetterStatus::kCorrected)},
                                      {stored(7, "h1")});
  ASSERT_EQ(v.kind, DuplicateVerdict::Kind::kNew);
  ASSERT_EQ(v.supersedes.size(), 1u);
  EXPECT_EQ(v.supersedes[0].letter_id, "A");
  EXPECT_EQ(v.supersedes[0].old_message_id, 7);
  EXPECT_EQ(v.supersedes[0].old_content_hash, "h1");
}

TEST(DuplicateRule, ALateResendOfAReplacedVersionIsStillADuplicate) {
  StoredVersions s = stored(9, "h2");
  s.earlier_same = 7;
  const auto v = apply_duplicate_rule({letter("A", "h1")}, {s});
  EXPECT_EQ(v.kind, DuplicateVerdict::Kind::kDuplicate);
  EXPECT_EQ(v.original_message_id, 7);
}

TEST(DuplicateRule, KnownAndNewLettersTogetherAreMixed) {
  EXPECT_EQ(apply_duplicate_rule({letter("A", "h1"), letter("B", "h2")}, {stored(7, "h1"), {}})
                .kind,
            DuplicateVerdict::Kind::kMixed);
  // Known letters from two different messages: no single first answer exists.
  EXPECT_EQ(
      apply_duplicate_rule({letter("A", "h1"), letter("B", "h2")}, {stored(7, "h1"), stored(8, "h2")})
          .kind,
      DuplicateVerdict::Kind::kMixed);
  // A correction beside a resend.
  EXPECT_EQ(apply_duplicate_rule({letter("A", "h1"), letter("B", "x", LetterStatus::kCorrected)},
                                 {stored(7, "h1"), stored(7, "h2")})
                .kind,
            DuplicateVerdict::Kind::kMixed);
}

TEST(DuplicateRule, OneIdTwiceInACorrectionIsAConflict) {
  const auto v = apply_duplicate_rule({letter("A", "x", LetterStatus::kCorrected),
                                       letter("A", "y", LetterStatus::kCancelled)},
                                      {stored(7, "h1"), stored(7, "h1")});
  EXPECT_EQ(v.kind, DuplicateVerdict::Kind::kConflict);
}

}  // namespace
}  // namespace sektorbro
