// Issue 12, items 12 and 15, through the real binary: how the broker starts and stops.
//  - 15: "broker ready" is logged only once the listener is bound; a port in use fails start-up
//    without it.
//  - 12: SIGTERM drains: nothing new is accepted, a delivery in flight is let finish and its
//    outcome committed, then the process exits 0 — so a restart does not deliver it again.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

#include "tests/integration/broker_fixture.hpp"

namespace sektorbro::testing {
namespace {

class LifecycleTest : public BrokerFixture {};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Whether a TCP connection to 127.0.0.1:port is accepted (connect succeeds).
bool accepts_connections(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// The socket links ("socket:[inode]") among a process's open descriptors.
std::set<std::string> socket_links(const std::string& fd_dir) {
  std::set<std::string> links;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(fd_dir, ec)) {
    std::error_code gone;  // a descriptor closed while listed
    const auto target = std::filesystem::read_symlink(entry.path(), gone);
    if (!gone && target.string().rfind("socket:[", 0) == 0) links.insert(target.string());
  }
  return links;
}

// The broker gets nothing of its parent's but stdout and stderr. The test's receivers listen on
// sockets Asio opens without CLOEXEC: a broker holding one would keep a receiver's port open
// after the receiver closed it (the side-by-side bench's broker held its receiver's).
TEST_F(LifecycleTest, TheBrokerInheritsNoDescriptorOfItsParent) {
  start();
  const auto ours = socket_links("/proc/self/fd");
  ASSERT_FALSE(ours.empty()) << "the receivers listen";
  const auto its = socket_links("/proc/" + std::to_string(broker->pid()) + "/fd");
  ASSERT_FALSE(its.empty()) << "the broker listens";
  for (const std::string& link : its) EXPECT_EQ(ours.count(link), 0u) << link << " inherited";
}

TEST_F(LifecycleTest, ReadyIsLoggedOnlyOnceTheListenerIsBound) {
  start();
  EXPECT_NE(broker->log().find("broker ready"), std::string::npos);

  // A second broker on the same port (another store): the bind fails, and it never said ready.
  TempDir other;
  nlohmann::json taken = config;
  taken["listen"]["port"] = broker->port();
  std::string error;
  auto second = BrokerProcess::start(BrokerProcess::default_binary(), other.path(), taken.dump(2),
                                     error, std::chrono::seconds{10});
  ASSERT_FALSE(second) << "a second broker bound a port in use";
  const std::string log = read_file(other.path() + "/broker.log");
  EXPECT_EQ(log.find("broker ready"), std::string::npos) << log;
}

TEST_F(LifecycleTest, SigtermLetsADeliveryInFlightFinishThenExitsZero) {
  // The psychiatry system answers after 1.5 s: the delivery is in flight when SIGTERM comes.
  psy.set_handler([](const ReceivedRequest&) {
    ReplyPlan plan;
    plan.delay = std::chrono::milliseconds{1500};
    return plan;
  });
  start();
  const unsigned short port = broker->port();
  ASSERT_EQ(
      post(make_certificate_request(jc_party, psy_party, "E-DRAIN", "DRAIN1", clock.now())).status,
      202);
  ASSERT_TRUE(
      psy.wait_until([](const auto& r) { return r.size() == 1; }, std::chrono::seconds{10}));

  auto exited = std::async(std::launch::async, [this] { return broker->terminate(); });
  // Draining: no new connection is accepted while the delivery finishes.
  EXPECT_TRUE(eventually([&] { return !accepts_connections(port); }, std::chrono::seconds{5}));
  ASSERT_EQ(exited.wait_for(std::chrono::seconds{20}), std::future_status::ready);
  const int status = exited.get();
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);

  start();  // same directory, same store
  const auto m = message(jc_party, "DRAIN1");
  EXPECT_EQ(m["state"], "delivered") << m.dump() << "\n" << broker->log();
  // Had the attempt been abandoned, the restart would deliver it a second time.
  EXPECT_TRUE(eventually([&] { return message(jc_party, "DRAIN1")["state"] == "delivered"; }));
  EXPECT_EQ(psy.received().size(), 1u) << "delivered once, not again after the restart";
}

}  // namespace
}  // namespace sektorbro::testing
