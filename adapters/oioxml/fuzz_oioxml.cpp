// libFuzzer entry point for the OIOXML reader (not built by default; see adapters/README.md).
// Whatever parses is written back and must parse to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/oioxml/oioxml_codec.hpp"
#include "adapters/oioxml/oioxml_receipts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sektorbro::adapters;
  auto doc = parse_oioxml(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!doc) return 0;
  for (auto enc : {sektorbro::TextEncoding::kIso88591, sektorbro::TextEncoding::kUtf8}) {
    auto back = parse_oioxml(write_oioxml(doc->message, {enc, false}));
    if (!back || !(back->message == doc->message)) std::abort();
  }
  (void)receipts_to_native(doc->message);
  (void)write_positive_receipt(doc->message, {"E1", "L1", {}, {}});
  return 0;
}
