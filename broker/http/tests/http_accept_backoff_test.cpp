// Issue 12, item 7: out of file descriptors, the accept loop backs off instead of spinning
// (it spun at ~95 % of a core), logs it once, and serves again once descriptors are free.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "broker/http/http_server.hpp"
#include "broker/http/tests/test_server.hpp"

namespace sektorbro {
namespace {

using testing::RawClient;
using testing::TestServer;

std::chrono::nanoseconds process_cpu_time() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return std::chrono::seconds{t.tv_sec} + std::chrono::nanoseconds{t.tv_nsec};
}

TEST(HttpAcceptBackoff, OutOfDescriptorsTheAcceptLoopWaitsInsteadOfSpinning) {
  TestServer server;
  const auto port = server.listen_plain("127.0.0.1");
  ASSERT_TRUE(port.ok()) << port.error().detail;
  server.start();

  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Room for what this process holds now and a few more, then every descriptor but one taken.
  int highest = 0;
  for (int fd = 0; fd < 4096; ++fd)
    if (fcntl(fd, F_GETFD) != -1) highest = fd;
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(highest + 64);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> filler;
  for (;;) {
    const int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) break;
    filler.push_back(fd);
  }
  ASSERT_FALSE(filler.empty());
  close(filler.back());  // one left: for the client's socket; the server gets none to accept
  filler.pop_back();

  {
    RawClient client(*port);  // connected in the kernel's backlog, not accepted
    ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    // A measuring window, not a wait for work: how much CPU does the process use meanwhile?
    const auto cpu_before = process_cpu_time();
    const auto wall_before = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
    const auto cpu = process_cpu_time() - cpu_before;
    const auto wall = std::chrono::steady_clock::now() - wall_before;
    EXPECT_LT(cpu, wall / 10) << "the accept loop spins: "
                              << std::chrono::duration_cast<std::chrono::milliseconds>(cpu).count()
                              << " ms CPU in "
                              << std::chrono::duration_cast<std::chrono::milliseconds>(wall).count()
                              << " ms";

    // Descriptors free again: the waiting connection is accepted and served.
    for (const int fd : filler) close(fd);
    filler.clear();
    const auto result = client.read_response();
    EXPECT_EQ(result.status, 200) << result.error;
  }
  setrlimit(RLIMIT_NOFILE, &saved);
}

}  // namespace
}  // namespace sektorbro
