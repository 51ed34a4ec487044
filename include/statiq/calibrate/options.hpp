// calibration_options: what statiq::calibrate collects and how it picks each tensor's range (POT's
// DefaultQuantization statistics: stat_subset_size, stat_batch_size, range estimator, preset).
#pragma once

#include <cstddef>

namespace statiq {

// POT's presets. They decide the integer grid an activation range is chosen for:
//   performance: symmetric activations, s8 with zero point 0 (step max|x| / 127), one grid for every tensor;
//   mixed:       asymmetric activations, u8 with a zero point (step (hi - lo) / 255).
enum class preset { performance, mixed };

// How a tensor's range is estimated.
//   min_max:       per-batch min and max (symmetric: max |x|), aggregated across batches.
//   quantile:      per-batch quantiles at outlier_prob and 1 - outlier_prob (symmetric: the 1 - outlier_prob
//                  quantile of |x|), aggregated across batches (POT's quantile / abs_quantile).
//   kl_divergence: TensorRT's entropy calibration on the whole-set histogram: the clipping threshold whose
//                  8-bit quantized distribution is closest (Kullback-Leibler) to the observed one.
//   mse:           the clipping range minimising the expected squared error (rounding noise inside the range
//                  plus clipping error outside it) of the 8-bit grid, on the whole-set histogram.
enum class observer { min_max, quantile, kl_divergence, mse };

// How per-batch statistics become one number (POT's aggregators). median: the middle value, or the mean of the
// two middle values for an even count (as numpy.median).
enum class aggregator { min, max, mean, median };

struct calibration_options {
  std::size_t stat_subset_size = 300;  // calibrate on the first min(this, samples) samples (POT's default 300)
  std::size_t stat_batch_size = 1;     // samples per statistic before aggregation (POT's default 1)
  preset mode = preset::performance;   // POT's default preset
  observer method = observer::min_max;
  // POT's per-tensor defaults: the mean over batches of each batch's min and max.
  aggregator min_aggregator = aggregator::mean;  // for the low end (asymmetric min_max / quantile)
  aggregator max_aggregator = aggregator::mean;  // for the high end, and for max |x| when symmetric
  double outlier_prob = 1e-4;            // quantile: fraction excluded on each side
  std::size_t histogram_bins = 2048;     // at least this many histogram bins cover [0, max |x|] (TensorRT: 2048)
  bool progress = true;                  // a progress bar on stderr, drawn only when stderr is a terminal
};

}  // namespace statiq
