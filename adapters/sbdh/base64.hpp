// Base64 (RFC 4648 §4, standard alphabet, padded) for SBDH BinaryContent. Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sektorbro::adapters {

std::string base64_encode(std::string_view bytes);

// Strict decoding: XML whitespace anywhere is skipped (SBDH content is often wrapped); other
// characters outside the alphabet, a length that is not a multiple of 4, '=' anywhere but the
// last one or two positions, and non-zero bits in the padding are refused (nullopt).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace sektorbro::adapters
