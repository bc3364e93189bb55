#include "broker/filedrop/file_transport.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "broker/filedrop/tests/temp_dir.hpp"
#include "broker/filedrop/tests/transport_outcomes.hpp"

namespace sektorbro {
namespace {

using testing::list_names;
using testing::read_text;
using testing::TempDir;
using testing::TransportOutcomes;
using testing::write_text;

const TimePoint kStart = *parse_timestamp("2026-11-20T09:30:00.123Z");

OutboundRequest to_folder(const std::string& folder, std::string body) {
  OutboundRequest r;
  r.url = "file://" + folder;
  r.body = std::move(body);
  return r;
}

std::set<std::string> visible_files(const std::string& folder) {
  std::set<std::string> names;
  for (const std::string& n : list_names(folder))
    if (n.front() != '.') names.insert(n);
  return names;
}

TEST(FileUrl, AcceptsAbsoluteFoldersOnly) {
  EXPECT_EQ(folder_of_file_url("file:///var/spool/out"), "/var/spool/out");
  EXPECT_EQ(folder_of_file_url("FILE:///var/spool/out/"), "/var/spool/out/");
  EXPECT_EQ(folder_of_file_url("file://localhost/var/out"), "/var/out");
  EXPECT_EQ(folder_of_file_url("file://otherhost/var/out"), std::nullopt);
  EXPECT_EQ(folder_of_file_url("file:relative/out"), std::nullopt);
  EXPECT_EQ(folder_of_file_url("file://"), std::nullopt);
  EXPECT_EQ(folder_of_file_url("file:///var/out/../etc"), std::nullopt);
  EXPECT_EQ(folder_of_file_url("https://example.org/x"), std::nullopt);
  EXPECT_TRUE(is_file_url("File:///x"));
  EXPECT_FALSE(is_file_url("https://example.org/file:///x"));
}

TEST(FileTransport, WritesTheBodyUnderATimestampedNameOnItsOwnThread) {
  TempDir dir;
  ManualClock clock(kStart);
  TransportOutcomes outcomes;
  {
    FileTransport transport(clock);
    transport.post(to_folder(dir.path(), "<Emessage>one</Emessage>"), outcomes.done());
    ASSERT_TRUE(outcomes.wait_count(1));
  }
  const auto result = outcomes.all().at(0);
  EXPECT_EQ(result.response.http_status, 200);
  EXPECT_EQ(result.response.error, "");
  EXPECT_NE(result.thread, std::this_thread::get_id());

  const auto names = list_names(dir.path());
  ASSERT_EQ(names.size(), 1U);
  const std::string name = *names.begin();
  EXPECT_TRUE(std::regex_match(name, std::regex(R"(20261120T093000123Z-[0-9a-f]{8}-\d{6,}\.xml)")))
      << name;
  EXPECT_EQ(read_text(dir / name), "<Emessage>one</Emessage>");
}

TEST(FileTransport, NamesAreUniqueWithinOneMillisecond) {
  TempDir dir;
  ManualClock clock(kStart);  // never moves: every name has the same timestamp
  TransportOutcomes outcomes;
  FileTransport transport(clock);
  constexpr int kCount = 200;
  for (int i = 0; i < kCount; ++i)
    transport.post(to_folder(dir.path(), "<n>" + std::to_string(i) + "</n>"), outcomes.done());
  ASSERT_TRUE(outcomes.wait_count(kCount));
  for (const auto& o : outcomes.all()) EXPECT_EQ(o.response.http_status, 200);

  const auto names = list_names(dir.path());
  ASSERT_EQ(names.size(), static_cast<std::size_t>(kCount));
  std::set<std::string> bodies;
  for (const auto& n : names) bodies.insert(read_text(dir / n));
  EXPECT_EQ(bodies.size(), static_cast<std::size_t>(kCount));
}

// A reader scanning the folder while files are written must only ever see complete files
// under visible names.
TEST(FileTransport, NoPartialFileIsEverVisible) {
  TempDir dir;
  SystemClock clock;
  TransportOutcomes outcomes;
  constexpr int kCount = 150;
  const std::string padding(256 * 1024, 'p');
  auto body_of = [&](int i) { return "<m i=\"" + std::to_string(i) + "\">" + padding + "</m>"; };
  const std::size_t body_size = body_of(0).size();  // indices below 10 make all sizes unequal
  std::atomic<bool> writing{true};
  std::atomic<int> files_read{0};
  std::atomic<int> bad_files{0};

  std::thread reader([&] {
    while (writing) {
      for (const std::string& n : visible_files(dir.path())) {
        const std::string content = read_text(dir / n);
        if (content.size() < body_size || content.substr(content.size() - 4) != "</m>") ++bad_files;
        ++files_read;
      }
    }
  });
  {
    FileTransport transport(clock);
    for (int i = 0; i < kCount; ++i)
      transport.post(to_folder(dir.path(), body_of(i)), outcomes.done());
    EXPECT_TRUE(outcomes.wait_count(kCount));
  }
  writing = false;
  reader.join();

  EXPECT_EQ(bad_files.load(), 0);
  EXPECT_GT(files_read.load(), 0);
  const auto names = list_names(dir.path());
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kCount));  // no ".tmp-" left behind
  for (const auto& n : names) EXPECT_NE(n.front(), '.') << n;
}

TEST(FileTransport, ReportsFailuresWithoutContent) {
  TempDir dir;
  write_text(dir / "plain", "a regular file");
  SystemClock clock;
  TransportOutcomes outcomes;
  FileTransport transport(clock);
  transport.post(to_folder(dir / "plain/out", "SECRET-CPR-0101801234"), outcomes.done());
  transport.post(to_folder(dir / "missing", "SECRET-CPR-0101801234"), outcomes.done());
  OutboundRequest not_local;
  not_local.url = "file://otherhost/x";
  transport.post(not_local, outcomes.done());
  ASSERT_TRUE(outcomes.wait_count(3));

  const auto all = outcomes.all();
  for (const auto& o : all) {
    EXPECT_EQ(o.response.http_status, 0);
    EXPECT_FALSE(o.response.error.empty());
    EXPECT_EQ(o.response.error.find("SECRET"), std::string::npos) << o.response.error;
  }
  EXPECT_NE(all[0].response.error.find("Not a directory"), std::string::npos)
      << all[0].response.error;
  EXPECT_NE(all[1].response.error.find("No such file"), std::string::npos) << all[1].response.error;
  EXPECT_EQ(list_names(dir.path()), std::set<std::string>{"plain"});
}

TEST(FileTransport, DestructorFinishesQueuedWrites) {
  TempDir dir;
  SystemClock clock;
  TransportOutcomes outcomes;
  constexpr int kCount = 50;
  {
    FileTransport transport(clock);
    for (int i = 0; i < kCount; ++i) transport.post(to_folder(dir.path(), "<x/>"), outcomes.done());
  }
  const auto all = outcomes.all();  // complete without waiting: the destructor drained
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kCount));
  for (const auto& o : all) EXPECT_EQ(o.response.http_status, 200);
  EXPECT_EQ(list_names(dir.path()).size(), static_cast<std::size_t>(kCount));
}

}  // namespace
}  // namespace sektorbro
