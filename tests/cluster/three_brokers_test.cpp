// Three real brokers on one real PostgreSQL (issue 11, item 2): letters are posted to all three
// at once while the receiver is down (so every letter stays pending, leased to the broker that
// took it), one broker is killed with SIGKILL in the middle, the receiver comes back, and then
//   - every letter a broker acknowledged (202) reaches the receiver, at least once — those the
//     dead broker held only through the others, once its leases have ended;
//   - across weeks of deadlines swept by the two survivors, no reminder step is sent twice and
//     no receipt resend is recorded twice;
//   - the audit chain in the database verifies, one chain for all three brokers.
// The brokers run on manual clocks moved together through POST /v1/test/clock/advance, so leases
// and deadlines end when the test says; every wait is a condition with a bound.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "broker/store/postgres_audit_verify.hpp"
#include "tests/integration/broker_fixture.hpp"
#include "tests/support/postgres_server.hpp"

namespace sektorbro::testing {
namespace {

using std::chrono::seconds;

// Monday 23 November 2026, 10:00 in Copenhagen.
const TimePoint kMonday = *parse_timestamp("2026-11-23T09:00:00Z");
constexpr int kLettersPerBroker = 60;
constexpr int kLeaseMs = 3000;

class ThreeBrokers : public BrokerFixture {
 protected:
  void SetUp() override {
    auto server = test::PostgresServer::start();
    ASSERT_TRUE(server) << server.error().detail;
    pg = std::move(*server);
    auto db = pg->create_database("cluster");
    ASSERT_TRUE(db) << db.error().detail;
    conninfo = *db;
    config["store"] = {{"kind", "postgres"}, {"conninfo", conninfo}, {"group_commit_max", 64}};
    config["clock"] = {{"mode", "manual"}, {"start", format_timestamp(kMonday)}};
    config["delivery"]["timeout_ms"] = 1000;
    config["delivery"]["max_resends"] = 1;
    config["deadlines"] = {{"sweep_interval_ms", 60000}};  // sweeps come with each advance
  }
  void TearDown() override {
    for (std::size_t i = 0; i < brokers.size(); ++i) {
      if (!brokers[i]) continue;
      const std::string log = brokers[i]->log();
      if (HasFailure()) std::cerr << "broker b" << i + 1 << "'s log:\n" << log;
      // CPR numbers never reach a log (issue 5), whatever happened: as BrokerFixture checks.
      std::smatch found;
      EXPECT_FALSE(std::regex_search(
          log, found, std::regex(R"((^|[^0-9])[0-3][0-9][01][0-9][0-9]{2}-?[0-9]{4}([^0-9]|$))")))
          << "CPR-shaped number in b" << i + 1 << "'s log: " << found.str();
      brokers[i].reset();  // each disconnects before the server stops
    }
  }

  // The psychiatry receiver: down (503) until `up`, then it takes letters and records their ids.
  void receiver_down_until_up() {
    psy.set_handler([this](const ReceivedRequest& r) {
      if (!up) return ReplyPlan{503, "", "text/plain"};
      if (auto e = decode_envelope(r.body)) {
        std::lock_guard lock(delivered_mu);
        for (const auto& l : e->letters) delivered.insert(l.id);
      }
      return ReplyPlan{};
    });
  }
  std::set<std::string> delivered_ids() {
    std::lock_guard lock(delivered_mu);
    return delivered;
  }
  std::atomic<bool> up{false};
  std::mutex delivered_mu;
  std::set<std::string> delivered;

  void start_brokers() {
    for (int i = 1; i <= 3; ++i) {
      const std::string sub = dir.path() + "/b" + std::to_string(i);
      ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
      nlohmann::json c = config;
      c["cluster"] = {{"node", "b" + std::to_string(i)}, {"lease_ms", kLeaseMs}};
      std::string error;
      brokers.push_back(
          BrokerProcess::start(BrokerProcess::default_binary(), sub, c.dump(2), error));
      ASSERT_TRUE(brokers.back()) << error;
    }
  }

  nlohmann::json get_json_from(std::size_t i, const std::string& path) {
    HttpClient c;
    const auto r = c.get(brokers[i]->url(path));
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_discarded() ? nlohmann::json{{"http_status", r.status}} : j;
  }
  // Moves broker i's clock by `secs`; answers once its sweep for the new time has run.
  void advance(std::size_t i, std::int64_t secs) {
    HttpClient c;
    const auto r =
        c.post(brokers[i]->url("/v1/test/clock/advance?seconds=" + std::to_string(secs)), "");
    ASSERT_EQ(r.status, 200) << "b" << i + 1 << ": " << r.body;
  }
  // The survivors' clocks together; their sweeps race (each in a thread of its own).
  void advance_survivors(std::int64_t secs) {
    std::thread first([&] { advance(0, secs); });
    std::thread third([&] { advance(2, secs); });
    first.join();
    third.join();
  }

  std::unique_ptr<test::PostgresServer> pg;
  std::string conninfo;
  std::vector<std::unique_ptr<BrokerProcess>> brokers;
};

TEST_F(ThreeBrokers, AKilledBrokersLettersAreDeliveredByTheOthersAndNothingIsDoneTwice) {
  receiver_down_until_up();
  start_brokers();
  ASSERT_EQ(brokers.size(), 3u);

  // Load: one sender per broker, posting as fast as it is answered.
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::vector<std::atomic<int>> acks(3);
  std::vector<std::string> refusals;
  std::atomic<bool> killed{false};
  auto sender = [&](std::size_t i) {
    HttpClient c;
    for (int n = 0; n < kLettersPerBroker; ++n) {
      const std::string id = "B" + std::to_string(i + 1) + "L" + std::to_string(n);
      const auto r = c.post(
          brokers[i]->url("/v1/messages"),
          encode_envelope(make_certificate_request(jc_party, psy_party, "ENV-" + id, id, kMonday)),
          "application/xml; charset=utf-8", seconds{20});
      if (r.status == 202) {
        std::lock_guard lock(mu);
        acknowledged.insert(id);
        ++acks[i];
        continue;
      }
      if (i == 1 && killed) return;  // the killed broker answers nothing any more
      std::lock_guard lock(mu);
      refusals.push_back(id + ": " + std::to_string(r.status) + " " + r.error + r.body);
    }
  };
  std::vector<std::thread> senders;
  for (std::size_t i = 0; i < 3; ++i) senders.emplace_back(sender, i);
  // b2 dies with a third of its letters acknowledged, the others still sending.
  const bool mid_load = eventually([&] { return acks[1] >= kLettersPerBroker / 3; }, seconds{60});
  killed = true;
  brokers[1]->kill9();
  for (auto& t : senders) t.join();
  ASSERT_TRUE(mid_load) << "b2 acknowledged only " << acks[1] << " letters";
  EXPECT_TRUE(refusals.empty()) << refusals.front();
  EXPECT_LT(acks[1], kLettersPerBroker) << "b2 was killed after its load ended";
  EXPECT_EQ(acks[0], kLettersPerBroker);
  EXPECT_EQ(acks[2], kLettersPerBroker);

  EXPECT_TRUE(delivered_ids().empty()) << "the receiver was down: nothing delivered yet";
  std::set<std::string> held_by_b2;
  for (const auto& id : acknowledged)
    if (id.rfind("B2", 0) == 0) held_by_b2.insert(id);
  ASSERT_FALSE(held_by_b2.empty());

  // Before the receiver comes back, each survivor's letter has its refused first attempt
  // recorded; its next attempt then waits for a clock that stands still, so none is in flight.
  // Otherwise an attempt refused just before `up` but recorded after the advance would wait for
  // a time this test never reaches (seen in CI: 139 of 140 delivered).
  for (const auto& id : acknowledged) {
    if (id.rfind("B2", 0) == 0) continue;
    const bool refused_once = eventually(
        [&] {
          const auto m = get_json_from(0, "/v1/messages/" + jc_party.gln + "/" + id);
          if (!m.contains("timeline")) return false;
          return std::any_of(m["timeline"].begin(), m["timeline"].end(),
                             [](const auto& e) { return e["event"] == "attempt-failed"; });
        },
        seconds{30});
    ASSERT_TRUE(refused_once) << id << " has no refused attempt recorded";
  }

  // The receiver is back. b2's leases end lease_ms after it last renewed; the survivors, their
  // clocks past that, retry their own letters and take b2's over.
  up = true;
  advance_survivors(kLeaseMs / 1000 + 1);
  auto all_delivered = [&] {
    const auto got = delivered_ids();
    return std::includes(got.begin(), got.end(), acknowledged.begin(), acknowledged.end());
  };
  ASSERT_TRUE(eventually(all_delivered, seconds{60}))
      << delivered_ids().size() << " of " << acknowledged.size()
      << " acknowledged letters delivered";
  // The receiver has them; each survivor records "delivered" in its next commit group, which may
  // come a moment after the receiver's answer (the window place is freed on the answer).
  for (const auto& id : held_by_b2) {
    const bool recorded = eventually(
        [&] {
          const auto m = get_json_from(0, "/v1/messages/" + jc_party.gln + "/" + id);
          return m["state"] == "delivered";
        },
        seconds{30});
    EXPECT_TRUE(recorded) << id << " is not recorded as delivered";
  }

  // Four weeks of deadlines, two days at a time: reminders (two before and on the due day, then
  // every three working days), overdue flags, the receipt resend and the give-up, each swept by
  // both survivors at once.
  for (int day = 0; day < 28; day += 2) advance_survivors(2 * 24 * 3600);
  ASSERT_TRUE(
      eventually([&] { return !envelopes_of(psy, LetterType::kReminder).empty(); }, seconds{60}));
  // Each Reminder letter (distinct id: a redelivery counts once) for each request and step.
  std::map<std::pair<std::string, int>, std::set<std::string>> reminders;
  for (const auto& e : envelopes_of(psy, LetterType::kReminder)) {
    const auto& r = std::get<Reminder>(e.letters.front().body);
    reminders[{r.original_letter_id, r.step}].insert(e.letters.front().id);
  }
  std::set<std::string> reminded;
  for (const auto& [key, letters] : reminders) {
    EXPECT_EQ(letters.size(), 1u) << "reminder step " << key.second << " for " << key.first
                                  << " sent " << letters.size() << " times";
    reminded.insert(key.first);
  }
  EXPECT_EQ(reminded, acknowledged) << "every acknowledged request was reminded";
  HttpClient reader;
  int checked = 0;
  for (const auto& id : acknowledged) {
    const auto r = reader.get(brokers[0]->url("/v1/messages/" + jc_party.gln + "/" + id));
    const auto m = nlohmann::json::parse(r.body, nullptr, false);
    ASSERT_FALSE(m.is_discarded()) << r.status;
    int resent = 0, missing = 0, reminder_events = 0;
    for (const auto& e : m["timeline"]) {
      resent += e["event"] == "resent";
      missing += e["event"] == "receipt-missing";
      reminder_events += e["event"] == "reminder";
    }
    EXPECT_LE(resent, 1) << id << " resent more than max_resends";
    EXPECT_LE(missing, 1) << id;
    EXPECT_EQ(static_cast<std::size_t>(reminder_events),
              std::count_if(reminders.begin(), reminders.end(),
                            [&](const auto& kv) { return kv.first.first == id; }))
        << id << ": one reminder event per step sent";
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(acknowledged.size()));

  // One audit chain for all three brokers, whole.
  auto verdict = verify_postgres_audit_chain(conninfo);
  ASSERT_TRUE(verdict) << verdict.error().detail;
  EXPECT_TRUE(verdict->ok) << verdict->explanation;
  EXPECT_GT(verdict->entries, static_cast<std::int64_t>(acknowledged.size()) * 3);
}

}  // namespace
}  // namespace sektorbro::testing
