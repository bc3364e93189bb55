#include "broker/server/command_line.hpp"

namespace sektorbro {

namespace {

Error usage_error(std::string detail) { return make_error(Errc::kInvalid, std::move(detail)); }

}  // namespace

Result<CommandLine> parse_command_line(const std::vector<std::string>& args) {
  // --help and --version answer whatever else is on the line.
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") return CommandLine{CommandLine::Mode::kHelp, {}, {}};
  }
  for (const std::string& arg : args) {
    if (arg == "--version") return CommandLine{CommandLine::Mode::kVersion, {}, {}};
  }
  CommandLine line;
  bool check = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool takes_value = arg == "--config" || arg == "--port-file" || arg == "--check-config";
    if (!takes_value) return usage_error("unknown argument '" + arg + "'");
    if (i + 1 >= args.size()) return usage_error(arg + " needs a file");
    const std::string& value = args[++i];
    if (arg == "--port-file") {
      line.port_file = value;
      continue;
    }
    if (!line.config_path.empty() && line.config_path != value)
      return usage_error("two configuration files given ('" + line.config_path + "', '" + value +
                         "')");
    line.config_path = value;
    if (arg == "--check-config") check = true;
  }
  if (line.config_path.empty()) return usage_error("--config FILE is required");
  if (check) {
    if (!line.port_file.empty()) return usage_error("--port-file does not go with --check-config");
    line.mode = CommandLine::Mode::kCheckConfig;
  }
  return line;
}

std::string_view usage_text() {
  return "usage: sektorbro --config FILE [--port-file FILE]\n"
         "       sektorbro --check-config FILE\n"
         "       sektorbro --version | --help\n"
         "\n"
         "  --config FILE        run the broker with this configuration (JSON) until SIGTERM or\n"
         "                       SIGINT, which drain; under systemd (Type=notify) it reports\n"
         "                       READY=1 once it listens, WATCHDOG=1 and STOPPING=1\n"
         "  --port-file FILE     write the port it listens on into FILE (for scripts and tests)\n"
         "  --check-config FILE  check FILE as start-up does (every key, TLS certificate, key and\n"
         "                       CA loaded, console assets, inbox folders) without opening the\n"
         "                       store or the configured port; prints \"ok\" and exits 0, or\n"
         "                       prints the one-line error and exits 1\n"
         "  --version            print the version (and the git commit it was built from)\n";
}

}  // namespace sektorbro
