#include "broker/metrics/broker_metrics.hpp"

#include <gtest/gtest.h>

#include <set>

#include "broker/metrics/tests/exposition_parser.hpp"

namespace sektorbro::metrics {
namespace {

TEST(BrokerMetrics, EveryDeclaredMetricIsOnThePageWithItsType) {
  MetricsRegistry r;
  BrokerMetrics m(r);
  m.messages_refused.with({"jc-aarhus", "ukendt_lokationsnummer"}).inc();
  m.deadlines_overdue.with({"psy-risskov", "LÆ125"}).set(4);
  m.delivery_seconds.with({"jc-aarhus"}).observe(0.02);
  m.build_info.with({"0.1.0"}).set(1);

  std::string error;
  const auto page = testing::parse_page(r.exposition(), error);
  ASSERT_TRUE(page) << error;
  for (const auto& d : declared_metrics()) {
    ASSERT_TRUE(page->types.count(d.name)) << d.name;
    EXPECT_EQ(page->types.at(d.name), to_string(d.type)) << d.name;
    EXPECT_FALSE(page->helps.at(d.name).empty()) << d.name;
  }
  EXPECT_EQ(page->value("sektorbro_messages_refused_total",
                        {{"endpoint", "jc-aarhus"}, {"refuse_code", "ukendt_lokationsnummer"}}),
            1);
  EXPECT_EQ(
      page->value("sektorbro_deadlines_overdue", {{"unit", "psy-risskov"}, {"form", "LÆ125"}}), 4);
  EXPECT_EQ(page->value("sektorbro_delivery_seconds_count", {{"endpoint", "jc-aarhus"}}), 1);
  EXPECT_EQ(page->value("sektorbro_build_info", {{"version", "0.1.0"}}), 1);
}

TEST(BrokerMetrics, NamesAreUniqueAndFollowTheConventions) {
  std::set<std::string> seen;
  for (const auto& d : declared_metrics()) {
    const std::string name = d.name;
    EXPECT_TRUE(seen.insert(name).second) << name;
    EXPECT_EQ(name.rfind("sektorbro_", 0), 0u) << name;
    const bool total = name.size() > 6 && name.ends_with("_total");
    EXPECT_EQ(total, d.type == MetricType::kCounter) << name;
    for (const auto& l : d.labels) {
      // Labels that could carry personal data or content are not declared at all.
      for (const char* forbidden : {"cpr", "patient", "letter", "gln", "envelope", "message"})
        EXPECT_EQ(l.find(forbidden), std::string::npos) << name << " label " << l;
    }
  }
  const auto exposed = exposed_series_names();
  EXPECT_NE(std::find(exposed.begin(), exposed.end(), "sektorbro_commit_seconds_bucket"),
            exposed.end());
  // fsync latency, timed in SQLite's VFS (broker/store/timed_vfs.hpp; issue 10).
  EXPECT_NE(std::find(exposed.begin(), exposed.end(), "sektorbro_fsync_seconds_bucket"),
            exposed.end());
}

}  // namespace
}  // namespace sektorbro::metrics
