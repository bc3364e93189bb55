// libFuzzer entry point for the FHIR Acknowledgement reader (not built by default; see
// adapters/README.md). Whatever parses is written back and must parse to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/fhir/fhir_acknowledgement.hpp"
#include "adapters/fhir/fhir_receipts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sektorbro::adapters;
  auto ack =
      parse_fhir_acknowledgement(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!ack) return 0;
  auto back = parse_fhir_acknowledgement(write_fhir_acknowledgement(*ack));
  if (!back || !(*back == *ack)) std::abort();
  (void)ack_to_native(*ack, {"E", {"L"}}, "R");
  return 0;
}
