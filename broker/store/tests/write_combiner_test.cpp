// WriteCombiner (write_combiner.hpp): which writes join the held run, and what the run is.
#include "broker/store/write_combiner.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sektorbro {
namespace {

TEST(WriteCombiner, ConsecutiveWritesMakeOneRunAtTheFirstOffset) {
  WriteCombiner c(64);
  EXPECT_TRUE(c.empty());
  EXPECT_TRUE(c.accepts(1000, 10)) << "an empty run takes a write anywhere";
  c.append("header", 6, 1000);
  EXPECT_TRUE(c.accepts(1006, 4));
  c.append("page", 4, 1006);
  EXPECT_FALSE(c.empty());
  EXPECT_EQ(c.offset(), 1000);
  EXPECT_EQ(c.bytes(), "headerpage");
}

TEST(WriteCombiner, AWriteElsewhereOrBeyondTheCapacityDoesNotJoin) {
  WriteCombiner c(16);
  c.append("0123456789", 10, 0);
  EXPECT_FALSE(c.accepts(0, 2)) << "rewriting the start is not a continuation";
  EXPECT_FALSE(c.accepts(11, 2)) << "a gap";
  EXPECT_FALSE(c.accepts(9, 2)) << "an overlap";
  EXPECT_TRUE(c.accepts(10, 6)) << "exactly fills the capacity";
  EXPECT_FALSE(c.accepts(10, 7)) << "one byte more than it holds";
  EXPECT_FALSE(WriteCombiner(16).accepts(0, 17)) << "larger than a run: written by itself";
}

TEST(WriteCombiner, ClearedItStartsAgainWherever) {
  WriteCombiner c(16);
  c.append("abc", 3, 40);
  c.clear();
  EXPECT_TRUE(c.empty());
  EXPECT_TRUE(c.accepts(0, 16));
  c.append("xyz", 3, 0);
  EXPECT_EQ(c.offset(), 0);
  EXPECT_EQ(c.bytes(), "xyz");
}

}  // namespace
}  // namespace sektorbro
