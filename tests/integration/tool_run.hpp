// ToolRun: one of the broker's command-line tools (sektorbro-audit, sektorbro-backup) run
// through its real binary by the integration tests, its stdout and stderr kept together, as an
// operator sees them in a terminal, and its exit status.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace sektorbro::testing {

struct ToolRun {
  int status = -1;     // exit status; -1 if it could not be started or did not exit normally
  std::string output;  // stdout and stderr, interleaved
};

// Runs `'binary' args` through the shell and waits for it. `args` is shell text: the caller
// quotes paths (the tests' paths are their own temporary folders).
inline ToolRun run_tool(const std::string& binary, const std::string& args) {
  ToolRun out;
  const std::string command = "'" + binary + "' " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  std::array<char, 512> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.output.append(buf.data(), n);
  const int raw = pclose(pipe);
  out.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

}  // namespace sektorbro::testing
