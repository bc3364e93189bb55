// systemd's notifications through the real binary (issue 11, item 6): the test plays systemd's
// side of sd_notify — a unix datagram socket named in NOTIFY_SOCKET — and reads what the broker
// says: READY=1 once it listens, WATCHDOG=1 every half of WATCHDOG_USEC, STOPPING=1 at SIGTERM.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <optional>

#include "broker/server/tests/daemon_process.hpp"
#include "tests/harness/broker_process.hpp"

namespace sektorbro::testing {
namespace {

using Clock = std::chrono::steady_clock;

// systemd's end of the notification socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof a.sun_path - 1);
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }

  // The next datagram, or nothing when none came within `timeout`.
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }
  // Datagrams until one holds `what` (returned), each seen one appended to `seen`; bounded.
  std::optional<std::string> until(const std::string& what, std::chrono::milliseconds bound,
                                   std::vector<std::string>& seen) {
    const auto end = Clock::now() + bound;
    while (Clock::now() < end) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
      auto d = next(left);
      if (!d) return std::nullopt;
      seen.push_back(*d);
      if (d->find(what) != std::string::npos) return d;
    }
    return std::nullopt;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

bool has_line(const std::string& datagram, const std::string& line) {
  return ("\n" + datagram + "\n").find("\n" + line + "\n") != std::string::npos;
}

class ServiceNotifyTest : public ::testing::Test {
 protected:
  // Starts the broker with NOTIFY_SOCKET (and WATCHDOG_USEC when given) in its environment only.
  void start(std::optional<std::string> watchdog_usec) {
    ASSERT_TRUE(socket.bound());
    ::setenv("NOTIFY_SOCKET", (dir.path() + "/notify.sock").c_str(), 1);
    ::unsetenv("WATCHDOG_PID");
    if (watchdog_usec) ::setenv("WATCHDOG_USEC", watchdog_usec->c_str(), 1);
    std::string error;
    broker = BrokerProcess::start(BrokerProcess::default_binary(), dir.path(),
                                  minimal_config(dir.path() + "/broker.db").dump(2), error);
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ASSERT_TRUE(broker) << error;
  }

  TempDir dir;
  NotifySocket socket{dir.path() + "/notify.sock"};
  std::unique_ptr<BrokerProcess> broker;
  std::vector<std::string> seen;
};

TEST_F(ServiceNotifyTest, ReadyThenWatchdogPingsThenStoppingAtSigterm) {
  // 400 ms: the broker pings every 200 ms.
  start("400000");
  auto ready = socket.until("READY=1", std::chrono::seconds{10}, seen);
  ASSERT_TRUE(ready) << "no READY=1";
  EXPECT_TRUE(has_line(*ready, "READY=1")) << *ready;
  EXPECT_NE(ready->find("STATUS=sektorbro "), std::string::npos) << *ready;
  EXPECT_NE(ready->find("listening on http://127.0.0.1:" + std::to_string(broker->port())),
            std::string::npos)
      << *ready;
  EXPECT_EQ(seen.size(), 1u) << "something came before READY=1: " << seen.front();

  // Three pings; the last two at about half the interval apart (not a burst, not far apart).
  Clock::time_point at[3];
  for (auto& t : at) {
    auto ping = socket.until("WATCHDOG=1", std::chrono::seconds{5}, seen);
    ASSERT_TRUE(ping) << "no WATCHDOG=1";
    EXPECT_TRUE(has_line(*ping, "WATCHDOG=1"));
    t = Clock::now();
  }
  const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(at[2] - at[1]);
  EXPECT_GE(gap.count(), 150) << "pings every " << gap.count() << " ms";
  EXPECT_LT(gap.count(), 2000) << "pings every " << gap.count() << " ms";

  auto exited = std::async(std::launch::async, [this] { return broker->terminate(); });
  auto stopping = socket.until("STOPPING=1", std::chrono::seconds{20}, seen);
  ASSERT_TRUE(stopping) << "no STOPPING=1";
  EXPECT_TRUE(has_line(*stopping, "STOPPING=1")) << *stopping;
  ASSERT_EQ(exited.wait_for(std::chrono::seconds{30}), std::future_status::ready);
  const int status = exited.get();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(ServiceNotifyTest, WithoutWatchdogUsecThereAreNoPings) {
  start(std::nullopt);
  ASSERT_TRUE(socket.until("READY=1", std::chrono::seconds{10}, seen)) << "no READY=1";
  auto exited = std::async(std::launch::async, [this] { return broker->terminate(); });
  ASSERT_TRUE(socket.until("STOPPING=1", std::chrono::seconds{20}, seen)) << "no STOPPING=1";
  for (const std::string& d : seen) EXPECT_FALSE(has_line(d, "WATCHDOG=1")) << d;
  ASSERT_EQ(exited.wait_for(std::chrono::seconds{30}), std::future_status::ready);
  EXPECT_EQ(exited.get(), 0);
}

}  // namespace
}  // namespace sektorbro::testing
