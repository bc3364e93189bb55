#include "broker/core/identifiers.hpp"

#include <openssl/evp.h>

#include <memory>

namespace sektorbro {
namespace {
bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}
}  // namespace

char gln_check_digit(std::string_view first12) {
  // GS1: weights 1,3,1,3... from the left for a 13-digit key (3 for the digit next to the check).
  int sum = 0;
  for (std::size_t i = 0; i < 12 && i < first12.size(); ++i)
    sum += (first12[i] - '0') * (i % 2 == 0 ? 1 : 3);
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool is_valid_gln(std::string_view gln) {
  return gln.size() == 13 && all_digits(gln) && gln_check_digit(gln.substr(0, 12)) == gln[12];
}

bool is_valid_cpr(std::string_view cpr) {
  if (cpr.size() != 10 || !all_digits(cpr)) return false;
  const int day = (cpr[0] - '0') * 10 + (cpr[1] - '0');
  const int month = (cpr[2] - '0') * 10 + (cpr[3] - '0');
  return day >= 1 && day <= 31 && month >= 1 && month <= 12;
}

std::string mask_cpr(std::string_view cpr) {
  if (cpr.size() < 6) return "******-****";
  return std::string(cpr.substr(0, 6)) + "-****";
}

bool is_valid_message_id(std::string_view id) {
  if (id.empty() || id.size() > 14) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

struct MdFree {
  void operator()(EVP_MD* m) const { EVP_MD_free(m); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// OpenSSL 3 looks the algorithm up on every EVP_sha256() digest (an implicit fetch, with its
// locks): fetched once per process and a context kept per thread, a hash of a 200-byte audit
// entry costs 0.4 us instead of 1.6 us (docs/performance.md, "hashes").
const EVP_MD* sha256_md() {
  static const std::unique_ptr<EVP_MD, MdFree> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return md.get();
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  thread_local const std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const EVP_MD* type = sha256_md();
  if (ctx == nullptr || type == nullptr || EVP_DigestInit_ex(ctx.get(), type, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), md, &len) != 1) {
    // Out of memory in OpenSSL: the one-shot path allocates what it needs itself.
    EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xF]);
  }
  return out;
}

}  // namespace sektorbro
