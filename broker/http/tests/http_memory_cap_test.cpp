// Issue 12, item 6: the bytes buffered for request bodies across ALL connections are capped
// (HttpLimits::max_buffered_bytes). A request whose body would go over the cap is answered 503
// without its body being read; the bytes are counted again as soon as a request is done.
#include <gtest/gtest.h>

#include "broker/http/http_server.hpp"
#include "broker/http/tests/test_server.hpp"

namespace sektorbro {
namespace {

using testing::RawClient;
using testing::TestServer;

// The header of a POST announcing `body_bytes`: the server decides on the header alone.
std::string post_header(std::size_t body_bytes) {
  return "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
         std::to_string(body_bytes) + "\r\n\r\n";
}

// A whole POST after which the server closes the connection: once the client sees the close,
// the server has left the request (and its counted bytes) behind.
std::string post(std::size_t body_bytes) {
  return "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
         "Content-Length: " +
         std::to_string(body_bytes) + "\r\n\r\n" + std::string(body_bytes, 'x');
}

TEST(HttpMemoryCap, BodiesOverTheCapAcrossClientsGet503AndTheBytesComeBack) {
  HttpLimits limits;
  limits.max_body_bytes = 1024 * 1024;
  limits.max_buffered_bytes = 1536 * 1024;  // one full body fits, two do not
  TestServer server(limits);
  const auto port = server.listen_plain("127.0.0.1");
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();

  // The first client's body is in and its handler is busy: its bytes stay buffered.
  server.hold_requests();
  RawClient first(*port, "127.0.0.1");
  ASSERT_TRUE(first.send(post(1024 * 1024)));
  ASSERT_TRUE(server.wait_for_requests(1));
  EXPECT_EQ(server.buffered_bytes(), 1024u * 1024u);

  // Another client address (the per-client cap does not apply): over the overall cap → 503.
  RawClient second(*port, "127.0.0.2");
  ASSERT_TRUE(second.send(post_header(1024 * 1024)));
  const auto refused = second.read_response();
  EXPECT_EQ(refused.status, 503) << refused.error;
  EXPECT_NE(refused.body.find("busy"), std::string::npos) << refused.body;
  EXPECT_TRUE(second.closed_by_server());
  // A small body still fits beside the first.
  RawClient third(*port, "127.0.0.3");
  ASSERT_TRUE(third.send(post(1000)));
  ASSERT_TRUE(server.wait_for_requests(2));

  server.release_requests();
  EXPECT_EQ(first.read_response().status, 200);
  EXPECT_EQ(third.read_response().status, 200);
  EXPECT_TRUE(first.closed_by_server());
  EXPECT_TRUE(third.closed_by_server());

  // Everything answered: a full body is taken again, and once its connection is closed (the
  // server has then left the request behind) nothing is counted any more.
  RawClient again(*port, "127.0.0.2");
  ASSERT_TRUE(again.send(post(1024 * 1024)));
  EXPECT_EQ(again.read_response().status, 200);
  EXPECT_TRUE(again.closed_by_server());
  EXPECT_EQ(server.buffered_bytes(), 0u);
}

// A chunked body's size is known only at its end: it is counted as it arrives.
TEST(HttpMemoryCap, AChunkedBodyIsCountedAsItArrives) {
  HttpLimits limits;
  limits.max_body_bytes = 1024 * 1024;
  limits.max_buffered_bytes = 1536 * 1024;
  TestServer server(limits);
  const auto port = server.listen_plain("127.0.0.1");
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();
  server.hold_requests();
  RawClient small(*port, "127.0.0.1");
  ASSERT_TRUE(small.send("POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
  ASSERT_TRUE(server.wait_for_requests(1));
  const std::size_t counted = server.buffered_bytes();
  EXPECT_GE(counted, 3u);
  EXPECT_LT(counted, 64u * 1024u);  // what the body holds, not the body limit
  // So a full fixed-length body still fits beside it.
  RawClient full(*port, "127.0.0.2");
  ASSERT_TRUE(full.send(post(1024 * 1024)));
  ASSERT_TRUE(server.wait_for_requests(2));
  server.release_requests();
  EXPECT_EQ(small.read_response().status, 200);
  EXPECT_EQ(full.read_response().status, 200);
}

TEST(HttpMemoryCap, AChunkedBodyThatOutgrowsTheCapGets503) {
  HttpLimits limits;
  limits.max_body_bytes = 1024 * 1024;
  limits.max_buffered_bytes = 1536 * 1024;
  TestServer server(limits);
  const auto port = server.listen_plain("127.0.0.1");
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();
  server.hold_requests();
  RawClient first(*port, "127.0.0.1");
  ASSERT_TRUE(first.send(post(1024 * 1024)));
  ASSERT_TRUE(server.wait_for_requests(1));
  // 768 KiB in chunks of 64 KiB: over the 512 KiB left.
  std::string chunked = "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 12; ++i) chunked += "10000\r\n" + std::string(64 * 1024, 'y') + "\r\n";
  chunked += "0\r\n\r\n";
  RawClient second(*port, "127.0.0.2");
  second.send(chunked);  // the server may stop reading (and close) before all of it is sent
  const auto refused = second.read_response();
  EXPECT_EQ(refused.status, 503) << refused.error;
  EXPECT_EQ(server.peers().size(), 1u);
  server.release_requests();
  EXPECT_EQ(first.read_response().status, 200);
}

}  // namespace
}  // namespace sektorbro
