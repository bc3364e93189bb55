// Replays the OIOXML fuzz corpus (adapters/oioxml/corpus), MedCom's and EHMI's samples and the
// native schema examples through the fuzz oracle (oioxml_fuzz_oracle.hpp) in every normal build.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "adapters/oioxml/oioxml_fuzz_oracle.hpp"

namespace sektorbro::adapters {
namespace {

namespace fs = std::filesystem;

TEST(OioxmlCorpusReplay, EveryInputPassesTheOracle) {
  const fs::path root(SEKTORBRO_SOURCE_DIR);
  std::size_t corpus = 0;
  for (const fs::path& dir :
       {root / "adapters/oioxml/corpus", root / "tests/data/medcom", root / "schemas/examples"}) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      if (dir.filename() == "corpus") ++corpus;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes{std::istreambuf_iterator<char>(in), {}};
      EXPECT_TRUE(oioxml_oracle(bytes)) << entry.path();
    }
  }
  EXPECT_GE(corpus, 1u);
}

}  // namespace
}  // namespace sektorbro::adapters
