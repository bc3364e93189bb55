// Helpers shared by the codec tests: files, a scratch directory, and xmllint.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sektorbro::testing {

inline std::filesystem::path schemas_dir() {
  return std::filesystem::path(SEKTORBRO_SOURCE_DIR) / "schemas";
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A per-process scratch directory under the system temp dir, removed at exit.
class ScratchDir {
 public:
  ScratchDir()
      : path_(std::filesystem::temp_directory_path() /
              ("sektorbro-codec-test-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A fresh file holding `content` in the scratch directory.
inline std::filesystem::path scratch_file(const std::string& content) {
  static ScratchDir dir;
  static std::atomic<int> counter{0};
  const auto p = dir.path() / ("doc-" + std::to_string(counter++) + ".xml");
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

// Exit status of `xmllint --noout --schema xsd file` (0 = valid, 1 = not well-formed,
// 3 = invalid, 127 = xmllint missing). Output is discarded.
inline int xmllint(const std::filesystem::path& xsd, const std::filesystem::path& file) {
  const std::string cmd =
      "xmllint --noout --schema '" + xsd.string() + "' '" + file.string() + "' >/dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

inline bool xmllint_available() {
  const int rc = std::system("xmllint --version >/dev/null 2>&1");
  return WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

// Replaces the first occurrence of `from` (which must exist) in `s`.
inline std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  if (pos == std::string::npos) return "REPLACE-TARGET-NOT-FOUND:" + from;
  s.replace(pos, from.size(), to);
  return s;
}

// UTF-8 (only code points up to U+00FF) to ISO-8859-1.
inline std::string to_latin1(const std::string& utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      const auto c2 = static_cast<unsigned char>(utf8[++i]);
      out.push_back(static_cast<char>(((c & 0x03) << 6) | (c2 & 0x3F)));
    }
  }
  return out;
}

}  // namespace sektorbro::testing
