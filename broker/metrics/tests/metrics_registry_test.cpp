#include "broker/metrics/metrics_registry.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "broker/metrics/tests/exposition_parser.hpp"

namespace sektorbro::metrics {
namespace {

testing::Page read(const MetricsRegistry& registry) {
  std::string error;
  auto page = testing::parse_page(registry.exposition(), error);
  EXPECT_TRUE(page) << "malformed line: " << error << "\n" << registry.exposition();
  return page ? *page : testing::Page{};
}

TEST(MetricsRegistry, CountersAndGaugesReadBackWithTheirLabels) {
  MetricsRegistry r;
  auto& received = r.counter("t_received_total", "Received.", {"endpoint"});
  auto& waiting = r.gauge("t_waiting", "Waiting.", {"endpoint"});
  auto& ready = r.gauge("t_ready", "Ready.");
  received.with({"jc-aarhus"}).inc();
  received.with({"jc-aarhus"}).inc(2);
  received.with({"psy-odense"}).inc();
  received.with({"psy-odense"}).inc(-5);  // counters never go down
  waiting.with({"jc-aarhus"}).set(7);
  waiting.with({"jc-aarhus"}).dec();
  ready.get().set(1);

  const auto page = read(r);
  EXPECT_EQ(page.types.at("t_received_total"), "counter");
  EXPECT_EQ(page.types.at("t_waiting"), "gauge");
  EXPECT_EQ(page.helps.at("t_ready"), "Ready.");
  EXPECT_EQ(page.value("t_received_total", {{"endpoint", "jc-aarhus"}}), 3);
  EXPECT_EQ(page.value("t_received_total", {{"endpoint", "psy-odense"}}), 1);
  EXPECT_EQ(page.value("t_waiting", {{"endpoint", "jc-aarhus"}}), 6);
  EXPECT_EQ(page.value("t_ready"), 1);
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeAndCountMatchesInf) {
  MetricsRegistry r;
  auto& h = r.histogram("t_seconds", "Latency.", {"endpoint"}, {0.01, 0.1, 1});
  auto& s = h.with({"jc"});
  for (double v : {0.005, 0.01, 0.05, 0.5, 0.7, 3.0}) s.observe(v);

  const auto page = read(r);
  EXPECT_EQ(page.types.at("t_seconds"), "histogram");
  auto bucket = [&](const std::string& le) {
    return page.value("t_seconds_bucket", {{"endpoint", "jc"}, {"le", le}});
  };
  EXPECT_EQ(bucket("0.01"), 2);  // 0.005 and 0.01 (le is inclusive)
  EXPECT_EQ(bucket("0.1"), 3);
  EXPECT_EQ(bucket("1"), 5);
  EXPECT_EQ(bucket("+Inf"), 6);
  EXPECT_EQ(page.value("t_seconds_count", {{"endpoint", "jc"}}), 6);
  EXPECT_NEAR(*page.value("t_seconds_sum", {{"endpoint", "jc"}}), 4.265, 1e-9);
}

TEST(MetricsRegistry, FamiliesWithoutLabelsShowZeroBeforeTheFirstUpdate) {
  MetricsRegistry r;
  r.counter("t_total", "T.");
  r.histogram("t_size", "Size.", {}, {1, 2});
  const auto page = read(r);
  EXPECT_EQ(page.value("t_total"), 0);
  EXPECT_EQ(page.value("t_size_bucket", {{"le", "+Inf"}}), 0);
  EXPECT_EQ(page.value("t_size_count"), 0);
}

TEST(MetricsRegistry, RefusedLabelValuesNeverReachThePage) {
  MetricsRegistry r;
  auto& refused = r.counter("t_refused_total", "Refused.", {"endpoint", "refuse_code"});
  refused.with({"jc-aarhus", "0101801234"}).inc();  // a CPR number where a code belongs
  refused.with({"jc-aarhus"}).inc();                // too few values
  refused.with({"jc-aarhus", "syntaksfejl"}).inc();

  const std::string text = r.exposition();
  EXPECT_EQ(text.find("0101801234"), std::string::npos);
  const auto page = read(r);
  EXPECT_EQ(page.value("t_refused_total", {{"endpoint", "refused"}, {"refuse_code", "refused"}}),
            2);
  EXPECT_EQ(page.value("t_refused_total", {{"endpoint", "jc-aarhus"}, {"refuse_code", "syntaksfejl"}}),
            1);
  EXPECT_EQ(page.value("sektorbro_metrics_label_refused_total", {{"metric", "t_refused_total"}}),
            2);
}

TEST(MetricsRegistry, RegistrationRefusesBadAndRepeatedNames) {
  MetricsRegistry r;
  r.counter("t_total", "T.");
  EXPECT_THROW(r.gauge("t_total", "again"), std::invalid_argument);
  EXPECT_THROW(r.counter("t-x", "bad"), std::invalid_argument);
  EXPECT_THROW(r.counter("t_y", "bad label", {"le"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("t_h", "no buckets", {}, {}), std::invalid_argument);
  EXPECT_THROW(r.histogram("t_h2", "not increasing", {}, {1, 1}), std::invalid_argument);
}

TEST(MetricsRegistry, UpdatesFromManyThreadsAreAllCounted) {
  MetricsRegistry r;
  auto& c = r.counter("t_total", "T.", {"endpoint"});
  auto& h = r.histogram("t_seconds", "S.", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.with({"jc"}).inc();
        h.get().observe(0.5);
      }
    });
  for (auto& t : threads) t.join();
  const auto page = read(r);
  EXPECT_EQ(page.value("t_total", {{"endpoint", "jc"}}), 40000);
  EXPECT_EQ(page.value("t_seconds_count"), 40000);
  EXPECT_EQ(page.value("t_seconds_sum"), 20000);
}

TEST(MetricsRegistry, ExponentialBuckets) {
  EXPECT_EQ(exponential_buckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
}

}  // namespace
}  // namespace sektorbro::metrics
