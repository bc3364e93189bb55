// expand_check_in_lists: which CHECKs it rewrites, that it copies everything else, and that the
// rewritten constraint accepts and refuses exactly the rows the original did, in SQLite itself.
#include "broker/store/sqlite_check_lists.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

TEST(ExpandCheckInLists, WritesAListOfThreeOrMoreAsComparisonsJoinedByOr) {
  EXPECT_EQ(expand_check_in_lists(
                "CREATE TABLE m (\n  state TEXT NOT NULL\n"
                "    CHECK (state IN ('pending', 'delivered', 'refused', 'dead-lettered')),\n"
                "  n INTEGER)"),
            "CREATE TABLE m (\n  state TEXT NOT NULL\n"
            "    CHECK (state = 'pending' OR state = 'delivered' OR state = 'refused' OR "
            "state = 'dead-lettered'),\n  n INTEGER)");
}

TEST(ExpandCheckInLists, ReadsAListThatRunsOverSeveralLines) {
  EXPECT_EQ(expand_check_in_lists("x TEXT CHECK (state IN ('open', 'answered-on-time',\n"
                                  "                        'declined')),"),
            "x TEXT CHECK (state = 'open' OR state = 'answered-on-time' OR state = 'declined'),");
}

TEST(ExpandCheckInLists, RewritesEveryListInOneTableAndIntegersToo) {
  EXPECT_EQ(expand_check_in_lists("a CHECK (a IN (0, 1, -2)), b CHECK (b IN ('x', 'y', 'z'))"),
            "a CHECK (a = 0 OR a = 1 OR a = -2), b CHECK (b = 'x' OR b = 'y' OR b = 'z')");
}

TEST(ExpandCheckInLists, LeavesEveryOtherShapeAsItIs) {
  for (const std::string sql : {
           "CREATE TABLE t (a INTEGER CHECK (a IN (0, 1)))",            // SQLite compares two
           "CREATE TABLE t (d TEXT CHECK (d GLOB '[0-9]'))",            // not a list
           "CREATE TABLE t (a TEXT CHECK (a IN (SELECT v FROM w)))",    // a subquery
           "CREATE TABLE t (a TEXT CHECK (a IN ('x', 'it''s', 'z')))",  // a quote inside
           "CREATE TABLE t (a TEXT CHECK (a IN ('x', 'y', 'z') AND a <> 'y'))",  // more after it
           "CREATE TABLE t (a TEXT CHECK (a IN ('x', 'y', b)))",                 // not a literal
           "CREATE TABLE t (a TEXT CHECK (a NOT IN ('x', 'y', 'z')))",           // NOT IN
           "CREATE TABLE t (a TEXT CHECK (a IN ('x', 'y', 'z'",                  // cut short
           "",
       })
    EXPECT_EQ(expand_check_in_lists(sql), sql);
}

// Runs `sql` on an in-memory database; SQLITE_OK or the error code.
int run(sqlite3* db, const std::string& sql) {
  return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
}

TEST(ExpandCheckInLists, TheRewrittenCheckTakesAndRefusesTheSameRowsWithoutATemporaryBTree) {
  const std::string original =
      "CREATE TABLE t (s TEXT CHECK (s IN ('open', 'answered-late', 'declined')), "
      "n INTEGER CHECK (n IN (0, 1, 7)))";
  const std::string expanded = expand_check_in_lists(original);
  ASSERT_NE(expanded, original);
  sqlite3* a = nullptr;
  sqlite3* b = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &a), SQLITE_OK);
  ASSERT_EQ(sqlite3_open(":memory:", &b), SQLITE_OK);
  ASSERT_EQ(run(a, original), SQLITE_OK);
  ASSERT_EQ(run(b, expanded), SQLITE_OK) << sqlite3_errmsg(b);
  const std::string insert = "INSERT INTO t (s, n) VALUES ('open', 0)";
  EXPECT_TRUE(store_test::opens_temporary_btree(a, insert));
  EXPECT_FALSE(store_test::opens_temporary_btree(b, insert));
  for (const std::string s : {"'open'", "'declined'", "'Open'", "'closed'", "''", "NULL", "1"})
    for (const std::string n : {"0", "7", "2", "NULL", "'1'", "'x'"}) {
      const std::string row = "INSERT INTO t (s, n) VALUES (" + s + ", " + n + ")";
      EXPECT_EQ(run(a, row), run(b, row)) << row;
    }
  EXPECT_EQ(run(a, "UPDATE t SET s = 'gone'"), SQLITE_CONSTRAINT);
  EXPECT_EQ(run(b, "UPDATE t SET s = 'gone'"), SQLITE_CONSTRAINT);
  sqlite3_close(a);
  sqlite3_close(b);
}

}  // namespace
}  // namespace sektorbro
