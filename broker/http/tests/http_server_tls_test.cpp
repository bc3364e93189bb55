// HttpServer over real TLS on 127.0.0.1 with certificates from deploy/make-test-pki.sh: who gets
// in, what the handler learns about them, and that a refused client does not stop the server.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "broker/core/identifiers.hpp"
#include "broker/http/tests/test_server.hpp"

namespace sektorbro {
namespace {

using testing::ClientResult;
using testing::TestPki;
using testing::TestServer;
using testing::tls_get;

// SHA-256 of the certificate's DER, computed by way of the openssl command line.
std::string der_sha256(const std::string& pem) {
  const std::string der = pem + ".der";
  const std::string command = "openssl x509 -in " + pem + " -outform DER -out " + der;
  if (std::system(command.c_str()) != 0) return "openssl failed";
  std::ifstream in(der, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  std::remove(der.c_str());
  return sha256_hex(bytes.str());
}

TlsServerOptions mutual_tls(bool required = true) {
  const TestPki& pki = TestPki::get();
  TlsServerOptions tls;
  tls.certificate_file = pki.path("broker.pem");
  tls.key_file = pki.path("broker.key");
  tls.client_ca_file = pki.path("ca.pem");
  tls.require_client_certificate = required;
  return tls;
}

ClientResult get_as(unsigned short port, const std::string& name) {
  const TestPki& pki = TestPki::get();
  if (name.empty()) return tls_get(port, pki.path("ca.pem"), "", "");
  return tls_get(port, pki.path("ca.pem"), pki.path(name + ".pem"), pki.path(name + ".key"));
}

class HttpServerTls : public ::testing::Test {
 protected:
  void SetUp() override {
    auto port = server_.listen_tls(mutual_tls());
    ASSERT_TRUE(port.ok()) << port.error().detail;
    port_ = *port;
    server_.start();
  }

  TestServer server_;
  unsigned short port_ = 0;
};

TEST_F(HttpServerTls, AcceptsAClientOfTheCaAndReportsItsIdentity) {
  const ClientResult result = get_as(port_, "jc-aarhus");
  ASSERT_EQ(result.status, 200) << result.error;
  EXPECT_EQ(result.body, "hello\n");

  const auto peers = server_.peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_TRUE(peers[0].tls);
  EXPECT_TRUE(peers[0].client_verified);
  EXPECT_EQ(peers[0].subject_cn, "jc-aarhus");
  EXPECT_EQ(peers[0].fingerprint_sha256, der_sha256(TestPki::get().path("jc-aarhus.pem")));
  EXPECT_EQ(peers[0].fingerprint_sha256.size(), 64u);
  EXPECT_EQ(peers[0].remote_address, "127.0.0.1");

  // Another endpoint: another identity.
  ASSERT_EQ(get_as(port_, "psy-risskov").status, 200);
  const auto both = server_.peers();
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[1].subject_cn, "psy-risskov");
  EXPECT_NE(both[1].fingerprint_sha256, both[0].fingerprint_sha256);
}

TEST_F(HttpServerTls, RefusesAClientWithoutACertificateAndServesTheNext) {
  const ClientResult refused = get_as(port_, "");
  EXPECT_EQ(refused.status, 0);
  EXPECT_FALSE(refused.error.empty());
  EXPECT_TRUE(server_.peers().empty());

  EXPECT_EQ(get_as(port_, "jc-odense").status, 200);
  ASSERT_EQ(server_.peers().size(), 1u);
  EXPECT_EQ(server_.peers()[0].subject_cn, "jc-odense");
}

TEST_F(HttpServerTls, RefusesACertificateFromAnotherCaAndServesTheNext) {
  // Same CN as a real endpoint; only the issuer differs.
  const ClientResult refused = get_as(port_, "other-ca-endpoint");
  EXPECT_EQ(refused.status, 0);
  EXPECT_FALSE(refused.error.empty());
  EXPECT_TRUE(server_.peers().empty());

  EXPECT_EQ(get_as(port_, "jc-aarhus").status, 200);
  EXPECT_EQ(server_.peers().size(), 1u);
}

TEST_F(HttpServerTls, RefusesAnExpiredCertificateAndServesTheNext) {
  const ClientResult refused = get_as(port_, "expired-endpoint");
  EXPECT_EQ(refused.status, 0);
  EXPECT_FALSE(refused.error.empty());
  EXPECT_TRUE(server_.peers().empty());

  EXPECT_EQ(get_as(port_, "jc-aarhus").status, 200);
  EXPECT_EQ(server_.peers().size(), 1u);
}

TEST_F(HttpServerTls, AClientThatDoesNotTrustTheServerGetsNothing) {
  const TestPki& pki = TestPki::get();
  const ClientResult result = tls_get(port_, pki.path("other-ca.pem"), pki.path("jc-aarhus.pem"),
                                      pki.path("jc-aarhus.key"));
  EXPECT_EQ(result.status, 0);
  EXPECT_FALSE(result.error.empty());
  EXPECT_TRUE(server_.peers().empty());
}

TEST_F(HttpServerTls, PlainHttpToATlsListenerIsNotServed) {
  testing::RawClient raw(port_);
  const ClientResult result = raw.get(false);
  EXPECT_EQ(result.status, 0);
  EXPECT_TRUE(server_.peers().empty());
}

TEST(HttpServerTlsOptional, LetsAClientWithoutACertificateInUnverified) {
  TestServer server;
  auto port = server.listen_tls(mutual_tls(/*required=*/false));
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();

  EXPECT_EQ(get_as(*port, "").status, 200);
  EXPECT_EQ(get_as(*port, "operator").status, 200);
  // A certificate that is presented must still verify.
  EXPECT_EQ(get_as(*port, "expired-endpoint").status, 0);

  const auto peers = server.peers();
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_TRUE(peers[0].tls);
  EXPECT_FALSE(peers[0].client_verified);
  EXPECT_EQ(peers[0].subject_cn, "");
  EXPECT_EQ(peers[0].fingerprint_sha256, "");
  EXPECT_TRUE(peers[1].client_verified);
  EXPECT_EQ(peers[1].subject_cn, "operator-anna");
}

TEST(HttpServerTlsOptional, WithoutAClientCaNoCertificateIsAskedFor) {
  TestServer server;
  TlsServerOptions tls = mutual_tls(false);
  tls.client_ca_file.clear();
  auto port = server.listen_tls(tls);
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();
  EXPECT_EQ(get_as(*port, "jc-aarhus").status, 200);
  const auto peers = server.peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_FALSE(peers[0].client_verified);
  EXPECT_EQ(peers[0].subject_cn, "");
}

TEST(HttpServerTlsSetup, BadFilesAreNamed) {
  const TestPki& pki = TestPki::get();
  {
    TestServer server;
    TlsServerOptions tls = mutual_tls();
    tls.certificate_file = pki.path("missing.pem");
    const auto port = server.listen_tls(tls);
    ASSERT_FALSE(port.ok());
    EXPECT_EQ(port.error().code, Errc::kConfig);
    EXPECT_NE(port.error().detail.find("certificate '" + pki.path("missing.pem") + "'"),
              std::string::npos)
        << port.error().detail;
  }
  {
    TestServer server;
    TlsServerOptions tls = mutual_tls();
    tls.key_file = pki.path("jc-aarhus.key");  // a key, but not the certificate's
    const auto port = server.listen_tls(tls);
    ASSERT_FALSE(port.ok());
    // OpenSSL finds the mismatch while loading the key ("key values mismatch").
    EXPECT_EQ(
        port.error().detail.rfind("cannot load TLS key '" + pki.path("jc-aarhus.key") + "'", 0), 0u)
        << port.error().detail;
  }
  {
    TestServer server;
    TlsServerOptions tls = mutual_tls();
    tls.client_ca_file.clear();
    const auto port = server.listen_tls(tls);
    ASSERT_FALSE(port.ok());
    EXPECT_EQ(port.error().detail, "client certificates are required but no client CA is set");
  }
}

TEST(HttpServerTlsSetup, TheHandshakeCountsTowardsTheHeaderTimeout) {
  HttpLimits limits;
  limits.header_timeout = std::chrono::milliseconds{200};
  TestServer server(limits);
  auto port = server.listen_tls(mutual_tls());
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();
  // Connects and says nothing: the server must hang up on its own (the client's own receive
  // timeout is far longer).
  testing::RawClient silent(*port);
  EXPECT_TRUE(silent.closed_by_server());
  EXPECT_EQ(get_as(*port, "jc-aarhus").status, 200);
}

}  // namespace
}  // namespace sektorbro
