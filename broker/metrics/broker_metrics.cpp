#include "broker/metrics/broker_metrics.hpp"

#include <stdexcept>

namespace sektorbro::metrics {

namespace {

using M = MetricType;

// Seconds from 0.5 ms to about 65 s (doubling).
std::vector<double> latency_buckets() { return exponential_buckets(0.0005, 2, 18); }

}  // namespace

const std::vector<DeclaredMetric>& declared_metrics() {
  static const std::vector<DeclaredMetric> list{
      {"sektorbro_messages_received_total",
       M::kCounter,
       {"endpoint"},
       "Messages accepted (stored durably and answered 202), by sending endpoint."},
      {"sektorbro_messages_refused_total",
       M::kCounter,
       {"endpoint", "refuse_code"},
       "Messages refused with a negative receipt, by sending endpoint and MedCom refuse code."},
      {"sektorbro_messages_delivered_total",
       M::kCounter,
       {"endpoint"},
       "Messages delivered (receiver answered 2xx), by receiving endpoint."},
      {"sektorbro_delivery_retries_total",
       M::kCounter,
       {"endpoint"},
       "Failed delivery attempts that will be tried again, by receiving endpoint."},
      {"sektorbro_messages_dead_lettered_total",
       M::kCounter,
       {"endpoint"},
       "Messages delivery gave up on, by receiving endpoint."},
      {"sektorbro_resends_total",
       M::kCounter,
       {"endpoint"},
       "Resends in a new envelope after a missing receipt, by receiving endpoint."},
      {"sektorbro_receipts_missing_total",
       M::kCounter,
       {"endpoint"},
       "Messages whose receipt never came after the last resend, by receiving endpoint."},
      {"sektorbro_reminders_sent_total",
       M::kCounter,
       {"unit", "form"},
       "Reminders sent for owed replies, by owing unit and form."},
      {"sektorbro_operator_requeues_total",
       M::kCounter,
       {"outcome"},
       "Requeues asked for by operators, by outcome (requeued, refused)."},
      {"sektorbro_deliveries_waiting",
       M::kGauge,
       {"endpoint"},
       "Messages waiting for (re)delivery, by receiving endpoint."},
      {"sektorbro_deliveries_in_flight",
       M::kGauge,
       {"endpoint"},
       "Delivery attempts in flight, by receiving endpoint."},
      {"sektorbro_deadlines_open",
       M::kGauge,
       {"unit", "form"},
       "Replies owed and not yet given, by owing unit and form. Counted in the store every "
       "metrics.store_counts_interval_ms (10 s by default), at most twice that old "
       "(sektorbro_store_counts_age_seconds)."},
      {"sektorbro_deadlines_overdue",
       M::kGauge,
       {"unit", "form"},
       "Replies owed past their deadline, by owing unit and form. Counted in the store every "
       "metrics.store_counts_interval_ms (10 s by default), at most twice that old "
       "(sektorbro_store_counts_age_seconds)."},
      {"sektorbro_dead_letters",
       M::kGauge,
       {},
       "Messages currently dead-lettered (waiting for an operator). Counted in the store every "
       "metrics.store_counts_interval_ms (10 s by default), at most twice that old "
       "(sektorbro_store_counts_age_seconds)."},
      {"sektorbro_messages_without_receipt",
       M::kGauge,
       {"endpoint"},
       "Delivered messages whose receipt never came after the last resend (waiting for an "
       "operator), by receiving endpoint. Counted in the store every "
       "metrics.store_counts_interval_ms (10 s by default), at most twice that old "
       "(sektorbro_store_counts_age_seconds)."},
      {"sektorbro_store_counts_age_seconds",
       M::kGauge,
       {},
       "Seconds, on the broker's clock, since the store-counted gauges (deadlines open and "
       "overdue, dead letters, messages without receipt) were counted. They are recounted off "
       "the io thread every metrics.store_counts_interval_ms (10 s by default); a scrape that "
       "finds them older than twice that waits for a recount."},
      {"sektorbro_ready", M::kGauge, {}, "1 when the broker is ready to accept messages, else 0."},
      {"sektorbro_build_info", M::kGauge, {"version"}, "Always 1; the version of the build."},
      {"sektorbro_commit_group_size",
       M::kHistogram,
       {},
       "Jobs committed together in one store transaction."},
      {"sektorbro_commit_seconds",
       M::kHistogram,
       {},
       "Seconds one store commit took on the writer thread: its fsync included, unless the "
       "SQLite store leaves it to the sync thread (the default)."},
      {"sektorbro_fsync_seconds",
       M::kHistogram,
       {},
       "Seconds one fsync of the SQLite store's files (database or WAL) took, timed in SQLite's "
       "VFS: on the sync thread, which makes every commit group so far durable with one, or on "
       "the writer thread (a checkpoint; every commit when syncs are not deferred). Not "
       "measured for a PostgreSQL store: it syncs in the server."},
      {"sektorbro_receive_seconds",
       M::kHistogram,
       {"outcome"},
       "Seconds from a message's request read to its answer, by outcome (accepted, refused)."},
      {"sektorbro_delivery_seconds",
       M::kHistogram,
       {"endpoint"},
       "Seconds one delivery attempt took, by receiving endpoint."},
  };
  return list;
}

std::vector<std::string> exposed_series_names() {
  std::vector<std::string> out;
  for (const auto& d : declared_metrics()) {
    out.emplace_back(d.name);
    if (d.type == MetricType::kHistogram) {
      for (const char* suffix : {"_bucket", "_sum", "_count"})
        out.push_back(std::string(d.name) + suffix);
    }
  }
  return out;
}

namespace {

const DeclaredMetric& declared(const char* name) {
  for (const auto& d : declared_metrics())
    if (std::string_view(d.name) == name) return d;
  throw std::logic_error(std::string("metric not declared: ") + name);
}

CounterFamily& counter(MetricsRegistry& r, const char* name) {
  const auto& d = declared(name);
  return r.counter(d.name, d.help, d.labels);
}
GaugeFamily& gauge(MetricsRegistry& r, const char* name) {
  const auto& d = declared(name);
  return r.gauge(d.name, d.help, d.labels);
}
HistogramFamily& histogram(MetricsRegistry& r, const char* name, std::vector<double> bounds) {
  const auto& d = declared(name);
  return r.histogram(d.name, d.help, d.labels, std::move(bounds));
}

}  // namespace

BrokerMetrics::BrokerMetrics(MetricsRegistry& r)
    : messages_received(counter(r, "sektorbro_messages_received_total")),
      messages_refused(counter(r, "sektorbro_messages_refused_total")),
      messages_delivered(counter(r, "sektorbro_messages_delivered_total")),
      delivery_retries(counter(r, "sektorbro_delivery_retries_total")),
      messages_dead_lettered(counter(r, "sektorbro_messages_dead_lettered_total")),
      resends(counter(r, "sektorbro_resends_total")),
      receipts_missing(counter(r, "sektorbro_receipts_missing_total")),
      reminders_sent(counter(r, "sektorbro_reminders_sent_total")),
      operator_requeues(counter(r, "sektorbro_operator_requeues_total")),
      deliveries_waiting(gauge(r, "sektorbro_deliveries_waiting")),
      deliveries_in_flight(gauge(r, "sektorbro_deliveries_in_flight")),
      deadlines_open(gauge(r, "sektorbro_deadlines_open")),
      deadlines_overdue(gauge(r, "sektorbro_deadlines_overdue")),
      dead_letters(gauge(r, "sektorbro_dead_letters")),
      messages_without_receipt(gauge(r, "sektorbro_messages_without_receipt")),
      store_counts_age(gauge(r, "sektorbro_store_counts_age_seconds")),
      ready(gauge(r, "sektorbro_ready")),
      build_info(gauge(r, "sektorbro_build_info")),
      commit_group_size(histogram(r, "sektorbro_commit_group_size", exponential_buckets(1, 2, 10))),
      commit_seconds(histogram(r, "sektorbro_commit_seconds", latency_buckets())),
      fsync_seconds(histogram(r, "sektorbro_fsync_seconds", exponential_buckets(0.00005, 2, 18))),
      receive_seconds(histogram(r, "sektorbro_receive_seconds", latency_buckets())),
      delivery_seconds(histogram(r, "sektorbro_delivery_seconds", latency_buckets())) {}

}  // namespace sektorbro::metrics
