#include "broker/console/static_assets.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sektorbro::console {
namespace {

namespace fs = std::filesystem;

// A real folder of built assets, and a secret file beside it that no path may reach.
class StaticAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sb-console-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    top_ = pattern;
    root_ = top_ + "/console";
    fs::create_directories(root_ + "/assets");
    fs::create_directories(root_ + "/.hidden");
    write(root_ + "/index.html", "<!doctype html><title>Sektorbro</title>");
    write(root_ + "/assets/index-Ab12Cd.js", "console.log(1)");
    write(root_ + "/assets/index-Ef34.css", "body{}");
    write(root_ + "/favicon.svg", "<svg/>");
    write(root_ + "/.hidden/key", "hidden");
    write(root_ + "/.env", "hidden");
    write(top_ + "/secret.txt", "SECRET");
    fs::create_symlink(top_ + "/secret.txt", root_ + "/link.txt");
    fs::create_directory_symlink(top_, root_ + "/up");
  }
  void TearDown() override { fs::remove_all(top_); }
  static void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  static std::string header(const AssetAnswer& a, const std::string& name) {
    for (const auto& [k, v] : a.headers)
      if (k == name) return v;
    return "";
  }
  std::string top_, root_;
};

TEST_F(StaticAssetsTest, AnswersFilesWithTypeAndCacheHeaders) {
  auto assets = StaticAssets::load(root_);
  ASSERT_TRUE(assets) << assets.error().detail;
  EXPECT_EQ(assets->size(), 4u);  // hidden files and links are not taken in

  auto page = assets->find("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->asset->body, "<!doctype html><title>Sektorbro</title>");
  EXPECT_EQ(header(*page, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(header(*page, "Cache-Control"), "no-cache");
  EXPECT_NE(header(*page, "Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  EXPECT_EQ(header(*page, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(assets->find("")->asset, page->asset);
  EXPECT_EQ(assets->find("index.html?x=1")->asset, page->asset);

  auto js = assets->find("/assets/index-Ab12Cd.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->asset->body, "console.log(1)");
  EXPECT_EQ(header(*js, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(header(*js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(header(*assets->find("assets/index-Ef34.css"), "Content-Type"),
            "text/css; charset=utf-8");
  EXPECT_EQ(header(*assets->find("favicon.svg"), "Content-Type"), "image/svg+xml");
  EXPECT_EQ(assets->find("assets%2Findex-Ab12Cd.js")->asset, js->asset);  // %2F is a slash
}

TEST_F(StaticAssetsTest, EtagGivesNotModified) {
  auto assets = StaticAssets::load(root_);
  ASSERT_TRUE(assets);
  const auto first = assets->find("/assets/index-Ab12Cd.js");
  ASSERT_TRUE(first);
  const std::string etag = header(*first, "ETag");
  ASSERT_EQ(etag.size(), 18u);
  EXPECT_FALSE(first->not_modified);
  auto again = assets->find("/assets/index-Ab12Cd.js", "\"0000000000000000\", W/" + etag);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->not_modified);
  EXPECT_EQ(header(*again, "Content-Type"), "");  // a 304 has no body to type
  EXPECT_FALSE(assets->find("/assets/index-Ab12Cd.js", "\"0000000000000000\"")->not_modified);
  EXPECT_NE(header(*assets->find("/"), "ETag"), etag);  // other content, other tag
}

TEST_F(StaticAssetsTest, RefusesEveryWayOut) {
  auto assets = StaticAssets::load(root_);
  ASSERT_TRUE(assets);
  for (const char* path :
       {"../secret.txt", "/../secret.txt", "assets/../../secret.txt", "%2e%2e/secret.txt",
        "%2E%2E%2Fsecret.txt", "assets/..%2f..%2fsecret.txt", "..\\secret.txt",
        "assets%5c..%5c..%5csecret.txt", "index.html%00.js", "a//b", "./index.html",
        ".env", ".hidden/key", "%", "%4", "%zz", "assets/%0aindex.html"}) {
    auto found = assets->find(path);
    ASSERT_FALSE(found) << path;
    EXPECT_EQ(found.error().code, Errc::kInvalid) << path;
  }
  // Links were never taken in, whatever they point at.
  for (const char* path : {"link.txt", "up/secret.txt", "up/console/index.html", "secret.txt"}) {
    auto found = assets->find(path);
    ASSERT_FALSE(found) << path;
    EXPECT_EQ(found.error().code, Errc::kNotFound) << path;
  }
}

TEST_F(StaticAssetsTest, LoadRefusesAFolderThatIsNotAConsole) {
  auto missing = StaticAssets::load(top_ + "/nowhere");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::kConfig);
  fs::remove(root_ + "/index.html");
  auto no_index = StaticAssets::load(root_);
  ASSERT_FALSE(no_index);
  EXPECT_NE(no_index.error().detail.find("build-console.sh"), std::string::npos);
}

TEST_F(StaticAssetsTest, LoadKeepsToItsLimits) {
  EXPECT_FALSE(StaticAssets::load(root_, AssetLimits{.max_files = 3}));
  EXPECT_FALSE(StaticAssets::load(root_, AssetLimits{.max_total_bytes = 20}));
  EXPECT_TRUE(StaticAssets::load(root_, AssetLimits{.max_files = 4}));
}

TEST(AssetPath, Names) {
  EXPECT_EQ(*asset_relative_path(""), "index.html");
  EXPECT_EQ(*asset_relative_path("/deadlines/"), "deadlines/index.html");
  EXPECT_EQ(*asset_relative_path("a/b.js#x"), "a/b.js");
  EXPECT_EQ(*asset_relative_path("a%20b.js"), "a b.js");
  EXPECT_EQ(content_type_for("x.unknown"), "application/octet-stream");
  EXPECT_EQ(cache_control_for("index.html"), "no-cache");
}

}  // namespace
}  // namespace sektorbro::console
