// Replays the SBDH fuzz corpus (adapters/sbdh/corpus), MedCom's and EHMI's samples and the
// native schema examples through the fuzz oracle (sbdh_fuzz_oracle.hpp) in every normal build.
#include <gtest/gtest.h>

#include <filesystem>

#include "adapters/common/tests/corpus_replay.hpp"
#include "adapters/sbdh/sbdh_fuzz_oracle.hpp"

namespace sektorbro::adapters {
namespace {

TEST(SbdhCorpusReplay, EveryInputPassesTheOracle) {
  const std::filesystem::path root(SEKTORBRO_SOURCE_DIR);
  const std::size_t corpus = testing::replay_through_oracle(
      root / "adapters/sbdh/corpus", {root / "tests/data/medcom", root / "schemas/examples"},
      sbdh_oracle);
  EXPECT_GE(corpus, 2u);
}

}  // namespace
}  // namespace sektorbro::adapters
