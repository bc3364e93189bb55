// sektorbro-ctl against a broker on TLS with operators (issue 10): the broker is verified
// against --cacert; the operator proves who they are with a client certificate or a bearer
// token, given as a flag, an environment variable or in the configuration file; the read-only
// role is refused a requeue. The PKI comes from deploy/make-test-pki.sh.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "broker/core/identifiers.hpp"
#include "tests/integration/broker_fixture.hpp"
#include "tests/integration/ctl_runner.hpp"

namespace sektorbro::testing {
namespace {

class CtlTls : public BrokerFixture {
 protected:
  CtlTls() {
    pki = dir.path() + "/pki";
    const std::string script = std::string(SEKTORBRO_SOURCE_DIR) + "/deploy/make-test-pki.sh";
    made = std::system((script + " " + pki + " >/dev/null 2>&1").c_str()) == 0;
    config["listen"].erase("allow_plain_http");
    config["tls"] = {{"certificate", pki + "/broker.pem"},
                     {"key", pki + "/broker.key"},
                     {"client_ca", pki + "/ca.pem"},
                     {"require_client_certificate", false}};
    config["operators"] = {
        {{"name", "anna"}, {"role", "read-only"}, {"token_sha256", sha256_hex("token-of-anna")}},
        {{"name", "bo"}, {"role", "acting"}, {"client_certificate_cn", "operator-anna"}}};
  }
  CtlResult ctl(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    env["HOME"] = dir.path();
    return run_ctl(args, env, dir.path());
  }
  std::string pki;
  bool made = false;
};

TEST_F(CtlTls, VerifiesTheBrokerAndPresentsTheOperator) {
  ASSERT_TRUE(made) << "deploy/make-test-pki.sh failed";
  start();
  const std::string url = broker->url("");
  ASSERT_EQ(url.substr(0, 8), "https://");

  // Without the CA the broker's certificate cannot be verified: no answer, status 2.
  const CtlResult unverified = ctl({"--broker", url, "--token", "token-of-anna", "messages"});
  EXPECT_EQ(unverified.status, 2);
  EXPECT_NE(unverified.err.find("no answer from"), std::string::npos) << unverified.err;
  // With the CA but no credentials: 401 and a hint.
  const CtlResult anonymous = ctl({"--broker", url, "--cacert", pki + "/ca.pem", "messages"});
  EXPECT_EQ(anonymous.status, 1);
  EXPECT_NE(anonymous.err.find("401"), std::string::npos) << anonymous.err;
  EXPECT_NE(anonymous.err.find("--token"), std::string::npos);
  // A token as a flag, from the environment, from a token file.
  const CtlResult flag =
      ctl({"--broker", url, "--cacert", pki + "/ca.pem", "--token", "token-of-anna", "messages"});
  EXPECT_EQ(flag.status, 0) << flag.err;
  EXPECT_EQ(flag.out.rfind("ID ", 0), 0u) << flag.out;
  const CtlResult env = ctl({"messages"}, {{"SEKTORBRO_URL", url},
                                           {"SEKTORBRO_CACERT", pki + "/ca.pem"},
                                           {"SEKTORBRO_TOKEN", "token-of-anna"}});
  EXPECT_EQ(env.status, 0) << env.err;
  std::ofstream(dir.path() + "/token") << "token-of-anna\n";
  const CtlResult file = ctl({"--broker", url, "--cacert", pki + "/ca.pem", "--token-file",
                              dir.path() + "/token", "messages"});
  EXPECT_EQ(file.status, 0) << file.err;
  // The wrong token from the environment, overridden by the right one as a flag.
  const CtlResult flag_wins = ctl({"--token", "token-of-anna", "messages"},
                                  {{"SEKTORBRO_URL", url},
                                   {"SEKTORBRO_CACERT", pki + "/ca.pem"},
                                   {"SEKTORBRO_TOKEN", "wrong"}});
  EXPECT_EQ(flag_wins.status, 0) << flag_wins.err;
}

TEST_F(CtlTls, TheConfigurationFileAndTheRoles) {
  ASSERT_TRUE(made) << "deploy/make-test-pki.sh failed";
  start();

  // The default configuration file: read-only anna by token.
  const std::string conf_dir = dir.path() + "/.config/sektorbro";
  std::filesystem::create_directories(conf_dir);
  {
    std::ofstream conf(conf_dir + "/ctl.conf");
    conf << "# anna's settings\nbroker = " << broker->url("") << "\ncacert = " << pki
         << "/ca.pem\ntoken = token-of-anna\n";
  }
  chmod((conf_dir + "/ctl.conf").c_str(), 0644);
  const CtlResult readable = ctl({"health"});
  EXPECT_EQ(readable.status, 0) << readable.err;
  EXPECT_NE(readable.err.find("chmod 600"), std::string::npos);  // it holds a token
  chmod((conf_dir + "/ctl.conf").c_str(), 0600);
  const CtlResult quiet = ctl({"dead-letters"});
  EXPECT_EQ(quiet.status, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");

  // Read-only: a requeue is refused by the broker.
  const CtlResult refused = ctl({"requeue", jc_party.gln, "NOPE"});
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("403"), std::string::npos) << refused.err;
  const CtlResult refused_many = ctl({"requeue", "--dead-letters"});
  EXPECT_EQ(refused_many.status, 0) << refused_many.err;  // nothing dead: nothing to refuse

  // Acting bo by client certificate (named in a second file given with --config): reaches the
  // broker's own answer (404: no such letter), not a refusal.
  {
    std::ofstream conf(dir.path() + "/bo.conf");
    conf << "broker = " << broker->url("") << "\ncacert = " << pki << "/ca.pem\ncert = " << pki
         << "/operator.pem\nkey = " << pki << "/operator.key\n";
  }
  const CtlResult bo = ctl({"--config", dir.path() + "/bo.conf", "requeue", jc_party.gln, "NOPE"});
  EXPECT_EQ(bo.status, 1);
  EXPECT_NE(bo.err.find("404"), std::string::npos) << bo.err;
  const CtlResult bo_list = ctl({"--config", dir.path() + "/bo.conf", "messages"});
  EXPECT_EQ(bo_list.status, 0) << bo_list.err;
  // A configuration file that is wrong is named with its line.
  std::ofstream(dir.path() + "/bad.conf") << "broker = https://x\ncolour = red\n";
  const CtlResult bad = ctl({"--config", dir.path() + "/bad.conf", "health"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("bad.conf:2"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace sektorbro::testing
