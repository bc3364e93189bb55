#include "broker/console/citizen_key.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace sektorbro {

Result<CitizenKeyer> CitizenKeyer::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(Errc::kConfig, "privacy.cpr_index_key_file: cannot read " + path);
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (key.size() < kMinKeyBytes)
    return make_error(Errc::kConfig, "privacy.cpr_index_key_file: " + path + " holds fewer than " +
                                         std::to_string(kMinKeyBytes) +
                                         " bytes (make one with: head -c 32 /dev/urandom > FILE)");
  return CitizenKeyer(std::move(key));
}

std::optional<std::string> CitizenKeyer::key_of(std::string_view cpr) const {
  std::string digits;
  bool dash = false;  // at most one, after the sixth digit
  for (const char c : cpr) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c == '-' && digits.size() == 6 && !dash) {
      dash = true;
    } else {
      return std::nullopt;
    }
  }
  if (digits.size() != 10) return std::nullopt;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(digits.data()), digits.size(), mac,
           &len) == nullptr)
    return std::nullopt;
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 0xF]);
  }
  return out;
}

std::vector<std::string> CitizenKeyer::keys_of(const std::vector<std::string>& cprs) const {
  std::vector<std::string> out;
  for (const std::string& cpr : cprs) {
    auto key = key_of(cpr);
    if (key && std::find(out.begin(), out.end(), *key) == out.end()) out.push_back(*key);
  }
  return out;
}

}  // namespace sektorbro
