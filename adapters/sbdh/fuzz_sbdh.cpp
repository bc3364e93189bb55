// libFuzzer entry point for the SBDH reader (not built by default; see adapters/README.md).
// Whatever parses is written back and must parse to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/sbdh/sbdh_document.hpp"
#include "adapters/sbdh/sbdh_native.hpp"
#include "adapters/sbdh/sbdh_receipts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sektorbro::adapters;
  auto doc = parse_sbdh(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!doc) return 0;
  auto back = parse_sbdh(write_sbdh(*doc));
  if (!back || !(*back == *doc)) std::abort();
  (void)read_signal(*doc);
  (void)unwrap_native_envelope(*doc);
  (void)make_receipt_acknowledgement(*doc, {"ack-1", {}});
  return 0;
}
