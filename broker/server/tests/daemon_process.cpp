#include "broker/server/tests/daemon_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

extern char** environ;

namespace sektorbro::testing {

ProcessResult run_process(const std::string& binary, const std::vector<std::string>& args,
                          const std::vector<std::string>& extra_env) {
  ProcessResult result;
  int out[2], err[2];
  if (pipe(out) != 0) return result;
  if (pipe(err) != 0) {
    close(out[0]);
    close(out[1]);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addclose(&actions, err[0]);
  std::vector<std::string> argv_text{binary};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) env_text.emplace_back(*e);
  env_text.insert(env_text.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> env;
  for (std::string& e : env_text) env.push_back(e.data());
  env.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    return result;
  }
  // Both pipes until both are closed (the process exited or closed them).
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* into[2] = {&result.out, &result.err};
  int open_pipes = 2;
  while (open_pipes > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      } else {
        into[i]->append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

nlohmann::json minimal_config(const std::string& store_path) {
  return {
      {"listen", {{"address", "127.0.0.1"}, {"port", 0}, {"allow_plain_http", true}}},
      {"store", {{"path", store_path}}},
      {"identity", {{"gln", "5790000000012"}, {"sor", "100001000016003"}, {"name", "Sektorbro"}}},
      {"endpoints",
       {{{"id", "jc"},
         {"kind", "jobcenter"},
         {"name", "Jobcenter"},
         {"gln", "5790000751013"},
         {"sor", "751101000016005"},
         {"url", "mailbox:"},
         {"accepts", {"Certificate", "DischargeNotice", "Reminder"}}},
        {{"id", "psy"},
         {"kind", "psychiatry"},
         {"name", "Psykiatrien"},
         {"gln", "5790000662012"},
         {"sor", "662101000016009"},
         {"url", "mailbox:"},
         {"accepts", {"CertificateRequest", "MentorResponse", "Reminder"}}}}},
  };
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace sektorbro::testing
