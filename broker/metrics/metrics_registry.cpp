#include "broker/metrics/metrics_registry.hpp"

#include <cmath>
#include <stdexcept>

#include "broker/metrics/exposition_format.hpp"
#include "broker/metrics/label_policy.hpp"

namespace sektorbro::metrics {

const char* to_string(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

Histogram::Histogram(const std::vector<double>& upper_bounds)
    : bounds_(upper_bounds),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds.size() + 1)) {}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> out;
  double b = start;
  for (int i = 0; i < count; ++i, b *= factor) out.push_back(b);
  return out;
}

template <typename T>
Family<T>::Family(MetricsRegistry& registry, std::string name, std::string help,
                  std::vector<std::string> label_names, std::vector<double> bounds)
    : registry_(registry),
      name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

template <typename T>
T& Family<T>::find_or_add(const LabelValues& values) {
  std::lock_guard lock(mutex_);
  auto it = series_.find(values);
  if (it != series_.end()) return *it->second;
  std::unique_ptr<T> made;
  if constexpr (std::is_same_v<T, Histogram>) {
    made = std::make_unique<T>(bounds_);
  } else {
    made = std::make_unique<T>();
  }
  return *series_.emplace(values, std::move(made)).first->second;
}

template <typename T>
T& Family<T>::with(const LabelValues& values) {
  bool acceptable = values.size() == label_names_.size();
  for (std::size_t i = 0; acceptable && i < values.size(); ++i)
    acceptable = acceptable_label_value(values[i]);
  if (acceptable) return find_or_add(values);
  registry_.count_refused(name_);
  return find_or_add(LabelValues(label_names_.size(), std::string(kRefusedLabelValue)));
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

MetricsRegistry::MetricsRegistry() {
  refused_ = &counter("sektorbro_metrics_label_refused_total",
                      "Samples whose label values were refused (possible personal data) and "
                      "counted under the label value \"refused\" instead.",
                      {"metric"});
}

void MetricsRegistry::check_new_name(const std::string& name,
                                     const std::vector<std::string>& label_names) const {
  if (!valid_metric_name(name)) throw std::invalid_argument("bad metric name: " + name);
  for (const auto& l : label_names)
    if (!valid_metric_name(l) || l == "le")
      throw std::invalid_argument("bad label name on " + name + ": " + l);
  for (const auto& [existing, type] : families())
    if (existing == name) throw std::invalid_argument("metric registered twice: " + name);
}

CounterFamily& MetricsRegistry::counter(std::string name, std::string help,
                                        std::vector<std::string> label_names) {
  check_new_name(name, label_names);
  const bool plain = label_names.empty();
  counters_.push_back(std::unique_ptr<CounterFamily>(
      new CounterFamily(*this, std::move(name), std::move(help), std::move(label_names), {})));
  order_.emplace_back(counters_.back().get());
  if (plain) counters_.back()->get();
  return *counters_.back();
}

GaugeFamily& MetricsRegistry::gauge(std::string name, std::string help,
                                    std::vector<std::string> label_names) {
  check_new_name(name, label_names);
  const bool plain = label_names.empty();
  gauges_.push_back(std::unique_ptr<GaugeFamily>(
      new GaugeFamily(*this, std::move(name), std::move(help), std::move(label_names), {})));
  order_.emplace_back(gauges_.back().get());
  if (plain) gauges_.back()->get();
  return *gauges_.back();
}

HistogramFamily& MetricsRegistry::histogram(std::string name, std::string help,
                                            std::vector<std::string> label_names,
                                            std::vector<double> bounds) {
  check_new_name(name, label_names);
  if (bounds.empty()) throw std::invalid_argument("histogram without buckets: " + name);
  for (std::size_t i = 0; i < bounds.size(); ++i)
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
      throw std::invalid_argument("histogram buckets must increase: " + name);
  const bool plain = label_names.empty();
  histograms_.push_back(std::unique_ptr<HistogramFamily>(new HistogramFamily(
      *this, std::move(name), std::move(help), std::move(label_names), std::move(bounds))));
  order_.emplace_back(histograms_.back().get());
  if (plain) histograms_.back()->get();
  return *histograms_.back();
}

void MetricsRegistry::count_refused(const std::string& metric) {
  if (refused_ != nullptr) refused_->with({metric}).inc();
}

std::vector<std::pair<std::string, MetricType>> MetricsRegistry::families() const {
  std::vector<std::pair<std::string, MetricType>> out;
  for (const auto& entry : order_) {
    if (auto c = std::get_if<CounterFamily*>(&entry)) {
      out.emplace_back((*c)->name(), MetricType::kCounter);
    } else if (auto g = std::get_if<GaugeFamily*>(&entry)) {
      out.emplace_back((*g)->name(), MetricType::kGauge);
    } else {
      out.emplace_back(std::get<HistogramFamily*>(entry)->name(), MetricType::kHistogram);
    }
  }
  return out;
}

namespace {

std::vector<Label> labels_of(const std::vector<std::string>& names, const LabelValues& values) {
  std::vector<Label> out;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i)
    out.emplace_back(names[i], values[i]);
  return out;
}

template <typename T>
void header(std::string& out, const Family<T>& f, const std::string& help, MetricType type) {
  out += "# HELP " + f.name() + " " + escape_help(help) + "\n";
  out += "# TYPE " + f.name() + " " + to_string(type) + "\n";
}

}  // namespace

std::string MetricsRegistry::exposition() const {
  std::string out;
  for (const auto& entry : order_) {
    if (auto c = std::get_if<CounterFamily*>(&entry)) {
      const CounterFamily& f = **c;
      header(out, f, f.help_, MetricType::kCounter);
      std::lock_guard lock(f.mutex_);
      for (const auto& [values, series] : f.series_)
        out += sample_line(f.name(), labels_of(f.label_names(), values), series->value());
    } else if (auto g = std::get_if<GaugeFamily*>(&entry)) {
      const GaugeFamily& f = **g;
      header(out, f, f.help_, MetricType::kGauge);
      std::lock_guard lock(f.mutex_);
      for (const auto& [values, series] : f.series_)
        out += sample_line(f.name(), labels_of(f.label_names(), values), series->value());
    } else {
      const HistogramFamily& f = *std::get<HistogramFamily*>(entry);
      header(out, f, f.help_, MetricType::kHistogram);
      std::lock_guard lock(f.mutex_);
      for (const auto& [values, series] : f.series_) {
        const auto snap = series->snapshot();
        const auto labels = labels_of(f.label_names(), values);
        for (std::size_t i = 0; i < snap.cumulative.size(); ++i) {
          auto with_le = labels;
          with_le.emplace_back("le", i < f.bounds_.size() ? format_value(f.bounds_[i]) : "+Inf");
          out += sample_line(f.name() + "_bucket", with_le,
                             static_cast<double>(snap.cumulative[i]));
        }
        out += sample_line(f.name() + "_sum", labels, snap.sum);
        out += sample_line(f.name() + "_count", labels,
                           static_cast<double>(snap.cumulative.back()));
      }
    }
  }
  return out;
}

}  // namespace sektorbro::metrics
