// Helpers for the daemon's tests through the real binary: run `sektorbro` with arguments and
// collect its exit status, stdout and stderr; a minimal valid configuration.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sektorbro::testing {

struct ProcessResult {
  int exit_code = -1;  // -1: did not exit normally
  std::string out;
  std::string err;
};

// Runs `binary args…` to completion (stdin /dev/null) with `extra_env` added ("NAME=value").
ProcessResult run_process(const std::string& binary, const std::vector<std::string>& args,
                          const std::vector<std::string>& extra_env = {});

// A configuration the broker starts with: plain HTTP on 127.0.0.1, port 0, the store in
// `store_path`, one jobcenter and one psychiatry endpoint that deliver to a mailbox.
nlohmann::json minimal_config(const std::string& store_path);

// Writes `text` to `path`.
void write_text(const std::string& path, const std::string& text);

}  // namespace sektorbro::testing
