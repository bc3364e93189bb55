#include "adapters/sbdh/base64.hpp"

#include <array>
#include <cstdint>

#include "broker/xml/text_encoding.hpp"

namespace sektorbro::adapters {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i)
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kTable = make_table();

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t(static_cast<unsigned char>(bytes[i])) << 16) |
                            (std::uint32_t(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                            std::uint32_t(static_cast<unsigned char>(bytes[i + 2]));
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) v |= std::uint32_t(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int count = 0;    // sextets in the current quantum
  int padding = 0;  // '=' seen
  for (char c : text) {
    if (is_xml_space(c)) continue;
    if (c == '=') {
      if (count < 2) return std::nullopt;
      ++padding;
      ++count;
      acc <<= 6;
    } else {
      const int v = kTable[static_cast<unsigned char>(c)];
      if (v < 0 || padding > 0) return std::nullopt;
      acc = (acc << 6) | std::uint32_t(v);
      ++count;
    }
    if (count == 4) {
      if (padding == 2 && (acc & 0xFFFF) != 0) return std::nullopt;
      if (padding == 1 && (acc & 0xFF) != 0) return std::nullopt;
      out.push_back(static_cast<char>((acc >> 16) & 0xFF));
      if (padding < 2) out.push_back(static_cast<char>((acc >> 8) & 0xFF));
      if (padding < 1) out.push_back(static_cast<char>(acc & 0xFF));
      if (padding > 0) {
        count = -1;  // nothing may follow a padded quantum
        continue;
      }
      acc = 0;
      count = 0;
    }
  }
  if (count != 0 && count != -1) return std::nullopt;
  return out;
}

}  // namespace sektorbro::adapters
