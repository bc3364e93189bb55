#include "broker/filedrop/routing_transport.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "broker/filedrop/file_transport.hpp"
#include "broker/filedrop/tests/temp_dir.hpp"
#include "broker/filedrop/tests/transport_outcomes.hpp"

namespace sektorbro {
namespace {

using testing::list_names;
using testing::read_text;
using testing::TempDir;
using testing::TransportOutcomes;

// Stands in for BeastTransport: records the URLs it is given and answers 202 at once.
class RecordingTransport final : public Transport {
 public:
  explicit RecordingTransport(std::vector<std::string>& urls) : urls_(urls) {}
  void post(OutboundRequest request, std::function<void(TransportResponse)> done) override {
    urls_.push_back(request.url);
    done(TransportResponse{202, "<receipt/>", {}});
  }

 private:
  std::vector<std::string>& urls_;
};

OutboundRequest request(std::string url, std::string body) {
  OutboundRequest r;
  r.url = std::move(url);
  r.body = std::move(body);
  return r;
}

TEST(RoutingTransport, SendsFileUrlsToFilesAndEverythingElseToTheNetwork) {
  TempDir dir;
  SystemClock clock;
  std::vector<std::string> network_urls;
  TransportOutcomes outcomes;
  {
    RoutingTransport transport(std::make_unique<FileTransport>(clock),
                               std::make_unique<RecordingTransport>(network_urls));
    transport.post(request("https://psyk.example/in", "<a/>"), outcomes.done());
    transport.post(request("file://" + dir.path(), "<b/>"), outcomes.done());
    transport.post(request("FILE://" + dir.path(), "<c/>"), outcomes.done());
    transport.post(request("http://jc.example/in", "<d/>"), outcomes.done());
    ASSERT_TRUE(outcomes.wait_count(4));
  }
  EXPECT_EQ(network_urls,
            (std::vector<std::string>{"https://psyk.example/in", "http://jc.example/in"}));
  int file_answers = 0;
  int network_answers = 0;
  for (const auto& o : outcomes.all()) {
    file_answers += o.response.http_status == 200 ? 1 : 0;
    network_answers += o.response.http_status == 202 ? 1 : 0;
  }
  EXPECT_EQ(file_answers, 2);
  EXPECT_EQ(network_answers, 2);
  std::multiset<std::string> bodies;
  for (const auto& n : list_names(dir.path())) bodies.insert(read_text(dir / n));
  EXPECT_EQ(bodies, (std::multiset<std::string>{"<b/>", "<c/>"}));
}

}  // namespace
}  // namespace sektorbro
