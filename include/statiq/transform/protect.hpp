// protect(stats): range supervision (Ranger; POT's experimental "Protecting Model" / RangeSupervision) as a
// pipeline step: every activation (Relu, Clip<Lo, Hi>, Relu6) becomes Protected<Act>, whose output is clamped
// to the lowest and highest value that activation produced on the calibration set. A hardware fault (a bit flip
// in an activation or a weight) that would push a value outside that range is cut back to it before it reaches
// the next layer, so one upset cannot blow up the output.
//
//   model | protect(stats)                           float model, each activation clamped to [min, max] seen
//   model | protect(stats) | quantize(ranges)        INT8: the bounds fold into each requantization clamp
//   (model | protect(stats)) | quantize(ranges)      the same model
//
// What it costs: nothing at run time. The graph keeps its node count and wiring, and a Protected node is a clamp
// like Relu: fused into the Conv2d/Dense it follows (the float kernels clamp to run-time bounds already), and
// folded into the requantization clamp of an INT8 model (quantize intersects [qmin, qmax] with the quantized
// bounds, rounding half away from zero like every quantized clamp). bench/protect_bench.cpp measures it.
//
// The bounds: for activation node i, [max(stats[i].min, Act::lo), min(stats[i].max, Act::hi)], from the
// statistics calibrate() collected on the model (its whole-set min and max, not the 8-bit range it chose;
// POT's RangeSupervision uses the same min and max). A test input may exceed the calibration maximum: the clamp
// then cuts it, which is what makes clean accuracy a thing to check (tests/transform/protect_fmnist_test.cpp).
// `stats` is borrowed: it must outlive the call that applies the step. Protecting a protected model (with
// statistics of that model) replaces its bounds.
//
// Errors: statistics that calibrate() did not fill (no values seen at an activation, or a non-finite minimum
// or maximum) throw protect_error naming the node. Compile-time misuse (statistics of another graph, a
// quantized model, a model without an activation) fails with a static_assert that says what to do.
#pragma once

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "statiq/calibrate/calibration_stats.hpp"
#include "statiq/core/diagnostics.hpp"
#include "statiq/exec/quantized.hpp"
#include "statiq/graph/activation.hpp"
#include "statiq/graph/graph.hpp"
#include "statiq/graph/protected.hpp"
#include "statiq/transform/detail/map_nodes.hpp"
#include "statiq/transform/pipeline.hpp"

namespace statiq {

namespace diagnostic {
// protect(stats) with calibration_stats<StatsGraph> applied to a model of graph ModelGraph.
template <class ModelGraph, class StatsGraph>
struct protect_stats_of_another_graph;
// protect(stats) applied to `Model`, a quantized model.
template <class Model>
struct protect_needs_a_float_model;
// protect(stats) applied to a model of graph `ModelGraph`, which has no Relu, Clip or Relu6.
template <class ModelGraph>
struct protect_found_no_activation;
}  // namespace diagnostic

class protect_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {

template <class G>
struct protect_policy {
  template <std::size_t I>
  static auto pick() {
    using L = typename G::template layer_t<I>;
    if constexpr (is_clamp_v<L>) return std::type_identity<Protected<base_activation_t<L>>>{};
    else return std::type_identity<L>{};
  }
  template <std::size_t I>
  using layer = typename decltype(pick<I>())::type;
};

template <class G>
inline constexpr std::size_t clamp_node_count = [] {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    return (std::size_t{0} + ... + (is_clamp_v<typename G::template layer_t<I>> ? 1 : 0));
  }(std::make_index_sequence<G::num_nodes>{});
}();

}  // namespace detail

// The graph protect makes of graph G: every Relu/Clip node (and every Protected<Act>) becomes Protected<Act>.
template <class G>
using protect_graph_t = detail::map_nodes_t<G, detail::protect_policy<G>>;

template <class G>
struct protect_t : transform_closure<protect_t<G>> {
  const calibration_stats<G>* stats = nullptr;

  template <model_type M>
  Owned<protect_graph_t<graph_of_t<M>>> operator()(const M& m) const {
    using MG = graph_of_t<M>;
    using G2 = protect_graph_t<MG>;
    STATIQ_REQUIRE((!is_quantized_model_v<std::remove_cvref_t<M>>),
                   "statiq::protect(stats): protect the float model, then quantize it "
                   "(model | protect(stats) | quantize(ranges)): the bounds then fold into the requantization clamps",
                   diagnostic::protect_needs_a_float_model<std::remove_cvref_t<M>>);
    STATIQ_REQUIRE((std::is_same_v<MG, G>),
                   "statiq::protect(stats): the statistics must come from calibrate() on this model's graph "
                   "(see protect_stats_of_another_graph<model graph, statistics graph>)",
                   diagnostic::protect_stats_of_another_graph<MG, G>);
    STATIQ_REQUIRE((detail::clamp_node_count<MG> > 0),
                   "statiq::protect(stats): the model has no activation (Relu, Clip, Relu6) to protect",
                   diagnostic::protect_found_no_activation<MG>);
    if constexpr (std::is_same_v<MG, G>) {
      if (stats == nullptr) throw protect_error("statiq::protect: no calibration statistics given");
      Owned<G2> out{};
      detail::carry_unchanged(m, out);
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&] {
              using L = typename G2::template layer_t<I>;
              if constexpr (is_protected_v<L>) {
                using A = typename L::activation;
                const tensor_stats& s = stats->nodes[I];
                const std::string where = "statiq::protect: node " + std::to_string(I) + " (an activation)";
                if (s.count == 0)
                  throw protect_error(where + " has no statistics: pass the calibration_stats that calibrate() "
                                              "returned for this model");
                if (!std::isfinite(s.min) || !std::isfinite(s.max) || s.min > s.max)
                  throw protect_error(where + ": its calibrated range [" + std::to_string(s.min) + ", " +
                                      std::to_string(s.max) + "] is not a finite interval");
                float* p = out.param(G2::first_param[I]);
                p[0] = s.min > A::lo ? s.min : A::lo;
                p[1] = s.max < A::hi ? s.max : A::hi;
                if (p[0] > p[1]) p[0] = p[1];  // a range entirely outside Act's: the clamp holds the nearest bound
              }
            }(),
            ...);
      }(std::make_index_sequence<G2::num_nodes>{});
      return out;
    } else {
      return Owned<G2>{};  // not reached: the checks above fail to compile
    }
  }
};

// protect(stats): the pipeline step (see the top of this file).
template <class G>
constexpr protect_t<G> protect(const calibration_stats<G>& stats) {
  protect_t<G> t{};
  t.stats = &stats;
  return t;
}

}  // namespace statiq
