// libFuzzer target for the native codec: untrusted bytes through decode_envelope. Whatever
// decodes must round-trip: decode(encode(e)) == e and encode is stable. A crash, a sanitizer
// report or a broken round trip (__builtin_trap) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/codec/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto first = sektorbro::decode_envelope(bytes);
  if (!first) return 0;
  const std::string encoded = sektorbro::encode_envelope(*first);
  auto second = sektorbro::decode_envelope(encoded);
  if (!second || !(*second == *first)) __builtin_trap();
  if (sektorbro::encode_envelope(*second) != encoded) __builtin_trap();
  return 0;
}
