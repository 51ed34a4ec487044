// Evaluation of one node of a Quantized model: int8 kernels for quantized nodes, float for the rest, and the
// conversions where a node reads a tensor of the other precision.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "statiq/exec/quantized.hpp"
#include "statiq/kernels/add_quantized.hpp"
#include "statiq/kernels/conv2d.hpp"
#include "statiq/kernels/depthwise_conv.hpp"
#include "statiq/kernels/gemm.hpp"
#include "statiq/kernels/pool.hpp"

namespace statiq::detail {

// ONNX QuantizeLinear: saturate(round_half_to_even(x / scale) + zero_point).
template <quantized_element T>
inline void quantize_f32(std::size_t n, const float* x, tensor_quant q, T* y) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const float r = std::nearbyint(x[i] / q.scale) + static_cast<float>(q.zero_point);
    const float c = r < static_cast<float>(qmin_v<T>) ? static_cast<float>(qmin_v<T>)
                    : r > static_cast<float>(qmax_v<T>) ? static_cast<float>(qmax_v<T>)
                                                         : r;
    y[i] = static_cast<T>(c);
  }
}

// ONNX DequantizeLinear: (q - zero_point) * scale.
template <quantized_element T>
inline void dequantize_f32(std::size_t n, const T* x, tensor_quant q, float* y) noexcept {
  for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::int32_t{x[i]} - q.zero_point) * q.scale;
}

template <quantized_element T>
inline void clamp_q(std::size_t n, const T* x, std::int32_t lo, std::int32_t hi, T* y) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t v = x[i];
    y[i] = static_cast<T>(v < lo ? lo : v > hi ? hi : v);
  }
}

// Pool2: a 2x2, stride-2 max pool is fused into this convolution (the plan's fused_pool): out is the pool's tensor.
template <class M, std::size_t I, bool Pool2 = false, class Exec>
void eval_quantized_node(const M& m, const Exec& e, std::byte* const* in, std::byte* out) noexcept {
  using G = typename M::graph_type;
  using T = typename M::element_type;
  using L = typename G::template layer_t<I>;
  using Out = typename G::template shape_t<I>;
  constexpr auto ins = G::template inputs_v<I>;
  using In = typename G::template shape_t<ins[0]>;
  const std::size_t b = e.batch;
  const T* x = reinterpret_cast<const T*>(in[0]);
  T* y = reinterpret_cast<T*>(out);
  const std::int32_t zp = m.q[I].zero_point, lo = m.lo[I], hi = m.hi[I];
  static_assert(!Pool2 || (is_conv_v<L> && !is_depthwise<G, I>()), "only a non-depthwise convolution takes a fused pool");
  if constexpr (is_conv_v<L>) {
    constexpr auto d = node_conv_dims<G, I>();
    const std::int32_t x_zp = m.q[ins[0]].zero_point;
    if constexpr (is_depthwise<G, I>()) {
      kernels::qconv_params q{x_zp, zp, m.mults.data() + M::offsets.mults[I], true, lo, hi};
      const std::int8_t* w = reinterpret_cast<const std::int8_t*>(m.bytes.data() + M::offsets.bytes[I]);
      const std::int32_t* bias = m.ints.data() + M::offsets.ints[I];
      for (std::size_t s = 0; s < b; ++s) kernels::depthwise_conv2d_q(d, q, x + s * In::size, w, bias, y + s * Out::size);
    } else {
      const std::uint8_t* packed = m.bytes.data() + M::offsets.bytes[I];
      if constexpr (Pool2) {
        constexpr auto pd = kernels::conv2d_q_pool2_dims(d);
        constexpr std::size_t pooled = static_cast<std::size_t>(pd.out_h) * pd.out_w * pd.channels;
        for (std::size_t s = 0; s < b; ++s)
          kernels::conv2d_q_max_pool2(d, packed, x + s * In::size, zp, lo, hi, y + s * pooled);
      } else {
        for (std::size_t s = 0; s < b; ++s) kernels::conv2d_q(d, packed, x + s * In::size, zp, lo, hi, y + s * Out::size);
      }
    }
  } else if constexpr (is_value_padded_v<L>) {
    // The int8 convolution with the pad value's contribution at the border pixels (one pass for first layers).
    constexpr auto d = node_conv_dims<G, I>();
    constexpr std::size_t packed_bytes = align_up(kernels::conv2d_q_packed_size(d), 64);
    const std::uint8_t* packed = m.bytes.data() + M::offsets.bytes[I];
    const auto* w = reinterpret_cast<const std::int8_t*>(packed + packed_bytes);
    const std::int32_t* bias = m.ints.data() + M::offsets.ints[I];
    const kernels::qconv_params q{m.q[ins[0]].zero_point, zp, m.mults.data() + M::offsets.mults[I], true, lo, hi};
    for (std::size_t s = 0; s < b; ++s)
      kernels::conv2d_q_value_padded(d, packed, q, w, bias, bias + d.out_c, x + s * In::size, y + s * Out::size);
  } else if constexpr (is_dense_v<L>) {
    kernels::gemm_packed<T, T>(m.bytes.data() + M::offsets.bytes[I], b, x, In::size, y, L::units, zp, lo, hi);
  } else if constexpr (std::is_same_v<L, Add>) {
    kernels::add_q(b * Out::size, m.adds[M::offsets.adds[I]], x, reinterpret_cast<const T*>(in[1]), y);
  } else if constexpr (is_clamp_v<L>) {
    clamp_q(b * Out::size, x, lo, hi, y);
  } else if constexpr (std::is_same_v<L, Concat>) {
    constexpr std::size_t out_c = channels_v<Out>;
    constexpr std::size_t rows = Out::size / out_c;
    std::size_t col = 0;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (
          [&] {
            constexpr std::size_t c = channels_v<typename G::template shape_t<ins[K]>>;
            const T* src = reinterpret_cast<const T*>(in[K]);
            const tensor_quant qi = m.q[ins[K]], qo = m.q[I];
            if (qi.scale == qo.scale && qi.zero_point == qo.zero_point) {
              for (std::size_t r = 0; r < b * rows; ++r) std::memcpy(y + r * out_c + col, src + r * c, c);
            } else {  // an input quantized differently: rescale (the quantizer unifies them where it can)
              const float ratio = qi.scale / qo.scale;
              for (std::size_t r = 0; r < b * rows; ++r)
                for (std::size_t j = 0; j < c; ++j) {
                  const float v = std::nearbyint(static_cast<float>(std::int32_t{src[r * c + j]} - qi.zero_point) * ratio) +
                                  static_cast<float>(qo.zero_point);
                  y[r * out_c + col + j] = static_cast<T>(v < qmin_v<T> ? qmin_v<T> : v > qmax_v<T> ? qmax_v<T> : v);
                }
            }
            col += c;
          }(),
          ...);
    }(std::make_index_sequence<ins.size()>{});
  } else if constexpr (is_max_pool_v<L>) {
    constexpr auto d = pool_dims<In, Out, L>();
    for (std::size_t s = 0; s < b; ++s) kernels::max_pool2d(d, x + s * In::size, y + s * Out::size);
  } else if constexpr (is_avg_pool_v<L>) {
    constexpr auto d = pool_dims<In, Out, L>();
    for (std::size_t s = 0; s < b; ++s)
      kernels::avg_pool2d_q(d, L::count_include_pad, zp, lo, hi, x + s * In::size, y + s * Out::size);
  } else if constexpr (std::is_same_v<L, GlobalAvgPool>) {
    constexpr std::size_t c = channels_v<In>;
    for (std::size_t s = 0; s < b; ++s)
      kernels::global_avg_pool_q(In::size / c, c, zp, lo, hi, x + s * In::size, y + s * c);
  } else {
    static_assert(is_alias_v<L>, "statiq::Quantized: this layer has no int8 kernel; the quantizer keeps it in float");
  }
}

}  // namespace statiq::detail
