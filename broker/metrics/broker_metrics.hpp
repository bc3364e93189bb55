// BrokerMetrics: every metric the broker exposes on /metrics, declared in one place, so the
// alerting rules (deploy/prometheus/) and dashboards can be checked against this list.
//
// Label values are endpoint ids, MedCom refuse codes, form codes and unit (endpoint) ids from the
// configuration — never a GLN, a letter id, a CPR number or content (see LabelPolicy).
//
// Where each is updated is written beside it (the io thread unless said otherwise).
#pragma once

#include <string>
#include <vector>

#include "broker/metrics/metrics_registry.hpp"

namespace sektorbro::metrics {

struct DeclaredMetric {
  const char* name;
  MetricType type;
  std::vector<std::string> labels;
  const char* help;
};

// The declared list, in exposition order. Every name here is registered by BrokerMetrics.
const std::vector<DeclaredMetric>& declared_metrics();

// The names a PromQL expression may use for a declared metric: the name itself and, for a
// histogram, name_bucket, name_sum and name_count.
std::vector<std::string> exposed_series_names();

// The families of declared_metrics(), registered on `registry`.
struct BrokerMetrics {
  explicit BrokerMetrics(MetricsRegistry& registry);

  // A message accepted (202) from an endpoint: {endpoint} = the sending endpoint's id.
  CounterFamily& messages_received;
  // A message refused with a negative receipt: {endpoint} = sender id or "unknown",
  // {refuse_code} = the MedCom code.
  CounterFamily& messages_refused;
  // A delivery attempt answered 2xx: {endpoint} = receiver id.
  CounterFamily& messages_delivered;
  // A failed attempt that will be tried again: {endpoint}.
  CounterFamily& delivery_retries;
  // A message given up on (dead-lettered): {endpoint}.
  CounterFamily& messages_dead_lettered;
  // A resend after a missing receipt (MedCom: at most two): {endpoint}.
  CounterFamily& resends;
  // A receipt that never came after the last resend (the alert): {endpoint}.
  CounterFamily& receipts_missing;
  // A reminder letter sent for an owed reply: {unit} = the owing endpoint, {form}.
  CounterFamily& reminders_sent;
  // Operator requeues: {outcome} = requeued | refused.
  CounterFamily& operator_requeues;

  // Waiting for (re)delivery and in flight, per receiving endpoint; set at scrape time.
  GaugeFamily& deliveries_waiting;
  GaugeFamily& deliveries_in_flight;
  // Open and overdue replies per owing unit and form; set at scrape time from the store's count.
  GaugeFamily& deadlines_open;
  GaugeFamily& deadlines_overdue;
  // Messages currently dead-lettered; set at scrape time.
  GaugeFamily& dead_letters;
  // Delivered messages whose receipt never came after the last resend, still without one:
  // {endpoint} = receiver; set at scrape time (issue 10).
  GaugeFamily& messages_without_receipt;
  // The four gauges above are counted in the store off the io thread every
  // metrics.store_counts_interval_ms (10 s by default) and served from that count
  // (broker/server/operator_counts_cache.hpp); this says how old it is.
  GaugeFamily& store_counts_age;
  // 1 when the broker answers ready, else 0.
  GaugeFamily& ready;
  // Always 1, {version}: the build.
  GaugeFamily& build_info;

  // Jobs per commit group (writer thread).
  HistogramFamily& commit_group_size;
  // Seconds one commit took on the writer thread (with its fsync unless deferred).
  HistogramFamily& commit_seconds;
  // Seconds one fsync of the SQLite store took (the sync or the writer thread, through
  // broker/store/timed_vfs.hpp); 50 us to ~6.5 s buckets.
  HistogramFamily& fsync_seconds;
  // Seconds from a message's request read to its answer written: {outcome} = accepted|refused.
  HistogramFamily& receive_seconds;
  // Seconds one delivery attempt took: {endpoint}.
  HistogramFamily& delivery_seconds;
};

}  // namespace sektorbro::metrics
