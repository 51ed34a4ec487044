// Bias correction, as POT documents it: quantizing weights (and activations) shifts the mean of each output
// channel; shifting each channel's bias by the mean difference between the float layer and the quantized
// layer on calibration data removes that shift.
//   fast_bias_correction: every Conv2d/Dense at once, each layer fed the float model's own (fake-quantized)
//                         activations (POT's FastBiasCorrection).
//   bias_correction:      layer after layer in graph order, each fed the activations of the quantized model
//                         with the layers before it already corrected, so errors that accumulate through the
//                         network are corrected too (POT's BiasCorrection).
// Both return a float model with corrected biases (Owned<G>); quantize it with the same ranges.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "statiq/exec/run.hpp"
#include "statiq/transform/quantize.hpp"

namespace statiq {

namespace detail {

template <class G, std::size_t... I>
constexpr std::array<bool, G::num_nodes> weighted_nodes(std::index_sequence<I...>) {
  return {(is_conv_v<typename G::template layer_t<I>> || is_dense_v<typename G::template layer_t<I>>)...};
}

// The float model with every Conv2d/Dense weight replaced by its quantized-then-dequantized value.
template <class G>
void fake_quantize_weights(Owned<G>& m, const quantize_options& opt) {
  const std::int32_t qw = uses_7bit_weights(opt.weights_7bit) ? 63 : 127;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using L = typename G::template layer_t<I>;
          if constexpr (is_conv_v<L> || is_dense_v<L>) {
            constexpr std::size_t n_out = L::out_channels;
            constexpr std::size_t count = G::param_sizes[G::first_param[I]];
            constexpr std::size_t per = count / n_out;
            float* w = m.param(G::first_param[I]);
            std::vector<std::int8_t> q(count);
            for (std::size_t c = 0; c < (opt.per_channel ? n_out : 1); ++c) {
              const std::size_t len = opt.per_channel ? per : count;
              const double s = quantize_weights(w + c * len, len, qw, q.data() + c * len);
              for (std::size_t k = 0; k < len; ++k) w[c * len + k] = static_cast<float>(s * q[c * len + k]);
            }
          }
        }(),
        ...);
  }(std::make_index_sequence<G::num_nodes>{});
}

inline void fake_quantize_activations(std::span<float> v, tensor_quant q, std::int32_t lo, std::int32_t hi) {
  for (float& x : v) {
    const float r = std::nearbyint(x / q.scale) + static_cast<float>(q.zero_point);
    const float c = r < static_cast<float>(lo) ? static_cast<float>(lo) : r > static_cast<float>(hi) ? static_cast<float>(hi) : r;
    x = (c - static_cast<float>(q.zero_point)) * q.scale;
  }
}

// Evaluates node `node` of graph G in float (no fused clamp) on `inputs`, for `batch` samples.
template <class G, class M>
void eval_node_f32(const M& m, std::size_t node, const std::vector<std::vector<float>>& inputs, std::size_t batch,
                   std::vector<float>& out) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          if (node != I) return;
          using L = typename G::template layer_t<I>;
          if constexpr (is_conv_v<L> || is_dense_v<L>) {
            out.resize(batch * G::template shape_t<I>::size);
            node_io<G, I> io{};
            for (std::size_t k = 0; k < G::template inputs_v<I>.size(); ++k)
              io.in[k] = const_cast<float*>(inputs[G::template inputs_v<I>[k]].data());
            io.out = out.data();
            io.batch = batch;
            eval_f32<G, I>(m, io);
          }
        }(),
        ...);
  }(std::make_index_sequence<G::num_nodes>{});
}

// Per output channel mean of (reference - corrected-candidate) over all positions and samples, accumulated.
template <class G>
void accumulate_channel_delta(std::size_t node, std::span<const float> ref, std::span<const float> got,
                              std::vector<double>& sum, std::size_t& count) {
  std::size_t c = 0;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((node == I ? (c = channels_v<typename G::template shape_t<I>>) : 0), ...);
  }(std::make_index_sequence<G::num_nodes>{});
  sum.resize(c);
  for (std::size_t i = 0; i < ref.size(); ++i) sum[i % c] += static_cast<double>(ref[i]) - got[i];
  count += ref.size() / c;
}

template <quantized_element T, std::size_t Batch, class F>
Owned<graph_of_t<F>> correct_biases(const F& float_model, std::span<const value_range> ranges,
                                    std::span<const float> samples, const quantize_options& opt, bool full) {
  using G = graph_of_t<F>;
  constexpr std::size_t N = G::num_nodes;
  constexpr std::size_t in_size = G::input_shape::size;
  constexpr auto weighted = weighted_nodes<G>(std::make_index_sequence<N>{});
  Owned<G> corrected = to_owned(float_model);
  const std::size_t samples_n = samples.size() / in_size;
  auto f_arena = std::make_unique<observe_arena_for<F, Batch>>();
  auto q_arena = std::make_unique<observe_arena_for<Quantized<G, T, dynamic_mask>, Batch>>();
  std::vector<float> out(Batch * G::output_shape::size);

  // fast: one pass over all layers with the float model's activations; full: one pass per layer, in order.
  for (std::size_t target = 0; target < N; ++target) {
    if (full && !weighted[target]) continue;
    if (!full && target > 0) break;
    const auto q = quantize_with_ranges<T, dynamic_mask>(corrected, ranges, opt);
    Owned<G> fq_weights = corrected;
    fake_quantize_weights(fq_weights, opt);
    std::vector<std::vector<double>> sum(N);
    std::vector<std::size_t> count(N);
    std::vector<std::vector<float>> f_act(N), q_act(N), layer_out;
    for (std::size_t s = 0; s < samples_n; s += Batch) {
      const std::size_t b = std::min(Batch, samples_n - s);
      const auto chunk = samples.subspan(s * in_size, b * in_size);
      const auto out_chunk = std::span<float>(out.data(), b * G::output_shape::size);
      run_observed(corrected, chunk, out_chunk, *f_arena,
                   [&](std::size_t node, std::span<const float> v) { f_act[node].assign(v.begin(), v.end()); });
      if (full) {  // the quantized model's activations, dequantized
        struct observer {
          std::vector<std::vector<float>>& act;
          void operator()(std::size_t node, std::span<const float> v) const { act[node].assign(v.begin(), v.end()); }
          void operator()(std::size_t node, std::span<const T> v, tensor_quant tq) const {
            act[node].resize(v.size());
            for (std::size_t i = 0; i < v.size(); ++i)
              act[node][i] = static_cast<float>(std::int32_t{v[i]} - tq.zero_point) * tq.scale;
          }
        };
        run_observed(q, chunk, out_chunk, *q_arena, observer{q_act});
      } else {  // the float activations, fake-quantized as the int8 model would see them
        q_act = f_act;
        for (std::size_t k = 0; k < N; ++k)
          if (q.quantized[k]) fake_quantize_activations(q_act[k], q.q[k], qmin_v<T>, qmax_v<T>);
      }
      for (std::size_t i = 0; i < N; ++i) {
        if (!weighted[i] || (full && i != target)) continue;
        std::vector<float> y;
        eval_node_f32<G>(fq_weights, i, q_act, b, y);
        accumulate_channel_delta<G>(i, f_act[i], y, sum[i], count[i]);
      }
    }
    for (std::size_t i = 0; i < N; ++i) {
      if (sum[i].empty() || count[i] == 0) continue;
      float* bias = corrected.param(G::first_param[i] + 1);
      for (std::size_t c = 0; c < sum[i].size(); ++c) bias[c] += static_cast<float>(sum[i][c] / static_cast<double>(count[i]));
    }
  }
  return corrected;
}

}  // namespace detail

// POT's FastBiasCorrection. `samples`: calibration inputs (per-sample size = the model's input size).
template <quantized_element T, model_type F>
Owned<graph_of_t<F>> fast_bias_correction(const F& float_model, std::span<const value_range> ranges,
                                          std::span<const float> samples, quantize_options opt = {}) {
  return detail::correct_biases<T, 16>(float_model, ranges, samples, opt, false);
}

// POT's BiasCorrection (layer by layer on the quantized model's activations).
template <quantized_element T, model_type F>
Owned<graph_of_t<F>> bias_correction(const F& float_model, std::span<const value_range> ranges,
                                     std::span<const float> samples, quantize_options opt = {}) {
  return detail::correct_biases<T, 16>(float_model, ranges, samples, opt, true);
}

}  // namespace statiq
