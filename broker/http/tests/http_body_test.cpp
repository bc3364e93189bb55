// Issue 12, item 9: the server answers as HTTP says — 408 for a body that does not arrive in
// time, 400 for broken chunk framing — and the Content-Type a message may be posted with is
// read as a media type (accepts_xml_content_type), not searched for "xml".
#include <gtest/gtest.h>

#include "broker/http/http_server.hpp"
#include "broker/http/media_type.hpp"
#include "broker/http/tests/test_server.hpp"

namespace sektorbro {
namespace {

using testing::RawClient;
using testing::TestServer;

TEST(HttpBody, ASlowBodyGets408) {
  HttpLimits limits;
  limits.body_timeout = std::chrono::milliseconds{200};
  TestServer server(limits);
  const auto port = server.listen_plain("127.0.0.1");
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();
  RawClient client(*port);
  ASSERT_TRUE(
      client.send("POST /v1/messages HTTP/1.1\r\nHost: localhost\r\n"
                  "Content-Type: application/xml\r\nContent-Length: 100\r\n\r\n<Emess"));
  const auto result = client.read_response();  // the client waits up to 10 s
  EXPECT_EQ(result.status, 408) << result.error;
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_TRUE(server.peers().empty());
}

// A lingering close (RFC 9112 §9.6; http_server.cpp, linger): a 413 is answered from the
// header, while the client may still be sending the body. A server that closed with the body
// unread made the kernel answer with a reset, and the client's send failed before it read the
// refusal. 16 MiB cannot wait in the two sockets' buffers, so the send lasts past the refusal.
TEST(HttpBody, ARefusedBodyStillBeingSentGetsItsAnswerNotAReset) {
  HttpLimits limits;
  limits.max_body_bytes = 1024;
  TestServer server(limits);
  const auto port = server.listen_plain("127.0.0.1");
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();
  RawClient client(*port);
  const std::size_t body = 16 * 1024 * 1024;
  EXPECT_TRUE(
      client.send("POST /v1/messages HTTP/1.1\r\nHost: localhost\r\n"
                  "Content-Type: application/xml\r\nContent-Length: " +
                  std::to_string(body) + "\r\n\r\n" + std::string(body, 'x')))
      << "the send failed: the server reset the connection";
  const auto result = client.read_response();
  EXPECT_EQ(result.status, 413) << result.error;
  EXPECT_TRUE(client.closed_by_server());
}

TEST(HttpBody, BrokenChunkFramingGets400) {
  for (const char* body : {
           "zz\r\nabc\r\n0\r\n\r\n",        // a chunk size that is no hex number
           "3\r\nabcdef\r\n0\r\n\r\n",      // more data than the chunk size says
           "3;\x01=x\r\nabc\r\n0\r\n\r\n",  // a control character in a chunk extension
       }) {
    TestServer server;
    const auto port = server.listen_plain("127.0.0.1");
    ASSERT_TRUE(port.ok()) << port.error().detail;
    server.start();
    RawClient client(*port);
    ASSERT_TRUE(client.send(std::string("POST /v1/messages HTTP/1.1\r\nHost: localhost\r\n"
                                        "Transfer-Encoding: chunked\r\n\r\n") +
                            body));
    const auto result = client.read_response();
    EXPECT_EQ(result.status, 400) << result.error;
    EXPECT_TRUE(server.peers().empty());
  }
}

TEST(HttpBody, GoodChunkedBodyStillServed) {
  TestServer server;
  const auto port = server.listen_plain("127.0.0.1");
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();
  RawClient client(*port);
  ASSERT_TRUE(
      client.send("POST /v1/messages HTTP/1.1\r\nHost: localhost\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
  EXPECT_EQ(client.read_response().status, 200);
}

TEST(MediaType, ParsesTypeSubtypeAndParameters) {
  const auto m = parse_media_type("Application/XML ; Charset=\"UTF-8\";q=\"a\\\"b\"");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, "application");
  EXPECT_EQ(m->subtype, "xml");
  EXPECT_EQ(m->parameters.at("charset"), "UTF-8");
  EXPECT_EQ(m->parameters.at("q"), "a\"b");
  for (const char* bad : {"", "xml", "application/", "/xml", "application/xml; charset",
                          "application/xml; charset=\"utf-8", "application/xml x",
                          "application /xml", "application/xml; =x", "text/xml, text/plain"}) {
    EXPECT_FALSE(parse_media_type(bad).has_value()) << bad;
  }
}

TEST(MediaType, AcceptsXmlAsTheMediaTypeSaysIt) {
  for (const char* good :
       {"application/xml", "application/xml; charset=utf-8", "APPLICATION/XML;CHARSET=UTF-8",
        "text/xml", "text/xml; charset=iso-8859-1", "application/fhir+xml",
        "application/xml; charset=\"utf-8\"", " application/xml ", "application/xml; charset=UTF-8",
        "text/xml; charset=utf-8", "text/xml; charset=UTF-8", "application/xml; charset=utf-8;"}) {
    EXPECT_TRUE(accepts_xml_content_type(good)) << good;
  }
  for (const char* bad :
       {"text/plain; x=xml", "text/plain; charset=xml", "application/json", "application/xmlx",
        "application/x-xml", "application/xml-dtd", "text/html; xml", "xml", "application/+xml",
        "image/svg+xml", "multipart/xml", "application/xml; charset", "", "application/xml,",
        "application/xml; charset=utf-8 x", "application/xml; charset=utf-8,", "text/xml;;"}) {
    EXPECT_FALSE(accepts_xml_content_type(bad)) << bad;
  }
}

TEST(MediaType, AcceptsFhirJsonButNotPlainJson) {
  for (const char* good : {"application/fhir+json", "application/fhir+json; charset=utf-8",
                           "Application/FHIR+JSON; fhirVersion=4.0"}) {
    EXPECT_TRUE(accepts_fhir_json_content_type(good)) << good;
    EXPECT_FALSE(accepts_xml_content_type(good)) << good;
  }
  for (const char* bad : {"application/json", "text/fhir+json", "application/fhir+json x",
                          "application/fhir+jsonx", "application/json+fhir; x", ""}) {
    EXPECT_FALSE(accepts_fhir_json_content_type(bad)) << bad;
  }
}

}  // namespace
}  // namespace sektorbro
