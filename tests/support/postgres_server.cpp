#include "tests/support/postgres_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

namespace sektorbro::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kInitdbBound = std::chrono::seconds(120);
constexpr auto kReadyBound = std::chrono::seconds(60);
constexpr auto kStopBound = std::chrono::seconds(30);
constexpr auto kPollEvery = std::chrono::milliseconds(20);
constexpr int kStartAttempts = 3;  // a free port can be taken between choosing and binding it

Error failure(std::string detail) { return make_error(Errc::kStorage, std::move(detail)); }

bool is_executable(const fs::path& p) { return ::access(p.c_str(), X_OK) == 0; }

bool has_server(const fs::path& dir) {
  return is_executable(dir / "initdb") && is_executable(dir / "postgres");
}

// "15" < "16", "9.6" < "10": compare the leading numbers.
double version_of(const std::string& name) { return std::atof(name.c_str()); }

Result<std::string> find_bindir() {
  if (const char* env = std::getenv("SEKTORBRO_PG_BINDIR"); env && *env) {
    if (has_server(env)) return std::string(env);
    return failure(std::string("SEKTORBRO_PG_BINDIR=") + env + " holds no initdb and postgres");
  }
  std::error_code ec;
  std::string best;
  double best_version = -1;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto bin = entry.path() / "bin";
    const double v = version_of(entry.path().filename().string());
    if (has_server(bin) && v > best_version) {
      best_version = v;
      best = bin.string();
    }
  }
  if (!best.empty()) return best;
  if (FILE* p = ::popen("pg_config --bindir 2>/dev/null", "r")) {
    std::array<char, 512> buf{};
    std::string out;
    while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
    ::pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    if (!out.empty() && has_server(out)) return out;
  }
  return failure("no PostgreSQL server binaries (initdb, postgres) found: install Debian's "
                 "'postgresql' package (deploy/install-deps.sh) or set SEKTORBRO_PG_BINDIR");
}

Result<int> free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failure("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return failure("cannot find a free port on 127.0.0.1");
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

std::string log_tail(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  const std::size_t from = lines.size() > 8 ? lines.size() - 8 : 0;
  for (std::size_t i = from; i < lines.size(); ++i) out += "\n  | " + lines[i];
  return out;
}

struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  bool active = false;
};

// Forks and execs `argv` (argv[0] an absolute path) with stdout and stderr appended to `log`,
// as `as` when active. Returns the child's PID.
Result<pid_t> spawn(const std::vector<std::string>& argv, const std::string& log,
                    const RunAs& as) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return failure("cannot open " + log);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return failure("fork failed");
  }
  if (pid == 0) {
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    // A process group of its own: a Ctrl-C in the test's terminal goes to the test only.
    ::setpgid(0, 0);
    if (as.active &&
        (::setgroups(0, nullptr) != 0 || ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0)) {
      static const char msg[] = "postgres_server: cannot switch to the postgres user\n";
      (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
      ::_exit(127);
    }
    // If the test process dies without stopping the server (a crash, SIGKILL, a closed pipe),
    // the server goes with it instead of running on. Set after the switch of user, which
    // clears it.
    ::prctl(PR_SET_PDEATHSIG, SIGINT);
    ::setenv("LC_ALL", "C", 1);
    ::unsetenv("PGDATA");
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  return pid;
}

// Waits for `pid` to exit within `bound`; its exit status, or -1 if it is still running.
int wait_exit(pid_t pid, Clock::duration bound) {
  const auto until = Clock::now() + bound;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return 255;  // not our child any more
    if (Clock::now() >= until) return -1;
    std::this_thread::sleep_for(kPollEvery);
  }
}

// Runs `argv` to its end (within kInitdbBound): ok if it exited 0.
Result<void> run_to_end(const std::vector<std::string>& argv, const std::string& log,
                        const RunAs& as, const std::string& what) {
  auto pid = spawn(argv, log, as);
  if (!pid) return pid.error();
  const int rc = wait_exit(*pid, kInitdbBound);
  if (rc == 0) return {};
  if (rc < 0) {
    ::kill(*pid, SIGKILL);
    (void)wait_exit(*pid, kStopBound);
  }
  return failure(what + " failed (status " + std::to_string(rc) + ")" + log_tail(log));
}

std::vector<std::string> initdb_argv(const std::string& bindir, const std::string& data) {
  return {bindir + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
          "--locale=C", "--no-sync"};
}

// A new cluster in `data`. initdb takes about 2 s and the tests start some 60 servers, so the
// first server made on this machine (per user and server binaries) runs initdb once into a
// template, "<parent>/sb-pg-template-<uid>-<bindir hash>", and every server copies it (cp -a,
// about 0.2 s). The template is made beside its place and renamed into it when whole, so a
// server never copies half of one; of two test processes racing, one rename wins and the other
// template is removed. Never started, it holds no port, socket or PID. SEKTORBRO_PG_NO_TEMPLATE
// set (or a template that cannot be made) means initdb for every server.
Result<void> make_cluster(const std::string& bindir, const std::string& parent,
                          const std::string& data, const std::string& log, const RunAs& as) {
  if (std::getenv("SEKTORBRO_PG_NO_TEMPLATE") == nullptr) {
    const std::string tmpl = parent + "/sb-pg-template-" +
                             std::to_string(as.active ? as.uid : ::geteuid()) + "-" +
                             std::to_string(std::hash<std::string>{}(bindir));
    std::error_code ec;
    if (!fs::exists(tmpl + "/PG_VERSION", ec)) {
      std::string pattern = tmpl + ".XXXXXX";
      if (::mkdtemp(pattern.data()) != nullptr) {
        if (!as.active || ::chown(pattern.c_str(), as.uid, as.gid) == 0)
          if (run_to_end(initdb_argv(bindir, pattern + "/data"), log, as, "initdb (template)"))
            fs::rename(pattern + "/data", tmpl, ec);  // fails if another process's won: fine
        fs::remove_all(pattern, ec);
      }
    }
    if (fs::exists(tmpl + "/PG_VERSION", ec) &&
        run_to_end({"/bin/cp", "-a", tmpl, data}, log, as, "copying the template cluster"))
      return {};
  }
  return run_to_end(initdb_argv(bindir, data), log, as, "initdb");
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::start(Options options) {
  std::unique_ptr<PostgresServer> s(new PostgresServer());
  auto bindir = find_bindir();
  if (!bindir) return bindir.error();
  s->bindir_ = *bindir;

  RunAs as;
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw)
      return failure("running as root, initdb and postgres need an unprivileged user: no user "
                     "'postgres' (Debian's postgresql package creates it)");
    as = RunAs{pw->pw_uid, pw->pw_gid, true};
    s->run_as_ = "postgres";
  }
  // /tmp rather than $TMPDIR: the postgres user must be able to reach the folder.
  std::string pattern = (as.active ? std::string("/tmp") : fs::temp_directory_path().string()) +
                        "/sb-pg-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return failure("mkdtemp failed");
  s->dir_ = pattern;
  if (as.active && ::chown(s->dir_.c_str(), as.uid, as.gid) != 0)
    return failure("cannot give " + s->dir_ + " to the postgres user");

  const std::string log = s->dir_ + "/server.log";
  const std::string data = s->dir_ + "/data";
  const std::string parent = fs::path(s->dir_).parent_path().string();
  if (auto made = make_cluster(s->bindir_, parent, data, log, as); !made) return made.error();
  Result<void> launched = failure("postgres did not start");
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    launched = s->launch(options.fsync);
    if (launched) return s;
  }
  return launched.error();
}

Result<void> PostgresServer::launch(bool fsync) {
  auto port = free_port();
  if (!port) return port.error();
  port_ = *port;
  const std::string log = dir_ + "/server.log";
  RunAs as;
  if (!run_as_.empty()) {
    const passwd* pw = ::getpwnam(run_as_.c_str());
    if (pw) as = RunAs{pw->pw_uid, pw->pw_gid, true};
  }
  std::vector<std::string> argv = {bindir_ + "/postgres", "-D", dir_ + "/data", "-k", dir_,
                                   "-h", "127.0.0.1", "-p", std::to_string(port_),
                                   "-c", "max_connections=200", "-c", "logging_collector=off"};
  if (!fsync)
    for (const char* setting : {"fsync=off", "synchronous_commit=off", "full_page_writes=off"}) {
      argv.push_back("-c");
      argv.push_back(setting);
    }
  auto pid = spawn(argv, log, as);
  if (!pid) return pid.error();
  pid_ = *pid;
  const std::string ping = conninfo("postgres") + " connect_timeout=2";
  const auto until = Clock::now() + kReadyBound;
  while (Clock::now() < until) {
    if (PQping(ping.c_str()) == PQPING_OK) return {};
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return failure("postgres exited while starting" + log_tail(log));
    }
    std::this_thread::sleep_for(kPollEvery);
  }
  stop();
  return failure("postgres did not accept connections within 60 s" + log_tail(log));
}

PostgresServer::~PostgresServer() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

void PostgresServer::stop() {
  if (pid_ <= 0) return;
  // SIGINT is PostgreSQL's fast shutdown: it ends open sessions (SIGTERM would wait for them).
  ::kill(pid_, SIGINT);
  if (wait_exit(pid_, kStopBound) < 0) {
    ::kill(pid_, SIGKILL);
    (void)wait_exit(pid_, kStopBound);
  }
  pid_ = -1;
}

std::string PostgresServer::conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + dbname;
}

Result<std::string> PostgresServer::create_database(const std::string& name) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      }))
    return failure("database name must be lower-case letters, digits and '_': " + name);
  PGconn* c = PQconnectdb(conninfo("postgres").c_str());
  Result<std::string> out = conninfo(name);
  if (PQstatus(c) != CONNECTION_OK) {
    out = failure(std::string("cannot connect to the test server: ") + PQerrorMessage(c));
  } else {
    PGresult* r = PQexec(c, ("CREATE DATABASE " + name).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      out = failure("CREATE DATABASE " + name + ": " + PQresultErrorMessage(r));
    PQclear(r);
  }
  PQfinish(c);
  return out;
}

int PostgresServer::run_tool(const std::string& tool, const std::string& args) const {
  const std::string cmd = "'" + bindir_ + "/" + tool + "' " + args;
  const int status = std::system(cmd.c_str());
  if (status < 0 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace sektorbro::test
