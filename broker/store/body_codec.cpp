#include "broker/store/body_codec.hpp"

#include <zstd.h>

#include <memory>

namespace sektorbro {
namespace {

// Level 1: the writer thread compresses every body it stores; higher levels cost several times
// the CPU for a few percent fewer bytes on XML (measured with sektorbro-store-bench).
constexpr int kLevel = 1;

struct CctxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One context per thread, reused: creating one per body would cost more than compressing it.
ZSTD_CCtx* compressor() {
  thread_local std::unique_ptr<ZSTD_CCtx, CctxFree> c(ZSTD_createCCtx());
  return c.get();
}
ZSTD_DCtx* decompressor() {
  thread_local std::unique_ptr<ZSTD_DCtx, DctxFree> d(ZSTD_createDCtx());
  return d.get();
}

Error corrupt(std::string why) { return make_error(Errc::kStorage, "stored body: " + why); }

}  // namespace

PackedBody pack_body(std::string_view body) {
  ZSTD_CCtx* c = compressor();
  if (c == nullptr || body.size() < 64) return {std::string(body), BodyCodec::kIdentity};
  std::string out(ZSTD_compressBound(body.size()), '\0');
  const std::size_t n =
      ZSTD_compressCCtx(c, out.data(), out.size(), body.data(), body.size(), kLevel);
  if (ZSTD_isError(n) || n > body.size() - body.size() / 8)
    return {std::string(body), BodyCodec::kIdentity};
  out.resize(n);
  return {std::move(out), BodyCodec::kZstd};
}

Result<std::string> unpack_body(std::string_view bytes, int codec, std::size_t limit) {
  if (codec == static_cast<int>(BodyCodec::kIdentity)) return std::string(bytes);
  if (codec != static_cast<int>(BodyCodec::kZstd))
    return corrupt("unknown codec " + std::to_string(codec));
  // pack_body() writes single frames with their content size: anything else was not ours.
  const unsigned long long size = ZSTD_getFrameContentSize(bytes.data(), bytes.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
    return corrupt("not a zstd frame with its size");
  if (size > limit) return corrupt("larger than any body the broker takes");
  ZSTD_DCtx* d = decompressor();
  if (d == nullptr) return corrupt("no decompressor");
  std::string out(static_cast<std::size_t>(size), '\0');
  const std::size_t n = ZSTD_decompressDCtx(d, out.data(), out.size(), bytes.data(), bytes.size());
  if (ZSTD_isError(n) || n != out.size()) return corrupt("damaged zstd frame");
  return out;
}

}  // namespace sektorbro
