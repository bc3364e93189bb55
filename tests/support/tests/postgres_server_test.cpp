// The test PostgreSQL server (postgres_server.hpp): it starts on loopback on a port of its own,
// creates databases that accept connections, and when destroyed its process is gone and its
// folder removed.
#include "tests/support/postgres_server.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <filesystem>
#include <string>

namespace sektorbro::test {
namespace {

std::string query_one(const std::string& conninfo, const char* sql) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  std::string out = "<no connection: " + std::string(PQerrorMessage(c)) + ">";
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, sql);
    out = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
              ? PQgetvalue(r, 0, 0)
              : "<error: " + std::string(PQresultErrorMessage(r)) + ">";
    PQclear(r);
  }
  PQfinish(c);
  return out;
}

TEST(PostgresServer, StartsCreatesDatabasesAndStopsByPid) {
  pid_t pid = 0;
  std::string data_dir;
  {
    auto pg = PostgresServer::start();
    ASSERT_TRUE(pg) << pg.error().detail;
    pid = (*pg)->pid();
    ASSERT_GT(pid, 0);
    EXPECT_NE((*pg)->port(), 5432);  // never the system cluster's port
    auto a = (*pg)->create_database("alpha");
    ASSERT_TRUE(a) << a.error().detail;
    auto b = (*pg)->create_database("beta_2");
    ASSERT_TRUE(b) << b.error().detail;
    EXPECT_EQ(query_one(*a, "SELECT current_database()"), "alpha");
    EXPECT_EQ(query_one(*b, "SELECT current_database()"), "beta_2");
    EXPECT_EQ(query_one(*a, "SHOW server_encoding"), "UTF8");
    data_dir = query_one(*a, "SHOW data_directory");
    EXPECT_TRUE(std::filesystem::is_directory(data_dir)) << data_dir;
    // Loopback only.
    EXPECT_EQ(query_one(*a, "SHOW listen_addresses"), "127.0.0.1");

    auto bad = (*pg)->create_database("Robert'); DROP");
    ASSERT_FALSE(bad);
    auto twice = (*pg)->create_database("alpha");
    ASSERT_FALSE(twice);
    EXPECT_NE(twice.error().detail.find("already exists"), std::string::npos)
        << twice.error().detail;
    EXPECT_EQ((*pg)->run_tool("psql", "--version >/dev/null"), 0);
  }
  // Stopped and reaped by the destructor: no such process, no folder.
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_FALSE(std::filesystem::exists(data_dir));
}

// A test process that dies without stopping its server (here: _exit, as after SIGKILL) leaves
// no server running.
TEST(PostgresServer, TheServerStopsWhenTheTestProcessDies) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    auto pg = PostgresServer::start();
    std::string out = "0 -";
    if (pg) {
      auto db = (*pg)->create_database("orphan");
      out = std::to_string((*pg)->pid()) + " " +
            (db ? query_one(*db, "SHOW data_directory") : std::string("-"));
    }
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);  // no destructor runs
  }
  ::close(fds[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  const pid_t server = static_cast<pid_t>(std::stol(got));
  ASSERT_GT(server, 0) << got;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (::kill(server, 0) == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(::kill(server, 0), -1) << "the server outlived the test process";
  const std::string data_dir = got.substr(got.find(' ') + 1);
  std::error_code ec;
  if (data_dir.size() > 1)
    std::filesystem::remove_all(std::filesystem::path(data_dir).parent_path(), ec);
}

TEST(PostgresServer, TwoServersRunSideBySide) {
  auto one = PostgresServer::start();
  ASSERT_TRUE(one) << one.error().detail;
  auto two = PostgresServer::start();
  ASSERT_TRUE(two) << two.error().detail;
  EXPECT_NE((*one)->port(), (*two)->port());
  auto a = (*one)->create_database("same");
  auto b = (*two)->create_database("same");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(query_one(*a, "SELECT 1"), "1");
  EXPECT_EQ(query_one(*b, "SELECT 1"), "1");
}

}  // namespace
}  // namespace sektorbro::test
