#include "broker/console/console_http.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sektorbro::console {
namespace {

namespace fs = std::filesystem;

class ConsoleHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sb-console-http-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    fs::create_directories(root_ + "/assets");
    std::ofstream(root_ + "/index.html") << "<!doctype html><title>x</title>";
    std::ofstream(root_ + "/assets/app-1.js") << "let a = 1;";
    auto loaded = StaticAssets::load(root_);
    ASSERT_TRUE(loaded) << loaded.error().detail;
    assets_ = std::move(*loaded);
  }
  void TearDown() override { fs::remove_all(root_); }
  HttpResponse ask(http::verb method, const std::string& target, const std::string& etag = "") {
    HttpRequest req{method, target, 11};
    if (!etag.empty()) req.set(http::field::if_none_match, etag);
    return answer_console(assets_, req);
  }
  std::string root_;
  StaticAssets assets_;
};

TEST_F(ConsoleHttp, ServesFilesWithTheirHeaders) {
  const auto page = ask(http::verb::get, "/console/");
  EXPECT_EQ(page.result(), http::status::ok);
  EXPECT_EQ(page.body(), "<!doctype html><title>x</title>");
  EXPECT_EQ(page[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(page[http::field::cache_control], "no-cache");
  EXPECT_NE(page["Content-Security-Policy"].find("default-src 'self'"), std::string::npos);
  const auto js = ask(http::verb::get, "/console/assets/app-1.js?v=2");
  EXPECT_EQ(js.result(), http::status::ok);
  EXPECT_EQ(js.body(), "let a = 1;");
  EXPECT_EQ(js[http::field::cache_control], "public, max-age=31536000, immutable");

  const auto again = ask(http::verb::get, "/console/assets/app-1.js",
                         std::string(js[http::field::etag]));
  EXPECT_EQ(again.result(), http::status::not_modified);
  EXPECT_TRUE(again.body().empty());

  const auto head = ask(http::verb::head, "/console/assets/app-1.js");
  EXPECT_EQ(head.result(), http::status::ok);
  EXPECT_TRUE(head.body().empty());
  EXPECT_EQ(head[http::field::content_length], "10");
}

TEST_F(ConsoleHttp, RedirectsRefusesAndDoesNotFind) {
  const auto bare = ask(http::verb::get, "/console");
  EXPECT_EQ(bare.result(), http::status::permanent_redirect);
  EXPECT_EQ(bare[http::field::location], "/console/");
  EXPECT_EQ(ask(http::verb::get, "/console/../../etc/passwd").result(), http::status::bad_request);
  EXPECT_EQ(ask(http::verb::get, "/console/%2e%2e/x").result(), http::status::bad_request);
  EXPECT_EQ(ask(http::verb::get, "/console/nope.js").result(), http::status::not_found);
  const auto post = ask(http::verb::post, "/console/");
  EXPECT_EQ(post.result(), http::status::method_not_allowed);
  EXPECT_EQ(post[http::field::allow], "GET, HEAD");
}

TEST(ConsoleTarget, OnlyUnderTheMountPoint) {
  EXPECT_TRUE(is_console_target("/console"));
  EXPECT_TRUE(is_console_target("/console/"));
  EXPECT_TRUE(is_console_target("/console/assets/x.js"));
  EXPECT_TRUE(is_console_target("/console?x=1"));
  EXPECT_FALSE(is_console_target("/consoles"));
  EXPECT_FALSE(is_console_target("/v1/console"));
  EXPECT_FALSE(is_console_target("/"));
}

}  // namespace
}  // namespace sektorbro::console
