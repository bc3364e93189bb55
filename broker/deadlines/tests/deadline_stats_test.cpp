#include "broker/deadlines/deadline_stats.hpp"

#include <gtest/gtest.h>

#include "broker/deadlines/tests/deadline_test_support.hpp"

namespace sektorbro {
namespace {
using namespace sektorbro::test;

class StatsTest : public ::testing::Test {
 protected:
  DeadlinePolicy policy_ = default_deadline_policy();
  WorkingCalendar calendar_ = calendar_for(policy_);

  Deadline cert(const std::string& unit, const std::string& form, TimePoint opened) {
    auto r = open_certificate_deadline(certificate_request("R" + std::to_string(++n_), form),
                                       opened, DeadlineParties{unit, "jc-x"}, policy_, calendar_);
    EXPECT_TRUE(r.ok() && r->has_value());
    return **r;
  }
  Deadline mentor(const std::string& jobcenter, Date discharge, TimePoint arrived) {
    auto r = open_mentor_deadline(discharge_notice("N" + std::to_string(++n_), discharge), arrived,
                                  DeadlineParties{jobcenter, "psy-a"}, policy_, calendar_);
    EXPECT_TRUE(r.ok());
    return *r;
  }
  static Deadline answered(const Deadline& d, TimePoint at, ReplyKind k = ReplyKind::kAnswer) {
    auto r = answer(d, at, k);
    EXPECT_TRUE(r.ok());
    return *r;
  }
  int n_ = 0;
};

// psy-a, March 2026 (all opened 10:00 CET, i.e. 09:00 UTC; replies 09:00 UTC):
//   A LÆ125 opened Mon 2 Mar, due Mon 16 Mar, answered 5 Mar   →  3 days, on time
//   B LÆ125 opened 2 Mar,     due 16 Mar,     answered 12 Mar  → 10 days, on time
//   C LÆ125 opened 2 Mar,     due 16 Mar,     answered 16 Mar  → 14 days, on time
//   D LÆ125 opened 2 Mar,     due 16 Mar,     answered 22 Mar  → 20 days, late
//   E LÆ135 opened 2 Mar,     due Wed 1 Apr,  declined 2 Apr   → 31 days, a decline (late)
//   I LÆ125 opened Tue 10 Mar, due Tue 24 Mar, answered 17 Mar →  7 days, on time
//   F LÆ125 opened Tue 3 Mar, due Tue 17 Mar, still open on 10 Apr → open, overdue
//   G LÆ125 opened Wed 4 Mar, cancelled 5 Mar
// received 8 = on time 4 (A B C I) + late 1 (D) + declined 1 (E) + cancelled 1 + open 1 (the
// columns are disjoint, issue 12 item 21); overdue 1 (of the open); late share over answers
// 1/5 = 0.2; days over replies, the decline too, [3 7 10 14 20 31]: median (10 + 14) / 2 = 12,
// p90 nearest rank ceil(0.9 × 6) = 6th = 31.
// psy-a, April 2026: H LÆ125 opened 31 Mar 23:30 UTC = 1 Apr 01:30 CEST (April!), due 15 Apr,
// answered 10 Apr → 9 days; open J opened 8 Apr, due 22 Apr, not overdue on 10 Apr.
// psy-b, March 2026: K LÆ125 opened 2 Mar answered 20 Mar → late, 18 days.
TEST_F(StatsTest, HandComputedCertificateTable) {
  std::vector<Deadline> all;
  const auto at = [](Date d) { return utc(d, 9); };
  all.push_back(answered(cert("psy-a", "LÆ125", at(2026y / March / 2)), at(2026y / March / 5)));
  all.push_back(answered(cert("psy-a", "LÆ125", at(2026y / March / 2)), at(2026y / March / 12)));
  all.push_back(answered(cert("psy-a", "LÆ125", at(2026y / March / 2)), at(2026y / March / 16)));
  all.push_back(answered(cert("psy-a", "LÆ125", at(2026y / March / 2)), at(2026y / March / 22)));
  all.push_back(answered(cert("psy-a", "LÆ135", at(2026y / March / 2)), at(2026y / April / 2),
                         ReplyKind::kDecline));
  all.push_back(answered(cert("psy-a", "LÆ125", at(2026y / March / 10)), at(2026y / March / 17)));
  all.push_back(cert("psy-a", "LÆ125", at(2026y / March / 3)));
  all.push_back(*cancel(cert("psy-a", "LÆ125", at(2026y / March / 4)), at(2026y / March / 5)));
  all.push_back(
      answered(cert("psy-a", "LÆ125", utc(2026y / March / 31, 23, 30)), at(2026y / April / 10)));
  all.push_back(cert("psy-a", "LÆ125", at(2026y / April / 8)));
  all.push_back(answered(cert("psy-b", "LÆ125", at(2026y / March / 2)), at(2026y / March / 20)));
  all.push_back(mentor("jc-x", 2026y / March / 10, at(2026y / March / 2)));  // other kind: ignored

  const auto rows = certificate_stats(all, at(2026y / April / 10));
  ASSERT_EQ(rows.size(), 3u);

  EXPECT_EQ(rows[0].unit, "psy-a");
  EXPECT_EQ(rows[0].month, 2026y / March);
  const ReplyFigures& m = rows[0].replies;
  EXPECT_EQ(m.received, 8);
  EXPECT_EQ(m.answered_on_time, 4);
  EXPECT_EQ(m.answered_late, 1);
  EXPECT_EQ(m.declined, 1);
  EXPECT_EQ(m.cancelled, 1);
  EXPECT_EQ(m.open, 1);
  EXPECT_EQ(m.overdue, 1);
  ASSERT_TRUE(m.late_share.has_value());
  EXPECT_DOUBLE_EQ(*m.late_share, 1.0 / 5.0);
  EXPECT_EQ(m.median_days_to_answer, 12.0);
  EXPECT_EQ(m.p90_days_to_answer, 31);

  EXPECT_EQ(rows[1].unit, "psy-a");
  EXPECT_EQ(rows[1].month, 2026y / April);
  EXPECT_EQ(rows[1].replies.received, 2);
  EXPECT_EQ(rows[1].replies.answered_on_time, 1);
  EXPECT_EQ(rows[1].replies.open, 1);
  EXPECT_EQ(rows[1].replies.overdue, 0);
  EXPECT_EQ(rows[1].replies.late_share, 0.0);
  EXPECT_EQ(rows[1].replies.median_days_to_answer, 9.0);
  EXPECT_EQ(rows[1].replies.p90_days_to_answer, 9);

  EXPECT_EQ(rows[2].unit, "psy-b");
  EXPECT_EQ(rows[2].replies.answered_late, 1);
  EXPECT_EQ(rows[2].replies.late_share, 1.0);
  EXPECT_EQ(rows[2].replies.median_days_to_answer, 18.0);

  EXPECT_EQ(certificate_stats_csv(rows),
            "unit,month,received,answered_on_time,answered_late,declined,cancelled,open,overdue,"
            "late_share,median_days_to_answer,p90_days_to_answer\r\n"
            "psy-a,2026-03,8,4,1,1,1,1,1,0.2000,12.0,31\r\n"
            "psy-a,2026-04,2,1,0,0,0,1,0,0.0000,9.0,9\r\n"
            "psy-b,2026-03,1,0,1,0,0,0,0,1.0000,18.0,18\r\n");
}

// jc-x, March 2026, notices arriving 09:00 UTC:
//   arrived Mon 2 Mar, discharge 7 Mar → lead 5;  due 9 Mar (5 working days), answered 4 Mar
//   arrived Mon 9 Mar, discharge 7 Mar → lead −2 (after discharge); due 16 Mar, answered 18 Mar
//     → late
//   arrived Mon 16 Mar, discharge 16 Mar → lead 0; due 23 Mar, open on 10 Apr → overdue
// median lead [−2 0 5] = 0; 1 of 3 after discharge; late share 1/2; days [2 9]: median 5.5,
// p90 = ceil(1.8) = 2nd = 9.
TEST_F(StatsTest, HandComputedMentorTable) {
  const auto at = [](Date d) { return utc(d, 9); };
  std::vector<Deadline> all;
  all.push_back(
      answered(mentor("jc-x", 2026y / March / 7, at(2026y / March / 2)), at(2026y / March / 4)));
  all.push_back(
      answered(mentor("jc-x", 2026y / March / 7, at(2026y / March / 9)), at(2026y / March / 18)));
  all.push_back(mentor("jc-x", 2026y / March / 16, at(2026y / March / 16)));
  all.push_back(cert("psy-a", "LÆ125", at(2026y / March / 2)));  // other kind: ignored

  const auto rows = mentor_stats(all, at(2026y / April / 10));
  ASSERT_EQ(rows.size(), 1u);
  const MentorStatsRow& r = rows[0];
  EXPECT_EQ(r.jobcenter, "jc-x");
  EXPECT_EQ(r.replies.received, 3);
  EXPECT_EQ(r.replies.answered_on_time, 1);
  EXPECT_EQ(r.replies.answered_late, 1);
  EXPECT_EQ(r.replies.open, 1);
  EXPECT_EQ(r.replies.overdue, 1);
  EXPECT_EQ(r.replies.late_share, 0.5);
  EXPECT_EQ(r.replies.median_days_to_answer, 5.5);
  EXPECT_EQ(r.replies.p90_days_to_answer, 9);
  EXPECT_EQ(r.median_lead_time_days, 0.0);
  EXPECT_EQ(r.notices_after_discharge, 1);
  ASSERT_TRUE(r.share_after_discharge.has_value());
  EXPECT_DOUBLE_EQ(*r.share_after_discharge, 1.0 / 3.0);

  EXPECT_EQ(mentor_stats_csv(rows),
            "jobcenter,month,received,answered_on_time,answered_late,declined,cancelled,open,"
            "overdue,late_share,median_days_to_answer,p90_days_to_answer,median_lead_time_days,"
            "notices_after_discharge,share_after_discharge\r\n"
            "jc-x,2026-03,3,1,1,0,0,1,1,0.5000,5.5,9,0.0,1,0.3333\r\n");
}

// Issue 12, item 21: every deadline is in exactly one of answered_on_time, answered_late,
// declined, cancelled and open, so they add up to received; overdue is a part of open.
TEST_F(StatsTest, TheColumnsAddUpToReceived) {
  const auto at = [](Date d) { return utc(d, 9); };
  std::vector<Deadline> all;
  all.push_back(answered(cert("psy-a", "LÆ135", at(2026y / March / 2)), at(2026y / March / 3),
                         ReplyKind::kDecline));  // declined on time
  all.push_back(answered(cert("psy-a", "LÆ145", at(2026y / March / 2)), at(2026y / May / 20),
                         ReplyKind::kDecline));  // declined late
  all.push_back(answered(cert("psy-a", "LÆ125", at(2026y / March / 2)), at(2026y / March / 3)));
  all.push_back(answered(cert("psy-a", "LÆ125", at(2026y / March / 2)), at(2026y / May / 20)));
  all.push_back(*cancel(cert("psy-a", "LÆ125", at(2026y / March / 2)), at(2026y / March / 3)));
  all.push_back(cert("psy-a", "LÆ125", at(2026y / March / 2)));   // open and overdue
  all.push_back(cert("psy-a", "LÆ155", at(2026y / March / 30)));  // open, not yet due
  const auto rows = certificate_stats(all, at(2026y / May / 21));
  ASSERT_EQ(rows.size(), 1u);
  const ReplyFigures& f = rows[0].replies;
  EXPECT_EQ(f.received, 7);
  EXPECT_EQ(f.answered_on_time + f.answered_late + f.declined + f.cancelled + f.open, f.received);
  EXPECT_EQ(f.answered_on_time, 1);
  EXPECT_EQ(f.answered_late, 1);
  EXPECT_EQ(f.declined, 2);
  EXPECT_EQ(f.cancelled, 1);
  EXPECT_EQ(f.open, 2);
  EXPECT_EQ(f.overdue, 1);
  EXPECT_LE(f.overdue, f.open);
  EXPECT_EQ(f.late_share, 0.5);  // answers only: 1 late of 2
}

// Issue 12, item 21: a deadline's age counts Copenhagen calendar days, like everything else in
// the deadline figures, not elapsed 24-hour periods.
TEST(DeadlineAge, CountsCopenhagenCalendarDays) {
  Deadline d;
  d.opened_at = utc(2026y / March / 2, 22, 30);  // Mon 2 March 23:30 CET
  EXPECT_EQ(age_days(d, utc(2026y / March / 2, 22, 59)), 0);
  EXPECT_EQ(age_days(d, utc(2026y / March / 2, 23, 0)), 1);  // Tue 3 March 00:00 CET, 30 minutes
  EXPECT_EQ(age_days(d, utc(2026y / March / 3, 22, 0)), 1);  // Tue 23:00 CET, 23.5 hours
  EXPECT_EQ(age_days(d, utc(2026y / March / 4, 22, 0)), 2);  // Wed 23:00 CET, 47.5 hours
  EXPECT_EQ(age_days(d, utc(2026y / March / 4, 23, 0)), 3);  // Thu 00:00 CET
  // Across the change to summer time (29 March): still calendar days.
  d.opened_at = utc(2026y / March / 28, 12);               // Sat 28 March 13:00 CET
  EXPECT_EQ(age_days(d, utc(2026y / March / 29, 22)), 2);  // Mon 30 March 00:00 CEST, 33 hours
}

TEST(StatsFunctions, MedianAndNearestRankPercentile) {
  EXPECT_FALSE(median({}).has_value());
  EXPECT_EQ(median({7}), 7.0);
  EXPECT_EQ(median({9, 1, 5}), 5.0);
  EXPECT_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_FALSE(percentile_nearest_rank({}, 90).has_value());
  EXPECT_EQ(percentile_nearest_rank({5}, 90), 5);
  // 1..10: rank ceil(9.0) = 9; 1..20: rank 18; 1..11: rank ceil(9.9) = 10.
  EXPECT_EQ(percentile_nearest_rank({10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 90), 9);
  std::vector<int> twenty;
  for (int i = 20; i >= 1; --i) twenty.push_back(i);
  EXPECT_EQ(percentile_nearest_rank(twenty, 90), 18);
  EXPECT_EQ(percentile_nearest_rank({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 90), 10);
  EXPECT_EQ(percentile_nearest_rank({1, 2, 3, 4}, 50), 2);
  EXPECT_EQ(percentile_nearest_rank({1, 2, 3, 4}, 100), 4);
}

TEST(StatsFunctions, CsvQuotingFollowsRfc4180) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\r\nlines"), "\"two\r\nlines\"");
  EXPECT_EQ(csv_field("line\n"), "\"line\n\"");
  CertificateStatsRow row{"psy \"a\", north", 2026y / December, {}};
  EXPECT_EQ(certificate_stats_csv({row}).substr(certificate_stats_csv({}).size()),
            "\"psy \"\"a\"\", north\",2026-12,0,0,0,0,0,0,0,,,\r\n");
}

}  // namespace
}  // namespace sektorbro
