// PostgresServer: a real, private PostgreSQL server for tests (issue 11). It runs `initdb` into a
// fresh temporary folder, starts `postgres` on 127.0.0.1 on a free port (its unix socket in the
// same folder), and stops it by PID when destroyed (SIGINT, PostgreSQL's "fast shutdown", then
// SIGKILL after a bound), removing the folder. It never touches a system cluster (Debian's
// package may run one on port 5432).
//
//   auto pg = PostgresServer::start();          // Result<std::unique_ptr<PostgresServer>>
//   ASSERT_TRUE(pg) << pg.error().detail;
//   auto conninfo = (*pg)->create_database("case1");  // Result<std::string>
//   auto store = PostgresStore::open(*conninfo);
//
// Binaries: $SEKTORBRO_PG_BINDIR, else the newest /usr/lib/postgresql/<version>/bin, else
// `pg_config --bindir`. As root (CI), initdb and postgres refuse to run, so they run as the
// unprivileged user `postgres` (the Debian package creates it), which then owns the folder.
// The superuser of the new cluster is "postgres"; authentication is `trust`, on loopback only.
//
// Thread rules: start() from a thread that lives as long as the server (the main thread, or the
// test's): the server is told to stop when that thread ends, so that a test process that dies
// without its destructor (a crash, SIGKILL) leaves no server behind. create_database() from one
// thread at a time; the conninfo strings it returns may be used from anywhere (brokers in other
// processes included).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "broker/core/result.hpp"

namespace sektorbro::test {

class PostgresServer {
 public:
  struct Options {
    // fsync off makes CREATE DATABASE and commits fast; what a test measures for durability or
    // throughput should set it true (the broker's production setting).
    bool fsync = false;
  };

  // Initialises and starts a server and waits until it accepts connections (bounded: 60 s).
  // kStorage with the reason (and the tail of the server's log) if it cannot.
  static Result<std::unique_ptr<PostgresServer>> start(Options options);
  static Result<std::unique_ptr<PostgresServer>> start() { return start(Options{}); }
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Creates database `name` (letters, digits, '_'; UTF-8, C locale) and returns a libpq
  // conninfo for it over TCP: "host=127.0.0.1 port=N user=postgres dbname=name".
  Result<std::string> create_database(const std::string& name);
  // The conninfo of a database of this server (whether or not it exists).
  std::string conninfo(const std::string& dbname) const;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The folder holding the PostgreSQL binaries used (pg_dump, pg_restore, psql are there too).
  const std::string& bindir() const { return bindir_; }
  // Runs a PostgreSQL client tool of bindir() (e.g. "pg_dump") with `args` (already quoted for
  // /bin/sh) and returns its exit status; output goes to the test's stdout/stderr.
  int run_tool(const std::string& tool, const std::string& args) const;

 private:
  PostgresServer() = default;
  Result<void> launch(bool fsync);
  void stop();

  std::string dir_;      // the temporary folder: data/, the socket, server.log
  std::string bindir_;
  std::string run_as_;   // "" or the user the server runs as (when we are root)
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sektorbro::test
