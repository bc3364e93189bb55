// The operators' side of issue 10 through the real broker binary: /metrics with its credential
// or the explicit unauthenticated switch and the gauges the store counts (served from the last
// count, recounted off the io thread); health
// for orchestrators (live, ready, not ready while draining, the version); the JSON log with the
// broker's own clock and its levels; the message search; the CPR search — acting operators
// only, on the audit chain without the number, disabled with a clear answer without a key.
#include <sqlite3.h>

#include <atomic>
#include <fstream>
#include <future>
#include <sstream>

#include "broker/core/identifiers.hpp"
#include "tests/integration/broker_fixture.hpp"

namespace sektorbro::testing {
namespace {

constexpr const char* kReadOnlyToken = "console-ops-anna-read-only";
constexpr const char* kActingToken = "console-ops-bo-acting";

class ConsoleOps : public BrokerFixture {
 protected:
  void with_operators() {
    config["operators"] = {
        {{"name", "anna"}, {"role", "read-only"}, {"token_sha256", sha256_hex(kReadOnlyToken)}},
        {{"name", "bo"}, {"role", "acting"}, {"token_sha256", sha256_hex(kActingToken)}}};
  }
  std::string key_file() {
    const std::string path = dir.path() + "/cpr-index.key";
    std::ofstream(path) << "0123456789abcdef0123456789abcdef";
    return path;
  }
  HttpResult get_as(const char* token, const std::string& path) {
    HttpClient c;
    if (token) c.set_headers({std::string("Authorization: Bearer ") + token});
    return c.get(broker->url(path));
  }
  HttpResult post_json_as(const char* token, const std::string& path, const std::string& body) {
    HttpClient c;
    if (token) c.set_headers({std::string("Authorization: Bearer ") + token});
    return c.post(broker->url(path), body, "application/json");
  }
  // The value of the series `series` (name with its labels, as exposed) on a /metrics page.
  static std::optional<double> metric(const std::string& page, const std::string& series) {
    std::istringstream lines(page);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return std::nullopt;
  }
  // The audit chain's entries of one kind: "actor|subject|detail" each.
  std::vector<std::string> audit_entries(const std::string& kind) {
    std::vector<std::string> out;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((dir.path() + "/broker.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
        SQLITE_OK) {
      sqlite3_close(db);
      return {"<cannot open the store>"};
    }
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(
        db, "SELECT actor, subject, detail FROM audit_chain WHERE kind = ?1 ORDER BY seq", -1, &q,
        nullptr);
    sqlite3_bind_text(q, 1, kind.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(q) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < 3; ++c) {
        const auto* t = sqlite3_column_text(q, c);
        row += (c ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "");
      }
      out.push_back(row);
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return out;
  }
};

TEST_F(ConsoleOps, MetricsNeedAnOperatorCredentialUnlessExplicitlyOpened) {
  with_operators();
  start();
  EXPECT_EQ(get_as(nullptr, "/metrics").status, 401);
  const auto read_only = get_as(kReadOnlyToken, "/metrics");
  EXPECT_EQ(read_only.status, 200);
  EXPECT_NE(read_only.body.find("sektorbro_ready 1"), std::string::npos) << read_only.body;
  broker.reset();
  config["metrics"] = {{"unauthenticated", true}};
  start();
  const auto open = get_as(nullptr, "/metrics");
  EXPECT_EQ(open.status, 200);
  EXPECT_NE(open.body.find("sektorbro_build_info{version="), std::string::npos);
  // Only /metrics is opened: the operators' API still wants a credential.
  EXPECT_EQ(get_as(nullptr, "/v1/messages").status, 401);
}

// The store-counted gauges are recounted off the io thread every 10 s of the broker's clock and
// served from the last count; a scrape that finds it older than 20 s waits for a new one
// (OperatorCountsCache). On the manual clock nothing is recounted until the clock moves, so
// each step here is deterministic: what a scrape shows depends on how far the clock moved.
TEST_F(ConsoleOps, GaugesAreCountedInTheStoreAndServedFromTheLastCount) {
  config["clock"] = {{"mode", "manual"}};
  config["delivery"]["retry"]["max_attempts"] = 1;
  auto refusing = std::make_shared<std::atomic<bool>>(true);  // psy refuses "DEAD" letters
  psy.set_handler([refusing](const ReceivedRequest& r) {
    return *refusing && r.body.find("DEAD") != std::string::npos
               ? ReplyPlan{503, "", "text/plain", {}}
               : ReplyPlan{};
  });
  start();
  ASSERT_EQ(
      post(make_certificate_request(jc_party, psy_party, "E-G1", "REQ-G1", clock.now())).status,
      202);
  ASSERT_EQ(
      post(make_certificate_request(jc_party, psy_party, "E-G2", "DEAD-G2", clock.now())).status,
      202);
  ASSERT_TRUE(eventually(
      [&] { return message(jc_party, "DEAD-G2").value("state", "") == "dead-lettered"; }));
  ASSERT_TRUE(
      eventually([&] { return get_json("/v1/deadlines?view=open")["deadlines"].size() == 1; }));
  HttpClient c;
  auto advance = [&](long long seconds) {
    return c
        .post(broker->url("/v1/test/clock/advance?seconds=" + std::to_string(seconds)), "",
              "text/plain")
        .status;
  };
  // 25 s on: the count taken at start is too old, so the scrape waits for a recount.
  ASSERT_EQ(advance(25), 200);
  auto page = get_as(nullptr, "/metrics").body;
  EXPECT_EQ(metric(page, "sektorbro_dead_letters"), 1.0) << page;
  EXPECT_EQ(metric(page, "sektorbro_deadlines_open{unit=\"psy\",form=\"LÆ125\"}"), 1.0) << page;
  EXPECT_EQ(metric(page, "sektorbro_deadlines_overdue{unit=\"psy\",form=\"LÆ125\"}"), 0.0) << page;
  EXPECT_EQ(metric(page, "sektorbro_store_counts_age_seconds"), 0.0) << page;
  // The store's fsyncs, timed in SQLite's VFS: the traffic's commits synced (synchronous=FULL).
  EXPECT_GT(metric(page, "sektorbro_fsync_seconds_count").value_or(0), 0.0) << page;
  // Sixty days on the broker's clock: the certificate is overdue.
  ASSERT_EQ(advance(60 * 86400), 200);
  page = get_as(nullptr, "/metrics").body;
  EXPECT_EQ(metric(page, "sektorbro_deadlines_overdue{unit=\"psy\",form=\"LÆ125\"}"), 1.0) << page;
  // Requeued and delivered, and 5 s later: the scrape serves the last count (5 s old), not a
  // count of its own.
  refusing->store(false);
  ASSERT_EQ(
      c.post(broker->url("/v1/messages/" + jc_party.gln + "/DEAD-G2/requeue"), "", "text/plain")
          .status,
      200);
  ASSERT_TRUE(
      eventually([&] { return message(jc_party, "DEAD-G2").value("state", "") == "delivered"; }));
  ASSERT_EQ(advance(5), 200);
  page = get_as(nullptr, "/metrics").body;
  EXPECT_EQ(metric(page, "sektorbro_dead_letters"), 1.0) << page;
  EXPECT_EQ(metric(page, "sektorbro_store_counts_age_seconds"), 5.0) << page;
  // 20 s more (25 s old): recounted — no dead letter any more, and the gauge says 0 (not its
  // last value).
  ASSERT_EQ(advance(20), 200);
  page = get_as(nullptr, "/metrics").body;
  EXPECT_EQ(metric(page, "sektorbro_dead_letters"), 0.0) << page;
  EXPECT_EQ(metric(page, "sektorbro_store_counts_age_seconds"), 0.0) << page;
}

// GET /v1/store: the store and the audit chain's state for the Overview, to operators only; the
// chain's head moves with every write, and the configuration says keyed / checkpointed.
TEST_F(ConsoleOps, StoreStateShowsTheAuditChainToOperatorsOnly) {
  with_operators();
  config["audit"] = {{"checkpoint_file", dir.path() + "/audit.checkpoint"},
                     {"checkpoint_interval_ms", 5000}};
  start();
  EXPECT_EQ(get_as(nullptr, "/v1/store").status, 401);
  const auto before = get_as(kReadOnlyToken, "/v1/store");
  ASSERT_EQ(before.status, 200) << before.body;
  const auto b = nlohmann::json::parse(before.body);
  EXPECT_EQ(b["kind"], "sqlite");
  EXPECT_EQ(b["audit"]["keyed"], false);
  EXPECT_EQ(b["audit"]["checkpointed"], true);
  EXPECT_EQ(b["audit"]["checkpoint_interval_ms"], 5000);
  ASSERT_TRUE(b["audit"]["entries"].is_number_integer()) << before.body;
  ASSERT_EQ(
      post(make_certificate_request(jc_party, psy_party, "E-S1", "REQ-S1", clock.now())).status,
      202);
  const auto after = nlohmann::json::parse(get_as(kReadOnlyToken, "/v1/store").body);
  EXPECT_GT(after["audit"]["entries"].get<std::int64_t>(),
            b["audit"]["entries"].get<std::int64_t>());
  EXPECT_NE(after["audit"]["head_hash"], b["audit"]["head_hash"]);
  EXPECT_EQ(after["audit"]["head_hash"].get<std::string>().size(), 64u);
}

// "metrics": {"store_counts_interval_ms"} sets the recount's interval. At 60 s a count 25 s old
// on the broker's clock is served as it is (at the default 10 s it would be recounted, as in the
// test above); one older than 2 x 60 s is not. The manual clock makes each step deterministic.
TEST_F(ConsoleOps, TheStoreCountsIntervalIsTheConfiguredOne) {
  config["clock"] = {{"mode", "manual"}};
  config["metrics"] = {{"store_counts_interval_ms", 60000}};
  start();
  HttpClient c;
  auto advance = [&](long long seconds) {
    return c
        .post(broker->url("/v1/test/clock/advance?seconds=" + std::to_string(seconds)), "",
              "text/plain")
        .status;
  };
  auto page = get_as(nullptr, "/metrics").body;  // the count taken at start
  EXPECT_EQ(metric(page, "sektorbro_store_counts_age_seconds"), 0.0) << page;
  ASSERT_EQ(advance(25), 200);
  page = get_as(nullptr, "/metrics").body;
  EXPECT_EQ(metric(page, "sektorbro_store_counts_age_seconds"), 25.0) << page;
  ASSERT_EQ(advance(100), 200);  // 125 s old: more than twice the interval, so recounted
  page = get_as(nullptr, "/metrics").body;
  EXPECT_EQ(metric(page, "sektorbro_store_counts_age_seconds"), 0.0) << page;
}

TEST_F(ConsoleOps, HealthLiveReadyAndTheVersion) {
  start();
  const auto health = get_json("/v1/health");
  EXPECT_FALSE(health.value("version", "").empty()) << health.dump();
  const auto live = get_as(nullptr, "/v1/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_NE(live.body.find("\"live\""), std::string::npos);
  const auto ready = get_as(nullptr, "/v1/health/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
  const auto body = nlohmann::json::parse(ready.body);
  EXPECT_EQ(body["status"], "ready");
  EXPECT_EQ(body["store_writable"], true);
  EXPECT_EQ(body["version"], health["version"]);
}

TEST_F(ConsoleOps, NotReadyWhileDraining) {
  // A delivery held 3 s by the receiver keeps the broker draining after SIGTERM; a connection
  // opened before the signal is still answered meanwhile (no new ones are accepted).
  psy.set_handler([](const ReceivedRequest&) {
    ReplyPlan plan;
    plan.delay = std::chrono::milliseconds{3000};
    return plan;
  });
  start();
  HttpClient probe;  // one keep-alive connection
  ASSERT_EQ(probe.get(broker->url("/v1/health/ready")).status, 200);
  ASSERT_EQ(
      post(make_certificate_request(jc_party, psy_party, "E-DR", "DRAIN-R", clock.now())).status,
      202);
  ASSERT_TRUE(
      psy.wait_until([](const auto& r) { return r.size() == 1; }, std::chrono::seconds{10}));
  auto exited = std::async(std::launch::async, [this] { return broker->terminate(); });
  std::string answer;
  EXPECT_TRUE(eventually(
      [&] {
        const auto r = probe.get(broker->url("/v1/health/ready"));
        answer = r.body;
        return r.status == 503;
      },
      std::chrono::seconds{5}));
  EXPECT_NE(answer.find("draining"), std::string::npos) << answer;
  ASSERT_EQ(exited.wait_for(std::chrono::seconds{20}), std::future_status::ready);
  EXPECT_EQ(WEXITSTATUS(exited.get()), 0);
  broker.reset();
}

TEST_F(ConsoleOps, JsonLogWithTheBrokersClockAndLevels) {
  config["clock"] = {{"mode", "manual"}, {"start", "2031-05-06T07:08:09Z"}};
  config["log"] = {{"format", "json"}, {"level", "warning"}};
  config["delivery"]["retry"]["max_attempts"] = 1;
  psy.set_handler([](const ReceivedRequest&) { return ReplyPlan{503, "", "text/plain", {}}; });
  start();
  const auto request = make_certificate_request(jc_party, psy_party, "E-L1", "DEAD-L1",
                                                *parse_timestamp("2031-05-06T07:08:09Z"));
  ASSERT_EQ(post(request).status, 202);
  ASSERT_TRUE(eventually(
      [&] { return message(jc_party, "DEAD-L1").value("state", "") == "dead-lettered"; }));
  ASSERT_TRUE(eventually([&] { return broker->log().find("dead-lettered") != std::string::npos; }));
  std::istringstream lines(broker->log());
  int parsed = 0;
  bool dead_letter_warning = false;
  bool clock_made = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not a JSON line: " << line;
    ++parsed;
    EXPECT_NE(j.value("level", ""), "info") << line;  // below the configured level
    // Every line once the clock is made carries the broker's own time (the lines before it,
    // up to the one announcing the clock, are about opening the store).
    if (clock_made) {
      EXPECT_EQ(j.value("broker_time", "").rfind("2031-05-06T07:", 0), 0u) << line;
    }
    if (j.value("message", "").rfind("MANUAL CLOCK", 0) == 0) clock_made = true;
    if (j.value("level", "") == "warning" &&
        j.value("message", "").find("dead-lettered") != std::string::npos)
      dead_letter_warning = true;
  }
  EXPECT_GT(parsed, 0);
  EXPECT_TRUE(clock_made) << broker->log();
  EXPECT_TRUE(dead_letter_warning) << broker->log();
}

TEST_F(ConsoleOps, MessageSearchByEnvelopeTimeAndMissingReceipt) {
  start();
  ASSERT_EQ(
      post(make_certificate_request(jc_party, psy_party, "E-S1", "SRCH1", clock.now())).status,
      202);
  ASSERT_EQ(
      post(make_certificate_request(jc_party, psy_party, "E-S2", "SRCH2", clock.now())).status,
      202);
  auto found = get_json("/v1/messages?envelope=E-S2");
  ASSERT_EQ(found["messages"].size(), 1u) << found.dump();
  EXPECT_EQ(found["messages"][0]["letters"][0]["id"], "SRCH2");
  EXPECT_EQ(get_json("/v1/messages?from=2999-01-01T00:00:00Z")["messages"].size(), 0u);
  EXPECT_EQ(get_json("/v1/messages?to=2000-01-01T00:00:00Z")["messages"].size(), 0u);
  EXPECT_EQ(
      get_json("/v1/messages?from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z")["messages"].size(),
      2u);
  EXPECT_EQ(get_json("/v1/messages?receipt=missing")["messages"].size(), 0u);
  EXPECT_EQ(get_as(nullptr, "/v1/messages?from=monday").status, 400);
}

TEST_F(ConsoleOps, CprSearchIsForActingOperatorsAndOnTheAuditChainWithoutTheNumber) {
  with_operators();
  config["privacy"] = {{"cpr_index_key_file", key_file()}};
  start();
  client.set_headers({std::string("Authorization: Bearer ") + kReadOnlyToken});
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E-C1", "CPR1", clock.now())).status,
            202);
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E-C2", "CPR2", clock.now(), "LÆ125",
                                          "0202802345"))
                .status,
            202);
  const std::string search = std::string(R"({"cpr": ")") + kSampleCpr + R"("})";
  const auto refused = post_json_as(kReadOnlyToken, "/v1/messages/search-by-cpr", search);
  EXPECT_EQ(refused.status, 403) << refused.body;
  const auto found = post_json_as(kActingToken, "/v1/messages/search-by-cpr", search);
  ASSERT_EQ(found.status, 200) << found.body;
  const auto body = nlohmann::json::parse(found.body);
  ASSERT_EQ(body["messages"].size(), 1u) << found.body;
  EXPECT_EQ(body["messages"][0]["letters"][0]["id"], "CPR1");
  EXPECT_EQ(found.body.find(kSampleCpr), std::string::npos);
  const auto bad = post_json_as(kActingToken, "/v1/messages/search-by-cpr", R"({"cpr": "01018"})");
  EXPECT_EQ(bad.status, 400);
  broker.reset();  // the store is read below
  const auto entries = audit_entries("search-by-cpr");
  ASSERT_EQ(entries.size(), 1u) << "only the search that was answered";
  EXPECT_EQ(entries[0].rfind("operator:bo|citizen index|showed messages ", 0), 0u) << entries[0];
  EXPECT_EQ(entries[0].find("0101801234"), std::string::npos);
  EXPECT_EQ(entries[0].find("010180"), std::string::npos);
}

// The broker's own letters about a citizen — a reminder for an unanswered request, the negative
// receipt it writes when the receiver refuses a letter — name no patient, yet they are about
// one: they are keyed into the citizen index by the patients of the message they are about, so
// the acting operators' CPR search finds them beside the letters themselves.
TEST_F(ConsoleOps, CprSearchFindsTheBrokersOwnLettersAboutTheCitizen) {
  const TimePoint monday = *parse_timestamp("2026-11-23T09:00:00Z");
  config["clock"] = {{"mode", "manual"}, {"start", format_timestamp(monday)}};
  config["deadlines"] = {{"sweep_interval_ms", 60000}};  // sweeps come with each advance
  with_operators();
  config["privacy"] = {{"cpr_index_key_file", key_file()}};
  psy.set_handler([](const ReceivedRequest& r) {
    return r.body.find("REFUSE") != std::string::npos ? ReplyPlan{400, "", "text/plain", {}}
                                                      : ReplyPlan{};
  });
  start();
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E-K1", "ASK1", monday)).status,
            202);
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E-K2", "REFUSE2", monday)).status,
            202);
  // Someone else's request: its letters must not show.
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E-K3", "OTHER3", monday, "LÆ125",
                                          "0202802345"))
                .status,
            202);
  ASSERT_TRUE(eventually([&] { return !envelopes_of(jc, LetterType::kNegativeReceipt).empty(); }));
  // LÆ125 due 2026-12-07 (deadline_flow_test): three days later reminders have gone to psy.
  HttpClient c;
  c.set_headers({std::string("Authorization: Bearer ") + kActingToken});
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                        *parse_timestamp("2026-12-10T10:00:00Z") - monday)
                        .count();
  ASSERT_EQ(c.post(broker->url("/v1/test/clock/advance?seconds=" + std::to_string(secs)), "",
                   "text/plain")
                .status,
            200);
  ASSERT_TRUE(eventually([&] { return !envelopes_of(psy, LetterType::kReminder).empty(); }));
  const auto found = post_json_as(kActingToken, "/v1/messages/search-by-cpr",
                                  std::string(R"({"cpr": ")") + kSampleCpr + R"("})");
  ASSERT_EQ(found.status, 200) << found.body;
  int reminders = 0, negative_receipts = 0, requests = 0;
  const auto found_json = nlohmann::json::parse(found.body);  // named: the loop reads it
  for (const auto& m : found_json["messages"]) {
    const std::string type = m["letters"][0].value("type", "");
    const std::string from = m["sender"].value("endpoint", "");
    if (type == "Reminder" && from == "broker") ++reminders;
    if (type == "NegativeReceipt" && from == "broker") ++negative_receipts;
    if (type == "CertificateRequest") {
      ++requests;
      EXPECT_NE(m["letters"][0].value("id", ""), "OTHER3");
    }
  }
  EXPECT_GE(reminders, 1) << found.body;
  EXPECT_EQ(negative_receipts, 1) << found.body;
  EXPECT_EQ(requests, 2) << found.body;
  // The other citizen: the request and the reminders about it, never the refused letter's receipt.
  const auto other =
      post_json_as(kActingToken, "/v1/messages/search-by-cpr", R"({"cpr": "0202802345"})");
  ASSERT_EQ(other.status, 200) << other.body;
  const auto other_json = nlohmann::json::parse(other.body);
  for (const auto& m : other_json["messages"])
    EXPECT_NE(m["letters"][0].value("type", ""), "NegativeReceipt") << other.body;
}

TEST_F(ConsoleOps, WithoutAKeyTheCprSearchSaysItIsNotConfigured) {
  start();
  HttpClient c;
  const auto r = c.post(broker->url("/v1/messages/search-by-cpr"),
                        std::string(R"({"cpr": ")") + kSampleCpr + R"("})", "application/json");
  EXPECT_EQ(r.status, 501);
  EXPECT_NE(r.body.find("privacy.cpr_index_key_file"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace sektorbro::testing
