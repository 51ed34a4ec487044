// choose_range(stats, options): a tensor's range from its collected statistics, by the options' observer,
// preset and aggregators; calibrate() calls it for every node, and it can re-choose without re-running.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "statiq/calibrate/aggregate.hpp"
#include "statiq/calibrate/calibration_error.hpp"
#include "statiq/calibrate/calibration_stats.hpp"
#include "statiq/calibrate/kl_divergence.hpp"
#include "statiq/calibrate/mse.hpp"
#include "statiq/calibrate/options.hpp"
#include "statiq/calibrate/tensor_range.hpp"

namespace statiq {

//   min_max, mixed:        [agg_min(batch_min), agg_max(batch_max)]
//   min_max, performance:  T = agg_max(max(-batch_min, batch_max)) (POT's abs_max)
//   quantile, mixed:       [agg_min(batch_low_quantile), agg_max(batch_high_quantile)]
//   quantile, performance: T = agg_max(batch_abs_quantile) (POT's abs_quantile)
//   kl_divergence, mse:    from the histogram (kl_divergence_range, mse_range)
// then make_tensor_range (0 inside, the zero-width fallback). `options.stat_batch_size`, `stat_subset_size` and
// `outlier_prob` are what calibrate() used; here only method, mode and the aggregators matter. A quantile
// range needs the per-batch quantiles, which calibrate() collects only when its method was quantile;
// otherwise this throws calibration_error.
inline tensor_range choose_range(const tensor_stats& s, const calibration_options& o) {
  if (s.count == 0) return make_tensor_range(0.0, 0.0, o.mode, false);
  const bool negative = s.min < 0;
  switch (o.method) {
    case observer::min_max: {
      if (o.mode == preset::performance) {
        std::vector<float> amax(s.batch_max.size());
        for (std::size_t b = 0; b < amax.size(); ++b) amax[b] = std::max(-s.batch_min[b], s.batch_max[b]);
        const double t = aggregate(amax, o.max_aggregator);
        return make_tensor_range(-t, t, o.mode, negative);
      }
      return make_tensor_range(aggregate(s.batch_min, o.min_aggregator), aggregate(s.batch_max, o.max_aggregator),
                               o.mode, negative);
    }
    case observer::quantile: {
      if (s.batch_abs_quantile.empty())
        throw calibration_error(
            "statiq::choose_range: a quantile range needs per-batch quantiles, which calibrate() collects only "
            "with options.method == observer::quantile");
      if (o.mode == preset::performance) {
        const double t = aggregate(s.batch_abs_quantile, o.max_aggregator);
        return make_tensor_range(-t, t, o.mode, negative);
      }
      return make_tensor_range(aggregate(s.batch_low_quantile, o.min_aggregator),
                               aggregate(s.batch_high_quantile, o.max_aggregator), o.mode, negative);
    }
    case observer::kl_divergence: return kl_divergence_range(s.histogram, o.mode, s.min, s.max);
    case observer::mse: return mse_range(s.histogram, o.mode, s.min, s.max);
  }
  return make_tensor_range(s.min, s.max, o.mode, negative);
}

}  // namespace statiq
