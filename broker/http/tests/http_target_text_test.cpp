// Issue 12, item 8: a request target that does not decode to text (invalid UTF-8, control
// characters) is answered 400 by the server itself; no handler sees it.
#include <gtest/gtest.h>

#include "broker/http/http_server.hpp"
#include "broker/http/request_target.hpp"
#include "broker/http/tests/test_server.hpp"

namespace sektorbro {
namespace {

using testing::RawClient;
using testing::TestServer;

TEST(RequestTargetText, AcceptsUtf8TextAndRefusesEverythingElse) {
  EXPECT_TRUE(target_is_text("/v1/messages/579/REQ1?state=pending"));
  EXPECT_TRUE(target_is_text("/v1/letters/%C3%86RE%20%E2%82%AC%F0%9F%98%80"));  // ÆRE €😀
  EXPECT_TRUE(target_is_text("/v1/x?name=%C3%B8&flag"));
  EXPECT_TRUE(target_is_text(""));
  // Printable ASCII without '%' is taken without decoding; anything else is decoded and checked.
  EXPECT_TRUE(target_is_text("/v1/a+b c?x=a+b&y=~!*()"));
  EXPECT_TRUE(target_is_text("/v1/letters/\xC3\x86RE"));  // raw UTF-8: decoded path
  for (const char* raw : {"/v1/letters/a\x01", "/v1/letters/a\x7F", "/v1/letters/\xFF",
                          "/v1/x?y=\x1F", "/v1/letters/\xC3"})
    EXPECT_FALSE(target_is_text(raw)) << raw;
  for (const char* bad : {
           "/v1/letters/%FF",              // never in UTF-8
           "/v1/letters/%C0%AF",           // overlong '/'
           "/v1/letters/%E0%80%AF",        // overlong, three bytes
           "/v1/letters/%ED%A0%80",        // surrogate half
           "/v1/letters/%F4%90%80%80",     // past U+10FFFF
           "/v1/letters/%C3",              // cut short
           "/v1/letters/%80",              // a stray continuation byte
           "/v1/letters/a%00b",            // NUL
           "/v1/letters/a%0Ab",            // a line break (log lines)
           "/v1/letters/a%7F",             // DEL
           "/v1/letters/%C2%85",           // C1 control NEL
           "/v1/messages?endpoint=%FF",    // in a query value
           "/v1/messages?%FE=1",           // in a query name
           "/v1/messages?endpoint=a%0Db",  // CR in a query value
       }) {
    EXPECT_FALSE(target_is_text(bad)) << bad;
  }
}

TEST(RequestTargetText, TheServerAnswers400AndNoHandlerRuns) {
  TestServer server;
  const auto port = server.listen_plain("127.0.0.1");
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();
  for (const char* bad : {"/v1/letters/%FF", "/v1/messages?endpoint=%C0%AF", "/v1/x/%00"}) {
    RawClient client(*port);
    const auto result = client.get(false, bad);
    EXPECT_EQ(result.status, 400) << bad << ": " << result.error;
    EXPECT_NE(result.body.find("not UTF-8 text"), std::string::npos) << result.body;
  }
  EXPECT_TRUE(server.peers().empty());
  // A target that is text still reaches the handler.
  RawClient client(*port);
  EXPECT_EQ(client.get(false, "/v1/letters/%C3%86").status, 200);
  EXPECT_EQ(server.peers().size(), 1u);
}

}  // namespace
}  // namespace sektorbro
