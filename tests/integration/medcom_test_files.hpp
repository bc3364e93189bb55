// What the MedCom flow tests share: reading test files and samples, rewriting their parties, and
// checking a document against one of MedCom's XSDs in schemas/medcom with xmllint.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sektorbro::testing {

// The whole file at `path`; empty if it cannot be read.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One of our MedCom test files or samples, by its path under tests/data/medcom.
inline std::string read_medcom_sample(const std::string& name) {
  return read_file(std::string(SEKTORBRO_SOURCE_DIR) + "/tests/data/medcom/" + name);
}

// Every occurrence of `from` in `s` replaced by `to` (left to right, never re-reading a
// replacement).
inline void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos;
       pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

// xmllint's exit status for `document` against schemas/medcom/`schema` (e.g.
// "2005-08-07/EMessage.xsd"): 0 when valid; -1 when xmllint did not exit normally.
inline int xmllint_against(const std::string& schema, const std::string& document) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("sektorbro-xmllint-" + std::to_string(::getpid()) + ".xml");
  std::ofstream(file, std::ios::binary) << document;
  const std::string cmd = "xmllint --noout --schema '" + std::string(SEKTORBRO_SOURCE_DIR) +
                          "/schemas/medcom/" + schema + "' '" + file.string() + "' >/dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  std::filesystem::remove(file);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace sektorbro::testing
