// Deadlines through the real broker on a manual clock (issue 3): a certificate answered late is
// flagged late with the right number of days; a discharge notice nobody answers gets reminder
// letters on the scheduled days, then shows as overdue in the operators' list and figures.
// Dates are worked out by hand in the comments (Danish working days, Europe/Copenhagen).
#include <set>

#include "tests/integration/broker_fixture.hpp"

namespace sektorbro::testing {
namespace {

using std::chrono::seconds;

// Monday 23 November 2026, 10:00 in Copenhagen (CET, UTC+1).
const TimePoint kMonday = *parse_timestamp("2026-11-23T09:00:00Z");

class DeadlineFlow : public BrokerFixture {
 protected:
  DeadlineFlow() {
    config["clock"] = {{"mode", "manual"}, {"start", format_timestamp(kMonday)}};
    config["deadlines"] = {{"sweep_interval_ms", 60000}};  // sweeps come with each advance
  }
  // Moves the broker's clock to `t`; answers once the sweep for the new time has run.
  void advance_to(TimePoint t) {
    const auto now = parse_timestamp(get_json("/v1/health").value("now", ""));
    ASSERT_TRUE(now);
    const auto secs = std::chrono::duration_cast<seconds>(t - *now).count();
    ASSERT_GE(secs, 0);
    const auto r =
        client.post(broker->url("/v1/test/clock/advance?seconds=" + std::to_string(secs)), "");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  nlohmann::json deadlines(const std::string& query) { return get_json("/v1/deadlines?" + query); }
  // How many events of `kind` the timeline of the jobcenter's letter `letter_id` holds.
  int events_of(const std::string& letter_id, const std::string& kind) {
    const nlohmann::json m = message(jc_party, letter_id);  // a named value: the loop reads it
    int n = 0;
    for (const auto& e : m["timeline"]) n += e["event"] == kind;
    return n;
  }
  // The steps of the distinct Reminder letters a receiver got, in order. A letter delivered again
  // after a restart (same letter id: at least once) counts once; a second letter for a step
  // would show as a repeated step.
  static std::vector<int> reminder_steps(const HttpReceiver& r) {
    std::vector<int> steps;
    std::set<std::string> seen;
    for (const auto& e : envelopes_of(r, LetterType::kReminder))
      if (seen.insert(e.letters.front().id).second)
        steps.push_back(std::get<Reminder>(e.letters.front().body).step);
    return steps;
  }
};

TEST_F(DeadlineFlow, ACertificateAnsweredLateIsFlaggedWithTheDaysLate) {
  start();
  // LÆ125: 14 calendar days from delivery. Delivered Monday 23 Nov 2026 → 7 Dec 2026, a Monday
  // and a working day, so due 2026-12-07, ending 2026-12-07T23:00Z (midnight in Copenhagen).
  ASSERT_EQ(
      post(make_certificate_request(jc_party, psy_party, "E1", "REQ1", kMonday, "LÆ125")).status,
      202);
  ASSERT_TRUE(eventually([&] { return deadlines("view=open")["deadlines"].size() == 1; }));
  auto open = deadlines("view=open")["deadlines"][0];
  EXPECT_EQ(open["due"], "2026-12-07");
  EXPECT_EQ(open["due_end"], "2026-12-07T23:00:00.000Z");
  EXPECT_EQ(open["owed_by"], "psy");
  EXPECT_EQ(open["form"], "LÆ125");

  // The certificate arrives on Thursday 10 December: 3 days late.
  advance_to(*parse_timestamp("2026-12-10T10:00:00Z"));
  EXPECT_EQ(deadlines("view=overdue")["deadlines"].size(), 1u);
  ASSERT_EQ(post(make_certificate(psy_party, jc_party, "E2", "ATT1", "REQ1",
                                  *parse_timestamp("2026-12-10T10:00:00Z"), "LÆ125"))
                .status,
            202);
  const auto late = deadlines("view=answered-late")["deadlines"];
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0]["days_late"], 3);
  EXPECT_EQ(late[0]["state"], "answered-late");
  EXPECT_TRUE(deadlines("view=overdue")["deadlines"].empty());

  // A second answer to the same request is refused with a reason.
  const auto again = post(make_certificate(psy_party, jc_party, "E3", "ATT2", "REQ1",
                                           *parse_timestamp("2026-12-10T10:00:00Z"), "LÆ125"));
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(again.body.find("already answered"), std::string::npos) << again.body;

  // The month's figures for psychiatry: one request, answered late, late share 1.
  const auto stats = get_json("/v1/stats/certificates?from=2026-11&to=2026-12");
  ASSERT_EQ(stats["rows"].size(), 1u) << stats.dump();
  EXPECT_EQ(stats["rows"][0]["unit"], "psy");
  EXPECT_EQ(stats["rows"][0]["month"], "2026-11");
  EXPECT_EQ(stats["rows"][0]["answered_late"], 1);
  EXPECT_EQ(stats["rows"][0]["late_share"], 1.0);
  EXPECT_EQ(stats["rows"][0]["median_days_to_answer"], 17.0);  // 23 Nov → 10 Dec
  const auto csv =
      client.get(broker->url("/v1/stats/certificates?from=2026-11&to=2026-12&format=csv"));
  EXPECT_EQ(csv.status, 200);
  EXPECT_NE(csv.body.find("psy"), std::string::npos);
}

TEST_F(DeadlineFlow, AnUnansweredDischargeNoticeGetsRemindersThenIsOverdue) {
  start();
  // Notice arrives Monday 23 Nov 2026 (discharge Monday 30 Nov). MentorResponse due 5 working
  // days later: 24, 25, 26, 27 Nov, 30 Nov → due 2026-11-30. Reminders at 08:00 Copenhagen:
  // step 1 two working days before (Thu 26 Nov), step 2 on the due date (Mon 30 Nov), step 3
  // three working days after (Thu 3 Dec).
  const Date discharge{std::chrono::year{2026}, std::chrono::month{11}, std::chrono::day{30}};
  ASSERT_EQ(
      post(make_discharge_notice(psy_party, jc_party, "E1", "UDS1", kMonday, discharge)).status,
      202);
  ASSERT_TRUE(jc.wait_until([](auto& r) { return r.size() == 1; }, seconds{20}));
  auto d = deadlines("view=open&kind=mentor-response")["deadlines"];
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]["due"], "2026-11-30");
  EXPECT_EQ(d[0]["lead_time_days"], 7);
  EXPECT_EQ(d[0]["notice_late"], false);

  advance_to(*parse_timestamp("2026-11-26T06:59:00Z"));  // 07:59 local: not yet
  EXPECT_TRUE(reminder_steps(jc).empty());
  advance_to(*parse_timestamp("2026-11-26T07:00:00Z"));  // 08:00 local: step 1
  ASSERT_TRUE(eventually([&] { return reminder_steps(jc) == std::vector<int>{1}; }));
  advance_to(*parse_timestamp("2026-11-27T12:00:00Z"));  // Friday: nothing new
  advance_to(*parse_timestamp("2026-11-30T07:00:00Z"));  // due date 08:00: step 2
  ASSERT_TRUE(eventually([&] { return reminder_steps(jc) == std::vector<int>{1, 2}; }));
  EXPECT_TRUE(deadlines("view=overdue")["deadlines"].empty());  // due until local midnight
  advance_to(*parse_timestamp("2026-12-01T07:00:00Z"));         // the day after: overdue
  const auto overdue = deadlines("view=overdue")["deadlines"];
  ASSERT_EQ(overdue.size(), 1u);
  EXPECT_EQ(overdue[0]["request"]["letter_id"], "UDS1");
  EXPECT_EQ(overdue[0]["overdue_flagged"], true);
  advance_to(*parse_timestamp("2026-12-03T07:00:00Z"));  // step 3
  ASSERT_TRUE(eventually([&] { return reminder_steps(jc) == std::vector<int>{1, 2, 3}; }));

  // Every reminder is on the notice's timeline, each step once.
  const auto m = message(psy_party, "UDS1");
  int reminders = 0, overdue_events = 0;
  for (const auto& e : m["timeline"]) {
    reminders += e["event"] == "reminder";
    overdue_events += e["event"] == "overdue";
  }
  EXPECT_EQ(reminders, 3);
  EXPECT_EQ(overdue_events, 1);

  // A restart changes nothing: no step is sent again.
  restart();
  advance_to(*parse_timestamp("2026-12-03T08:00:00Z"));
  EXPECT_EQ(reminder_steps(jc), (std::vector<int>{1, 2, 3}));

  const auto stats = get_json("/v1/stats/mentor-responses?from=2026-11&to=2026-11");
  ASSERT_EQ(stats["rows"].size(), 1u) << stats.dump();
  EXPECT_EQ(stats["rows"][0]["jobcenter"], "jc");
  EXPECT_EQ(stats["rows"][0]["received"], 1);
  EXPECT_EQ(stats["rows"][0]["overdue"], 1);
  EXPECT_EQ(stats["rows"][0]["median_lead_time_days"], 7.0);
}

TEST_F(DeadlineFlow, ANoticeThatArrivesAfterTheDischargeIsFlaggedLate) {
  start();
  const Date discharged{std::chrono::year{2026}, std::chrono::month{11}, std::chrono::day{20}};
  ASSERT_EQ(
      post(make_discharge_notice(psy_party, jc_party, "E1", "UDS1", kMonday, discharged)).status,
      202);
  const auto d = deadlines("view=open&kind=mentor-response")["deadlines"];
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]["notice_late"], true);
  EXPECT_EQ(d[0]["lead_time_days"], -3);
  EXPECT_NE(broker->log().find("ALERT late discharge notice"), std::string::npos);
}

TEST_F(DeadlineFlow, ACorrectionKeepsTheClockAndACancellationClosesIt) {
  // Psychiatry sends no receipts here; keep the broker's resends out of this test's way.
  config["delivery"]["receipt_timeout_seconds"] = 7 * 24 * 3600;
  start();
  Envelope request = make_certificate_request(jc_party, psy_party, "E1", "REQ1", kMonday, "LÆ125");
  ASSERT_EQ(post(request).status, 202);
  ASSERT_TRUE(eventually([&] { return deadlines("view=open")["deadlines"].size() == 1; }));

  // Two days later the jobcenter corrects a question (same letter id, status rettetbrev): a new
  // version, delivered again; the deadline keeps its due date (a typo buys no time).
  advance_to(kMonday + std::chrono::days{2});
  request.id = "E2";
  request.letters[0].status = LetterStatus::kCorrected;
  std::get<CertificateRequest>(request.letters[0].body).questions.push_back("Tillægsspørgsmål?");
  ASSERT_EQ(post(request).status, 202);
  ASSERT_TRUE(psy.wait_until([](auto& r) { return r.size() == 2; }, seconds{20}));
  ASSERT_TRUE(eventually([&] {
    const auto m = message(jc_party, "REQ1");
    for (const auto& e : m["timeline"])
      if (e["event"] == "deadline-corrected") return true;
    return false;
  }));
  EXPECT_EQ(deadlines("view=open")["deadlines"][0]["due"], "2026-12-07");

  // Then it cancels the request (annulleretbrev): the deadline closes as cancelled.
  request.id = "E3";
  request.letters[0].status = LetterStatus::kCancelled;
  ASSERT_EQ(post(request).status, 202);
  EXPECT_TRUE(deadlines("view=open")["deadlines"].empty());
  const auto all = deadlines("view=all")["deadlines"];
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["state"], "cancelled");
  ASSERT_TRUE(psy.wait_until([](auto& r) { return r.size() == 3; }, seconds{20}));

  // Reusing the id for a new letter with other content is still refused.
  Envelope reused = make_certificate_request(jc_party, psy_party, "E4", "REQ1", kMonday, "LÆ225");
  EXPECT_EQ(post(reused).status, 409);
}

TEST_F(DeadlineFlow, NoReceiptMeansTwoResendsThenAnAlert) {
  start();  // psy answers 200 without a receipt
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "E1", "REQ1", kMonday)).status, 202);
  // The receipt watch starts when the delivery is recorded.
  ASSERT_TRUE(eventually([&] { return events_of("REQ1", "delivered") == 1; }));
  advance_to(kMonday + std::chrono::minutes{14});
  EXPECT_EQ(psy.received().size(), 1u);
  advance_to(kMonday + std::chrono::minutes{15});  // 15 minutes: first resend
  ASSERT_TRUE(eventually([&] { return events_of("REQ1", "resent") == 1; }));
  EXPECT_EQ(psy.received().size(), 2u);
  advance_to(kMonday + std::chrono::minutes{30});  // second resend
  ASSERT_TRUE(eventually([&] { return events_of("REQ1", "resent") == 2; }));
  EXPECT_EQ(psy.received().size(), 3u);
  advance_to(kMonday + std::chrono::minutes{45});  // no third: an alert instead
  advance_to(kMonday + std::chrono::minutes{90});
  EXPECT_EQ(psy.received().size(), 3u);
  // Same letter id, a new envelope id each time.
  std::set<std::string> envelopes;
  for (const auto& r : psy.received()) {
    auto e = decode_envelope(r.body);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->letters.front().id, "REQ1");
    envelopes.insert(e->id);
  }
  EXPECT_EQ(envelopes.size(), 3u);
  EXPECT_EQ(events_of("REQ1", "resent"), 2);
  EXPECT_EQ(events_of("REQ1", "receipt-missing"), 1);
  EXPECT_NE(broker->log().find("ALERT receipt missing"), std::string::npos);
}

TEST_F(DeadlineFlow, AReceiptStopsTheResends) {
  start();
  const Envelope request = make_certificate_request(jc_party, psy_party, "E1", "REQ1", kMonday);
  ASSERT_EQ(post(request).status, 202);
  ASSERT_TRUE(eventually([&] { return events_of("REQ1", "delivered") == 1; }))
      << message(jc_party, "REQ1").dump();
  advance_to(kMonday + std::chrono::minutes{15});
  ASSERT_TRUE(eventually([&] { return events_of("REQ1", "resent") == 1; }));
  ASSERT_EQ(post(make_positive_receipt(request, "K1", "KV1", kMonday)).status, 202);
  // The watch survives a restart too: nothing more is sent.
  restart();
  advance_to(kMonday + std::chrono::minutes{60});
  EXPECT_EQ(psy.received().size(), 2u);
  // The receipt reaches the jobcenter (perhaps twice: a delivery cut off by the restart is
  // delivered again — at least once, as MedCom receivers expect).
  ASSERT_TRUE(jc.wait_until([](auto& r) { return !r.empty(); }, seconds{20}));
}

class SystemClockBroker : public BrokerFixture {};

TEST_F(SystemClockBroker, TheClockEndpointDoesNotExist) {
  start();
  EXPECT_EQ(client.post(broker->url("/v1/test/clock/advance?seconds=60"), "").status, 404);
  EXPECT_EQ(get_json("/v1/health").value("clock", ""), "system");
}

}  // namespace
}  // namespace sektorbro::testing
