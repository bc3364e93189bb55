// Replays the SBDH fuzz corpus (adapters/sbdh/corpus), MedCom's and EHMI's samples and the
// native schema examples through the fuzz oracle (sbdh_fuzz_oracle.hpp) in every normal build.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "adapters/sbdh/sbdh_fuzz_oracle.hpp"

namespace sektorbro::adapters {
namespace {

namespace fs = std::filesystem;

TEST(SbdhCorpusReplay, EveryInputPassesTheOracle) {
  const fs::path root(SEKTORBRO_SOURCE_DIR);
  std::size_t corpus = 0;
  for (const fs::path& dir :
       {root / "adapters/sbdh/corpus", root / "tests/data/medcom", root / "schemas/examples"}) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      if (dir.filename() == "corpus") ++corpus;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes{std::istreambuf_iterator<char>(in), {}};
      EXPECT_TRUE(sbdh_oracle(bytes)) << entry.path();
    }
  }
  EXPECT_GE(corpus, 2u);
}

}  // namespace
}  // namespace sektorbro::adapters
