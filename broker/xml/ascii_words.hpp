// Word-at-a-time tests over plain ASCII, the bulk of every letter: the XML layer's byte loops
// (append_escaped, the UTF-8 check in text_encoding.cpp) step eight bytes at a time while these
// say all eight are plain, and fall back to their byte-by-byte rules otherwise. The byte loops
// were most of the codec's encode time and a tenth of its decode time (docs/performance.md).
// Results never depend on the word order (only "is any byte / are all bytes" is asked).
#pragma once

#include <cstdint>
#include <cstring>

namespace sektorbro::ascii_words {

inline constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr std::uint64_t kHigh = 0x8080808080808080ULL;

// The eight bytes at p (which must have eight readable bytes).
inline std::uint64_t load(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Whether any byte of w is zero. Exact: a borrow can only mark bytes above a real zero byte.
constexpr bool has_zero_byte(std::uint64_t w) { return ((w - kOnes) & ~w & kHigh) != 0; }

// Whether any byte of w equals b.
constexpr bool has_byte(std::uint64_t w, unsigned char b) { return has_zero_byte(w ^ (kOnes * b)); }

// Whether every byte of w is in 0x20..0x7F: no high bit, and adding 0x60 (which cannot carry
// out of a byte below 0x80) sets bit 7 exactly for the bytes from 0x20 up.
constexpr bool all_in_20_to_7f(std::uint64_t w) {
  return (w & kHigh) == 0 && ((w + kOnes * 0x60) & kHigh) == kHigh;
}

}  // namespace sektorbro::ascii_words
