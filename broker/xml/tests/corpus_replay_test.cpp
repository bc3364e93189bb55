// Replays the XML layer's saved fuzz corpus (broker/xml/fuzz/corpus) and the MedCom samples
// through the fuzz oracle (broker/xml/fuzz/xml_oracle.hpp) in every normal build.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "broker/xml/fuzz/xml_oracle.hpp"

namespace sektorbro {
namespace {

namespace fs = std::filesystem;

TEST(XmlCorpusReplay, EveryInputPassesTheOracle) {
  const fs::path root(SEKTORBRO_SOURCE_DIR);
  std::size_t corpus = 0;
  for (const fs::path& dir : {root / "broker/xml/fuzz/corpus", root / "tests/data/medcom"}) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      if (dir.filename() == "corpus") ++corpus;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes{std::istreambuf_iterator<char>(in), {}};
      EXPECT_TRUE(xml_oracle(bytes)) << entry.path();
    }
  }
  EXPECT_GE(corpus, 5u);
}

}  // namespace
}  // namespace sektorbro
