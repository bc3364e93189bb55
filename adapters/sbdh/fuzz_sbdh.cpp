// libFuzzer entry point for the SBDH reader (not built by default; see adapters/README.md).
// The oracle (sbdh_fuzz_oracle.hpp) is the one ctest replays the saved corpus through.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/sbdh/sbdh_fuzz_oracle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (!sektorbro::adapters::sbdh_oracle(
          std::string_view(reinterpret_cast<const char*>(data), size)))
    std::abort();
  return 0;
}
