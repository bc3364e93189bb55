// CtlRun: the real sektorbro-ctl binary as a child process, for the ctl integration tests. It
// runs with a controlled environment (HOME in the test's directory, so no operator's own
// configuration leaks in) and its stdout, stderr and exit status are kept.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sektorbro::testing {

struct CtlResult {
  int status = -1;  // exit status; -1 if it did not exit normally
  std::string out, err;
};

// Runs `sektorbro-ctl args…` with `env` as its whole environment (PATH is added); `work_dir`
// holds its output files.
CtlResult run_ctl(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                  const std::string& work_dir);

// Splits a printed command line at spaces ("sektorbro-ctl messages --after 3" → its words).
std::vector<std::string> words(const std::string& line);

// Every line of `text` that starts with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix);

}  // namespace sektorbro::testing
