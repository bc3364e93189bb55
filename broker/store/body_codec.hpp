#pragma once
// How a message body is kept at rest in the SQLite store (issue 8). Bodies are XML and compress
// three to five times; fewer bytes per message is the broker's largest single write saving
// (docs/performance.md). The store keeps, next to each body, which codec it was written with.

#include <string>
#include <string_view>

#include "broker/core/result.hpp"

namespace sektorbro {

// The codec column of message_bodies: 0 the body as given, 1 one zstd frame of it.
enum class BodyCodec : int { kIdentity = 0, kZstd = 1 };

struct PackedBody {
  std::string bytes;
  BodyCodec codec = BodyCodec::kIdentity;
  bool operator==(const PackedBody&) const = default;
};

// Compresses `body` with zstd (a fast level) when that saves at least an eighth of it; otherwise
// returns it as given. Never fails: a compressor error keeps the body as given.
PackedBody pack_body(std::string_view body);

// The body as given to pack_body(). kStorage when `bytes` are not a zstd frame whose content is
// at most `limit` bytes (a body the store holds is never larger than the broker's input limit),
// or the codec is unknown.
Result<std::string> unpack_body(std::string_view bytes, int codec,
                                std::size_t limit = std::size_t{64} << 20);

}  // namespace sektorbro
