// HttpServer's plain-HTTP rules and the per-client connection cap, over real sockets.
#include "broker/http/http_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "broker/http/tests/test_server.hpp"

namespace sektorbro {
namespace {

using testing::RawClient;
using testing::TestServer;

// Answers 200 with the id of the thread it ran on and the server's requests in progress then.
asio::awaitable<HttpResponse> answer_from_this_thread(std::atomic<int>* handled,
                                                      const HttpServer* server) {
  ++*handled;
  std::ostringstream id;
  id << std::this_thread::get_id() << " " << server->requests_in_progress();
  co_return make_response(http::status::ok, id.str(), "text/plain");
}

// With a handler executor (the daemon's layout: connections on their own thread, the broker's
// handlers on the io thread), every request is handled on that executor's thread and its answer
// is written back on the connection, which stays open for the next request.
TEST(HttpServerThreads, EachRequestIsHandledOnTheHandlerExecutorAndAnsweredOnItsConnection) {
  asio::io_context server_io{1};
  asio::io_context handler_io{1};
  std::atomic<int> handled{0};
  const HttpServer* self = nullptr;
  HttpServer server(server_io, {}, [&handled, &self](HttpRequest, PeerIdentity) {
    return answer_from_this_thread(&handled, self);
  });
  self = &server;
  server.set_handler_executor(handler_io.get_executor());
  const auto port = server.listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.error().detail;
  auto server_work = asio::make_work_guard(server_io);
  auto handler_work = asio::make_work_guard(handler_io);
  std::thread server_thread([&] { server_io.run(); });
  std::thread handler_thread([&] { handler_io.run(); });
  std::ostringstream handler_id;
  handler_id << handler_thread.get_id();
  std::ostringstream server_id;
  server_id << server_thread.get_id();

  {
    RawClient client(*port);
    for (int i = 0; i < 3; ++i) {
      const auto result = client.get(true);
      ASSERT_EQ(result.status, 200) << result.error;
      // Handled on the executor's thread, and counted in progress while it was (the drain at
      // shutdown waits for it, though the handler has not counted it yet when it is posted).
      EXPECT_EQ(result.body, handler_id.str() + " 1");
      EXPECT_NE(result.body, server_id.str() + " 1");
    }
  }
  EXPECT_EQ(handled.load(), 3);
  EXPECT_EQ(server.buffered_bytes(), 0u);
  // The count drops once the answer is written, which may be just after the client read it.
  const auto bound = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (server.requests_in_progress() != 0 && std::chrono::steady_clock::now() < bound)
    std::this_thread::yield();
  EXPECT_EQ(server.requests_in_progress(), 0u);

  asio::post(server_io, [&server] { server.stop(); });
  server_work.reset();
  handler_work.reset();
  server_io.stop();
  handler_io.stop();
  server_thread.join();
  handler_thread.join();
}

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
