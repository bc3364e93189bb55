#include "tests/harness/broker_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace sektorbro::testing {

std::string BrokerProcess::default_binary() {
#ifdef SEKTORBRO_BROKER_BINARY
  return SEKTORBRO_BROKER_BINARY;
#else
  return "sektorbro";
#endif
}

std::unique_ptr<BrokerProcess> BrokerProcess::start(const std::string& binary,
                                                    const std::string& dir,
                                                    const std::string& config_json,
                                                    std::string& error,
                                                    std::chrono::milliseconds timeout) {
  const std::string config_path = dir + "/config.json";
  std::ofstream(config_path) << config_json;
  int out[2];
  if (pipe(out) != 0) {
    error = "pipe failed";
    return nullptr;
  }
  const std::string log_path = dir + "/broker.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  // Nothing else of ours: Asio opens its sockets without CLOEXEC, and a broker holding a test
  // receiver's listening socket keeps that port open after the receiver closed it.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  std::string arg_config = "--config";
  char* argv[] = {const_cast<char*>(binary.c_str()), arg_config.data(),
                  const_cast<char*>(config_path.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    error = "cannot start " + binary;
    return nullptr;
  }
  std::unique_ptr<BrokerProcess> process(new BrokerProcess());
  process->pid_ = pid;
  process->dir_ = dir;

  // Read stdout until the "listening on" line, bounded by `timeout`.
  std::string seen;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      error = "broker did not start listening in time; log:\n" + process->log();
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[256];
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) {
      error = "broker exited before listening; log:\n" + process->log();
      break;
    }
    seen.append(buf, static_cast<std::size_t>(n));
    const auto at = seen.find("listening on http");
    const auto eol = at == std::string::npos ? std::string::npos : seen.find('\n', at);
    if (eol != std::string::npos) {
      const std::string line = seen.substr(at, eol - at);
      process->scheme_ = line.find("https://") != std::string::npos ? "https" : "http";
      process->port_ = static_cast<unsigned short>(std::stoi(line.substr(line.rfind(':') + 1)));
      break;
    }
  }
  close(out[0]);
  if (process->port_ == 0) {
    process->kill9();
    return nullptr;
  }
  return process;
}

BrokerProcess::~BrokerProcess() {
  if (pid_ > 0) terminate();
}

std::string BrokerProcess::url(const std::string& path) const {
  return scheme_ + "://127.0.0.1:" + std::to_string(port_) + path;
}

void BrokerProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int BrokerProcess::terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

std::string BrokerProcess::log() const {
  std::ifstream in(dir_ + "/broker.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "sektorbro-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace sektorbro::testing
