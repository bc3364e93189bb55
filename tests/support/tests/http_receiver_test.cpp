#include "tests/support/http_receiver.hpp"

// clang-format off
#include <utility>
// clang-format on

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sektorbro::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

// A plain blocking Beast client: one connection, several requests on it.
class Client {
 public:
  explicit Client(unsigned short port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  http::response<http::string_body> post(const std::string& target, const std::string& body,
                                         const std::string& content_type, bool keep_alive = true) {
    http::request<http::string_body> request(http::verb::post, target, 11);
    request.set(http::field::host, "127.0.0.1");
    request.set(http::field::content_type, content_type);
    request.keep_alive(keep_alive);
    request.body() = body;
    request.prepare_payload();
    http::write(socket_, request);
    http::response<http::string_body> response;
    http::read(socket_, buffer_, response);
    return response;
  }

  // True when the server closed the connection (a read sees end of stream).
  bool closed_by_server() {
    http::response<http::string_body> response;
    beast::error_code ec;
    http::read(socket_, buffer_, response, ec);
    return ec == http::error::end_of_stream || ec == asio::error::eof;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

TEST(HttpReceiver, RecordsTheRequestAndRepliesAsPlanned) {
  HttpReceiver receiver([](const ReceivedRequest& r) {
    return ReplyPlan{202, "<ok>" + r.body + "</ok>", "text/plain", milliseconds{0}};
  });
  EXPECT_NE(receiver.port(), 0);
  EXPECT_EQ(receiver.url(), "http://127.0.0.1:" + std::to_string(receiver.port()) + "/inbox");
  EXPECT_EQ(receiver.url("/x"), "http://127.0.0.1:" + std::to_string(receiver.port()) + "/x");

  Client client(receiver.port());
  const auto response = client.post("/inbox", "hello", "application/xml");
  EXPECT_EQ(response.result_int(), 202u);
  EXPECT_EQ(response.body(), "<ok>hello</ok>");
  EXPECT_EQ(response[http::field::content_type], "text/plain");

  const auto received = receiver.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].target, "/inbox");
  EXPECT_EQ(received[0].content_type, "application/xml");
  EXPECT_EQ(received[0].body, "hello");
}

TEST(HttpReceiver, DefaultHandlerAnswers200WithAnEmptyBody) {
  HttpReceiver receiver;
  Client client(receiver.port());
  const auto response = client.post("/inbox", "x", "application/xml");
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_TRUE(response.body().empty());
}

TEST(HttpReceiver, KeepsTheConnectionAliveAcrossRequests) {
  HttpReceiver receiver;
  Client client(receiver.port());
  for (int i = 0; i < 3; ++i) {
    const auto response = client.post("/inbox", std::to_string(i), "application/xml");
    EXPECT_EQ(response.result_int(), 200u);
    EXPECT_TRUE(response.keep_alive());
  }
  const auto received = receiver.received();
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[2].body, "2");
}

TEST(HttpReceiver, ClosesWhenTheClientAsksForIt) {
  HttpReceiver receiver;
  Client client(receiver.port());
  const auto response = client.post("/inbox", "x", "application/xml", /*keep_alive=*/false);
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.closed_by_server());
}

TEST(HttpReceiver, SetHandlerAppliesToLaterRequests) {
  HttpReceiver receiver;
  Client client(receiver.port());
  EXPECT_EQ(client.post("/inbox", "a", "application/xml").result_int(), 200u);
  receiver.set_handler([](const ReceivedRequest&) { return ReplyPlan{503, "busy"}; });
  const auto response = client.post("/inbox", "b", "application/xml");
  EXPECT_EQ(response.result_int(), 503u);
  EXPECT_EQ(response.body(), "busy");
}

TEST(HttpReceiver, AThrowingHandlerGives500) {
  HttpReceiver receiver([](const ReceivedRequest&) -> ReplyPlan { throw std::runtime_error("x"); });
  Client client(receiver.port());
  EXPECT_EQ(client.post("/inbox", "a", "application/xml").result_int(), 500u);
  EXPECT_EQ(client.post("/inbox", "b", "application/xml").result_int(), 500u);
}

TEST(HttpReceiver, DelaysTheReplyServerSide) {
  HttpReceiver receiver([](const ReceivedRequest&) {
    ReplyPlan plan;
    plan.delay = milliseconds{300};
    return plan;
  });
  Client client(receiver.port());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.post("/inbox", "a", "application/xml").result_int(), 200u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds{300});
}

TEST(HttpReceiver, WaitUntilSeesRequestsFromOtherThreadsAndTimesOut) {
  HttpReceiver receiver;
  std::thread sender([port = receiver.port()] {
    Client client(port);
    (void)client.post("/inbox", "from-thread", "application/xml");
  });
  EXPECT_TRUE(receiver.wait_until(
      [](const std::vector<ReceivedRequest>& r) {
        return r.size() == 1 && r[0].body == "from-thread";
      },
      milliseconds{5000}));
  sender.join();
  EXPECT_FALSE(receiver.wait_until(
      [](const std::vector<ReceivedRequest>& r) { return r.size() > 1; }, milliseconds{20}));
}

TEST(HttpReceiver, StopsWithConnectionsStillOpenAndRepliesPending) {
  auto receiver = std::make_unique<HttpReceiver>([](const ReceivedRequest&) {
    ReplyPlan plan;
    plan.delay = std::chrono::hours{1};
    return plan;
  });
  std::unique_ptr<Client> idle = std::make_unique<Client>(receiver->port());
  std::thread pending([port = receiver->port()] {
    Client client(port);
    EXPECT_THROW((void)client.post("/inbox", "never answered", "application/xml"),
                 boost::system::system_error);
  });
  ASSERT_TRUE(receiver->wait_until([](const std::vector<ReceivedRequest>& r) { return !r.empty(); },
                                   milliseconds{5000}));
  receiver.reset();  // must not hang on the hour-long delay or the idle connection
  pending.join();
}

TEST(HttpReceiver, ListensOnAGivenPortAndNamesItWhenTaken) {
  unsigned short port = 0;
  { port = HttpReceiver().port(); }  // a port that was free a moment ago
  HttpReceiver fixed({}, port);
  EXPECT_EQ(fixed.port(), port);
  Client client(port);
  EXPECT_EQ(client.post("/inbox", "x", "application/xml").result_int(), 200u);
  try {
    HttpReceiver second({}, port);
    FAIL() << "a second receiver bound the same port";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sektorbro::testing
