// BrokerProcess: the real `sektorbro` binary as a child process, for integration tests. It
// writes the configuration into a working directory, starts the broker there, and waits — with
// a bound — for the line that says it listens. The broker's stderr (its log) is appended to
// <dir>/broker.log, so restarts keep one log.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

namespace sektorbro::testing {

class BrokerProcess {
 public:
  // `binary` is the sektorbro executable; `dir` must exist. Returns nullptr and fills `error`
  // if the broker did not report listening within `timeout`.
  static std::unique_ptr<BrokerProcess> start(
      const std::string& binary, const std::string& dir, const std::string& config_json,
      std::string& error, std::chrono::milliseconds timeout = std::chrono::seconds{30});
  ~BrokerProcess();  // SIGTERM, then waits

  std::string url(const std::string& path) const;  // "http(s)://127.0.0.1:<port><path>"
  unsigned short port() const { return port_; }
  pid_t pid() const { return pid_; }
  void kill9();             // SIGKILL and reap: a crash at an arbitrary moment
  int terminate();          // SIGTERM and reap; returns the exit status
  std::string log() const;  // everything the broker logged so far

  // The path of the sektorbro binary built with the tests.
  static std::string default_binary();

 private:
  BrokerProcess() = default;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  std::string scheme_ = "http";
  std::string dir_;
};

// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace sektorbro::testing
