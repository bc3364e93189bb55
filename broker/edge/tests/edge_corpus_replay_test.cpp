// Replays the edge's fuzz corpus (broker/edge/fuzz/corpus), MedCom's and EHMI's samples and the
// native schema examples through the fuzz oracle (broker/edge/fuzz/edge_fuzz_oracle.hpp) in every
// normal build, so a saved finding stays fixed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "broker/edge/fuzz/edge_fuzz_oracle.hpp"

namespace sektorbro {
namespace {

namespace fs = std::filesystem;

TEST(EdgeCorpusReplay, EveryInputPassesTheOracle) {
  const fs::path root(SEKTORBRO_SOURCE_DIR);
  std::size_t corpus = 0;
  for (const fs::path& dir :
       {root / "broker/edge/fuzz/corpus", root / "tests/data/medcom", root / "schemas/examples"}) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      if (dir.filename() == "corpus") ++corpus;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes{std::istreambuf_iterator<char>(in), {}};
      EXPECT_TRUE(edge_oracle(bytes)) << entry.path();
    }
  }
  EXPECT_GE(corpus, 8u);
}

}  // namespace
}  // namespace sektorbro
