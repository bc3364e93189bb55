// Test support for the store tests: a fresh temporary directory per test, removed afterwards,
// and a builder for NewMessage values.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "broker/core/identifiers.hpp"
#include "broker/store/store.hpp"

namespace sektorbro::store_test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sb_store_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline constexpr const char* kJobcenterGln = "5790000000005";
inline constexpr const char* kPsychiatryGln = "5790000000012";

inline TimePoint at_ms(std::int64_t ms) { return from_millis(1'790'000'000'000 + ms); }

// A message with one letter per id; the content hash is derived from `content` so tests can
// resend the same or different content.
inline NewMessage make_message(const std::string& envelope_id,
                               const std::vector<std::string>& letter_ids,
                               const std::string& content = "v1",
                               const std::string& sender_gln = kJobcenterGln,
                               TimePoint received_at = at_ms(0)) {
  NewMessage m;
  m.envelope_id = envelope_id;
  m.sender_gln = sender_gln;
  m.receiver_gln = kPsychiatryGln;
  m.sender_endpoint = "jc-" + sender_gln.substr(9);
  m.receiver_endpoint = "psyk";
  for (const auto& id : letter_ids)
    m.letters.push_back(
        NewLetter{id, LetterType::kCertificateRequest, sha256_hex(id + "/" + content)});
  m.body = "<Envelope id=\"" + envelope_id + "\">" + content + "</Envelope>";
  m.acceptance = std::string("accepted ") + envelope_id + std::string(1, '\0') + "\xff";
  m.receipt_requested = true;
  m.contains_cpr = true;
  m.received_at = received_at;
  return m;
}

}  // namespace sektorbro::store_test
