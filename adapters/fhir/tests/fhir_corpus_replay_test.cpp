// Replays the FHIR fuzz corpus (adapters/fhir/corpus), our FHIR test messages and MedCom's
// samples through the fuzz oracle (fhir_fuzz_oracle.hpp) in every normal build.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "adapters/fhir/fhir_fuzz_oracle.hpp"

namespace sektorbro::adapters {
namespace {

namespace fs = std::filesystem;

TEST(FhirCorpusReplay, EveryInputPassesTheOracle) {
  const fs::path root(SEKTORBRO_SOURCE_DIR);
  std::size_t corpus = 0;
  for (const fs::path& dir : {root / "adapters/fhir/corpus", root / "tests/data/medcom"}) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      if (dir.filename() == "corpus") ++corpus;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes{std::istreambuf_iterator<char>(in), {}};
      EXPECT_TRUE(fhir_oracle(bytes)) << entry.path();
    }
  }
  EXPECT_GE(corpus, 3u);
}

}  // namespace
}  // namespace sektorbro::adapters
