// A fuzz oracle run over saved inputs in every normal build (house style: "a normal ctest case
// replays the saved corpus and the sample messages"), for the adapters' corpus replay tests.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>

namespace sektorbro::adapters::testing {

// Every regular file below `corpus` and below each of `samples` (recursively) is passed to
// `oracle` (bool(std::string_view)); each one it turns down is a test failure naming the file.
// A folder that does not exist throws (the test errs). Returns how many files `corpus` held,
// so a caller can insist that its corpus is there.
template <typename Oracle>
std::size_t replay_through_oracle(const std::filesystem::path& corpus,
                                  std::initializer_list<std::filesystem::path> samples,
                                  Oracle oracle) {
  const auto replay = [&](const std::filesystem::path& dir) {
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      ++files;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes{std::istreambuf_iterator<char>(in), {}};
      EXPECT_TRUE(oracle(bytes)) << entry.path();
    }
    return files;
  };
  const std::size_t in_corpus = replay(corpus);
  for (const auto& dir : samples) replay(dir);
  return in_corpus;
}

}  // namespace sektorbro::adapters::testing
