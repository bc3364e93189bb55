// BeastTransport over real TLS on 127.0.0.1 (issue 5): the receiver's certificate is verified
// against the configured CA only, and the broker presents its client certificate. Certificates
// come from deploy/make-test-pki.sh, run into a temporary folder.
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "broker/delivery/beast_transport.hpp"
#include "tests/support/http_receiver.hpp"

namespace sektorbro {
namespace {

using std::chrono::milliseconds;
using testing::HttpReceiver;
using testing::ReceiverTls;

constexpr milliseconds kWait{10'000};

class Pki {
 public:
  static const Pki& get() {
    static Pki pki;
    return pki;
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  Pki() {
    char tmpl[] = "/tmp/sektorbro-transport-pki-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    if (dir == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = dir;
    const std::string command =
        std::string(SEKTORBRO_SOURCE_DIR) + "/deploy/make-test-pki.sh " + dir_ + " >/dev/null";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("make-test-pki.sh failed");
  }
  ~Pki() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

// One `done` result, waited for with a bound.
class Outcome {
 public:
  std::function<void(TransportResponse)> done() {
    return [this](TransportResponse r) {
      std::lock_guard lock(mu_);
      response_ = std::move(r);
      cv_.notify_all();
    };
  }
  std::optional<TransportResponse> wait() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kWait, [&] { return response_.has_value(); });
    return response_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<TransportResponse> response_;
};

// A psychiatry endpoint's receiver that requires a client certificate from the test CA.
ReceiverTls receiver_tls(const std::string& name = "psy-risskov") {
  const Pki& pki = Pki::get();
  return ReceiverTls{pki.path(name + ".pem"), pki.path(name + ".key"), pki.path("ca.pem"), true};
}

TlsClientOptions broker_tls(const std::string& ca = "ca.pem") {
  const Pki& pki = Pki::get();
  return TlsClientOptions{pki.path(ca), pki.path("broker-client.pem"),
                          pki.path("broker-client.key")};
}

TransportResponse post(BeastTransport& transport, const std::string& url) {
  Outcome outcome;
  OutboundRequest request;
  request.url = url;
  request.body = "<Envelope/>";
  transport.post(std::move(request), outcome.done());
  auto response = outcome.wait();
  EXPECT_TRUE(response.has_value()) << "no answer within the bound";
  return response.value_or(TransportResponse{});
}

TEST(BeastTransportTls, VerifiesTheReceiverAndPresentsTheBrokersCertificate) {
  HttpReceiver receiver({}, 0, receiver_tls());
  ASSERT_EQ(receiver.url().rfind("https://127.0.0.1:", 0), 0u);
  BeastTransport transport(broker_tls());
  const TransportResponse response = post(transport, receiver.url());
  EXPECT_EQ(response.http_status, 200) << response.error;
  EXPECT_EQ(response.error, "");
  const auto received = receiver.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].client_cn, "sektorbro-broker");
  EXPECT_EQ(received[0].body, "<Envelope/>");
}

TEST(BeastTransportTls, AReceiverFromAnotherCaIsNotTrusted) {
  HttpReceiver receiver({}, 0, receiver_tls());
  BeastTransport transport(broker_tls("other-ca.pem"));
  const TransportResponse response = post(transport, receiver.url());
  EXPECT_EQ(response.http_status, 0);
  EXPECT_FALSE(response.error.empty());
  EXPECT_TRUE(receiver.received().empty());
}

TEST(BeastTransportTls, AnExpiredReceiverCertificateIsNotTrusted) {
  HttpReceiver receiver({}, 0, receiver_tls("expired-endpoint"));
  BeastTransport transport(broker_tls());
  const TransportResponse response = post(transport, receiver.url());
  EXPECT_EQ(response.http_status, 0);
  EXPECT_FALSE(response.error.empty());
  EXPECT_TRUE(receiver.received().empty());
}

TEST(BeastTransportTls, WithoutTheBrokersCertificateAMutualTlsReceiverRefuses) {
  HttpReceiver receiver({}, 0, receiver_tls());
  BeastTransport transport(TlsClientOptions{Pki::get().path("ca.pem"), "", ""});
  const TransportResponse response = post(transport, receiver.url());
  EXPECT_EQ(response.http_status, 0);
  EXPECT_FALSE(response.error.empty());
  EXPECT_TRUE(receiver.received().empty());
}

// The test certificates name localhost, 127.0.0.1 and ::1. Dialled by name, the name is checked
// (and sent as SNI); dialled as ::ffff:127.0.0.1 — the same listener, an address the
// certificate does not name — the receiver is not trusted, though its chain is.
TEST(BeastTransportTls, TheCertificateMustNameTheHostOrAddressDialled) {
  HttpReceiver receiver({}, 0, receiver_tls());
  BeastTransport transport(broker_tls());
  const std::string port = std::to_string(receiver.port());
  const TransportResponse by_name = post(transport, "https://localhost:" + port + "/inbox");
  EXPECT_EQ(by_name.http_status, 200) << by_name.error;
  const TransportResponse unnamed =
      post(transport, "https://[::ffff:127.0.0.1]:" + port + "/inbox");
  EXPECT_EQ(unnamed.http_status, 0);
  EXPECT_NE(unnamed.error.find("TLS"), std::string::npos) << unnamed.error;
  EXPECT_EQ(receiver.received().size(), 1u);
}

TEST(BeastTransportTls, TheSameTransportStillSpeaksPlainHttp) {
  HttpReceiver plain;
  BeastTransport transport(broker_tls());
  const TransportResponse response = post(transport, plain.url());
  EXPECT_EQ(response.http_status, 200) << response.error;
  EXPECT_EQ(plain.received().size(), 1u);
  EXPECT_EQ(plain.received()[0].client_cn, "");
}

}  // namespace
}  // namespace sektorbro
