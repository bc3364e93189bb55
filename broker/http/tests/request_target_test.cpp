#include "broker/http/request_target.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace sektorbro {
namespace {

TEST(RequestTarget, SplitsAndDecodesThePath) {
  EXPECT_EQ(split_path("/v1/messages/579/REQ1"),
            (std::vector<std::string>{"v1", "messages", "579", "REQ1"}));
  EXPECT_EQ(split_path("//v1///x/"), (std::vector<std::string>{"v1", "x"}));
  EXPECT_EQ(split_path("/a%2Fb/c%20d"), (std::vector<std::string>{"a/b", "c d"}));
  EXPECT_EQ(split_path("/bad%zz%4"), (std::vector<std::string>{"bad%zz%4"}));
  // "+" is a space only in a query (found by fuzz_http).
  EXPECT_EQ(split_path("/REQ%2B1/a+b"), (std::vector<std::string>{"REQ+1", "a+b"}));
  EXPECT_EQ(parse_query("q=a+b").at("q"), "a b");
  EXPECT_TRUE(split_path("").empty());
}

TEST(RequestTarget, ParsesTheQuery) {
  const auto q = parse_query(query_of("/v1/messages?state=pending&endpoint=psy%2D1&flag&a=1&a=2"));
  EXPECT_EQ(q.at("state"), "pending");
  EXPECT_EQ(q.at("endpoint"), "psy-1");
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_EQ(q.at("a"), "2");
  EXPECT_TRUE(parse_query(query_of("/v1/health")).empty());
  EXPECT_EQ(path_of("/v1/x?y=1"), "/v1/x");
}

// The saved corpus of broker/http/fuzz, replayed in every build: each target still splits.
TEST(RequestTarget, ReplaysTheSavedFuzzCorpus) {
  const std::filesystem::path corpus = SEKTORBRO_SOURCE_DIR "/broker/http/fuzz/corpus";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const auto first_line = bytes.substr(0, bytes.find('\n'));
    const auto sp1 = first_line.find(' ');
    const auto sp2 = first_line.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) continue;
    const std::string target = first_line.substr(sp1 + 1, sp2 - sp1 - 1);
    for (const auto& s : split_path(path_of(target))) EXPECT_FALSE(s.empty());
    (void)parse_query(query_of(target));
    ++files;
  }
  EXPECT_GE(files, 3);
}

}  // namespace
}  // namespace sektorbro
