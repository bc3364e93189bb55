// libFuzzer entry point for the FHIR readers (Acknowledgement and MedCom messages), with the
// oracle in fhir_fuzz_oracle.hpp (not built by default; see adapters/README.md).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/fhir/fhir_fuzz_oracle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (!sektorbro::adapters::fhir_oracle(
          std::string_view(reinterpret_cast<const char*>(data), size)))
    std::abort();
  return 0;
}
