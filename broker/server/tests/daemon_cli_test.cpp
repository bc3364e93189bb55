// The daemon's command line (issue 11, item 6): --version, --help and --check-config through the
// real binary, and parse_command_line's rules.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "broker/server/allocator.hpp"
#include "broker/server/command_line.hpp"
#include "broker/server/tests/daemon_process.hpp"
#include "tests/harness/broker_process.hpp"

namespace sektorbro::testing {
namespace {

const std::string kBinary = BrokerProcess::default_binary();

TEST(CommandLine, RunsWithAConfigAndAnOptionalPortFile) {
  auto line = parse_command_line({"--config", "a.json", "--port-file", "p"});
  ASSERT_TRUE(line) << line.error().detail;
  EXPECT_EQ(line->mode, CommandLine::Mode::kRun);
  EXPECT_EQ(line->config_path, "a.json");
  EXPECT_EQ(line->port_file, "p");
}

TEST(CommandLine, CheckConfigTakesTheFile) {
  auto line = parse_command_line({"--check-config", "a.json"});
  ASSERT_TRUE(line);
  EXPECT_EQ(line->mode, CommandLine::Mode::kCheckConfig);
  EXPECT_EQ(line->config_path, "a.json");
}

TEST(CommandLine, RefusesWhatItDoesNotKnow) {
  EXPECT_FALSE(parse_command_line({}));
  EXPECT_FALSE(parse_command_line({"--config"}));
  EXPECT_FALSE(parse_command_line({"--config", "a.json", "--verbose"}));
  EXPECT_FALSE(parse_command_line({"--config", "a.json", "--check-config", "b.json"}));
  EXPECT_FALSE(parse_command_line({"--check-config", "a.json", "--port-file", "p"}));
  EXPECT_NE(
      parse_command_line({"--config", "a.json", "--verbose"}).error().detail.find("--verbose"),
      std::string::npos);
}

TEST(CommandLine, HelpAndVersionWinOverTheRest) {
  EXPECT_EQ(parse_command_line({"--config", "a.json", "--help"})->mode, CommandLine::Mode::kHelp);
  EXPECT_EQ(parse_command_line({"--bogus", "--version"})->mode, CommandLine::Mode::kVersion);
}

TEST(Daemon, VersionNamesTheProjectVersionAndTheCommit) {
  const ProcessResult r = run_process(kBinary, {"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // project(VERSION …) from the top-level CMakeLists.txt, then the git commit when built from a
  // checkout.
  // The second line names the allocator serving malloc (allocator.hpp): the one CMake chose.
  const std::string allocator = std::string(SEKTORBRO_ALLOCATOR) == "jemalloc"
                                    ? R"(jemalloc 5\.[0-9.]+-[0-9]+-g[0-9a-f]+)"
                                    : "glibc malloc";
  const std::regex line(
      "sektorbro " +
      std::regex_replace(std::string(SEKTORBRO_PROJECT_VERSION), std::regex(R"(\.)"), R"(\.)") +
      R"(( \(git [0-9a-f]{7,40}(-dirty)?\))?\n)" + "allocator " + allocator + "\n");
  EXPECT_TRUE(std::regex_match(r.out, line)) << r.out;
  if (std::filesystem::exists(std::string(SEKTORBRO_SOURCE_DIR) + "/.git")) {
    EXPECT_NE(r.out.find("(git "), std::string::npos) << r.out;
  }
}

// This test binary links what the daemon links (sb_daemon): the allocator chosen must be the
// one that answers malloc() here too, not merely be present.
TEST(Allocator, TheChosenAllocatorServesMalloc) {
  const std::string in_use = allocator_in_use();
  if (std::string(SEKTORBRO_ALLOCATOR) == "jemalloc") {
    EXPECT_EQ(in_use.rfind("jemalloc 5.", 0), 0u) << in_use;
    EXPECT_EQ(in_use.find("not serving"), std::string::npos) << in_use;
  } else {
    EXPECT_EQ(in_use, "glibc malloc");
  }
}

TEST(Daemon, HelpPrintsTheUsageAndABadArgumentExitsTwo) {
  const ProcessResult help = run_process(kBinary, {"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--check-config FILE"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--version"), std::string::npos);
  const ProcessResult bad = run_process(kBinary, {"--config", "x.json", "--frobnicate"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown argument '--frobnicate'"), std::string::npos) << bad.err;
}

class CheckConfig : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return dir.path() + "/" + name; }
  ProcessResult check(const nlohmann::json& config) {
    write_text(path("config.json"), config.dump(2));
    return run_process(kBinary, {"--check-config", path("config.json")});
  }
  // The one line an error prints, and nothing on stdout.
  static void expect_one_line_error(const ProcessResult& r, const std::string& part) {
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("sektorbro: ", 0), 0u) << r.err;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    EXPECT_NE(r.err.find(part), std::string::npos) << r.err;
  }
  TempDir dir;
};

TEST_F(CheckConfig, AGoodConfigurationIsOkAndTheStoreIsNotCreated) {
  const ProcessResult r = check(minimal_config(path("broker.db")));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
  EXPECT_FALSE(std::filesystem::exists(path("broker.db")));
  EXPECT_FALSE(std::filesystem::exists(path("broker.db.lock")));
}

TEST_F(CheckConfig, PassesWhileABrokerHoldsTheStoreAndThePort) {
  // A running broker holds the store's lock and its port: had the check opened the store or
  // bound the configured port, it would fail here.
  TempDir run;
  nlohmann::json config = minimal_config(run.path() + "/broker.db");
  std::string error;
  auto broker = BrokerProcess::start(kBinary, run.path(), config.dump(2), error);
  ASSERT_TRUE(broker) << error;
  config["listen"]["port"] = broker->port();
  const ProcessResult r = check(config);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
  EXPECT_EQ(broker->terminate(), 0);
}

TEST_F(CheckConfig, NamesTheKeyThatIsWrong) {
  nlohmann::json config = minimal_config(path("broker.db"));
  config["endpoints"][0]["gln"] = "5790000751014";  // check digit off by one
  expect_one_line_error(check(config), "endpoints[0].gln");
}

TEST_F(CheckConfig, NotJsonIsOneLine) {
  write_text(path("config.json"), "{\"listen\": ");
  expect_one_line_error(run_process(kBinary, {"--check-config", path("config.json")}),
                        "not valid JSON");
}

TEST_F(CheckConfig, AMissingFileIsOneLine) {
  expect_one_line_error(run_process(kBinary, {"--check-config", path("absent.json")}),
                        "absent.json: cannot read");
}

class CheckConfigTls : public CheckConfig {
 protected:
  void SetUp() override {
    pki = path("pki");
    const std::string script = std::string(SEKTORBRO_SOURCE_DIR) + "/deploy/make-test-pki.sh";
    ASSERT_EQ(std::system((script + " " + pki + " >/dev/null 2>&1").c_str()), 0);
    config = minimal_config(path("broker.db"));
    config["listen"].erase("allow_plain_http");
    config["tls"] = {{"certificate", pki + "/broker.pem"},
                     {"key", pki + "/broker.key"},
                     {"client_ca", pki + "/ca.pem"}};
  }
  std::string pki;
  nlohmann::json config;
};

TEST_F(CheckConfigTls, TheBrokersCertificateAndKeyAreOk) {
  const ProcessResult r = check(config);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
}

TEST_F(CheckConfigTls, AnUnreadableKeyIsNamed) {
  config["tls"]["key"] = pki + "/missing.key";
  expect_one_line_error(check(config), "missing.key");
}

TEST_F(CheckConfigTls, AKeyOfAnotherCertificateIsRefusedAsAtStartUp) {
  // Readable, but not the certificate's key: only loading it, as the listener does, finds this.
  config["tls"]["key"] = pki + "/operator.key";
  // (OpenSSL notices the mismatch as the key is loaded: "key values mismatch".)
  expect_one_line_error(check(config), "cannot load TLS key '" + pki + "/operator.key'");
}

TEST_F(CheckConfigTls, ACertificateThatIsNotPemIsRefused) {
  write_text(path("garbage.pem"), "not a certificate\n");
  config["tls"]["certificate"] = path("garbage.pem");
  expect_one_line_error(check(config), "garbage.pem");
}

// The deliveries' TLS material is loaded as the transport loads it at start-up.
TEST_F(CheckConfigTls, DeliveriesTlsMaterialIsLoadedAsAtStartUp) {
  config["outbound_tls"] = {{"ca", pki + "/ca.pem"},
                            {"certificate", pki + "/broker-client.pem"},
                            {"key", pki + "/broker-client.key"}};
  const ProcessResult ok = check(config);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "ok\n");

  // Readable, but another certificate's key.
  config["outbound_tls"]["key"] = pki + "/operator.key";
  expect_one_line_error(check(config), "outbound TLS: cannot read the key in " + pki +
                                           "/operator.key, or it is not the certificate's");

  write_text(path("garbage-ca.pem"), "not a CA\n");
  config["outbound_tls"]["key"] = pki + "/broker-client.key";
  config["outbound_tls"]["ca"] = path("garbage-ca.pem");
  expect_one_line_error(check(config), "cannot read the CAs in " + path("garbage-ca.pem"));
}

TEST_F(CheckConfig, MissingConsoleAssetsAreRefusedAsAtStartUp) {
  nlohmann::json config = minimal_config(path("broker.db"));
  config["console"] = {{"assets", path("no-console-here")}};
  const ProcessResult r = check(config);
  expect_one_line_error(r, "no-console-here");
}

}  // namespace
}  // namespace sektorbro::testing
