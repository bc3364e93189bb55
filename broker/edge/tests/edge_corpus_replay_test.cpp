// Replays the edge's fuzz corpus (broker/edge/fuzz/corpus), MedCom's and EHMI's samples and the
// native schema examples through the fuzz oracle (broker/edge/fuzz/edge_fuzz_oracle.hpp) in every
// normal build, so a saved finding stays fixed.
#include <gtest/gtest.h>

#include "adapters/common/tests/corpus_replay.hpp"
#include "broker/edge/fuzz/edge_fuzz_oracle.hpp"

namespace sektorbro {
namespace {

TEST(EdgeCorpusReplay, EveryInputPassesTheOracle) {
  const std::filesystem::path root(SEKTORBRO_SOURCE_DIR);
  const std::size_t corpus = adapters::testing::replay_through_oracle(
      root / "broker/edge/fuzz/corpus", {root / "tests/data/medcom", root / "schemas/examples"},
      [](std::string_view bytes) { return edge_oracle(bytes); });
  EXPECT_GE(corpus, 19u);
}

}  // namespace
}  // namespace sektorbro
