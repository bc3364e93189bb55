// The citizen index's key (issue 10): a CPR number is never stored for searching, only its
// HMAC-SHA256 under a secret key that lives outside the store (privacy.cpr_index_key_file). A
// copy of the store alone then cannot be searched for a person, and the index holds no CPR
// number. The acting operators' CPR search (audited) and per-citizen legal holds look messages
// up by this key (Store::messages_of_citizen).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.hpp"

namespace sektorbro {

class CitizenKeyer {
 public:
  // At least 32 bytes of key material (ideally random: head -c 32 /dev/urandom > key); the
  // bytes are used as they are, a trailing newline included.
  static constexpr std::size_t kMinKeyBytes = 32;
  // Reads the key file. kConfig when it cannot be read or is shorter than kMinKeyBytes; the
  // error names the file, never its content.
  static Result<CitizenKeyer> from_file(const std::string& path);
  explicit CitizenKeyer(std::string key) : key_(std::move(key)) {}

  // Lower-hex HMAC-SHA256 of the CPR number in its ten-digit form ("DDMMYY-SSSS" and
  // "DDMMYYSSSS" give the same key). nullopt when `cpr` is not CPR-shaped.
  std::optional<std::string> key_of(std::string_view cpr) const;

  // The distinct keys of these CPR numbers (e.g. the patients of an envelope's letters), in
  // their order; numbers that are not CPR-shaped are left out.
  std::vector<std::string> keys_of(const std::vector<std::string>& cprs) const;

 private:
  std::string key_;
};

}  // namespace sektorbro
