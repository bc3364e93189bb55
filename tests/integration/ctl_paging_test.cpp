// sektorbro-ctl through the real binary against the real broker (issue 10): the "more:" line
// under a page is a command that shows the next page, the older after=N form still works, --all
// walks every page; help for the whole and per command; requeueing every dead letter with
// progress and a summary line.
#include <algorithm>
#include <set>

#include "tests/integration/broker_fixture.hpp"
#include "tests/integration/ctl_runner.hpp"

namespace sektorbro::testing {
namespace {

class CtlPaging : public BrokerFixture {
 protected:
  CtlResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--broker", broker->url("")});
    return run_ctl(args, {{"HOME", dir.path()}}, dir.path());
  }
  // The message ids in the first column of a table.
  static std::vector<std::string> ids(const std::string& table) {
    std::vector<std::string> out;
    for (const auto& line : lines_starting(table, ""))
      if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0])))
        out.push_back(words(line)[0]);
    return out;
  }
  void post_requests(int n) {
    for (int i = 0; i < n; ++i) {
      const std::string id = next_id("REQ");
      ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, next_id("E"), id, clock.now()))
                    .status,
                202);
    }
  }
};

TEST_F(CtlPaging, TheMoreLineIsTheCommandForTheNextPage) {
  start();
  post_requests(5);
  std::set<std::string> all;
  const auto listed = get_json("/v1/messages?limit=1000");
  for (const auto& m : listed["messages"])
    all.insert(std::to_string(m["message_id"].get<long>()));
  ASSERT_EQ(all.size(), 5u) << listed.dump();

  std::vector<std::string> args{"messages", "--limit", "2"};
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    const CtlResult r = ctl(args);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto rows = ids(r.out);
    EXPECT_LE(rows.size(), 2u);
    seen.insert(seen.end(), rows.begin(), rows.end());
    const auto more = lines_starting(r.out, "more: ");
    if (more.empty()) break;
    ASSERT_EQ(more.size(), 1u);
    auto next = words(more[0].substr(6));
    ASSERT_EQ(next.at(0), "sektorbro-ctl") << more[0];
    args.assign(next.begin() + 1, next.end());
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), all);  // each once, none missing

  // Newest first (issue 12, item 14): the first page holds the highest ids, descending.
  const auto newest = ids(ctl({"messages", "--limit", "2"}).out);
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest[0], *std::max_element(all.begin(), all.end(), [](auto& a, auto& b) {
    return std::stol(a) < std::stol(b);
  }));
  EXPECT_GT(std::stol(newest[0]), std::stol(newest[1]));
  const auto api = get_json("/v1/messages?limit=2");
  ASSERT_EQ(api["messages"].size(), 2u);
  EXPECT_EQ(std::to_string(api["messages"][0]["message_id"].get<long>()), newest[0]);
  EXPECT_EQ(api["next_before"].get<long>(), std::stol(newest[1]));

  // The form earlier versions printed still works: after=N reads forward, oldest first.
  const auto first_two = ids(ctl({"messages", "limit=2", "after=0"}).out);
  ASSERT_EQ(first_two.size(), 2u);
  EXPECT_LT(std::stol(first_two[0]), std::stol(first_two[1]));
  const auto after = ids(ctl({"messages", "limit=2", "after=" + first_two[1]}).out);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_GT(std::stol(after[0]), std::stol(first_two[1]));

  // --all follows every page under one header.
  const CtlResult every = ctl({"messages", "--all", "--limit", "2"});
  ASSERT_EQ(every.status, 0) << every.err;
  EXPECT_EQ(ids(every.out).size(), 5u);
  EXPECT_EQ(lines_starting(every.out, "ID ").size(), 1u);
  EXPECT_TRUE(lines_starting(every.out, "more:").empty());

  // A filter is kept in the printed command.
  const CtlResult filtered = ctl({"messages", "pending", "psy", "--limit", "1"});
  ASSERT_EQ(filtered.status, 0) << filtered.err;
  for (const auto& more : lines_starting(filtered.out, "more: "))
    EXPECT_NE(more.find("messages pending psy --limit 1 --before "), std::string::npos) << more;
}

// Issue 10: the broker's search through the command line, kept in the printed next command.
TEST_F(CtlPaging, SearchByEnvelopeAndTimeReceived) {
  start();
  post_requests(3);
  const auto listed = get_json("/v1/messages?limit=3");
  ASSERT_EQ(listed["messages"].size(), 3u);
  const std::string envelope = listed["messages"][1]["envelope_id"];
  const std::string id = std::to_string(listed["messages"][1]["message_id"].get<long>());
  const CtlResult one = ctl({"messages", "--envelope", envelope});
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_EQ(ids(one.out), std::vector<std::string>{id});
  EXPECT_TRUE(ids(ctl({"messages", "--from", "2999-01-01T00:00:00Z"}).out).empty());
  const CtlResult paged =
      ctl({"messages", "--from", "2000-01-01T00:00:00+01:00", "--to", "2999-01-01T00:00:00Z",
           "--limit", "2"});
  ASSERT_EQ(paged.status, 0) << paged.err;
  EXPECT_EQ(ids(paged.out).size(), 2u);
  const auto more = lines_starting(paged.out, "more: ");
  ASSERT_EQ(more.size(), 1u) << paged.out;
  EXPECT_NE(more[0].find("--from 2000-01-01T00:00:00+01:00 --to 2999-01-01T00:00:00Z"),
            std::string::npos)
      << more[0];
  EXPECT_TRUE(ids(ctl({"messages", "--receipt-missing"}).out).empty());
  const CtlResult bad = ctl({"messages", "--from", "yesterday"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("from must be a time with a zone"), std::string::npos) << bad.err;
}

TEST_F(CtlPaging, HelpForTheWholeAndForEachCommand) {
  start();
  const CtlResult help = ctl({"--help"});
  EXPECT_EQ(help.status, 0);
  for (const char* text : {"--cacert", "--cert", "--key", "--token", "SEKTORBRO_TOKEN",
                           "ctl.conf", "requeue", "dead-letters", "stats"})
    EXPECT_NE(help.out.find(text), std::string::npos) << text;
  const CtlResult one = ctl({"requeue", "--help"});
  EXPECT_EQ(one.status, 0);
  EXPECT_NE(one.out.find("usage: sektorbro-ctl [OPTIONS] requeue"), std::string::npos);
  EXPECT_NE(one.out.find("--dead-letters"), std::string::npos);
  EXPECT_EQ(ctl({"help", "messages"}).out.find("usage: sektorbro-ctl [OPTIONS] messages"), 0u);

  const CtlResult unknown = ctl({"frobnicate"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.err.find("no command 'frobnicate'"), std::string::npos);
  EXPECT_EQ(ctl({}).status, 2);
  const CtlResult wrong = ctl({"show"});
  EXPECT_EQ(wrong.status, 2);
  EXPECT_NE(wrong.err.find("show [SENDER_GLN] LETTER_ID"), std::string::npos);
  EXPECT_EQ(ctl({"messages", "--limit", "many"}).status, 2);
  // An answer from the broker that is an error: status 1 and the broker's reason.
  const CtlResult bad_state = ctl({"messages", "sleeping"});
  EXPECT_EQ(bad_state.status, 1);
  EXPECT_NE(bad_state.err.find("400: state must be"), std::string::npos) << bad_state.err;
  // No broker there: status 2.
  const CtlResult nobody =
      run_ctl({"--broker", "http://127.0.0.1:1", "health"}, {{"HOME", dir.path()}}, dir.path());
  EXPECT_EQ(nobody.status, 2);
  EXPECT_NE(nobody.err.find("no answer from http://127.0.0.1:1"), std::string::npos);
}

TEST_F(CtlPaging, RequeueEveryDeadLetterWithProgressAndASummary) {
  config["delivery"]["retry"]["max_attempts"] = 2;
  std::atomic<bool> up{false};
  psy.set_handler([&](const ReceivedRequest&) {
    return up ? ReplyPlan{} : ReplyPlan{503, "", "text/plain", {}};
  });
  start();
  post_requests(3);
  ASSERT_TRUE(eventually([&] { return get_json("/v1/dead-letters")["messages"].size() == 3; }));

  up = true;
  const CtlResult r = ctl({"requeue", "--dead-letters"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("requeue: 3 of 3 dead letters requeued, 0 refused, 0 failed"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("requeueing 3/3"), std::string::npos) << r.err;  // progress
  ASSERT_TRUE(eventually([&] {
    return get_json("/v1/messages?state=delivered")["messages"].size() == 3;
  }));
  EXPECT_TRUE(get_json("/v1/dead-letters")["messages"].empty());
  // Nothing left: an empty summary, success.
  const CtlResult again = ctl({"requeue", "--dead-letters"});
  EXPECT_EQ(again.status, 0);
  EXPECT_NE(again.out.find("requeue: 0 of 0 dead letters requeued"), std::string::npos);
  // One message: its own line.
  const CtlResult one = ctl({"requeue", jc_party.gln, "REQ1"});
  EXPECT_EQ(one.status, 1);  // delivered: a conflict
  EXPECT_NE(one.err.find("409"), std::string::npos) << one.err;
}

}  // namespace
}  // namespace sektorbro::testing
