// quantize: a float model and per-tensor activation ranges -> a Quantized model (POT's DefaultQuantization
// core): weights s8 symmetric per output channel, activations u8 asymmetric (`mixed`) or s8 symmetric
// (`performance`), s32 biases, Q31 requantization multipliers, fused ReLU/Clip folded into the clamp.
//
// Pure and constexpr: for a constexpr float model and constexpr ranges the compiler quantizes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "statiq/calibrate/calibration_stats.hpp"
#include "statiq/core/dtype.hpp"
#include "statiq/exec/plan.hpp"
#include "statiq/exec/quantized.hpp"
#include "statiq/kernels/ref/conv2d_q_border.hpp"
#include "statiq/core/diagnostics.hpp"
#include "statiq/transform/pipeline.hpp"

namespace statiq {

namespace diagnostic {
// quantize_with_params got `Got` output quantizations for a graph of `Expected` nodes.
template <std::size_t Expected, std::size_t Got>
struct quantization_outputs_count_mismatch;
// quantize_with_params got `Got` weight scales; the graph's Conv2d/Dense nodes have `Expected` output channels.
template <std::size_t Expected, std::size_t Got>
struct weight_scales_count_mismatch;
}  // namespace diagnostic

// The range of values a tensor takes (from calibration).
struct value_range {
  float lo = 0.0f;
  float hi = 0.0f;
};

enum class saturation_fix {
  automatic,  // 7-bit weights where the target has no exact fast u8 x s8 instruction (x86 without VNNI)
  on,         // weights in [-63, 63]: every pair of products fits vpmaddubsw's s16 (OpenVINO's saturation_fix)
  off,        // full [-127, 127] weights; the kernels take their exact widening route where pairs could overflow
};

struct quantize_options {
  bool per_channel = true;  // one weight scale per output channel (else one per layer)
  saturation_fix weights_7bit = saturation_fix::automatic;
};

// Whether `automatic` means 7-bit weights for the target this translation unit is compiled for: x86 with
// AVX2 or SSSE3 but no VNNI, where the fast u8 x s8 instruction (vpmaddubsw) sums pairs into a saturating
// s16. The kernels stay exact either way (they take a widening route for full-range weights, 1.2-1.4x slower
// here); 7-bit weights buy the fast route at the cost of one bit of weight precision, as POT's saturation_fix.
inline constexpr bool target_needs_saturation_fix =
#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSSE3__) && !defined(__AVX512VNNI__) && !defined(__AVXVNNI__)
    true;
#else
    false;
#endif

constexpr bool uses_7bit_weights(saturation_fix s) {
  return s == saturation_fix::on || (s == saturation_fix::automatic && target_needs_saturation_fix);
}

// Node indices kept in float (POT's ignored scope). Passing `dynamic_mask` instead makes a model whose
// precision per node is chosen at run time (Quantized<G, T, dynamic_mask>::set_float_nodes).
template <std::size_t... Nodes>
struct ignore {
  static constexpr std::array<std::size_t, sizeof...(Nodes)> nodes{Nodes...};
};

namespace detail {

template <class G, class Ignore>
struct mask_of {
  static constexpr std::size_t N = G::num_nodes;
  static constexpr auto value = [] {
    std::array<bool, N> keep{};
    for (auto n : Ignore::nodes)
      if (n < N) keep[n] = true;
    return derive_mask<G>(keep);
  }();
  template <std::size_t... I>
  static auto seq(std::index_sequence<I...>) -> std::integer_sequence<bool, value[I]...>;
  using type = decltype(seq(std::make_index_sequence<N>{}));
};
template <class G>
struct mask_of<G, dynamic_mask> {
  using type = dynamic_mask;
};

// A zero-initialised heap buffer usable in constexpr evaluation (transient allocation, C++20); std::vector's
// libstdc++ fill does not evaluate in clang 14's constant evaluator.
template <class T>
class const_buffer {
 public:
  constexpr explicit const_buffer(std::size_t n) : data_(new T[n]{}), size_(n) {}
  constexpr ~const_buffer() { delete[] data_; }
  const_buffer(const const_buffer&) = delete;
  const_buffer& operator=(const const_buffer&) = delete;
  constexpr T* data() { return data_; }
  constexpr T& operator[](std::size_t i) { return data_[i]; }
  constexpr std::size_t size() const { return size_; }
  constexpr T* begin() { return data_; }
  constexpr T* end() { return data_ + size_; }

 private:
  T* data_;
  std::size_t size_;
};

constexpr std::int64_t round_half_away(double x) {
  return x >= 0 ? static_cast<std::int64_t>(x + 0.5) : -static_cast<std::int64_t>(-x + 0.5);
}
constexpr double abs_d(double x) { return x < 0 ? -x : x; }

template <quantized_element T>
constexpr tensor_quant choose_quant(value_range r) {
  double lo = r.lo < 0 ? r.lo : 0.0, hi = r.hi > 0 ? r.hi : 0.0;  // the range always holds real 0
  if (!(lo == lo) || !(hi == hi)) lo = hi = 0.0;                      // NaN: treat as unknown, fall back below
  tensor_quant q{};
  if constexpr (std::is_same_v<T, std::int8_t>) {  // symmetric
    const double m = abs_d(lo) > hi ? abs_d(lo) : hi;
    q.scale = static_cast<float>(m > 0 ? m / 127.0 : 1.0 / 127.0);
    q.zero_point = 0;
  } else {  // asymmetric
    const double span = hi - lo;
    q.scale = static_cast<float>(span > 0 ? span / 255.0 : 1.0 / 255.0);  // zero range: documented fallback
    const std::int64_t zp = round_half_away(-lo / q.scale);
    q.zero_point = static_cast<std::int32_t>(zp < 0 ? 0 : zp > 255 ? 255 : zp);
  }
  return q;
}

template <quantized_element T>
constexpr std::int32_t quantize_value(float v, tensor_quant q) {
  if (v == std::numeric_limits<float>::infinity()) return qmax_v<T>;
  if (v == -std::numeric_limits<float>::infinity()) return qmin_v<T>;
  const std::int64_t r = round_half_away(static_cast<double>(v) / q.scale) + q.zero_point;
  return static_cast<std::int32_t>(r < qmin_v<T> ? qmin_v<T> : r > qmax_v<T> ? qmax_v<T> : r);
}

// Quantizes one output channel block of weights (count values) symmetric to [-qw, qw]; returns the scale.
constexpr double quantize_weights(const float* w, std::size_t count, std::int32_t qw, std::int8_t* out) {
  double m = 0;
  for (std::size_t i = 0; i < count; ++i) m = abs_d(w[i]) > m ? abs_d(w[i]) : m;
  const double s = m > 0 ? m / qw : 1.0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t v = round_half_away(w[i] / s);
    out[i] = static_cast<std::int8_t>(v < -qw ? -qw : v > qw ? qw : v);
  }
  return s;
}

// Quantizes one output channel block of weights with a given scale to [-qw, qw]; returns the scale.
constexpr double quantize_weights_to(const float* w, std::size_t count, float scale, std::int32_t qw, std::int8_t* out) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t v = round_half_away(static_cast<double>(w[i]) / scale);
    out[i] = static_cast<std::int8_t>(v < -qw ? -qw : v > qw ? qw : v);
  }
  return scale;
}

constexpr std::int32_t quantize_bias(float b, double scale) {
  const std::int64_t v = round_half_away(b / scale);
  constexpr std::int64_t lim = std::numeric_limits<std::int32_t>::max() / 2;  // headroom for the accumulation
  return static_cast<std::int32_t>(v < -lim ? -lim : v > lim ? lim : v);
}

}  // namespace detail

template <class G, class Ignore = ignore<>>
using quantization_mask_t = typename detail::mask_of<G, Ignore>::type;

// What quantization changed that a user should know: per node, output scales widened so the requantization
// multiplier stays representable (< 0.5).
struct quantize_report {
  std::size_t widened_outputs = 0;
};

namespace detail {

// What a quantized source model fixes (quantize_with_params): every node's output quantization and the weight
// scales of every Conv2d/Dense output channel (node order). Absent (empty spans): ranges decide.
struct given_quantization {
  std::span<const tensor_quant> outputs;
  std::span<const float> weight_scales;
};

// Output channels of every Conv2d/Dense node of G, summed: how many weight scales a model takes.
template <class L>
constexpr std::size_t weight_scales_of() {
  if constexpr (is_conv_v<L> || is_dense_v<L>) {
    return L::out_channels;
  } else {
    return 0;
  }
}
template <class G, std::size_t... I>
constexpr std::size_t weight_scale_count(std::index_sequence<I...>) {
  return (std::size_t{0} + ... + weight_scales_of<typename G::template layer_t<I>>());
}

template <quantized_element T, class Ignore, model_type M>
constexpr auto quantize_core(const M& model, std::span<const value_range> ranges, const given_quantization& given,
                             quantize_options opt, quantize_report* report) {
  using G = graph_of_t<M>;
  using Mask = quantization_mask_t<G, Ignore>;
  using R = Quantized<G, T, Mask>;
  constexpr std::size_t N = G::num_nodes;
  constexpr auto plan = plan_v<G>;
  R r{};
  const bool fixed = !given.outputs.empty();
  // Given weight scales are the source model's int8 grid: full range, whatever the target prefers.
  const std::int32_t qw = !fixed && uses_7bit_weights(opt.weights_7bit) ? 63 : 127;

  // Output quantization of every node, in node order (inputs first).
  for (std::size_t i = 0; i < N; ++i) {
    if (fixed) {
      r.q[i] = given.outputs[plan.fused_clamp[i] < N ? plan.fused_clamp[i] : i];
    } else {
      value_range vr = i < ranges.size() ? ranges[i] : value_range{};
      if (i < N && plan.fused_clamp[i] < N && plan.fused_clamp[i] < ranges.size()) vr = ranges[plan.fused_clamp[i]];
      r.q[i] = detail::choose_quant<T>(vr);
    }
    r.lo[i] = qmin_v<T>;
    r.hi[i] = qmax_v<T>;
  }
  // Raw u8 pixels (embed_preprocess(input<u8>)) are the input tensor itself: scale 1, whatever the ranges say,
  // so that they feed the first int8 kernel as they are (u8: zero point 0; s8: q = pixel - 128).
  if constexpr (std::is_same_v<input_element_t<G>, std::uint8_t>)
    r.q[0] = tensor_quant{1.0f, std::is_same_v<T, std::uint8_t> ? 0 : -128};
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    // Data-movement layers keep their input's quantization; Concat's inputs take the union range.
    (
        [&] {
          using L = typename G::template layer_t<I>;
          if constexpr (I > 0 && detail::keeps_input_quant_v<L>) {
            r.q[I] = r.q[G::template inputs_v<I>[0]];
          }
        }(),
        ...);
  }(std::make_index_sequence<N>{});

  std::size_t scales_at = 0;  // this node's first entry in given.weight_scales
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using L = typename G::template layer_t<I>;
          constexpr auto ins = G::template inputs_v<I>;
          // Again, now that every producer before I is final (an output scale may have been widened below).
          if constexpr (I > 0 && detail::keeps_input_quant_v<L>) r.q[I] = r.q[ins[0]];
          const std::size_t ws = scales_at;
          if constexpr (detail::is_conv_v<L> || detail::is_dense_v<L>) scales_at += L::out_channels;
          if (!R::quantized[I] || R::dynamic) {  // float parameters: float nodes, and every node of a dynamic model
            std::size_t off = R::offsets.floats[I];
            for (std::size_t p = 0; p < L::num_params; ++p) {
              const std::size_t pi = G::first_param[I] + p;
              for (std::size_t k = 0; k < G::param_sizes[pi]; ++k) r.floats[off + k] = model.param(pi)[k];
              off += G::param_sizes[pi];
            }
          }
          if (!R::quantized[I]) return;
          // Output clamp: a fused Relu/Clip's bounds, or the clamp layer's own; a Protected<Act>'s run-time bounds
          // (statiq::protect) fold in here, intersected with [qmin, qmax] by quantize_value's saturation.
          if constexpr (is_clamp_v<L>) {
            const clamp_range b = detail::clamp_bounds<G, I>(model);
            r.lo[I] = detail::quantize_value<T>(b.lo, r.q[I]);
            r.hi[I] = detail::quantize_value<T>(b.hi, r.q[I]);
          }
          if constexpr (plan.fused_clamp[I] < N) {
            const clamp_range b = detail::clamp_bounds<G, plan.fused_clamp[I]>(model);
            r.lo[I] = detail::quantize_value<T>(b.lo, r.q[I]);
            r.hi[I] = detail::quantize_value<T>(b.hi, r.q[I]);
          }
          if constexpr (detail::is_conv_v<L> || detail::is_dense_v<L> || detail::is_value_padded_v<L>) {
            using In = typename G::template shape_t<ins[0]>;
            constexpr std::size_t n_out = L::out_channels;
            constexpr std::size_t per = G::param_sizes[G::first_param[I]] / n_out;
            const float* w = model.param(G::first_param[I]);
            const float* b = model.param(G::first_param[I] + 1);
            const tensor_quant xq = r.q[ins[0]];
            detail::const_buffer<std::int8_t> wq(n_out * per);  // transient: constexpr allocation (C++20)
            detail::const_buffer<double> sw(n_out);
            if (!given.weight_scales.empty() && detail::weight_scales_of<L>() > 0) {  // (not ValuePadded: chosen)
              for (std::size_t c = 0; c < n_out; ++c) {
                const float s = ws + c < given.weight_scales.size() ? given.weight_scales[ws + c] : 0.0f;
                sw[c] = s > 0 ? detail::quantize_weights_to(w + c * per, per, s, qw, wq.data() + c * per)
                              : detail::quantize_weights(w + c * per, per, qw, wq.data() + c * per);
              }
            } else if (opt.per_channel) {
              for (std::size_t c = 0; c < n_out; ++c) sw[c] = detail::quantize_weights(w + c * per, per, qw, wq.data() + c * per);
            } else {
              const double s = detail::quantize_weights(w, n_out * per, qw, wq.data());
              for (auto& v : sw) v = s;
            }
            // Keep every requantization multiplier below 0.5 by widening the output scale where needed.
            double smax = 0;
            for (auto v : sw) smax = v > smax ? v : smax;
            const double need = static_cast<double>(xq.scale) * smax / 0.4999;
            if (static_cast<double>(r.q[I].scale) < need) {
              const float old_scale = r.q[I].scale;
              r.q[I].scale = static_cast<float>(need);
              r.q[I].zero_point = static_cast<std::int32_t>(
                  detail::round_half_away(static_cast<double>(r.q[I].zero_point) * old_scale / need));
              r.lo[I] = qmin_v<T>;
              r.hi[I] = qmax_v<T>;
              if constexpr (plan.fused_clamp[I] < N) {
                const clamp_range b = detail::clamp_bounds<G, plan.fused_clamp[I]>(model);
                r.lo[I] = detail::quantize_value<T>(b.lo, r.q[I]);
                r.hi[I] = detail::quantize_value<T>(b.hi, r.q[I]);
              }
              if (report) ++report->widened_outputs;
            }
            detail::const_buffer<std::int32_t> bq(n_out);
            detail::const_buffer<kernels::ref::requant_multiplier> mult(n_out);
            for (std::size_t c = 0; c < n_out; ++c) {
              bq[c] = detail::quantize_bias(b[c], static_cast<double>(xq.scale) * sw[c]);
              mult[c] = kernels::ref::quantize_multiplier(static_cast<double>(xq.scale) * sw[c] / r.q[I].scale);
            }
            std::uint8_t* blob = r.bytes.data() + R::offsets.bytes[I];
            if constexpr (detail::is_dense_v<L>) {
              kernels::pack_gemm_weights<T>(n_out, In::size, wq.data(), bq.data(), xq.zero_point, mult.data(), true, blob);
            } else if constexpr (detail::is_depthwise<G, I>()) {
              for (std::size_t k = 0; k < wq.size(); ++k) blob[k] = static_cast<std::uint8_t>(wq[k]);
              for (std::size_t c = 0; c < n_out; ++c) {
                r.ints[R::offsets.ints[I] + c] = bq[c];
                r.mults[R::offsets.mults[I] + c] = mult[c];
              }
            } else {
              constexpr auto d = detail::node_conv_dims<G, I>();
              kernels::qconv_params qp{xq.zero_point, r.q[I].zero_point, mult.data(), true, r.lo[I], r.hi[I]};
              kernels::pack_conv2d_q<T>(d, qp, wq.data(), bq.data(), blob);
              if constexpr (detail::is_value_padded_v<L>) {
                // For the border pixels: s8 weights, s32 bias, multipliers, and each channel's pad value in
                // quantized units relative to the input zero point (Q16).
                std::uint8_t* w8 = blob + detail::align_up(kernels::conv2d_q_packed_size(d), 64);
                for (std::size_t k = 0; k < wq.size(); ++k) w8[k] = static_cast<std::uint8_t>(wq[k]);
                const float* pad = model.param(G::first_param[I] + 2);
                std::int32_t* ints = r.ints.data() + R::offsets.ints[I];
                for (std::size_t c = 0; c < n_out; ++c) {
                  ints[c] = bq[c];
                  r.mults[R::offsets.mults[I] + c] = mult[c];
                }
                for (int c = 0; c < d.in_c; ++c)
                  ints[n_out + c] = kernels::ref::pad_to_q16(static_cast<double>(pad[c]) / xq.scale);
              }
            }
          } else if constexpr (std::is_same_v<L, Add>) {
            const tensor_quant a = r.q[ins[0]], b = r.q[ins[1]], y = r.q[I];
            r.adds[R::offsets.adds[I]] = kernels::make_qadd_params(a.scale, a.zero_point, b.scale, b.zero_point, y.scale,
                                                                   y.zero_point, r.lo[I], r.hi[I]);
          }
        }(),
        ...);
  }(std::make_index_sequence<N>{});
  return r;
}

}  // namespace detail

// Quantizes `model` given the value range of every node's output (index = node; a fused Conv2d/Dense ->
// Relu/Clip pair uses the clamp node's range for both). T: std::uint8_t (mixed) or std::int8_t (performance).
template <quantized_element T, class Ignore = ignore<>, model_type M>
constexpr auto quantize_with_ranges(const M& model, std::span<const value_range> ranges, quantize_options opt = {},
                                    quantize_report* report = nullptr) {
  return detail::quantize_core<T, Ignore>(model, ranges, {}, opt, report);
}

// How many weight scales quantize_with_params takes for graph G: one per output channel of each Conv2d/Dense.
template <class G>
inline constexpr std::size_t weight_scale_count_v = detail::weight_scale_count<G>(std::make_index_sequence<G::num_nodes>{});

// Quantizes `model` with the quantization a quantized source model fixes (ONNX QDQ / QLinear*, as statiq-import
// reads it) instead of calibrating: `outputs` holds every node's output scale and zero point (a fused
// Conv2d/Dense -> Relu/Clip pair takes the clamp node's; layers that only move data keep their input's);
// `weight_scales` one scale per output channel of every Conv2d/Dense node in node order (> 0: the weights are
// round(w / scale) in [-127, 127], the source's own int8 grid when w holds its dequantized weights; <= 0: chosen
// from the weights, symmetric). Biases and requantization multipliers follow as in quantize_with_ranges
// (s_in * s_w[c] / s_out); an output scale is widened only where that multiplier would reach 0.5 (counted in
// `report`).
template <quantized_element T, class Ignore = ignore<>, model_type M, std::size_t NQ, std::size_t NW>
constexpr auto quantize_with_params(const M& model, const std::array<tensor_quant, NQ>& outputs,
                                    const std::array<float, NW>& weight_scales, quantize_report* report = nullptr) {
  using G = graph_of_t<M>;
  STATIQ_REQUIRE(NQ == G::num_nodes,
                 "statiq::quantize_with_params(model, outputs, weight_scales): `outputs` needs one tensor_quant per "
                 "graph node",
                 diagnostic::quantization_outputs_count_mismatch<G::num_nodes, NQ>);
  STATIQ_REQUIRE(NW == weight_scale_count_v<G>,
                 "statiq::quantize_with_params(model, outputs, weight_scales): `weight_scales` needs one scale per "
                 "output channel of every Conv2d/Dense node (statiq::weight_scale_count_v<G>)",
                 diagnostic::weight_scales_count_mismatch<weight_scale_count_v<G>, NW>);
  const detail::given_quantization given{std::span<const tensor_quant>(outputs), std::span<const float>(weight_scales)};
  return detail::quantize_core<T, Ignore>(model, {}, given, quantize_options{}, report);
}

// Widens the ranges of every Concat's inputs (and of the Concat) to their union, as POT unifies scales for
// concatenation, so the int8 Concat is a plain copy. Call before quantize_with_ranges.
template <class G>
constexpr void unify_concat_ranges(std::span<value_range> ranges) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          if constexpr (std::is_same_v<typename G::template layer_t<I>, Concat>) {
            value_range u = ranges[I];
            for (auto k : G::template inputs_v<I>) {
              u.lo = ranges[k].lo < u.lo ? ranges[k].lo : u.lo;
              u.hi = ranges[k].hi > u.hi ? ranges[k].hi : u.hi;
            }
            ranges[I] = u;
            for (auto k : G::template inputs_v<I>) ranges[k] = u;
          }
        }(),
        ...);
  }(std::make_index_sequence<G::num_nodes>{});
}

// quantize<T, Ignore>(ranges, options): the pipeline step (`model | quantize(ranges)`); the ranges are
// borrowed, so they must outlive the call that applies the step.
template <quantized_element T, class Ignore>
struct quantize_t : transform_closure<quantize_t<T, Ignore>> {
  std::span<const value_range> ranges;
  quantize_options options{};
  template <model_type M>
  constexpr auto operator()(const M& m) const {
    return quantize_with_ranges<T, Ignore>(m, ranges, options);
  }
};

template <quantized_element T = std::uint8_t, class Ignore = ignore<>>
constexpr quantize_t<T, Ignore> quantize(std::span<const value_range> ranges, quantize_options options = {}) {
  quantize_t<T, Ignore> q{};
  q.ranges = ranges;
  q.options = options;
  return q;
}

// The ranges calibrate() chose, one per node, with Concat inputs unified (ready for quantize_with_ranges).
template <class G>
std::vector<value_range> ranges_of(const calibration_stats<G>& stats) {
  std::vector<value_range> r(G::num_nodes);
  for (std::size_t i = 0; i < G::num_nodes; ++i) r[i] = {stats.nodes[i].range.lo, stats.nodes[i].range.hi};
  unify_concat_ranges<G>(r);
  return r;
}

}  // namespace statiq
