// Per-node accumulation during calibration: whole-set moments and histogram, and the statistics of the
// current batch, from one node output (one sample) at a time.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "statiq/calibrate/calibration_stats.hpp"
#include "statiq/calibrate/options.hpp"
#include "statiq/calibrate/quantile.hpp"

namespace statiq::detail {

struct node_collector {
  tensor_stats* out = nullptr;
  bool quantiles = false;
  double outlier_prob = 0;
  // Whole set: count, mean and sum of squared deviations, merged per call (Chan et al.'s pairwise update)
  // so the variance does not cancel as sum(x^2) - n mean^2 would.
  std::uint64_t n = 0;
  double mean = 0, m2 = 0;
  // The current statistics batch.
  float batch_min = 0, batch_max = 0;
  bool batch_open = false;
  std::vector<float> pending;  // the batch's values, for the quantile selections (quantile observer only)

  // Adds one node output; returns false (and adds nothing) if it holds a NaN or an infinity.
  bool add(std::span<const float> v) {
    if (v.empty()) return true;
    float lo = v[0], hi = v[0];
    double sum = 0;
    bool finite = true;
    for (float x : v) {
      finite &= std::isfinite(x);
      lo = x < lo ? x : lo;
      hi = x > hi ? x : hi;
      sum += x;
    }
    if (!finite) return false;
    const double k = static_cast<double>(v.size());
    const double mean_b = sum / k;
    double m2_b = 0;
    for (float x : v) m2_b += (x - mean_b) * (x - mean_b);
    const double total = static_cast<double>(n) + k;
    const double delta = mean_b - mean;
    mean += delta * k / total;
    m2 += m2_b + delta * delta * static_cast<double>(n) * k / total;
    n += v.size();

    out->min = lo < out->min ? lo : out->min;
    out->max = hi > out->max ? hi : out->max;
    out->histogram.add(v, std::fmax(std::fabs(lo), std::fabs(hi)));
    if (!batch_open) {
      batch_min = lo;
      batch_max = hi;
      batch_open = true;
    } else {
      batch_min = lo < batch_min ? lo : batch_min;
      batch_max = hi > batch_max ? hi : batch_max;
    }
    if (quantiles) pending.insert(pending.end(), v.begin(), v.end());
    return true;
  }

  void close_batch() {
    if (!batch_open) return;
    out->batch_min.push_back(batch_min);
    out->batch_max.push_back(batch_max);
    if (quantiles) {
      // Each selection only reorders the values: the next one works on the same buffer.
      out->batch_low_quantile.push_back(quantile(pending, outlier_prob));
      out->batch_high_quantile.push_back(quantile(pending, 1.0 - outlier_prob));
      for (float& x : pending) x = std::fabs(x);
      out->batch_abs_quantile.push_back(quantile(pending, 1.0 - outlier_prob));
      pending.clear();
    }
    batch_open = false;
  }

  void finish() {
    out->count = n;
    out->mean = mean;
    out->std = n > 0 ? std::sqrt(m2 / static_cast<double>(n)) : 0.0;
  }
};

}  // namespace statiq::detail
