// Layer-wise quantization error: for every node, the signal-to-quantization-noise ratio and the largest
// error between the float model's output and the quantized model's (dequantized) output on the same data,
// sorted worst first: the first thing to look at when accuracy drops.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "statiq/exec/quantized.hpp"
#include "statiq/exec/run.hpp"
#include "statiq/io/type_name.hpp"

namespace statiq {

struct layer_error {
  std::size_t node = 0;
  std::string layer;          // the layer's type, e.g. "statiq::Conv2d<16, statiq::Kernel<3, 3>, ...>"
  bool quantized = false;     // the node runs in int8
  double sqnr_db = 0;         // 10 log10(sum f^2 / sum (f - q)^2); +inf when identical
  double max_abs_error = 0;   // max |f - q|
  double max_abs_value = 0;   // max |f|, for scale
};

// Runs `float_model` and `quantized` over `samples` (per-sample size = the model's input size, in its input
// layout) and reports every node but those whose output is a fused clamp's input (their quantized output
// already carries the clamp: the clamp node reports the pair). Worst SQNR first.
template <model_type F, class Q, std::size_t Batch = 16>
std::vector<layer_error> layer_error_report(const F& float_model, const Q& quantized, std::span<const float> samples) {
  using G = graph_of_t<F>;
  static_assert(std::is_same_v<G, graph_of_t<Q>>, "statiq::layer_error_report(float, quantized, samples): both models "
                                                   "must have the same graph");
  using T = typename Q::element_type;
  constexpr std::size_t N = G::num_nodes;
  constexpr std::size_t in_size = G::input_shape::size;
  constexpr auto fused = plan_v<G>.fused_clamp;
  std::vector<double> signal(N), noise(N), max_err(N), max_val(N);
  std::vector<std::vector<float>> reference(N);
  auto f_arena = std::make_unique<observe_arena_for<F, Batch>>();
  auto q_arena = std::make_unique<observe_arena_for<Q, Batch>>();
  std::vector<float> out(Batch * G::output_shape::size);
  const std::size_t samples_n = samples.size() / in_size;
  for (std::size_t s = 0; s < samples_n; s += Batch) {
    const std::size_t b = std::min(Batch, samples_n - s);
    const auto chunk = samples.subspan(s * in_size, b * in_size);
    const auto out_chunk = std::span<float>(out.data(), b * G::output_shape::size);
    run_observed(float_model, chunk, out_chunk, *f_arena,
                 [&](std::size_t node, std::span<const float> v) { reference[node].assign(v.begin(), v.end()); });
    auto compare = [&](std::size_t node, std::size_t i, double q) {
      const double f = reference[node][i];
      signal[node] += f * f;
      noise[node] += (f - q) * (f - q);
      max_err[node] = std::max(max_err[node], std::fabs(f - q));
      max_val[node] = std::max(max_val[node], std::fabs(f));
    };
    struct observer {
      decltype(compare)& cmp;
      void operator()(std::size_t node, std::span<const float> v) const {
        for (std::size_t i = 0; i < v.size(); ++i) cmp(node, i, v[i]);
      }
      void operator()(std::size_t node, std::span<const T> v, tensor_quant q) const {
        for (std::size_t i = 0; i < v.size(); ++i)
          cmp(node, i, static_cast<double>(std::int32_t{v[i]} - q.zero_point) * q.scale);
      }
    };
    run_observed(quantized, chunk, out_chunk, *q_arena, observer{compare});
  }
  const auto names = io::layer_names<G>();
  std::vector<layer_error> r;
  for (std::size_t i = 0; i < N; ++i) {
    if (fused[i] < N) continue;
    layer_error e;
    e.node = i;
    e.layer = names[i];
    e.quantized = Q::quantized[i];
    e.sqnr_db = noise[i] > 0 ? 10.0 * std::log10(signal[i] / noise[i]) : std::numeric_limits<double>::infinity();
    e.max_abs_error = max_err[i];
    e.max_abs_value = max_val[i];
    r.push_back(e);
  }
  std::stable_sort(r.begin(), r.end(), [](const layer_error& a, const layer_error& b) { return a.sqnr_db < b.sqnr_db; });
  return r;
}

// One line per node, worst first.
inline void print_layer_errors(std::FILE* f, const std::vector<layer_error>& r) {
  std::fprintf(f, "%5s  %-5s  %9s  %12s  %12s  %s\n", "node", "int8", "SQNR dB", "max |error|", "max |value|", "layer");
  for (const auto& e : r)
    std::fprintf(f, "%5zu  %-5s  %9.2f  %12.5g  %12.5g  %s\n", e.node, e.quantized ? "yes" : "no", e.sqnr_db,
                 e.max_abs_error, e.max_abs_value, e.layer.c_str());
}

}  // namespace statiq
