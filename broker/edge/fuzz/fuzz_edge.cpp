// libFuzzer entry point for the edge's readers of untrusted bytes (deploy/fuzz.sh; built with
// clang and -DSEKTORBRO_FUZZ=ON). The oracle (edge_fuzz_oracle.hpp) is the one ctest replays the
// saved corpus (broker/edge/fuzz/corpus) through.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "broker/edge/fuzz/edge_fuzz_oracle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (!sektorbro::edge_oracle(std::string_view(reinterpret_cast<const char*>(data), size)))
    std::abort();
  return 0;
}
