// The store tests' PostgreSQL: one private server per test binary (tests/support/
// postgres_server.hpp), started on first use and stopped when the binary exits, and a fresh
// database for each caller, so cases never see each other's rows.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/support/postgres_server.hpp"

namespace sektorbro::store_test {

inline test::PostgresServer* postgres_server() {
  static auto server = test::PostgresServer::start();
  if (!server) {
    ADD_FAILURE() << "cannot start the test PostgreSQL: " << server.error().detail;
    return nullptr;
  }
  return server->get();
}

// A conninfo for a new, empty database named after `prefix` and a counter; "" (with a test
// failure) if the server cannot be started.
inline std::string fresh_postgres_database(const std::string& prefix = "case") {
  static int counter = 0;
  test::PostgresServer* server = postgres_server();
  if (!server) return {};
  auto db = server->create_database(prefix + "_" + std::to_string(++counter));
  if (!db) {
    ADD_FAILURE() << db.error().detail;
    return {};
  }
  return *db;
}

}  // namespace sektorbro::store_test
