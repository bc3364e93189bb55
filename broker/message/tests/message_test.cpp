#include "broker/message/message.hpp"

#include <gtest/gtest.h>

#include "broker/message/forms.hpp"

namespace sektorbro {
namespace {

TEST(Message, LetterTypeFollowsTheBodyAlternative) {
  for (LetterType t : kAllLetterTypes) {
    const auto parsed = parse_letter_type(to_string(t));
    ASSERT_TRUE(parsed) << to_string(t);
    EXPECT_EQ(*parsed, t);
  }
  Letter l;
  l.body = DischargeNotice{};
  EXPECT_EQ(l.type(), LetterType::kDischargeNotice);
  l.body = NegativeReceipt{};
  EXPECT_EQ(l.type(), LetterType::kNegativeReceipt);
  EXPECT_TRUE(is_receipt(l.type()));
  l.body = Correspondence{};
  EXPECT_EQ(l.type(), LetterType::kCorrespondence);
  EXPECT_EQ(to_string(l.type()), "Correspondence");
  EXPECT_FALSE(is_receipt(l.type()));
  EXPECT_EQ(std::size(kAllLetterTypes), std::variant_size_v<LetterBody>);
}

TEST(Message, MedcomCodesRoundTrip) {
  EXPECT_EQ(parse_letter_status("annulleretbrev"), LetterStatus::kCancelled);
  EXPECT_EQ(to_string(RefuseCode::kUnknownLocation), "ukendt_lokationsnummer");
  EXPECT_EQ(parse_refuse_code("problem_med_modtagerID"), RefuseCode::kReceiverIdProblem);
  EXPECT_FALSE(parse_refuse_code("nonsense"));
  EXPECT_EQ(parse_mentor_outcome("not-reached"), MentorOutcome::kNotReached);
}

TEST(Forms, OnlyConsultationFormsMayDecline) {
  ASSERT_TRUE(find_form("LÆ135"));
  EXPECT_TRUE(find_form("LÆ135")->may_decline);
  EXPECT_TRUE(find_form("LÆ145")->may_decline);
  EXPECT_FALSE(find_form("LÆ125")->may_decline);
  EXPECT_TRUE(find_form("LÆ285")->deadline_in_request);
  EXPECT_FALSE(find_form("LÆ999"));
  EXPECT_FALSE(find_form("LAE285"));
}

}  // namespace
}  // namespace sektorbro
