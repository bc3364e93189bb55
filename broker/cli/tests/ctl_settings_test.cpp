#include "broker/cli/ctl_settings.hpp"

#include <gtest/gtest.h>

#include <map>

namespace sektorbro::ctl {
namespace {

struct World {
  std::map<std::string, std::string> env, files;
  Environment environment() const {
    return [this](const std::string& n) -> std::optional<std::string> {
      auto it = env.find(n);
      return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
  }
  std::function<std::optional<std::string>(const std::string&)> reader() const {
    return [this](const std::string& p) -> std::optional<std::string> {
      auto it = files.find(p);
      return it == files.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
  }
  Result<Settings> resolve(const Flags& f = {}) const {
    return resolve_settings(f, environment(), reader());
  }
};

TEST(CtlSettings, DefaultsWithoutAnything) {
  World w;
  auto s = w.resolve();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->broker, "http://127.0.0.1:8440");
  EXPECT_TRUE(s->token.empty());
  EXPECT_TRUE(s->config_file.empty());
}

TEST(CtlSettings, FlagsBeatEnvironmentBeatsFile) {
  World w;
  w.env["HOME"] = "/home/anna";
  w.files["/home/anna/.config/sektorbro/ctl.conf"] =
      "# production\nbroker = https://sektorbro.example:8443/\ncacert = /etc/ca.pem\n"
      "token = from-file\ncert=/c.pem\nkey=/c.key\n";
  auto from_file = w.resolve();
  ASSERT_TRUE(from_file) << from_file.error().detail;
  EXPECT_EQ(from_file->broker, "https://sektorbro.example:8443");  // trailing '/' dropped
  EXPECT_EQ(from_file->cacert, "/etc/ca.pem");
  EXPECT_EQ(from_file->token, "from-file");
  EXPECT_EQ(from_file->cert, "/c.pem");
  EXPECT_EQ(from_file->config_file, "/home/anna/.config/sektorbro/ctl.conf");

  w.env["SEKTORBRO_TOKEN"] = "from-env";
  w.env["SEKTORBRO_CACERT"] = "/env/ca.pem";
  auto from_env = w.resolve();
  ASSERT_TRUE(from_env);
  EXPECT_EQ(from_env->token, "from-env");
  EXPECT_EQ(from_env->cacert, "/env/ca.pem");

  Flags f;
  f.token = "from-flag";
  f.broker = "https://other:1";
  auto from_flag = w.resolve(f);
  ASSERT_TRUE(from_flag);
  EXPECT_EQ(from_flag->token, "from-flag");
  EXPECT_EQ(from_flag->broker, "https://other:1");
  EXPECT_EQ(from_flag->cacert, "/env/ca.pem");
}

TEST(CtlSettings, XdgConfigHomeAndNamedFiles) {
  World w;
  w.env["XDG_CONFIG_HOME"] = "/x";
  w.env["HOME"] = "/home/anna";
  w.files["/x/sektorbro/ctl.conf"] = "token = xdg\n";
  EXPECT_EQ(w.resolve()->token, "xdg");
  w.env["SEKTORBRO_CONFIG"] = "/etc/sb.conf";
  auto missing = w.resolve();  // a file named on purpose must exist
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().detail.find("/etc/sb.conf"), std::string::npos);
  w.files["/etc/sb.conf"] = "token = named\n";
  EXPECT_EQ(w.resolve()->token, "named");
  Flags f;
  f.config = "/flag.conf";
  w.files["/flag.conf"] = "token = flagged\n";
  EXPECT_EQ(w.resolve(f)->token, "flagged");
}

TEST(CtlSettings, TokenFile) {
  World w;
  w.files["/run/token"] = "  s3cret \nsecond line\n";
  Flags f;
  f.token_file = "/run/token";
  EXPECT_EQ(w.resolve(f)->token, "s3cret");
  f.token = "direct";
  EXPECT_EQ(w.resolve(f)->token, "direct");  // a token given directly wins
  f.token.reset();
  f.token_file = "/nowhere";
  EXPECT_FALSE(w.resolve(f));
  w.files["/empty"] = "\n";
  f.token_file = "/empty";
  EXPECT_FALSE(w.resolve(f));
}

TEST(CtlSettings, RefusesWhatCannotWork) {
  World w;
  Flags f;
  f.cert = "/c.pem";  // a certificate without its key
  auto half = w.resolve(f);
  ASSERT_FALSE(half);
  EXPECT_NE(half.error().detail.find("--key"), std::string::npos);
  Flags g;
  g.broker = "ftp://x";
  EXPECT_FALSE(w.resolve(g));
  Settings s;
  auto bad_key = apply_config_text("broker = http://x\ncolour = red\n", "f.conf", s);
  ASSERT_FALSE(bad_key);
  EXPECT_NE(bad_key.error().detail.find("f.conf:2"), std::string::npos);
  EXPECT_FALSE(apply_config_text("just words\n", "f.conf", s));
}

}  // namespace
}  // namespace sektorbro::ctl
