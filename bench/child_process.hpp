// ChildProcess: a program the benchmark starts and must stop again (RabbitMQ's node and its
// epmd), never left running: it is stopped by its own pid when the object goes, when the
// benchmark exits, when the benchmark gets SIGINT/SIGTERM, and (through PR_SET_PDEATHSIG) when
// the benchmark is killed outright.
//
// Contract: start() forks and execs `argv` in `dir` with `env` added to the benchmark's
// environment; the child leads its own process group and its stdout/stderr go to `log_file`.
// stop() sends SIGTERM to the child's pid, waits up to `grace` for it to exit, then sends
// SIGKILL to its process group (whatever it started and left behind) and reaps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sektorbro::bench {

class ChildProcess {
 public:
  // nullptr and `error` set if fork/exec failed (an exec failure is seen as exit status 127).
  static std::unique_ptr<ChildProcess> start(
      const std::vector<std::string>& argv,
      const std::vector<std::pair<std::string, std::string>>& env, const std::string& dir,
      const std::string& log_file, std::string& error);
  ~ChildProcess();  // stop(5 s)
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // True while the child has not exited (reaps it if it has).
  bool running();
  // Returns the exit status (or 128 + signal); idempotent.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds{20});

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  int status_ = -1;
};

// Installs handlers so SIGINT/SIGTERM (and std::exit) stop every running ChildProcess first.
void install_child_cleanup();
// Adds / removes another child of ours (e.g. a BrokerProcess) to what those handlers stop.
void watch_pid(pid_t pid);
void unwatch_pid(pid_t pid);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released).
unsigned short free_loopback_port();

}  // namespace sektorbro::bench
