// HttpServer's plain-HTTP rules and the per-client connection cap, over real sockets.
#include "broker/http/http_server.hpp"

#include <gtest/gtest.h>

#include "broker/http/tests/test_server.hpp"

namespace sektorbro {
namespace {

using testing::RawClient;
using testing::TestServer;

TEST(HttpServerPlain, IsRefusedOnAnAddressThatIsNotLoopback) {
  for (const char* address : {"0.0.0.0", "::", "::ffff:127.0.0.1"}) {
    TestServer server;
    const auto port = server.listen_plain(address);
    ASSERT_FALSE(port.ok()) << address;
    EXPECT_EQ(port.error().code, Errc::kConfig);
    EXPECT_EQ(port.error().detail, std::string("plain HTTP is allowed on loopback only, not on ") +
                                       address + ": configure tls");
  }
}

TEST(HttpServerPlain, ServesOnLoopbackAndTellsTheHandlerItIsNotTls) {
  TestServer server;
  const auto port = server.listen_plain("127.0.0.1");
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();
  RawClient client(*port);
  const auto result = client.get(false);
  ASSERT_EQ(result.status, 200) << result.error;
  const auto peers = server.peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_FALSE(peers[0].tls);
  EXPECT_FALSE(peers[0].client_verified);
  EXPECT_EQ(peers[0].subject_cn, "");
  EXPECT_EQ(peers[0].remote_address, "127.0.0.1");
}

TEST(HttpServerConnections, ExtraConnectionsFromOneAddressAreClosed) {
  HttpLimits limits;
  limits.max_connections_per_client = 2;
  TestServer server(limits);
  const auto port = server.listen_plain("127.0.0.1");
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();

  // Two kept-alive connections, each answered once: both are open and counted.
  RawClient first(*port);
  ASSERT_EQ(first.get(true).status, 200);
  RawClient second(*port);
  ASSERT_EQ(second.get(true).status, 200);

  // The third from the same address is closed unanswered.
  RawClient third(*port);
  EXPECT_TRUE(third.closed_by_server());
  EXPECT_EQ(server.peers().size(), 2u);

  // Another client address is not affected.
  RawClient elsewhere(*port, "127.0.0.2");
  const auto other = elsewhere.get(true);
  ASSERT_EQ(other.status, 200) << other.error;
  EXPECT_EQ(server.peers().back().remote_address, "127.0.0.2");

  // The first closes (the server ends that session before it accepts anything else), which
  // frees a place.
  ASSERT_EQ(first.get(false).status, 200);
  EXPECT_TRUE(first.closed_by_server());
  RawClient fourth(*port);
  const auto result = fourth.get(true);
  EXPECT_EQ(result.status, 200) << result.error;
  EXPECT_EQ(server.peers().size(), 5u);
}

}  // namespace
}  // namespace sektorbro
