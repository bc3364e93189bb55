// The daemon's command line, parsed without side effects (the decision is pure; main.cpp acts).
//
//   sektorbro --config FILE [--port-file FILE]   run the broker
//   sektorbro --check-config FILE                check a configuration as start-up does, then exit
//   sektorbro --version                          print the version and exit
//   sektorbro --help                             print the usage and exit
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.hpp"

namespace sektorbro {

struct CommandLine {
  enum class Mode { kRun, kCheckConfig, kVersion, kHelp };
  Mode mode = Mode::kRun;
  std::string config_path;  // kRun, kCheckConfig
  std::string port_file;    // kRun only; empty: none
};

// The arguments after the program name. An unknown option, a missing value or a missing
// --config is an error (Errc::kInvalid) whose text says which; --help and --version win over
// everything else given with them.
Result<CommandLine> parse_command_line(const std::vector<std::string>& args);

// The usage text --help prints (several lines, ending in a newline).
std::string_view usage_text();

}  // namespace sektorbro
