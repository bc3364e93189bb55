#include "tests/integration/broker_fixture.hpp"

#include <iostream>
#include <regex>
#include <thread>

namespace sektorbro::testing {

BrokerFixture::BrokerFixture()
    : jc_party(make_party("579000012345", "265161000016001", "Jobcenter Testby")),
      jc2_party(make_party("579000012346", "265161000016002", "Jobcenter Andeby")),
      psy_party(make_party("579000054321", "265161000016003", "Psykiatrien Testby")),
      broker_party(make_party("579000099999", "265161000016999", "Sektorbro")) {
  auto endpoint = [](const std::string& id, const std::string& kind, const Party& p,
                     const std::string& url, std::vector<std::string> accepts) {
    return nlohmann::json{{"id", id},     {"kind", kind}, {"name", p.name},    {"gln", p.gln},
                          {"sor", p.sor}, {"url", url},   {"accepts", accepts}};
  };
  const std::vector<std::string> jobcenter_takes{"Certificate", "DischargeNotice", "Reminder"};
  const std::vector<std::string> psychiatry_takes{"CertificateRequest", "MentorResponse",
                                                  "Reminder"};
  config = {
      {"listen", {{"address", "127.0.0.1"}, {"port", 0}, {"allow_plain_http", true}}},
      {"store", {{"path", "broker.db"}}},
      {"delivery",
       {{"timeout_ms", 5000},
        {"retry",
         {{"max_attempts", 6},
          {"initial_backoff_ms", 50},
          {"max_backoff_ms", 400},
          {"jitter", 0.0}}}}},
      {"identity", {{"gln", broker_party.gln}, {"sor", broker_party.sor}, {"name", "Sektorbro"}}},
      {"endpoints",
       {endpoint("jc", "jobcenter", jc_party, jc.url(), jobcenter_takes),
        endpoint("jc2", "jobcenter", jc2_party, jc2.url(), jobcenter_takes),
        endpoint("psy", "psychiatry", psy_party, psy.url(), psychiatry_takes)}},
  };
}

void BrokerFixture::TearDown() {
  if (!broker) return;
  const std::string log = broker->log();
  if (HasFailure()) std::cerr << "the broker's log:\n" << log;
  std::smatch found;
  // DDMMYY-SSSS or ten digits in a row that are not part of a longer number (GLNs are 13).
  EXPECT_FALSE(std::regex_search(
      log, found, std::regex(R"((^|[^0-9])[0-3][0-9][01][0-9][0-9]{2}-?[0-9]{4}([^0-9]|$))")))
      << "CPR-shaped number in the broker's log: " << found.str();
}

void BrokerFixture::start() {
  std::string error;
  broker = BrokerProcess::start(BrokerProcess::default_binary(), dir.path(), config.dump(2), error);
  ASSERT_TRUE(broker) << error;
}

void BrokerFixture::restart() {
  broker.reset();
  start();
}

HttpResult BrokerFixture::post(const Envelope& envelope) {
  return post_raw(encode_envelope(envelope));
}

HttpResult BrokerFixture::post_raw(const std::string& body) {
  return client.post(broker->url("/v1/messages"), body);
}

nlohmann::json BrokerFixture::get_json(const std::string& path) {
  const auto r = client.get(broker->url(path));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded()) return nlohmann::json{{"http_status", r.status}};
  j["http_status"] = r.status;
  return j;
}

nlohmann::json BrokerFixture::message(const Party& sender, const std::string& letter_id) {
  return get_json("/v1/messages/" + sender.gln + "/" + letter_id);
}

bool BrokerFixture::eventually(const std::function<bool()>& pred,
                               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::yield();
  }
  return pred();
}

std::vector<Envelope> BrokerFixture::envelopes_of(const HttpReceiver& receiver, LetterType type) {
  std::vector<Envelope> out;
  for (const auto& r : receiver.received()) {
    auto e = decode_envelope(r.body);
    if (e && e->letters.front().type() == type) out.push_back(*e);
  }
  return out;
}

bool BrokerFixture::received_letter(const HttpReceiver& receiver, const std::string& letter_id) {
  for (const auto& r : receiver.received()) {
    auto e = decode_envelope(r.body);
    if (!e) continue;
    for (const auto& l : e->letters)
      if (l.id == letter_id) return true;
  }
  return false;
}

std::string BrokerFixture::next_id(const std::string& prefix) {
  return prefix + std::to_string(++counter);
}

}  // namespace sektorbro::testing
