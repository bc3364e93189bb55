// Replays the OIOXML fuzz corpus (adapters/oioxml/corpus), MedCom's and EHMI's samples and the
// native schema examples through the fuzz oracle (oioxml_fuzz_oracle.hpp) in every normal build.
#include <gtest/gtest.h>

#include <filesystem>

#include "adapters/common/tests/corpus_replay.hpp"
#include "adapters/oioxml/oioxml_fuzz_oracle.hpp"

namespace sektorbro::adapters {
namespace {

TEST(OioxmlCorpusReplay, EveryInputPassesTheOracle) {
  const std::filesystem::path root(SEKTORBRO_SOURCE_DIR);
  const std::size_t corpus = testing::replay_through_oracle(
      root / "adapters/oioxml/corpus", {root / "tests/data/medcom", root / "schemas/examples"},
      oioxml_oracle);
  EXPECT_GE(corpus, 1u);
}

}  // namespace
}  // namespace sektorbro::adapters
