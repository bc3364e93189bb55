// Prints a metrics page with every declared metric and a sample in each family, for
// `promtool check metrics` (ctest prometheus_metrics_lint): the page Prometheus would scrape
// must pass Prometheus's own checker.
#include <iostream>

#include "broker/metrics/broker_metrics.hpp"

int main() {
  using namespace sektorbro::metrics;
  MetricsRegistry registry;
  BrokerMetrics m(registry);
  m.messages_received.with({"jc-aarhus"}).inc();
  m.messages_refused.with({"jc-aarhus", "ukendt_lokationsnummer"}).inc();
  m.messages_delivered.with({"psy-risskov"}).inc(3);
  m.delivery_retries.with({"psy-odense"}).inc();
  m.messages_dead_lettered.with({"psy-odense"}).inc();
  m.resends.with({"psy-odense"}).inc();
  m.receipts_missing.with({"psy-odense"}).inc();
  m.reminders_sent.with({"psy-risskov", "LÆ125"}).inc();
  m.operator_requeues.with({"requeued"}).inc();
  m.deliveries_waiting.with({"psy-odense"}).set(4);
  m.deliveries_in_flight.with({"psy-odense"}).set(1);
  m.deadlines_open.with({"psy-risskov", "LÆ125"}).set(12);
  m.deadlines_overdue.with({"psy-risskov", "LÆ125"}).set(2);
  m.dead_letters.get().set(1);
  m.ready.get().set(1);
  m.build_info.with({"0.1.0"}).set(1);
  m.commit_group_size.get().observe(8);
  m.commit_seconds.get().observe(0.004);
  m.receive_seconds.with({"accepted"}).observe(0.006);
  m.delivery_seconds.with({"psy-risskov"}).observe(0.02);
  m.messages_refused.with({"jc-aarhus", "0101801234"}).inc();  // refused label value
  std::cout << registry.exposition();
  return 0;
}
