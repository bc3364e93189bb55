#include "broker/store/audit_chain.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <iterator>
#include <memory>

#include "broker/core/identifiers.hpp"

namespace sektorbro {
namespace {

constexpr std::string_view kKeyedPrefix = "hmac:";

void append_netstring(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += ',';
}

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0x0f];
  }
  return out;
}

}  // namespace

std::string audit_entry_encoding(const AuditEntry& e) {
  std::string out;
  out.reserve(e.kind.size() + e.actor.size() + e.subject.size() + e.detail.size() +
              e.binding.size() + e.prev_hash.size() + 90);
  append_netstring(out, std::to_string(e.seq));
  append_netstring(out, std::to_string(to_millis(e.at)));
  append_netstring(out, e.kind);
  append_netstring(out, e.actor);
  append_netstring(out, e.subject);
  append_netstring(out, e.detail);
  append_netstring(out, e.prev_hash);
  if (!e.binding.empty()) append_netstring(out, e.binding);
  return out;
}

std::string audit_entry_hash(const AuditEntry& e) { return sha256_hex(audit_entry_encoding(e)); }

Result<AuditKey> read_audit_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::kConfig, "audit key file " + path + " cannot be read");
  AuditKey key{std::string(std::istreambuf_iterator<char>(in), {})};
  if (!key.bytes.empty() && key.bytes.back() == '\n') key.bytes.pop_back();
  if (key.bytes.size() < kMinAuditKeyBytes)
    return make_error(Errc::kConfig, "audit key file " + path + " holds fewer than " +
                                         std::to_string(kMinAuditKeyBytes) + " bytes");
  return key;
}

namespace {

struct MacFree {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

// HMAC-SHA256(key, data) into `out` (32 bytes); false when OpenSSL cannot. OpenSSL 3's one-shot
// HMAC() fetches the algorithms and builds a context for every call (9 us for one audit entry);
// here the HMAC is fetched once and each thread keeps a context keyed with the last key it
// used, set up again only for another key (1.7 us; docs/performance.md, "hashes").
bool hmac_sha256(std::string_view key, std::string_view data, unsigned char* out) {
  static const std::unique_ptr<EVP_MAC, MacFree> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  thread_local std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx;
  thread_local std::string ctx_key;
  if (mac == nullptr) return false;
  const auto* key_bytes = reinterpret_cast<const unsigned char*>(key.data());
  if (ctx == nullptr || ctx_key != key) {
    ctx.reset(EVP_MAC_CTX_new(mac.get()));
    ctx_key.clear();
    if (ctx == nullptr) return false;
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) != 1) {
      ctx.reset();
      return false;
    }
    ctx_key = key;
  } else if (EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) != 1) {  // the same key again
    ctx.reset();
    return false;
  }
  std::size_t n = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_MAC_update(ctx.get(), bytes, data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out, &n, 32) != 1 || n != 32) {
    ctx.reset();
    return false;
  }
  return true;
}

}  // namespace

std::string audit_entry_mac(const AuditEntry& e, const AuditKey& key) {
  const std::string encoding = audit_entry_encoding(e);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 32;
  if (!hmac_sha256(key.bytes, encoding, mac))  // the one-shot path allocates what it needs
    HMAC(EVP_sha256(), key.bytes.data(), static_cast<int>(key.bytes.size()),
         reinterpret_cast<const unsigned char*>(encoding.data()), encoding.size(), mac, &n);
  return std::string(kKeyedPrefix) + to_hex(mac, n);
}

std::string audit_entry_seal(const AuditEntry& e, const AuditKey* key) {
  return key ? audit_entry_mac(e, *key) : audit_entry_hash(e);
}

bool is_keyed_seal(std::string_view hash) { return hash.starts_with(kKeyedPrefix); }

std::string message_stored_binding(std::string_view body_sha256, std::string_view state,
                                   std::string_view receipt) {
  std::string out = "body=";
  out += body_sha256;
  out += ";state=";
  out += state;
  out += ";receipt=";
  out += receipt;
  return out;
}

std::optional<std::string> binding_value(std::string_view binding, std::string_view name) {
  while (!binding.empty()) {
    const auto end = binding.find(';');
    const std::string_view part = binding.substr(0, end);
    const auto eq = part.find('=');
    const std::string_view key = part.substr(0, eq);
    if (key == name)
      return eq == std::string_view::npos ? std::string() : std::string(part.substr(eq + 1));
    if (end == std::string_view::npos) break;
    binding.remove_prefix(end + 1);
  }
  return std::nullopt;
}

}  // namespace sektorbro
