// libFuzzer entry point for the XML layer (encodings, reader, MedCom formatted text); the
// oracle is xml_oracle.hpp. Not built by default: configure with -DSEKTORBRO_FUZZ=ON and clang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "broker/xml/fuzz/xml_oracle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (!sektorbro::xml_oracle(std::string_view(reinterpret_cast<const char*>(data), size)))
    std::abort();
  return 0;
}
