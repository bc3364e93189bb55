// Every file in schemas/examples: valid against its XSD (xmllint), decodes, round-trips, passes
// the business rules at its own send time, and the codec's output is valid against the XSD too.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "broker/codec/codec.hpp"
#include "broker/codec/tests/codec_test_support.hpp"
#include "broker/codec/validation.hpp"

namespace sektorbro {
namespace {

using testing::read_file;
using testing::schemas_dir;
using testing::scratch_file;
using testing::xmllint;

std::vector<std::filesystem::path> example_files() {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(schemas_dir() / "examples"))
    if (entry.path().extension() == ".xml") out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool is_acceptance(const std::filesystem::path& p) {
  return p.filename().string().starts_with("acceptance");
}

TEST(Examples, AtLeastOnePerLetterTypeAndTheAcceptance) {
  const auto files = example_files();
  ASSERT_GE(files.size(), 10u);
  std::vector<LetterType> seen;
  for (const auto& f : files) {
    if (is_acceptance(f)) continue;
    auto env = decode_envelope(read_file(f));
    ASSERT_TRUE(env.ok()) << f << ": " << env.error().detail;
    for (const auto& l : env->letters) seen.push_back(l.type());
  }
  for (auto t : kAllLetterTypes)
    EXPECT_NE(std::find(seen.begin(), seen.end(), t), seen.end()) << to_string(t);
}

TEST(Examples, ValidateAgainstTheirSchema) {
  ASSERT_TRUE(testing::xmllint_available()) << "xmllint (Debian package libxml2-utils) is needed";
  const auto files = example_files();
  ASSERT_GE(files.size(), 9u);
  for (const auto& f : files) {
    const auto xsd =
        schemas_dir() / (is_acceptance(f) ? "sektorbro-acceptance.xsd" : "sektorbro-message.xsd");
    EXPECT_EQ(xmllint(xsd, f), 0) << f;
  }
}

TEST(Examples, RoundTripAndPassBusinessRules) {
  const auto files = example_files();
  ASSERT_GE(files.size(), 9u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    const std::string bytes = read_file(f);
    if (is_acceptance(f)) {
      auto a = decode_acceptance(bytes);
      ASSERT_TRUE(a.ok()) << a.error().detail;
      const std::string once = encode_acceptance(*a);
      auto again = decode_acceptance(once);
      ASSERT_TRUE(again.ok()) << again.error().detail;
      EXPECT_EQ(*again, *a);
      EXPECT_EQ(encode_acceptance(*again), once);
      EXPECT_EQ(xmllint(schemas_dir() / "sektorbro-acceptance.xsd", scratch_file(once)), 0);
      continue;
    }
    auto env = decode_envelope(bytes);
    ASSERT_TRUE(env.ok()) << env.error().detail;
    const auto rules = validate_envelope(*env, env->sent);
    EXPECT_TRUE(rules.ok()) << (rules.ok() ? "" : rules.error().detail);
    const std::string once = encode_envelope(*env);
    auto again = decode_envelope(once);
    ASSERT_TRUE(again.ok()) << again.error().detail;
    EXPECT_EQ(*again, *env);
    EXPECT_EQ(encode_envelope(*again), once);
    EXPECT_EQ(xmllint(schemas_dir() / "sektorbro-message.xsd", scratch_file(once)), 0) << once;
  }
}

}  // namespace
}  // namespace sektorbro
