// statiq::calibrate(model, samples, options): runs a float model over a calibration set and returns every
// node's statistics and chosen 8-bit range (POT's statistics collection for DefaultQuantization).
//
// One pass over min(set size, stat_subset_size) samples through run_observed (no activation fusion, so a
// Conv2d's own output is observed as well as the ReLU's after it). Memory, for a graph with N nodes:
// N whole-set histograms of 4 x histogram_bins (rounded up to a power of two) 64-bit counts, 4 floats per node
// per statistics batch (for the min, max, mean and median aggregators), and for the quantile observer one
// batch of each node's values - set by the histogram size, the batch size and the number of batches, never by
// the size of the samples themselves, which stay in the caller's buffer.
//
// Errors throw statiq::calibration_error (see calibration_error.hpp): an empty set, a buffer that is not whole
// samples, options out of range, a NaN or infinity in any node's output (naming the sample and the node).
// A tensor with zero range gets the documented fallback of make_tensor_range, never a zero scale.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "statiq/calibrate/aggregate.hpp"
#include "statiq/calibrate/calibration_error.hpp"
#include "statiq/calibrate/calibration_stats.hpp"
#include "statiq/calibrate/choose_range.hpp"
#include "statiq/calibrate/detail/node_collector.hpp"
#include "statiq/calibrate/detail/progress.hpp"
#include "statiq/calibrate/histogram.hpp"
#include "statiq/calibrate/kl_divergence.hpp"
#include "statiq/calibrate/mse.hpp"
#include "statiq/calibrate/options.hpp"
#include "statiq/calibrate/quantile.hpp"
#include "statiq/calibrate/sample_view.hpp"
#include "statiq/calibrate/tensor_range.hpp"
#include "statiq/core/diagnostics.hpp"
#include "statiq/exec/run.hpp"
#include "statiq/graph/graph.hpp"

namespace statiq {

namespace detail {

// "Shape<14, 14, 16>" for node I's per-sample output, for error messages.
template <class G, std::size_t... I>
std::string node_shape_name(std::size_t node, std::index_sequence<I...>) {
  std::string name;
  (
      [&] {
        if (I != node) return;
        name = "Shape<";
        const auto& dims = G::template shape_t<I>::dims;
        for (std::size_t d = 0; d < dims.size(); ++d) name += (d ? ", " : "") + std::to_string(dims[d]);
        name += ">";
      }(),
      ...);
  return name;
}

// Smallest power of two >= n.
inline std::size_t ceil_pow2(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p *= 2;
  return p;
}

inline void check_options(const calibration_options& o) {
  if (o.stat_subset_size == 0)
    throw calibration_error("statiq::calibrate: options.stat_subset_size is 0; it must be at least 1");
  if (o.stat_batch_size == 0)
    throw calibration_error("statiq::calibrate: options.stat_batch_size is 0; it must be at least 1");
  if (!(o.outlier_prob >= 0.0 && o.outlier_prob < 0.5))
    throw calibration_error("statiq::calibrate: options.outlier_prob is " + std::to_string(o.outlier_prob) +
                            "; it must be in [0, 0.5)");
  if (o.histogram_bins < 256 || o.histogram_bins > (std::size_t{1} << 20))
    throw calibration_error("statiq::calibrate: options.histogram_bins is " + std::to_string(o.histogram_bins) +
                            "; it must be in [256, 2^20] (the KL search needs more bins than the 256 levels of u8)");
}

}  // namespace detail

// Calibrates `model` on `samples`: see the top of this file. The samples' per-sample shape and layout must be
// the model's input shape and layout (sample_view_for<M>), checked at compile time.
template <model_type M, class S, Layout L, class E>
calibration_stats<graph_of_t<M>> calibrate(const M& model, sample_view<S, L, E> samples,
                                           const calibration_options& options = {}) {
  using G = graph_of_t<M>;
  using input_shape = typename G::input_shape;
  STATIQ_REQUIRE((std::is_same_v<S, input_shape>),
                 "statiq::calibrate(model, samples, options): the samples' per-sample Shape must be the model's "
                 "input Shape (see calibration_samples_shape_mismatch<model input, samples>)",
                 diagnostic::calibration_samples_shape_mismatch<input_shape, S>);
  STATIQ_REQUIRE((L == G::input_layer::layout),
                 "statiq::calibrate(model, samples, options): the samples' layout must be the layout of the model's "
                 "Input (see calibration_samples_layout_mismatch<model layout, samples layout>)",
                 diagnostic::calibration_samples_layout_mismatch<G::input_layer::layout, L>);
  STATIQ_REQUIRE((std::is_same_v<E, input_element_t<G>>),
                 "statiq::calibrate(model, samples, options): the samples' element type must be the model's input "
                 "element type: std::uint8_t pixels for a model made with embed_preprocess(input<u8>), float "
                 "otherwise (see calibration_samples_element_mismatch<model element, samples element>)",
                 diagnostic::calibration_samples_element_mismatch<input_element_t<G>, E>);
  constexpr std::size_t N = G::num_nodes;

  detail::check_options(options);
  if (!samples.whole())
    throw calibration_error("statiq::calibrate: the sample buffer holds " + std::to_string(samples.data().size()) +
                            " values, not a whole number of samples of " + std::to_string(S::size));
  if (samples.empty()) throw calibration_error("statiq::calibrate: the calibration set is empty");

  calibration_stats<G> stats;
  stats.options = options;
  stats.samples = samples.size() < options.stat_subset_size ? samples.size() : options.stat_subset_size;
  const std::size_t batch = options.stat_batch_size;
  stats.batches = (stats.samples + batch - 1) / batch;

  // Between half and all of each side's bins hold data (value_histogram), so twice the requested count.
  const std::size_t bins_per_side = detail::ceil_pow2(2 * options.histogram_bins);
  std::array<detail::node_collector, N> nodes{};
  for (std::size_t i = 0; i < N; ++i) {
    stats.nodes[i].histogram = value_histogram(bins_per_side);
    for (auto* v : {&stats.nodes[i].batch_min, &stats.nodes[i].batch_max}) v->reserve(stats.batches);
    nodes[i].out = &stats.nodes[i];
    nodes[i].quantiles = options.method == observer::quantile;
    nodes[i].outlier_prob = options.outlier_prob;
  }

  // One sample at a time through the arena: the observer sees one node output per call, in node order.
  auto arena = std::make_unique<observe_arena_for<M, 1>>();
  std::vector<float> output(batch * G::output_shape::size);
  std::array<std::size_t, N> seen{};  // outputs of each node seen in the current batch
  std::size_t first = 0;              // first sample of the current batch
  struct bad_value {
    std::size_t sample = 0, node = 0;
    float value = 0;
    bool found = false;
  } bad;
  const auto observe = [&](std::size_t node, std::span<const float> v) {
    if (bad.found) return;
    if (!nodes[node].add(v)) {
      bad.found = true;
      bad.sample = first + seen[node];
      bad.node = node;
      for (float x : v)
        if (!std::isfinite(x)) {
          bad.value = x;
          break;
        }
    }
    ++seen[node];
  };

  detail::progress_bar progress(options.progress, stats.samples);
  for (; first < stats.samples; first += batch) {
    const std::size_t count = stats.samples - first < batch ? stats.samples - first : batch;
    seen.fill(0);
    run_observed(model, samples.samples(first, count), std::span<float>(output.data(), count * G::output_shape::size),
                 *arena, observe);
    if (bad.found) {
      const std::string what = bad.value != bad.value ? "NaN" : bad.value > 0 ? "+Inf" : "-Inf";
      const std::string where = bad.node == 0 ? "node 0 (the input, " : "node " + std::to_string(bad.node) + " (output ";
      throw calibration_error("statiq::calibrate: sample " + std::to_string(bad.sample) + " has a " + what + " at " +
                                  where + detail::node_shape_name<G>(bad.node, std::make_index_sequence<N>{}) + ")" +
                                  (bad.node == 0 ? ": the calibration data holds non-finite values"
                                                 : ": the model overflows or its parameters are not finite"),
                              bad.sample, bad.node);
    }
    for (auto& c : nodes) c.close_batch();
    progress.update(first + count);
  }

  for (std::size_t i = 0; i < N; ++i) {
    nodes[i].finish();
    stats.nodes[i].range = choose_range(stats.nodes[i], options);
  }
  return stats;
}

}  // namespace statiq
