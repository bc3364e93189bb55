// The test PostgreSQL server (postgres_server.hpp): it starts on loopback on a port of its own,
// creates databases that accept connections, and when destroyed its process is gone and its
// folder removed.
#include "tests/support/postgres_server.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>

#include <cerrno>
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
