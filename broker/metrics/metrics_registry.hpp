// MetricsRegistry: the broker's counters, gauges and histograms, each a family of series told
// apart by label values, and the page Prometheus scrapes (text exposition format 0.0.4).
//
// Thread rules: families are registered once, at start-up, before other threads use the
// registry (registration throws std::invalid_argument on a bad or repeated name: a programming
// error, never input). After that any thread may update a series or write the page: updates are
// atomic, finding a series takes the family's mutex. A reference to a series stays valid for the
// registry's life, so hot paths look a series up once and keep it.
//
// Label values pass LabelPolicy: a value that is not acceptable (could be a CPR number or
// content) is never stored; the sample goes to the series whose every label is "refused", and
// sektorbro_metrics_label_refused_total{metric} counts it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sektorbro::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };
const char* to_string(MetricType type);

using LabelValues = std::vector<std::string>;

// The value label values are replaced by when LabelPolicy refuses one of them.
inline constexpr std::string_view kRefusedLabelValue = "refused";

// Only goes up (restarts at zero with the process).
class Counter {
 public:
  void inc(double by = 1.0) {
    if (by > 0) value_.fetch_add(by, std::memory_order_relaxed);
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down, or is set at scrape time.
class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1.0) { value_.fetch_add(by, std::memory_order_relaxed); }
  void dec(double by = 1.0) { value_.fetch_sub(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted into buckets with fixed upper bounds (le), plus their sum and count.
class Histogram {
 public:
  explicit Histogram(const std::vector<double>& upper_bounds);
  void observe(double v);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per upper bound, then +Inf (== count)
    double sum = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& upper_bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1 (overflow)
  std::atomic<double> sum_{0.0};
};

// `count` bounds: start, start·factor, start·factor², …
std::vector<double> exponential_buckets(double start, double factor, int count);

class MetricsRegistry;

// All series of one metric. T is Counter, Gauge or Histogram.
template <typename T>
class Family {
 public:
  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // The series with these label values (one per label name, in order), created at first use.
  // Values LabelPolicy refuses, or the wrong number of them, give the "refused" series.
  T& with(const LabelValues& values);
  // The only series of a family without labels.
  T& get() { return with({}); }

 private:
  friend class MetricsRegistry;
  Family(MetricsRegistry& registry, std::string name, std::string help,
         std::vector<std::string> label_names, std::vector<double> bounds);
  T& find_or_add(const LabelValues& values);

  MetricsRegistry& registry_;
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mutex_;
  std::map<LabelValues, std::unique_ptr<T>> series_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class MetricsRegistry {
 public:
  MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registration (start-up only). Counter names end in "_total" by convention; histogram
  // bounds must be strictly increasing and finite.
  CounterFamily& counter(std::string name, std::string help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string name, std::string help,
                     std::vector<std::string> label_names = {});
  HistogramFamily& histogram(std::string name, std::string help,
                             std::vector<std::string> label_names, std::vector<double> bounds);

  // The whole page in the text exposition format, families in registration order, series in
  // label order.
  std::string exposition() const;

  // Names and types of every registered family, in registration order.
  std::vector<std::pair<std::string, MetricType>> families() const;

 private:
  template <typename T>
  friend class Family;
  void check_new_name(const std::string& name, const std::vector<std::string>& label_names) const;
  void count_refused(const std::string& metric);

  std::vector<std::variant<CounterFamily*, GaugeFamily*, HistogramFamily*>> order_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<GaugeFamily>> gauges_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
  CounterFamily* refused_ = nullptr;
};

}  // namespace sektorbro::metrics
