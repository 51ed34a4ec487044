// calibration_stats<G>: what calibration measured on every node of graph G (min, max, mean, std, the
// whole-set histogram, per-batch statistics) and the range it chose for each; the quantize transform's input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "statiq/calibrate/histogram.hpp"
#include "statiq/calibrate/options.hpp"
#include "statiq/calibrate/tensor_range.hpp"

namespace statiq {

// Statistics of one tensor (a node's output, channels-last) over the calibration set.
struct tensor_stats {
  std::uint64_t count = 0;  // values seen: samples x the node's per-sample size
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  double mean = 0;  // over all values
  double std = 0;   // population standard deviation over all values
  value_histogram histogram;  // whole set: see value_histogram
  // One entry per statistics batch (options.stat_batch_size samples; the last batch may be smaller):
  std::vector<float> batch_min;            // the batch's min
  std::vector<float> batch_max;            // the batch's max
  // Collected only when options.method is observer::quantile (a selection over each batch's values):
  std::vector<float> batch_low_quantile;   // the outlier_prob quantile of x
  std::vector<float> batch_high_quantile;  // the 1 - outlier_prob quantile of x
  std::vector<float> batch_abs_quantile;   // the 1 - outlier_prob quantile of |x|
  tensor_range range;                      // chosen by the options' observer and preset
};

template <class G>
struct calibration_stats {
  using graph_type = G;
  static constexpr std::size_t num_nodes = G::num_nodes;

  calibration_options options{};  // as calibrated
  std::size_t samples = 0;        // samples calibrated on: min(set size, options.stat_subset_size)
  std::size_t batches = 0;        // statistics batches
  std::array<tensor_stats, num_nodes> nodes{};  // by node index; node 0 is the input (channels-last)

  const tensor_stats& operator[](std::size_t node) const { return nodes[node]; }
  tensor_stats& operator[](std::size_t node) { return nodes[node]; }

  // The chosen range of every node, by node index.
  std::array<tensor_range, num_nodes> ranges() const {
    std::array<tensor_range, num_nodes> r{};
    for (std::size_t i = 0; i < num_nodes; ++i) r[i] = nodes[i].range;
    return r;
  }
};

}  // namespace statiq
