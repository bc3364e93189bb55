// Small statistics for the benchmarks: median and percentiles of measured values.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace sektorbro::bench {

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The p-quantile (0 ≤ p ≤ 1) of `sorted` by the nearest-rank rule; 0 when empty.
inline double percentile_sorted(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(p * static_cast<double>(sorted.size()));
  return sorted[std::min(sorted.size() - 1, rank)];
}

}  // namespace sektorbro::bench
