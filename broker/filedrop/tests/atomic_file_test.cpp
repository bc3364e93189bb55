#include "broker/filedrop/atomic_file.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "broker/filedrop/tests/temp_dir.hpp"

namespace sektorbro {
namespace {

using testing::list_names;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

TEST(AtomicFile, WritesTheBytesAndLeavesNoTemporaryFile) {
  TempDir dir;
  const std::string body = "<Emessage>\n" + std::string(100'000, 'x') + "</Emessage>";
  ASSERT_TRUE(write_file_atomically(dir.path(), "a.xml", body, Replace::kNo).ok());
  EXPECT_EQ(read_text(dir / "a.xml"), body);
  EXPECT_EQ(list_names(dir.path()), std::set<std::string>{"a.xml"});
}

TEST(AtomicFile, ReplacesOnlyWhenAllowed) {
  TempDir dir;
  ASSERT_TRUE(write_file_atomically(dir.path(), "a.xml", "first", Replace::kNo).ok());
  const Result<void> again = write_file_atomically(dir.path(), "a.xml", "second", Replace::kNo);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::kConflict);
  EXPECT_EQ(read_text(dir / "a.xml"), "first");
  EXPECT_EQ(list_names(dir.path()), std::set<std::string>{"a.xml"});

  ASSERT_TRUE(write_file_atomically(dir.path(), "a.xml", "third", Replace::kYes).ok());
  EXPECT_EQ(read_text(dir / "a.xml"), "third");
}

TEST(AtomicFile, FailsUnderARegularFileWithTheErrnoTextAndNoContent) {
  TempDir dir;
  write_text(dir / "plain", "not a folder");
  const Result<void> r =
      write_file_atomically(dir / "plain/sub", "a.xml", "SECRET-CONTENT", Replace::kNo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kStorage);
  EXPECT_NE(r.error().detail.find("Not a directory"), std::string::npos) << r.error().detail;
  EXPECT_EQ(r.error().detail.find("SECRET"), std::string::npos);
}

TEST(AtomicFile, FailsForAMissingFolder) {
  TempDir dir;
  const Result<void> r = write_file_atomically(dir / "missing", "a.xml", "x", Replace::kNo);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("No such file"), std::string::npos) << r.error().detail;
}

TEST(AtomicFile, RejectsNamesThatAreNotPlain) {
  TempDir dir;
  EXPECT_FALSE(write_file_atomically(dir.path(), "../a.xml", "x", Replace::kNo).ok());
  EXPECT_FALSE(write_file_atomically(dir.path(), "", "x", Replace::kNo).ok());
  EXPECT_FALSE(write_file_atomically(dir.path(), "..", "x", Replace::kNo).ok());
  EXPECT_TRUE(list_names(dir.path()).empty());
}

TEST(AtomicFile, MovesWithoutReplacing) {
  TempDir dir;
  std::filesystem::create_directory(dir / "done");
  write_text(dir / "a.xml", "one");
  ASSERT_TRUE(move_file_no_replace(dir.path(), "a.xml", dir / "done", "a.xml").ok());
  EXPECT_EQ(read_text(dir / "done/a.xml"), "one");
  EXPECT_FALSE(std::filesystem::exists(dir / "a.xml"));

  write_text(dir / "a.xml", "two");
  const Result<void> clash = move_file_no_replace(dir.path(), "a.xml", dir / "done", "a.xml");
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code, Errc::kConflict);
  EXPECT_EQ(read_text(dir / "done/a.xml"), "one");
  EXPECT_EQ(read_text(dir / "a.xml"), "two");
}

TEST(AtomicFile, UniqueStemsCarryTheTimeSortByItAndDiffer) {
  const TimePoint t = *parse_timestamp("2026-11-20T09:30:00.123Z");
  const std::string a = unique_file_stem(t);
  const std::string b = unique_file_stem(t);
  const std::string later = unique_file_stem(t + std::chrono::milliseconds{1});
  EXPECT_TRUE(std::regex_match(a, std::regex(R"(20261120T093000123Z-[0-9a-f]{8}-\d{6,})"))) << a;
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_LT(b, later);
  EXPECT_EQ(a.find(':'), std::string::npos);
}

}  // namespace
}  // namespace sektorbro
