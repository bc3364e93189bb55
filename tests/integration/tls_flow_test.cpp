// Mutual TLS end to end through the real broker (issue 5): a known endpoint's certificate is
// accepted; an unknown certificate, an expired one and a valid endpoint claiming another's GLN
// are refused; the operators' API refuses endpoint credentials and the read-only role cannot act.
// The certificates come from deploy/make-test-pki.sh, run into the test's own directory.
#include "broker/core/identifiers.hpp"
#include "tests/integration/broker_fixture.hpp"

namespace sektorbro::testing {
namespace {

class TlsFlow : public BrokerFixture {
 protected:
  TlsFlow() {
    pki = dir.path() + "/pki";
    const std::string script = std::string(SEKTORBRO_SOURCE_DIR) + "/deploy/make-test-pki.sh";
    made = std::system((script + " " + pki + " >/dev/null 2>&1").c_str()) == 0;
    config["listen"].erase("allow_plain_http");
    config["tls"] = {{"certificate", pki + "/broker.pem"},
                     {"key", pki + "/broker.key"},
                     {"client_ca", pki + "/ca.pem"},
                     {"require_client_certificate", true}};
    config["endpoints"][0]["client_certificate_cn"] = "jc-aarhus";    // jc
    config["endpoints"][1]["client_certificate_cn"] = "jc-odense";    // jc2
    config["endpoints"][2]["client_certificate_cn"] = "psy-risskov";  // psy
    config["operators"] = {
        {{"name", "anna"}, {"role", "read-only"}, {"token_sha256", sha256_hex("token-of-anna")}},
        {{"name", "bo"}, {"role", "acting"}, {"token_sha256", sha256_hex("token-of-bo")}}};
  }
  ClientTls as(const std::string& name) const {
    return ClientTls{pki + "/ca.pem", pki + "/" + name + ".pem", pki + "/" + name + ".key"};
  }
  HttpResult post_as(const std::string& name, const Envelope& e) {
    HttpClient c(as(name));
    return c.post(broker->url("/v1/messages"), encode_envelope(e));
  }
  std::string pki;
  bool made = false;
};

TEST_F(TlsFlow, OnlyTheRightEndpointCertificateMaySend) {
  ASSERT_TRUE(made) << "deploy/make-test-pki.sh failed";
  start();
  ASSERT_EQ(broker->url("").substr(0, 8), "https://");
  // The jobcenter's own certificate: accepted and delivered.
  const HttpResult ok = post_as(
      "jc-aarhus", make_certificate_request(jc_party, psy_party, "E1", "REQ1", clock.now()));
  EXPECT_EQ(ok.status, 202) << ok.error << ok.body;
  EXPECT_TRUE(psy.wait_until([](auto& r) { return r.size() == 1; }, std::chrono::seconds{20}));

  // No certificate, a certificate from another CA, an expired one: the handshake fails.
  for (const std::string name : {"", "other-ca-endpoint", "expired-endpoint"}) {
    ClientTls tls{pki + "/ca.pem", "", ""};
    if (!name.empty()) tls = as(name);
    HttpClient c(tls);
    const HttpResult r = c.post(
        broker->url("/v1/messages"),
        encode_envelope(make_certificate_request(jc_party, psy_party, "E2", "REQ2", clock.now())));
    EXPECT_EQ(r.status, 0) << (name.empty() ? "no certificate" : name) << ": " << r.body;
  }

  // A valid endpoint claiming another's GLN: refused with a negative receipt, and recorded.
  const HttpResult spoofed = post_as(
      "jc-odense", make_certificate_request(jc_party, psy_party, "E3", "REQ3", clock.now()));
  EXPECT_EQ(spoofed.status, 403) << spoofed.body;
  auto nr = decode_envelope(spoofed.body);
  ASSERT_TRUE(nr) << spoofed.body;
  EXPECT_NE(std::get<NegativeReceipt>(nr->letters.front().body).text.find("authenticated"),
            std::string::npos);
  EXPECT_NE(broker->log().find("refused unknown_sender"), std::string::npos);
  // An operator's certificate cannot send either.
  EXPECT_EQ(
      post_as("operator", make_certificate_request(jc_party, psy_party, "E4", "REQ4", clock.now()))
          .status,
      403);
  EXPECT_EQ(psy.received().size(), 1u);
}

TEST_F(TlsFlow, TheOperatorsApiWantsOperatorsAndRoles) {
  ASSERT_TRUE(made) << "deploy/make-test-pki.sh failed";
  start();
  ASSERT_EQ(
      post_as("jc-aarhus", make_certificate_request(jc_party, psy_party, "E1", "REQ1", clock.now()))
          .status,
      202);
  const std::string list = broker->url("/v1/messages");
  const std::string requeue = broker->url("/v1/messages/" + jc_party.gln + "/REQ1/requeue");
  // An endpoint's certificate never opens the operators' API.
  HttpClient endpoint(as("jc-aarhus"));
  EXPECT_EQ(endpoint.get(list).status, 403);
  // An operator needs credentials; the wrong token is no credential.
  HttpClient anonymous(ClientTls{pki + "/ca.pem", pki + "/operator.pem", pki + "/operator.key"});
  EXPECT_EQ(anonymous.get(list).status, 401);
  anonymous.set_headers({"Authorization: Bearer not-a-token"});
  EXPECT_EQ(anonymous.get(list).status, 401);
  // The read-only role reads but cannot act; the acting role can (409: nothing to requeue).
  HttpClient anna(ClientTls{pki + "/ca.pem", pki + "/operator.pem", pki + "/operator.key"});
  anna.set_headers({"Authorization: Bearer token-of-anna"});
  EXPECT_EQ(anna.get(list).status, 200);
  EXPECT_EQ(anna.get(broker->url("/v1/messages/" + jc_party.gln + "/REQ1")).status, 200);
  EXPECT_EQ(anna.post(requeue, "").status, 403);
  HttpClient bo(ClientTls{pki + "/ca.pem", pki + "/operator.pem", pki + "/operator.key"});
  bo.set_headers({"Authorization: Bearer token-of-bo"});
  ASSERT_TRUE(eventually([&] {
    const auto r = bo.get(broker->url("/v1/messages/" + jc_party.gln + "/REQ1"));
    return r.body.find("\"delivered\"") != std::string::npos;
  }));
  EXPECT_EQ(bo.post(requeue, "").status, 409);
  // Health stays open for probes.
  EXPECT_EQ(endpoint.get(broker->url("/v1/health")).status, 200);
}

}  // namespace
}  // namespace sektorbro::testing
