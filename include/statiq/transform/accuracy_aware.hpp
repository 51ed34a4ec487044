// accuracy_aware: POT's AccuracyAwareQuantization. Quantize everything, measure the user's metric; while the
// drop from the float model exceeds `maximal_drop`, return layers to float, most harmful first (ranked by
// how much reverting each one alone recovers), re-measuring after each, and report which layers and why.
// The result is a model whose precision per node was chosen on data; io::bake writes it with that choice
// fixed in its type.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "statiq/exec/quantized.hpp"
#include "statiq/io/type_name.hpp"
#include "statiq/transform/quantize.hpp"

namespace statiq {

struct accuracy_aware_options {
  double maximal_drop = 0.01;  // allowed metric drop (absolute: 0.01 = one point of accuracy in [0, 1])
  quantize_options quantization{};
};

struct accuracy_aware_step {
  std::size_t node = 0;
  std::string layer;
  double ranking_gain = 0;  // metric recovered by reverting this layer alone (ranking)
  double metric = 0;        // the metric after reverting it and every layer before it
};

template <class QD>
struct accuracy_aware_result {
  QD model;                                 // Quantized<G, T, dynamic_mask> with its precision chosen
  double float_metric = 0;                  // the float model
  double int8_metric = 0;                   // everything that can be int8 in int8
  double final_metric = 0;                  // the returned model
  double float_only_bound = 0;              // the drop left with every revertible layer in float: the best
                                            // any maximal_drop can ask for
  bool met = false;                         // final drop <= maximal_drop
  std::vector<accuracy_aware_step> ranking;   // every candidate, most harmful first
  std::vector<accuracy_aware_step> reverted;  // what was returned to float, in order
};

namespace detail {
template <class G, std::size_t... I>
constexpr std::array<bool, G::num_nodes> revertible_nodes(std::index_sequence<I...>) {
  return {(is_conv_v<typename G::template layer_t<I>> || is_dense_v<typename G::template layer_t<I>> ||
           std::is_same_v<typename G::template layer_t<I>, Add>)...};
}
}  // namespace detail

// metric(model) -> double, higher is better (e.g. accuracy on a labeled validation set); it is called with
// the float model and with the quantized one, so a generic lambda fits. ranking_metric ranks layers (a
// cheaper subset evaluation); by default the metric itself.
template <quantized_element T, model_type F, class Metric, class RankingMetric>
auto accuracy_aware(const F& float_model, std::span<const value_range> ranges, Metric&& metric,
                    RankingMetric&& ranking_metric, accuracy_aware_options opt = {}) {
  using G = graph_of_t<F>;
  constexpr std::size_t N = G::num_nodes;
  using QD = Quantized<G, T, dynamic_mask>;
  accuracy_aware_result<QD> r{};
  r.model = quantize_with_ranges<T, dynamic_mask>(float_model, ranges, opt.quantization);
  const auto names = io::layer_names<G>();
  r.float_metric = metric(float_model);
  r.int8_metric = r.final_metric = metric(r.model);
  constexpr auto revertible = detail::revertible_nodes<G>(std::make_index_sequence<N>{});

  std::array<bool, N> keep{};
  keep.fill(false);
  for (std::size_t i = 0; i < N; ++i) keep[i] = revertible[i] && QD::quantized[i];
  r.model.set_float_nodes(keep);
  r.float_only_bound = r.float_metric - metric(r.model);
  keep.fill(false);
  r.model.set_float_nodes(keep);

  r.met = r.float_metric - r.int8_metric <= opt.maximal_drop;
  if (r.met) return r;

  const double base = ranking_metric(r.model);
  for (std::size_t i = 0; i < N; ++i) {
    if (!revertible[i] || !QD::quantized[i]) continue;
    std::array<bool, N> one{};
    one[i] = true;
    r.model.set_float_nodes(one);
    r.ranking.push_back({i, names[i], ranking_metric(r.model) - base, 0});
  }
  std::stable_sort(r.ranking.begin(), r.ranking.end(),
                   [](const auto& a, const auto& b) { return a.ranking_gain > b.ranking_gain; });
  for (const auto& candidate : r.ranking) {
    keep[candidate.node] = true;
    r.model.set_float_nodes(keep);
    auto step = candidate;
    step.metric = r.final_metric = metric(r.model);
    r.reverted.push_back(step);
    if (r.float_metric - r.final_metric <= opt.maximal_drop) {
      r.met = true;
      break;
    }
  }
  return r;
}

template <quantized_element T, model_type F, class Metric>
auto accuracy_aware(const F& float_model, std::span<const value_range> ranges, Metric&& metric,
                    accuracy_aware_options opt = {}) {
  return accuracy_aware<T>(float_model, ranges, metric, metric, opt);
}

}  // namespace statiq
