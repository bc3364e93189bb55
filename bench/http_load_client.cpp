#include "bench/http_load_client.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "bench/http_head.hpp"
// clang-format off
#include <utility>  // before Asio: Boost 1.74's awaitable uses std::exchange without it
#include "broker/http/asio.hpp"
// clang-format on

namespace sektorbro::bench {
namespace {

struct Target {
  tcp::endpoint endpoint;
  std::string host_port;  // "127.0.0.1:PORT", the Host header
  std::string path;
};

// "http://127.0.0.1:PORT/path": the bench talks to a broker on loopback, plain HTTP.
Target parse_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) throw std::invalid_argument("lean load: not an http URL: " + url);
  const std::size_t slash = url.find('/', kScheme.size());
  const std::string authority = url.substr(kScheme.size(), slash - kScheme.size());
  const std::size_t colon = authority.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("lean load: no port in " + url);
  Target t;
  t.endpoint = tcp::endpoint(asio::ip::make_address(authority.substr(0, colon)),
                             static_cast<unsigned short>(std::stoul(authority.substr(colon + 1))));
  t.host_port = authority;
  t.path = slash == std::string::npos ? "/" : url.substr(slash);
  return t;
}

// One answer to one request: a status (0: none, see error) and, for anything but 202, the body.
struct Answer {
  int status = 0;
  std::string error;
  std::string body;
};

// What the reports print: as describe() in sektorbro_load.cpp.
std::string describe(const Answer& a) {
  const auto why = a.body.find("<RefuseText>");
  return "HTTP " + std::to_string(a.status) + (a.error.empty() ? "" : " (" + a.error + ")") + ": " +
         a.body.substr(why == std::string::npos ? 0 : why, 300);
}

// One keep-alive connection and its prebuilt request (head + letter); the id is written into
// `request` at `id_at` before each send.
struct Connection {
  explicit Connection(asio::io_context& io) : socket(io), timer(io) {}
  tcp::socket socket;
  asio::steady_timer timer;  // the start of the window, or the next scheduled send
  std::string request;
  std::vector<char> in = std::vector<char>(4096);
  std::size_t used = 0;  // bytes of `in` read and not yet taken as an answer
  SteadyClock::time_point deadline = SteadyClock::time_point::max();  // of the pending request
  bool timed_out = false;
};

// The io_context, the connections and what they have counted. Everything runs on the thread
// that calls run(), so nothing here is locked.
class Load {
 public:
  Load(const std::string& url, const LetterTemplate& letters, int clients, char prefix,
       std::atomic<std::uint64_t>& next_id, std::chrono::milliseconds timeout)
      : target_(parse_url(url)), prefix_(prefix), next_id_(next_id), timeout_(timeout) {
    const std::string head = "POST " + target_.path + " HTTP/1.1\r\nHost: " + target_.host_port +
                             "\r\nContent-Type: application/xml; charset=utf-8\r\n"
                             "Content-Length: " +
                             std::to_string(letters.xml().size()) + "\r\n\r\n";
    for (const std::size_t at : letters.id_offsets()) id_at_.push_back(head.size() + at);
    for (int c = 0; c < clients; ++c) {
      conns_.push_back(std::make_unique<Connection>(io_));
      conns_.back()->request = head + letters.xml();
    }
  }

  // Runs `body(connection, index)` on every connection and a watchdog that closes a connection
  // whose request is older than the timeout; returns when all bodies have returned.
  template <typename Body>
  void run(Body body) {
    active_ = static_cast<int>(conns_.size());
    auto rethrow = [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    };
    for (std::size_t i = 0; i < conns_.size(); ++i)
      asio::co_spawn(io_, run_one(body, *conns_[i], static_cast<int>(i)), rethrow);
    asio::co_spawn(io_, watch(), rethrow);
    io_.run();
  }

  // Opens the connection if it is closed; the error, empty when it is open.
  asio::awaitable<std::string> connect(Connection& c) {
    if (c.socket.is_open()) co_return std::string();
    boost::system::error_code ec;
    co_await c.socket.async_connect(target_.endpoint,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) c.socket.set_option(tcp::no_delay(true), ec);
    if (!ec) co_return std::string();
    boost::system::error_code ignored;
    c.socket.close(ignored);
    co_return "connect: " + ec.message();
  }

  // Sends the next letter on `c` (opening it first if needed); the error, empty when sent. On
  // an error the socket is closed, so the next send opens a new one.
  asio::awaitable<std::string> send(Connection& c) {
    std::string error = co_await connect(c);
    if (!error.empty()) co_return error;
    LetterTemplate::write_id(id_buffer_, prefix_, next_id_++);
    for (const std::size_t at : id_at_)
      std::copy(id_buffer_, id_buffer_ + LetterTemplate::kIdLength, c.request.data() + at);
    boost::system::error_code ec;
    if (c.deadline == SteadyClock::time_point::max()) c.deadline = SteadyClock::now() + timeout_;
    co_await asio::async_write(c.socket, asio::buffer(c.request),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return fail(c, ec);
    co_return std::string();
  }

  // Reads the answer to the oldest request sent on `c` (bytes after it, the start of the next
  // answer, stay in c.in). On any error, a malformed or chunked answer or "Connection: close"
  // the socket is closed, so the next send opens a new one.
  asio::awaitable<Answer> receive(Connection& c, bool more_pending) {
    Answer a;
    boost::system::error_code ec;
    bool close = false;
    for (;;) {
      const HttpHead h = parse_http_head(std::string_view(c.in.data(), c.used), true);
      if (h.state == HeadState::malformed || h.chunked) {
        a.error =
            h.chunked ? "chunked answer (not supported by the lean load)" : "malformed answer";
        break;
      }
      if (h.state == HeadState::complete) {
        const std::size_t total = h.size + h.content_length;
        if (c.used >= total) {
          a.status = h.status;
          if (h.status != 202) a.body.assign(c.in.data() + h.size, h.content_length);
          close = h.close;
          std::copy(c.in.begin() + static_cast<std::ptrdiff_t>(total),
                    c.in.begin() + static_cast<std::ptrdiff_t>(c.used), c.in.begin());
          c.used -= total;
          break;
        }
        if (c.in.size() < total) c.in.resize(total);
      } else if (c.used == c.in.size()) {
        c.in.resize(c.in.size() * 2);
      }
      c.used += co_await c.socket.async_read_some(
          asio::buffer(c.in.data() + c.used, c.in.size() - c.used),
          asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        a.error = fail(c, ec);
        co_return a;
      }
    }
    c.deadline = more_pending ? SteadyClock::now() + timeout_ : SteadyClock::time_point::max();
    if (close || !a.error.empty()) close_connection(c);
    co_return a;
  }

  // One letter sent and its answer read, as post_at_full_speed's clients do.
  asio::awaitable<Answer> exchange(Connection& c) {
    Answer a;
    a.error = co_await send(c);
    if (!a.error.empty()) co_return a;
    co_return co_await receive(c, false);
  }

  // Closes `c` after an error; what to report.
  std::string fail(Connection& c, const boost::system::error_code& ec) {
    std::string error = c.timed_out ? "no answer within the time bound" : ec.message();
    close_connection(c);
    return error;
  }

  // Closes `c`, dropping what was read on it; the next send opens a new one.
  static void close_connection(Connection& c) {
    boost::system::error_code ignored;
    c.socket.close(ignored);
    c.used = 0;
    c.deadline = SteadyClock::time_point::max();
    c.timed_out = false;
  }

  void note_failure(const Answer& a) {
    if (failed_++ == 0) first_failure_ = describe(a);
  }

  std::uint64_t failed() const { return failed_; }
  const std::string& first_failure() const { return first_failure_; }

 private:
  template <typename Body>
  asio::awaitable<void> run_one(Body body, Connection& c, int index) {
    co_await body(c, index);
    if (--active_ == 0) watchdog_.cancel();
  }

  asio::awaitable<void> watch() {
    while (active_ > 0) {
      boost::system::error_code ec;
      watchdog_.expires_after(std::chrono::milliseconds{250});
      co_await watchdog_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      const auto now = SteadyClock::now();
      for (auto& c : conns_) {
        if (c->deadline < now) {
          c->timed_out = true;
          c->socket.close(ec);  // the pending read or write ends with operation_aborted
        }
      }
    }
  }

  asio::io_context io_{1};
  Target target_;
  char prefix_;
  std::atomic<std::uint64_t>& next_id_;
  std::chrono::milliseconds timeout_;
  std::vector<std::size_t> id_at_;
  std::vector<std::unique_ptr<Connection>> conns_;
  asio::steady_timer watchdog_{io_};
  int active_ = 0;
  char id_buffer_[LetterTemplate::kIdLength] = {};
  std::uint64_t failed_ = 0;
  std::string first_failure_;
};

}  // namespace

IntakeResult lean_post_at_full_speed(const std::string& url, const LetterTemplate& letters,
                                     int clients, SteadyClock::time_point start,
                                     SteadyClock::time_point end, char prefix,
                                     std::atomic<std::uint64_t>& next_id, int pipeline) {
  Load load(url, letters, clients, prefix, next_id, std::chrono::seconds{30});
  std::uint64_t accepted = 0, late = 0;
  load.run([&](Connection& c, int) -> asio::awaitable<void> {
    co_await load.connect(c);  // before the window; a failure here is retried by send()
    boost::system::error_code ec;
    c.timer.expires_at(start);  // everyone starts together
    co_await c.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    int in_flight = 0;  // sent on this connection and not yet answered
    // Requests sent on a connection that then broke are never answered: each is a failure.
    auto lose_in_flight = [&](const std::string& error) {
      for (; in_flight > 0; --in_flight) load.note_failure(Answer{0, error, {}});
    };
    while (in_flight > 0 || SteadyClock::now() < end) {
      if (in_flight < pipeline && SteadyClock::now() < end) {
        const std::string error = co_await load.send(c);
        if (error.empty()) {
          ++in_flight;
        } else {
          lose_in_flight(error);
          load.note_failure(Answer{0, error, {}});
        }
        continue;
      }
      const Answer a = co_await load.receive(c, in_flight > 1);
      --in_flight;
      const bool in_window = SteadyClock::now() < end;
      if (a.status == 202)
        ++(in_window ? accepted : late);
      else
        load.note_failure(a);
      if (!c.socket.is_open()) lose_in_flight(a.error.empty() ? describe(a) : a.error);
    }
  });
  return {accepted, late, load.failed(), std::chrono::duration<double>(end - start).count(),
          load.first_failure()};
}

LatencyResult lean_post_at_rate(const std::string& url, const LetterTemplate& letters, int clients,
                                int rate, double seconds, char prefix,
                                std::atomic<std::uint64_t>& next_id) {
  const auto total = static_cast<std::int64_t>(rate * seconds);
  Load load(url, letters, clients, prefix, next_id, std::chrono::seconds{10});
  const auto t0 = SteadyClock::now() + std::chrono::milliseconds{200};
  LatencyResult result;
  result.ms.reserve(static_cast<std::size_t>(total));
  load.run([&](Connection& c, int index) -> asio::awaitable<void> {
    co_await load.connect(c);  // before t0; a failure here is retried by exchange()
    for (std::int64_t k = index; k < total; k += clients) {
      const auto scheduled = t0 + std::chrono::microseconds{1'000'000LL * k / rate};
      boost::system::error_code ec;
      c.timer.expires_at(scheduled);  // pacing the offered load
      co_await c.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      const Answer a = co_await load.exchange(c);
      if (a.status == 202)
        result.ms.push_back(
            std::chrono::duration<double, std::milli>(SteadyClock::now() - scheduled).count());
      else
        load.note_failure(a);
    }
  });
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  std::sort(result.ms.begin(), result.ms.end());
  result.failed = load.failed();
  result.first_failure = load.first_failure();
  result.offered_per_second = rate;
  result.achieved_per_second = static_cast<double>(result.ms.size()) / elapsed;
  return result;
}

}  // namespace sektorbro::bench
