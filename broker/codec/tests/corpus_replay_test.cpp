// Replays the saved fuzz corpus (broker/codec/fuzz/corpus), the adapters' corpora if present,
// the schema examples and the hostile catalogue through decode_envelope, with the fuzz target's
// oracle: whatever decodes must survive encode → decode unchanged and encode to the same bytes.
// Runs in every normal build, without sanitizers, so CI keeps replaying what the fuzzer found.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "broker/codec/codec.hpp"
#include "broker/codec/tests/codec_test_support.hpp"

namespace sektorbro {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> replay_files() {
  const fs::path root(SEKTORBRO_SOURCE_DIR);
  std::vector<fs::path> dirs{root / "broker/codec/fuzz/corpus", root / "schemas/examples",
                             root / "tests/hostile/cases"};
  if (fs::is_directory(root / "adapters")) {
    for (const auto& entry : fs::recursive_directory_iterator(root / "adapters"))
      if (entry.is_directory() && entry.path().filename() == "corpus") dirs.push_back(entry);
  }
  std::vector<fs::path> files;
  for (const auto& dir : dirs) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
      if (entry.is_regular_file()) files.push_back(entry.path());
  }
  return files;
}

TEST(CorpusReplay, SavedCorpusIsPresent) {
  std::size_t corpus = 0;
  for (const auto& f : replay_files())
    if (f.string().find("fuzz/corpus") != std::string::npos) ++corpus;
  EXPECT_GE(corpus, 10u);
}

TEST(CorpusReplay, EveryFileDecodesOrFailsCleanlyAndRoundTrips) {
  std::size_t decoded = 0;
  const auto files = replay_files();
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    const std::string bytes = testing::read_file(f);
    auto first = decode_envelope(bytes);
    if (!first) {
      EXPECT_TRUE(first.error().code == Errc::kMalformed || first.error().code == Errc::kInvalid);
      EXPECT_FALSE(first.error().detail.empty());
      continue;
    }
    ++decoded;
    const std::string encoded = encode_envelope(*first);
    auto second = decode_envelope(encoded);
    ASSERT_TRUE(second) << second.error().detail;
    EXPECT_TRUE(*second == *first);
    EXPECT_EQ(encode_envelope(*second), encoded);
  }
  EXPECT_GT(decoded, 0u);  // the examples at least
}

}  // namespace
}  // namespace sektorbro
