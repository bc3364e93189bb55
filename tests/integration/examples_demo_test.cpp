// Issue 12, item 16: every example in schemas/examples/ that an endpoint sends is accepted as is
// by a broker with the demo configuration's parties (deploy/demo/sektorbro.json: its identity
// and endpoints; here on a free port and one receiver for every endpoint). The examples are
// dated (an LÆ285 request names its reply deadline), so the broker runs on a manual clock moved
// to each example's Sent time before it is posted. Before, the examples named parties that are
// not in the demo, so each one was refused.
#include <fstream>
#include <sstream>

#include "broker/core/time.hpp"
#include "tests/integration/broker_fixture.hpp"

namespace sektorbro::testing {
namespace {

const std::string kSource = SEKTORBRO_SOURCE_DIR;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ExamplesAgainstTheDemo : public BrokerFixture {};

TEST_F(ExamplesAgainstTheDemo, EachExampleAnEndpointSendsIsAccepted) {
  const auto demo = nlohmann::json::parse(read_file(kSource + "/deploy/demo/sektorbro.json"));
  config["identity"] = demo["identity"];
  config["endpoints"] = demo["endpoints"];
  for (auto& e : config["endpoints"]) e["url"] = jc.url();
  TimePoint now = *parse_timestamp("2026-11-20T08:00:00Z");
  config["clock"] = {{"mode", "manual"}, {"start", "2026-11-20T08:00:00Z"}};
  start();

  // In the order a conversation has them: a request before the certificate that answers it,
  // a letter before the receipts for it. Not posted: acceptance.xml (the broker's answer) and
  // reminder.xml (written by the broker itself).
  const std::vector<std::string> examples = {
      "certificate-request-lae125.xml",
      "certificate-request-lae285.xml",
      "certificate-request-lae135.xml",
      "certificate.xml",
      "certificate-declined.xml",
      "discharge-notice.xml",
      "mentor-response.xml",
      "correspondence.xml",
      "correspondence-medcom-details.xml",
      "correspondence-from-fhir.xml",
      "positive-receipt.xml",
      "negative-receipt.xml",
  };
  for (const auto& name : examples) {
    const std::string body = read_file(kSource + "/schemas/examples/" + name);
    ASSERT_FALSE(body.empty()) << name;
    const auto sent_at = body.find("<Sent>");
    ASSERT_NE(sent_at, std::string::npos) << name;
    const auto sent = parse_timestamp(body.substr(sent_at + 6, body.find("</Sent>") - sent_at - 6));
    ASSERT_TRUE(sent) << name;
    if (*sent > now) {
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*sent - now).count() + 1;
      ASSERT_EQ(client.post(broker->url("/v1/test/clock/advance?seconds=" + std::to_string(seconds)),
                            "", "application/json")
                    .status,
                200);
      now += std::chrono::seconds{seconds};
    }
    const HttpResult r = post_raw(body);
    EXPECT_EQ(r.status, 202) << name << ": " << r.body;
  }
}

}  // namespace
}  // namespace sektorbro::testing
