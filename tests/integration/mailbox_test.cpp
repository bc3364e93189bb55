// Mailbox pull through the real broker (issue 4): a psychiatry system that cannot receive calls
// fetches its waiting messages and confirms each; what it fetched but did not confirm comes back
// after the lease; only the endpoint itself reads its mailbox.
#include "tests/integration/broker_fixture.hpp"

namespace sektorbro::testing {
namespace {

const TimePoint kMonday = *parse_timestamp("2026-11-23T09:00:00Z");

class Mailbox : public BrokerFixture {
 protected:
  Mailbox() {
    config["endpoints"][2]["url"] = "mailbox:";  // psy
    config["clock"] = {{"mode", "manual"}, {"start", format_timestamp(kMonday)}};
    config["endpoints"][2]["receipt_timeout_seconds"] = 7 * 24 * 3600;  // psy: no resends here
  }
  nlohmann::json fetch(const std::string& endpoint = "psy") {
    return get_json("/v1/mailbox?endpoint=" + endpoint);
  }
};

TEST_F(Mailbox, FetchConfirmAndTheLease) {
  start();
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E1", "REQ1", kMonday)).status, 202);
  // Nothing is pushed; the message waits for psychiatry to fetch it.
  auto got = fetch();
  ASSERT_EQ(got["messages"].size(), 1u) << got.dump();
  EXPECT_TRUE(psy.received().empty());
  const std::int64_t id = got["messages"][0]["message_id"];
  auto body = decode_envelope(got["messages"][0]["body"].get<std::string>());
  ASSERT_TRUE(body);
  EXPECT_EQ(body->letters.front().id, "REQ1");
  // Leased: not offered again at once, and not to another endpoint.
  EXPECT_TRUE(fetch()["messages"].empty());
  EXPECT_EQ(fetch("jc")["http_status"], 404);  // jc receives deliveries; it has no mailbox

  // Not confirmed within the lease (5 minutes): offered again.
  ASSERT_EQ(client.post(broker->url("/v1/test/clock/advance?seconds=301"), "").status, 200);
  got = fetch();
  ASSERT_EQ(got["messages"].size(), 1u);
  // Confirmed: delivered, and the certificate's clock starts.
  const auto confirmed =
      client.post(broker->url("/v1/mailbox/" + std::to_string(id) + "/confirm?endpoint=psy"), "");
  EXPECT_EQ(confirmed.status, 200) << confirmed.body;
  EXPECT_EQ(message(jc_party, "REQ1").value("state", ""), "delivered");
  EXPECT_EQ(get_json("/v1/deadlines?view=open")["deadlines"].size(), 1u);
  EXPECT_TRUE(fetch()["messages"].empty());
  EXPECT_EQ(
      client.post(broker->url("/v1/mailbox/" + std::to_string(id) + "/confirm?endpoint=psy"), "")
          .status,
      409);
}

// delivery.mailbox_lease_seconds: the broker leases for as long as configured, and says so.
TEST_F(Mailbox, TheLeaseIsTheConfiguredOne) {
  config["delivery"]["mailbox_lease_seconds"] = 30;
  start();
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E1", "REQ1", kMonday)).status, 202);
  auto got = fetch();
  ASSERT_EQ(got["messages"].size(), 1u) << got.dump();
  EXPECT_EQ(got["lease_seconds"], 30);
  ASSERT_EQ(client.post(broker->url("/v1/test/clock/advance?seconds=29"), "").status, 200);
  EXPECT_TRUE(fetch()["messages"].empty()) << "leased for 30 s";
  ASSERT_EQ(client.post(broker->url("/v1/test/clock/advance?seconds=1"), "").status, 200);
  EXPECT_EQ(fetch()["messages"].size(), 1u) << "offered again once the 30 s have passed";
}

}  // namespace
}  // namespace sektorbro::testing
