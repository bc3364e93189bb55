// docs/openapi.yaml against the real broker (issue 10), both ways: the document's operations are
// exactly the broker's route table (broker/server/api_routes.hpp), and every path and method in
// the document is called on a broker with traffic (delivered, dead-lettered, a certificate
// answered, a discharge notice); every answer's status must be documented and every JSON answer
// must match its schema; the calls that should succeed must, so a path the broker does not have
// fails.
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>

#include "broker/core/copenhagen_time.hpp"
#include "broker/server/api_routes.hpp"
#include "tests/integration/broker_fixture.hpp"
#include "tests/integration/openapi_checker.hpp"

namespace sektorbro::testing {
namespace {

struct Reply {
  int status = 0;
  std::string content_type, body;
};

std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// A plain call that keeps the Content-Type (HttpClient does not).
Reply call(const std::string& url, const std::string& method, const std::string& body = "",
           const std::string& type = "") {
  Reply r;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_slist* headers = nullptr;
  if (!type.empty()) headers = curl_slist_append(headers, ("Content-Type: " + type).c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (method == "post" || method == "delete") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    if (method == "delete") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
  }
  if (curl_easy_perform(curl) == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    r.status = static_cast<int>(status);
    char* ct = nullptr;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
    if (ct) r.content_type = ct;
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return r;
}

class OpenApi : public BrokerFixture {
 protected:
  void SetUp() override {
    std::string error;
    auto loaded =
        OpenApiChecker::load(std::string(SEKTORBRO_SOURCE_DIR) + "/docs/openapi.yaml", error);
    ASSERT_TRUE(loaded) << error;
    checker = std::move(*loaded);
  }
  // Calls `target` (a concrete URL path) as an instance of `path_template`, checks the answer
  // against the document, and returns it.
  Reply check(const std::string& path_template, const std::string& method,
              const std::string& target, const std::string& body = "",
              const std::string& type = "") {
    const Reply r = call(broker->url(target), method, body, type);
    for (const auto& problem :
         checker.check(path_template, method, r.status, r.content_type, r.body))
      ADD_FAILURE() << target << ": " << problem << "\nbody: " << r.body.substr(0, 2000);
    called.insert({path_template, method});
    return r;
  }
  OpenApiChecker checker;
  std::set<std::pair<std::string, std::string>> called;
};

TEST_F(OpenApi, EveryPathExistsAndEveryAnswerMatchesItsSchema) {
  config["delivery"]["retry"]["max_attempts"] = 2;
  psy.set_handler([](const ReceivedRequest& r) {
    return r.body.find("DEAD") != std::string::npos ? ReplyPlan{503, "", "text/plain", {}}
                                                    : ReplyPlan{};
  });
  // The citizen index's key (issue 10), so the CPR search answers 200.
  const std::string key_file = dir.path() + "/cpr-index.key";
  std::ofstream(key_file) << "0123456789abcdef0123456789abcdef";
  config["privacy"]["cpr_index_key_file"] = key_file;
  start();
  // Traffic: a request delivered and answered, one dead-lettered, a discharge notice owed a
  // mentor response.
  const auto request = make_certificate_request(jc_party, psy_party, "E1", "REQ1", clock.now());
  const Reply accepted =
      check("/v1/messages", "post", "/v1/messages", encode_envelope(request), "application/xml");
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E2", "DEAD1", clock.now())).status,
            202);
  ASSERT_TRUE(
      eventually([&] { return message(jc_party, "REQ1").value("state", "") == "delivered"; }));
  ASSERT_TRUE(
      eventually([&] { return message(jc_party, "DEAD1").value("state", "") == "dead-lettered"; }));
  ASSERT_TRUE(
      eventually([&] { return get_json("/v1/deadlines?view=open")["deadlines"].size() == 1; }));
  ASSERT_EQ(post(make_certificate(psy_party, jc_party, "E3", "CERT1", "REQ1", clock.now())).status,
            202);
  ASSERT_EQ(post(make_discharge_notice(psy_party, jc_party, "E4", "DN1", clock.now(),
                                       copenhagen_date(clock.now())))
                .status,
            202);
  ASSERT_TRUE(
      eventually([&] { return get_json("/v1/deadlines?view=all")["deadlines"].size() == 2; }));

  // Each path, answered as it should be.
  EXPECT_EQ(check("/v1/health", "get", "/v1/health").status, 200);
  const std::string one = "/v1/messages/{sender_gln}/{letter_id}";
  const Reply listed = check("/v1/messages", "get", "/v1/messages?limit=2");
  EXPECT_EQ(listed.status, 200);
  EXPECT_NE(listed.body.find("\"next_before\""), std::string::npos);  // a full page, newest first
  const Reply forward = check("/v1/messages", "get", "/v1/messages?limit=1&after=0");
  EXPECT_EQ(forward.status, 200);
  EXPECT_NE(forward.body.find("\"next_after\""), std::string::npos);  // oldest first
  EXPECT_EQ(check("/v1/messages", "get", "/v1/messages?state=delivered&endpoint=psy").status, 200);
  const Reply shown = check(one, "get", "/v1/messages/" + jc_party.gln + "/REQ1");
  EXPECT_EQ(shown.status, 200);
  EXPECT_NE(shown.body.find("\"deadline\""), std::string::npos);
  EXPECT_NE(shown.body.find("\"patient\""), std::string::npos);
  EXPECT_EQ(check(one, "get", "/v1/messages/" + psy_party.gln + "/DN1").status, 200);
  EXPECT_EQ(check("/v1/letters/{letter_id}", "get", "/v1/letters/REQ1").status, 200);
  EXPECT_EQ(check("/v1/letters/{letter_id}", "get", "/v1/letters/NOSUCH").status, 200);
  const Reply dead = check("/v1/dead-letters", "get", "/v1/dead-letters");
  EXPECT_EQ(dead.status, 200);
  EXPECT_NE(dead.body.find("DEAD1"), std::string::npos);
  for (const char* view : {"open", "due-soon", "overdue", "answered-late", "all"})
    EXPECT_EQ(check("/v1/deadlines", "get", std::string("/v1/deadlines?view=") + view).status, 200)
        << view;
  EXPECT_EQ(
      check("/v1/deadlines", "get", "/v1/deadlines?kind=mentor-response&view=all&limit=5&offset=0")
          .status,
      200);
  const Reply certs = check("/v1/stats/certificates", "get", "/v1/stats/certificates");
  EXPECT_EQ(certs.status, 200);
  EXPECT_NE(certs.body.find("\"late_share\""), std::string::npos);  // a row is there
  EXPECT_EQ(check("/v1/stats/certificates", "get", "/v1/stats/certificates?format=csv").status,
            200);
  const Reply mentor = check("/v1/stats/mentor-responses", "get", "/v1/stats/mentor-responses");
  EXPECT_EQ(mentor.status, 200);
  EXPECT_NE(mentor.body.find("\"jobcenter\""), std::string::npos);
  EXPECT_EQ(
      check("/v1/stats/mentor-responses", "get", "/v1/stats/mentor-responses?format=csv").status,
      200);
  const std::string requeue = "/v1/messages/{sender_gln}/{letter_id}/requeue";
  EXPECT_EQ(check(requeue, "post", "/v1/messages/" + jc_party.gln + "/DEAD1/requeue").status, 200);

  // Health for orchestrators, the document itself, the searches (issue 10).
  EXPECT_EQ(check("/v1/health/live", "get", "/v1/health/live").status, 200);
  const Reply who = check("/v1/whoami", "get", "/v1/whoami");
  EXPECT_EQ(who.status, 200);
  EXPECT_NE(who.body.find("\"acting\""), std::string::npos);  // the open loopback listener
  EXPECT_EQ(check("/v1/health/ready", "get", "/v1/health/ready").status, 200);
  const Reply store_state = check("/v1/store", "get", "/v1/store");
  EXPECT_EQ(store_state.status, 200);
  const auto store_json = nlohmann::json::parse(store_state.body, nullptr, false);
  EXPECT_EQ(store_json.value("kind", ""), "sqlite") << store_state.body;
  EXPECT_GT(store_json["audit"].value("entries", 0), 0) << store_state.body;
  const Reply document = check("/v1/openapi.yaml", "get", "/v1/openapi.yaml");
  EXPECT_EQ(document.status, 200);
  EXPECT_NE(document.body.find("/v1/messages/search-by-cpr:"), std::string::npos);
  const std::string request_envelope = message(jc_party, "REQ1").value("envelope_id", "");
  const Reply by_envelope =
      check("/v1/messages", "get", "/v1/messages?envelope=" + request_envelope);
  EXPECT_EQ(by_envelope.status, 200);
  EXPECT_NE(by_envelope.body.find("REQ1"), std::string::npos);
  const Reply by_time = check("/v1/messages", "get",
                              "/v1/messages?from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z"
                              "&state=delivered&limit=1");
  EXPECT_EQ(by_time.status, 200);
  EXPECT_NE(by_time.body.find("\"next_before\""), std::string::npos);
  EXPECT_EQ(check("/v1/messages", "get", "/v1/messages?receipt=missing&after=0").status, 200);
  const Reply by_cpr =
      check("/v1/messages/search-by-cpr", "post", "/v1/messages/search-by-cpr",
            std::string(R"({"cpr": ")") + kSampleCpr + R"(", "limit": 10})", "application/json");
  EXPECT_EQ(by_cpr.status, 200);
  EXPECT_NE(by_cpr.body.find("REQ1"), std::string::npos);

  // Legal holds (issue 11, item 4): on a message and on a citizen, listed, lifted.
  const std::string hold = "/v1/messages/{sender_gln}/{letter_id}/hold";
  EXPECT_EQ(check(hold, "post", "/v1/messages/" + jc_party.gln + "/REQ1/hold",
                  R"({"reason": "case 2026-17"})", "application/json")
                .status,
            200);
  const std::string citizen =
      std::string(R"({"cpr": ")") + kSampleCpr + R"(", "reason": "case 2026-18"})";
  EXPECT_EQ(
      check("/v1/citizens/hold", "post", "/v1/citizens/hold", citizen, "application/json").status,
      200);
  const Reply holds = check("/v1/holds", "get", "/v1/holds");
  EXPECT_EQ(holds.status, 200);
  EXPECT_EQ(nlohmann::json::parse(holds.body, nullptr, false)["holds"].size(), 2u) << holds.body;
  EXPECT_EQ(holds.body.find(kSampleCpr), std::string::npos);  // the number is in no answer
  EXPECT_EQ(check(hold, "delete", "/v1/messages/" + jc_party.gln + "/REQ1/hold").status, 200);
  EXPECT_EQ(check("/v1/citizens/hold", "delete", "/v1/citizens/hold",
                  std::string(R"({"cpr": ")") + kSampleCpr + R"("})", "application/json")
                .status,
            200);
  EXPECT_EQ(check(hold, "delete", "/v1/messages/" + jc_party.gln + "/REQ1/hold").status, 404);
  EXPECT_EQ(check(hold, "post", "/v1/messages/" + jc_party.gln + "/NOSUCH/hold").status, 404);
  EXPECT_EQ(check("/v1/citizens/hold", "post", "/v1/citizens/hold", R"({"cpr": "12"})",
                  "application/json")
                .status,
            400);

  // The errors, answered as documented.
  EXPECT_EQ(check("/v1/messages", "get", "/v1/messages?from=yesterday").status, 400);
  EXPECT_EQ(check("/v1/messages", "get", "/v1/messages?receipt=late").status, 400);
  EXPECT_EQ(check("/v1/messages/search-by-cpr", "post", "/v1/messages/search-by-cpr",
                  R"({"cpr": "12"})", "application/json")
                .status,
            400);
  EXPECT_EQ(check("/v1/messages", "get", "/v1/messages?state=sleeping").status, 400);
  EXPECT_EQ(check("/v1/messages", "get", "/v1/messages?limit=0").status, 400);
  EXPECT_EQ(check("/v1/messages", "post", "/v1/messages", "<x/>", "application/xml").status, 422);
  EXPECT_EQ(check("/v1/messages", "post", "/v1/messages", "{}", "application/json").status, 415);
  EXPECT_EQ(check(one, "get", "/v1/messages/" + jc_party.gln + "/NOSUCH").status, 404);
  EXPECT_EQ(check(requeue, "post", "/v1/messages/" + jc_party.gln + "/REQ1/requeue").status, 409);
  EXPECT_EQ(check(requeue, "post", "/v1/messages/" + jc_party.gln + "/NOSUCH/requeue").status, 404);
  EXPECT_EQ(check("/v1/deadlines", "get", "/v1/deadlines?view=later").status, 400);
  EXPECT_EQ(check("/v1/dead-letters", "get", "/v1/dead-letters?colour=red").status, 400);
  EXPECT_EQ(check("/v1/stats/certificates", "get", "/v1/stats/certificates?from=2026-13").status,
            400);
  EXPECT_EQ(check("/v1/stats/mentor-responses", "get", "/v1/stats/mentor-responses?to=1").status,
            400);

  // The console Overview's counts (served from the last count of the store).
  const Reply counts = check("/v1/counts", "get", "/v1/counts");
  EXPECT_EQ(counts.status, 200);
  // Outside the route table: 404 before any handler, whatever the method.
  EXPECT_EQ(call(broker->url("/v1/nowhere"), "get").status, 404);
  EXPECT_EQ(call(broker->url("/v1/messages"), "delete").status, 404);
  EXPECT_EQ(call(broker->url("/v1/counts/more"), "get").status, 404);
  // The test clock exists only on a manual clock.
  const std::string advance = "/v1/test/clock/advance";
  EXPECT_EQ(check(advance, "post", advance + "?seconds=60").status, 404);

  // The pull mailbox and the test clock: the same store, restarted on a manual clock with psy
  // fetching its messages (url "mailbox:").
  config["clock"] = {{"mode", "manual"}};
  config["endpoints"][2]["url"] = "mailbox:";  // psy
  restart();
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E9", "MBX1", clock.now())).status,
            202);
  const Reply fetched = check("/v1/mailbox", "get", "/v1/mailbox?endpoint=psy&limit=100");
  ASSERT_EQ(fetched.status, 200) << fetched.body;
  std::int64_t fetched_id = 0;
  const auto mailbox = nlohmann::json::parse(fetched.body, nullptr, false);
  for (const auto& m : mailbox["messages"])
    if (m["letters"].dump().find("MBX1") != std::string::npos) fetched_id = m["message_id"];
  ASSERT_NE(fetched_id, 0) << fetched.body;
  const std::string confirm = "/v1/mailbox/{message_id}/confirm";
  const std::string confirm_url =
      "/v1/mailbox/" + std::to_string(fetched_id) + "/confirm?endpoint=psy";
  EXPECT_EQ(check(confirm, "post", confirm_url).status, 200);
  EXPECT_EQ(check(confirm, "post", confirm_url).status, 409);
  EXPECT_EQ(check(confirm, "post", "/v1/mailbox/999999999/confirm?endpoint=psy").status, 404);
  EXPECT_EQ(check(confirm, "post", "/v1/mailbox/1/confirm?endpoint=nobody").status, 403);
  EXPECT_EQ(check("/v1/mailbox", "get", "/v1/mailbox?endpoint=jc").status, 404);  // pushed to
  EXPECT_EQ(check("/v1/mailbox", "get", "/v1/mailbox?endpoint=nobody").status, 403);
  EXPECT_EQ(check("/v1/mailbox", "get", "/v1/mailbox?endpoint=psy&limit=0").status, 400);
  EXPECT_EQ(message(jc_party, "MBX1").value("state", ""), "delivered");
  const Reply moved = check(advance, "post", advance + "?seconds=60");
  EXPECT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(check(advance, "post", advance).status, 400);

  // Every operation in the document was called.
  for (const auto& op : checker.operations())
    EXPECT_TRUE(called.count(op)) << op.second << " " << op.first << " was not exercised";
}

// The other way round: every route the broker serves (its route table, which the dispatch lets
// requests through by) is in the document, and the document has no operation the table lacks.
TEST_F(OpenApi, TheDocumentDescribesExactlyTheRoutesTheBrokerServes) {
  std::set<std::pair<std::string, std::string>> served;
  for (const ApiRoute& r : kApiRoutes) {
    std::string method(r.method);
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    served.insert({std::string(r.pattern), method});
  }
  const auto ops = checker.operations();
  const std::set<std::pair<std::string, std::string>> documented(ops.begin(), ops.end());
  for (const auto& [path, method] : served)
    EXPECT_TRUE(documented.count({path, method}))
        << method << " " << path << " is served but not in docs/openapi.yaml";
  for (const auto& [path, method] : documented)
    EXPECT_TRUE(served.count({path, method}))
        << method << " " << path << " is documented but not in the route table";
  EXPECT_EQ(served.size(), kApiRoutes.size()) << "a route is listed twice";
  // The matcher the dispatch uses: placeholders take one segment, literals must be equal.
  EXPECT_EQ(match_api_route("GET", {"v1", "messages", "5790000000001", "L1"})->pattern,
            "/v1/messages/{sender_gln}/{letter_id}");
  EXPECT_EQ(match_api_route("POST", {"v1", "messages", "search-by-cpr"})->pattern,
            "/v1/messages/search-by-cpr");
  EXPECT_FALSE(match_api_route("GET", {"v1", "messages", "5790000000001"}));
  EXPECT_FALSE(match_api_route("GET", {"v1", "messages", "a", "b", "requeue"}));
  EXPECT_FALSE(match_api_route("PUT", {"v1", "health"}));
  EXPECT_FALSE(match_api_route("GET", {"v1", "health", "live", "x"}));
  EXPECT_TRUE(match_api_route("POST", {"v1", "test", "clock", "advance"})->manual_clock_only);
}

TEST_F(OpenApi, TheCheckerRefusesWhatDoesNotMatch) {
  const auto& schemas = checker.document()["components"]["schemas"];
  EXPECT_TRUE(checker.validate(nlohmann::json{{"error", "x"}}, schemas["Error"]).empty());
  EXPECT_FALSE(checker.validate(nlohmann::json{{"error", 1}}, schemas["Error"]).empty());
  EXPECT_FALSE(
      checker.validate(nlohmann::json{{"error", "x"}, {"extra", 1}}, schemas["Error"]).empty());
  EXPECT_FALSE(checker.validate(nlohmann::json::object(), schemas["Error"]).empty());
  EXPECT_FALSE(checker.validate("1234", schemas["Gln"]).empty());
  EXPECT_FALSE(checker.validate("sleeping", schemas["DeliveryState"]).empty());
  nlohmann::json row{{"month", "2026-11"},
                     {"received", 1},
                     {"answered_on_time", 0},
                     {"answered_late", 1},
                     {"declined", 0},
                     {"cancelled", 0},
                     {"open", 0},
                     {"overdue", 0},
                     {"late_share", 1.0},
                     {"median_days_to_answer", nullptr},
                     {"p90_days_to_answer", nullptr},
                     {"unit", "psy"}};
  EXPECT_TRUE(checker.validate(row, schemas["CertificateRow"]).empty());
  row["late_share"] = 1.5;
  EXPECT_FALSE(checker.validate(row, schemas["CertificateRow"]).empty());
  row.erase("unit");
  row["late_share"] = nullptr;
  EXPECT_FALSE(checker.validate(row, schemas["CertificateRow"]).empty());
  EXPECT_FALSE(checker.validate(1, nlohmann::json{{"oneOf", nlohmann::json::array()}}).empty());
  EXPECT_EQ(checker.check("/v1/health", "get", 418, "application/json", "{}").size(), 1u);
  EXPECT_EQ(checker.check("/v1/nowhere", "get", 200, "application/json", "{}").size(), 1u);
}

}  // namespace
}  // namespace sektorbro::testing
