// The transport-security parts of the configuration: tls, outbound_tls, listen.allow_plain_http,
// endpoints' client certificates, operators (issue 5).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "broker/config/config.hpp"
#include "broker/core/identifiers.hpp"

namespace sektorbro {
namespace {

using json = nlohmann::json;

const std::string kFingerprint(64, 'a');

class ConfigTls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sektorbro-config-tls-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    // Only readability is checked at parse time; the server loads the PEM content.
    for (const char* name : {"broker.pem", "broker.key", "ca.pem", "client.pem", "client.key"})
      std::ofstream(dir_ / name) << "-----BEGIN TEST-----\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  // A valid mutual-TLS configuration with one endpoint identified by CN and one by fingerprint.
  json base() const {
    json doc = json::parse(R"({
      "identity": {"gln": "5790000000012", "sor": "100001000016003"},
      "endpoints": [
        {"id": "jc-aarhus", "kind": "jobcenter", "gln": "5790000751013", "sor": "751101000016005",
         "url": "https://127.0.0.1:9101/inbox", "accepts": ["Certificate"],
         "client_certificate_cn": "jc-aarhus"},
        {"id": "psy-risskov", "kind": "psychiatry", "gln": "5790000662012",
         "sor": "662101000016009", "url": "https://psy.example/inbox",
         "accepts": ["CertificateRequest"]}
      ]
    })");
    doc["listen"] = {{"address", "0.0.0.0"}, {"port", 8443}};
    doc["tls"] = {{"certificate", file("broker.pem")},
                  {"key", file("broker.key")},
                  {"client_ca", file("ca.pem")},
                  {"require_client_certificate", true}};
    doc["endpoints"][1]["client_certificate_fingerprint"] = kFingerprint;
    return doc;
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigTls, ReadsEveryTransportSecurityKey) {
  json doc = base();
  doc["limits"] = {{"max_connections_per_client", 8}, {"max_pipelined_requests", 3}};
  doc["outbound_tls"] = {
      {"ca", file("ca.pem")}, {"certificate", file("client.pem")}, {"key", file("client.key")}};
  // As `openssl x509 -fingerprint -sha256` prints it: upper case with colons.
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += std::string(i == 0 ? "" : ":") + "B0";
  doc["operators"] = {
      {{"name", "anna"}, {"role", "read-only"}, {"token_sha256", sha256_hex("anna's token")}},
      {{"name", "bo"}, {"role", "acting"}, {"client_certificate_fingerprint", colons}}};
  const auto config = parse_config(doc.dump());
  ASSERT_TRUE(config.ok()) << config.error().detail;

  EXPECT_FALSE(config->listen.allow_plain_http);
  EXPECT_EQ(config->limits.max_connections_per_client, 8u);
  EXPECT_EQ(config->limits.max_pipelined_requests, 3u);
  ASSERT_TRUE(config->tls.has_value());
  EXPECT_EQ(config->tls->certificate, file("broker.pem"));
  EXPECT_EQ(config->tls->key, file("broker.key"));
  EXPECT_EQ(config->tls->client_ca, file("ca.pem"));
  EXPECT_TRUE(config->tls->require_client_certificate);
  ASSERT_TRUE(config->outbound_tls.has_value());
  EXPECT_EQ(config->outbound_tls->ca, file("ca.pem"));
  EXPECT_EQ(config->outbound_tls->certificate, file("client.pem"));
  EXPECT_EQ(config->outbound_tls->key, file("client.key"));

  ASSERT_EQ(config->endpoint_certificates.size(), 2u);
  EXPECT_EQ(config->endpoint_certificates[0].endpoint_id, "jc-aarhus");
  EXPECT_EQ(config->endpoint_certificates[0].certificate.subject_cn, "jc-aarhus");
  EXPECT_EQ(config->endpoint_certificates[0].certificate.fingerprint_sha256, "");
  EXPECT_EQ(config->endpoint_certificates[1].endpoint_id, "psy-risskov");
  EXPECT_EQ(config->endpoint_certificates[1].certificate.fingerprint_sha256, kFingerprint);

  ASSERT_EQ(config->operators.size(), 2u);
  EXPECT_EQ(config->operators[0].name, "anna");
  EXPECT_EQ(config->operators[0].role, OperatorRole::kReadOnly);
  EXPECT_EQ(config->operators[0].token_sha256, sha256_hex("anna's token"));
  EXPECT_EQ(config->operators[1].role, OperatorRole::kActing);
  std::string lower;
  for (int i = 0; i < 32; ++i) lower += "b0";
  EXPECT_EQ(config->operators[1].certificate.fingerprint_sha256, lower);
}

TEST_F(ConfigTls, DefaultsAreTheSafeOnes) {
  const BrokerConfig defaults;
  EXPECT_FALSE(defaults.listen.allow_plain_http);
  EXPECT_EQ(defaults.limits.max_connections_per_client, 64u);
  EXPECT_EQ(defaults.limits.max_pipelined_requests, 8u);
  EXPECT_TRUE(TlsConfig{}.require_client_certificate);
  json doc = base();
  doc["tls"].erase("require_client_certificate");
  const auto config = parse_config(doc.dump());
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_TRUE(config->tls->require_client_certificate);
}

TEST_F(ConfigTls, PlainHttpOnlyWhenAllowedAndOnLoopback) {
  json doc = base();
  doc.erase("tls");
  for (auto& e : doc["endpoints"]) {
    e.erase("client_certificate_cn");
    e.erase("client_certificate_fingerprint");
  }
  auto config = parse_config(doc.dump());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().detail,
            "tls: is required (plain HTTP only with listen.allow_plain_http: true, on loopback, "
            "for the demo and tests)");

  doc["listen"]["allow_plain_http"] = true;  // still on 0.0.0.0
  config = parse_config(doc.dump());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().detail,
            "listen.allow_plain_http: plain HTTP is allowed on a loopback address only "
            "(listen.address is \"0.0.0.0\")");

  for (const char* loopback : {"127.0.0.1", "127.10.0.1", "::1"}) {
    doc["listen"]["address"] = loopback;
    config = parse_config(doc.dump());
    EXPECT_TRUE(config.ok()) << loopback << ": " << config.error().detail;
  }
  for (const char* other : {"10.0.0.1", "::", "::ffff:127.0.0.1", "128.0.0.1"}) {
    doc["listen"]["address"] = other;
    EXPECT_FALSE(parse_config(doc.dump()).ok()) << other;
  }
}

// Issue 12, item 2: with TLS configured, a delivery over plain http:// would leave the machine
// unencrypted; it is allowed to a loopback host only (as plain HTTP is for listening).
TEST_F(ConfigTls, PlainHttpDeliveryOnlyToLoopbackWhenTlsIsConfigured) {
  for (const char* loopback :
       {"http://127.0.0.1:9101/inbox", "http://127.10.0.1/inbox", "http://[::1]:9101/inbox",
        "http://localhost:9101/inbox", "http://LOCALHOST/inbox", "http://127.0.0.1"}) {
    json doc = base();
    doc["endpoints"][1]["url"] = loopback;
    const auto config = parse_config(doc.dump());
    EXPECT_TRUE(config.ok()) << loopback << ": " << config.error().detail;
  }
  for (const char* remote :
       {"http://psy.example/inbox", "http://10.0.0.1:8080/inbox", "http://[2001:db8::1]/inbox",
        "http://[::ffff:127.0.0.1]/inbox", "http://127.0.0.1.psy.example/inbox",
        "http://localhost.psy.example/inbox", "http://127.0.0.1@psy.example/inbox",
        "http://127.0.0.1:80@psy.example/inbox", "http://psy.example?@127.0.0.1/",
        "http://psy.example#@127.0.0.1/", "http://psy.example\\@127.0.0.1/"}) {
    json doc = base();
    doc["endpoints"][1]["url"] = remote;
    const auto config = parse_config(doc.dump());
    ASSERT_FALSE(config.ok()) << remote;
    EXPECT_EQ(config.error().detail,
              "endpoints[1].url: plain http:// is allowed to a loopback host only while tls is "
              "configured (the delivery would leave unencrypted); use https://")
        << remote;
  }
  // https:// anywhere stays fine, and without tls (the demo on loopback) nothing changes.
  json doc = base();
  doc["endpoints"][1]["url"] = "https://psy.example/inbox";
  EXPECT_TRUE(parse_config(doc.dump()).ok());
}

struct BrokenCase {
  const char* name;
  std::function<void(json&)> edit;
  std::string expected;  // the whole error detail; "$DIR" stands for the test's folder
};

TEST_F(ConfigTls, BrokenSectionsNameTheKey) {
  const std::string dir = dir_.string();
  const std::vector<BrokenCase> cases = {
      {"tls with plain", [](json& d) { d["listen"]["allow_plain_http"] = true; },
       "listen.allow_plain_http: cannot be combined with a tls section"},
      {"allow_plain_http not a bool", [](json& d) { d["listen"]["allow_plain_http"] = "yes"; },
       "listen.allow_plain_http: must be true or false"},
      {"tls typo", [](json& d) { d["tls"]["cert"] = "x"; },
       "tls.cert: unknown key (expected one of certificate, key, client_ca, "
       "require_client_certificate)"},
      {"certificate missing", [](json& d) { d["tls"].erase("certificate"); },
       "tls.certificate: is required"},
      {"key file missing", [&](json& d) { d["tls"]["key"] = dir + "/none.key"; },
       "tls.key: cannot read \"$DIR/none.key\": No such file or directory"},
      {"client_ca is a directory", [&](json& d) { d["tls"]["client_ca"] = dir; },
       "tls.client_ca: cannot read \"$DIR\": is a directory"},
      {"required without a CA",
       [](json& d) {
         d["tls"].erase("client_ca");
         for (auto& e : d["endpoints"]) {
           e.erase("client_certificate_cn");
           e.erase("client_certificate_fingerprint");
         }
       },
       "tls.client_ca: is required while require_client_certificate is true"},
      {"endpoint certificate without mutual TLS",
       [](json& d) {
         d["tls"].erase("client_ca");
         d["tls"]["require_client_certificate"] = false;
       },
       "endpoints[0].client_certificate_cn: needs tls.client_ca (mutual TLS)"},
      {"fingerprint too short",
       [](json& d) { d["endpoints"][1]["client_certificate_fingerprint"] = "abcd"; },
       "endpoints[1].client_certificate_fingerprint: must be a SHA-256 in hex (64 digits, colons "
       "allowed)"},
      {"fingerprint not hex",
       [](json& d) { d["endpoints"][1]["client_certificate_fingerprint"] = std::string(64, 'g'); },
       "endpoints[1].client_certificate_fingerprint: must be a SHA-256 in hex (64 digits, colons "
       "allowed)"},
      {"cn empty", [](json& d) { d["endpoints"][0]["client_certificate_cn"] = ""; },
       "endpoints[0].client_certificate_cn: must not be empty"},
      {"cn too long",
       [](json& d) { d["endpoints"][0]["client_certificate_cn"] = std::string(65, 'x'); },
       "endpoints[0].client_certificate_cn: must be at most 64 bytes (a certificate's CN cannot "
       "be longer)"},
      {"two endpoints, one CN",
       [](json& d) { d["endpoints"][1]["client_certificate_cn"] = "jc-aarhus"; },
       "endpoints[1].client_certificate_fingerprint: the same certificate would also identify "
       "endpoint \"jc-aarhus\""},
      {"outbound certificate without key",
       [&](json& d) {
         d["outbound_tls"] = {{"certificate", dir + "/client.pem"}};
       },
       "outbound_tls.key: is required with certificate"},
      {"outbound ca missing",
       [&](json& d) {
         d["outbound_tls"] = {{"ca", dir + "/nope.pem"}};
       },
       "outbound_tls.ca: cannot read \"$DIR/nope.pem\": No such file or directory"},
      {"operators not an array", [](json& d) { d["operators"] = json::object(); },
       "operators: must be an array"},
      {"operator role",
       [](json& d) {
         d["operators"] = {{{"name", "anna"}, {"role", "admin"}, {"token_sha256", kFingerprint}}};
       },
       "operators[0].role: must be \"read-only\" or \"acting\" (got \"admin\")"},
      {"operator without credential",
       [](json& d) {
         d["operators"] = {{{"name", "anna"}, {"role", "acting"}}};
       },
       "operators[0]: needs token_sha256 or client_certificate_fingerprint/_cn to log in"},
      {"operator token in clear",
       [](json& d) {
         d["operators"] = {{{"name", "anna"}, {"role", "acting"}, {"token_sha256", "hunter2"}}};
       },
       "operators[0].token_sha256: must be a SHA-256 in hex (64 digits, colons allowed)"},
      {"operator name twice",
       [](json& d) {
         d["operators"] = {
             {{"name", "anna"}, {"role", "acting"}, {"token_sha256", kFingerprint}},
             {{"name", "anna"}, {"role", "read-only"}, {"token_sha256", std::string(64, 'b')}}};
       },
       "operators[1].name: \"anna\" is already used by operators[0]"},
      {"operator token twice",
       [](json& d) {
         d["operators"] = {{{"name", "anna"}, {"role", "acting"}, {"token_sha256", kFingerprint}},
                           {{"name", "bo"}, {"role", "read-only"}, {"token_sha256", kFingerprint}}};
       },
       "operators[1].token_sha256: is already used by operators[0]"},
      {"operator with an endpoint's certificate",
       [](json& d) {
         d["operators"] = {
             {{"name", "anna"}, {"role", "acting"}, {"client_certificate_cn", "jc-aarhus"}}};
       },
       "operators[0].client_certificate_cn: the same certificate would also identify endpoint "
       "\"jc-aarhus\""},
      {"operator typo",
       [](json& d) {
         d["operators"] = {{{"name", "anna"}, {"role", "acting"}, {"token", "x"}}};
       },
       "operators[0].token: unknown key (expected one of name, role, token_sha256, "
       "client_certificate_fingerprint, client_certificate_cn)"},
      {"connection cap zero",
       [](json& d) {
         d["limits"] = {{"max_connections_per_client", 0}};
       },
       "limits.max_connections_per_client: must be between 1 and 100000 (got 0)"},
      {"no request at all in a connection's window",
       [](json& d) {
         d["limits"] = {{"max_pipelined_requests", 0}};
       },
       "limits.max_pipelined_requests: must be between 1 and 1024 (got 0)"},
  };
  for (const BrokenCase& c : cases) {
    json doc = base();
    c.edit(doc);
    const auto config = parse_config(doc.dump());
    ASSERT_FALSE(config.ok()) << c.name;
    EXPECT_EQ(config.error().code, Errc::kConfig) << c.name;
    std::string expected = c.expected;
    if (const auto at = expected.find("$DIR"); at != std::string::npos)
      expected.replace(at, 4, dir);
    EXPECT_EQ(config.error().detail, expected) << c.name;
  }
}

TEST_F(ConfigTls, OperatorsAreFoundByTheirTokenOnly) {
  json doc = base();
  doc["operators"] = {
      {{"name", "anna"}, {"role", "read-only"}, {"token_sha256", sha256_hex("token-a")}},
      {{"name", "bo"}, {"role", "acting"}, {"token_sha256", sha256_hex("token-b")}},
      {{"name", "cert-only"}, {"role", "acting"}, {"client_certificate_cn", "operator-c"}}};
  const auto config = parse_config(doc.dump());
  ASSERT_TRUE(config.ok()) << config.error().detail;
  const OperatorConfig* anna = find_operator_by_token(*config, "token-a");
  ASSERT_NE(anna, nullptr);
  EXPECT_EQ(anna->name, "anna");
  const OperatorConfig* bo = find_operator_by_token(*config, "token-b");
  ASSERT_NE(bo, nullptr);
  EXPECT_EQ(bo->name, "bo");
  EXPECT_EQ(find_operator_by_token(*config, "token-c"), nullptr);
  EXPECT_EQ(find_operator_by_token(*config, ""), nullptr);
  // The stored hash is not itself a token.
  EXPECT_EQ(find_operator_by_token(*config, sha256_hex("token-a")), nullptr);
}

TEST(CertificateIdentity, MatchesWhatIsSetAndNothingWhenEmpty) {
  EXPECT_FALSE(CertificateIdentity{}.matches("", ""));
  EXPECT_FALSE(CertificateIdentity{}.matches("jc", kFingerprint));

  const CertificateIdentity by_cn{"", "jc-aarhus"};
  EXPECT_TRUE(by_cn.matches("jc-aarhus", kFingerprint));
  EXPECT_FALSE(by_cn.matches("jc-aarhus2", kFingerprint));
  EXPECT_FALSE(by_cn.matches("", kFingerprint));

  const CertificateIdentity by_fingerprint{kFingerprint, ""};
  EXPECT_TRUE(by_fingerprint.matches("anything", std::string(64, 'A')));
  EXPECT_FALSE(by_fingerprint.matches("anything", std::string(64, 'b')));
  EXPECT_FALSE(by_fingerprint.matches("anything", ""));

  const CertificateIdentity both{kFingerprint, "jc-aarhus"};
  EXPECT_TRUE(both.matches("jc-aarhus", kFingerprint));
  EXPECT_FALSE(both.matches("other", kFingerprint));
  EXPECT_FALSE(both.matches("jc-aarhus", std::string(64, 'b')));
}

}  // namespace
}  // namespace sektorbro
