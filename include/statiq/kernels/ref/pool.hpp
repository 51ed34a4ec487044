// Scalar references for int8 pooling (max, average, global average) on u8/s8, NHWC, ONNX semantics.
#pragma once

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/ref/pool_f32.hpp"  // pool2d_dims

namespace statiq::kernels::ref {

// round(n / d) with halves away from zero, d > 0: the rounding of every int8 average in statiq.
constexpr std::int32_t div_round_half_away(std::int32_t n, std::int32_t d) {
  const std::int32_t a = n < 0 ? -n : n;
  const std::int32_t q = (2 * a + d) / (2 * d);
  return n < 0 ? -q : q;
}

// Max over the taps inside the input; padding never wins. Exact, so quantization passes through.
template <class T>
constexpr void max_pool_q(const pool2d_dims& d, const T* x, T* y) {
  for (int oh = 0; oh < d.out_h; ++oh)
    for (int ow = 0; ow < d.out_w; ++ow)
      for (int c = 0; c < d.channels; ++c) {
        bool any = false;
        T m = 0;
        for (int kh = 0; kh < d.k_h; ++kh) {
          const int ih = oh * d.stride_h - d.pad_top + kh * d.dil_h;
          if (ih < 0 || ih >= d.in_h) continue;
          for (int kw = 0; kw < d.k_w; ++kw) {
            const int iw = ow * d.stride_w - d.pad_left + kw * d.dil_w;
            if (iw < 0 || iw >= d.in_w) continue;
            const T v = x[(ih * d.in_w + iw) * d.channels + c];
            m = (!any || v > m) ? v : m;
            any = true;
          }
        }
        y[(oh * d.out_w + ow) * d.channels + c] = m;
      }
}

// Average pool, same scale and zero point in and out (as TFLite's int8 AveragePool):
// y = clamp(zp + div_round_half_away(sum_{taps inside} (x - zp), count), lo, hi), where count follows
// avg_pool_f32 (count_include_pad: the window clipped to the declared pads; padded taps are real 0 = zp,
// contributing nothing to the sum; otherwise the taps inside the input). No dilation (dil must be 1).
template <class T>
constexpr void avg_pool_q(const pool2d_dims& d, bool count_include_pad, std::int32_t zp, std::int32_t lo,
                          std::int32_t hi, const T* x, T* y) {
  for (int oh = 0; oh < d.out_h; ++oh)
    for (int ow = 0; ow < d.out_w; ++ow) {
      const pool_window p = pool_window_at(d, count_include_pad, oh, ow);
      for (int c = 0; c < d.channels; ++c) {
        std::int32_t s = 0;
        for (int ih = p.hs; ih < p.he; ++ih)
          for (int iw = p.ws; iw < p.we; ++iw) s += std::int32_t{x[(ih * d.in_w + iw) * d.channels + c]} - zp;
        std::int32_t v = zp + (p.count > 0 ? div_round_half_away(s, p.count) : 0);
        v = v < lo ? lo : (v > hi ? hi : v);
        y[(oh * d.out_w + ow) * d.channels + c] = static_cast<T>(v);
      }
    }
}

// Mean over all positions per channel, same scale and zero point in and out: x [hw][c] -> y [c],
// y = clamp(zp + div_round_half_away(sum_p (x - zp), hw), lo, hi).
template <class T>
constexpr void global_avg_pool_q(std::size_t hw, std::size_t c, std::int32_t zp, std::int32_t lo, std::int32_t hi,
                                 const T* x, T* y) {
  for (std::size_t j = 0; j < c; ++j) {
    std::int32_t s = 0;
    for (std::size_t p = 0; p < hw; ++p) s += std::int32_t{x[p * c + j]} - zp;
    std::int32_t v = zp + div_round_half_away(s, static_cast<std::int32_t>(hw));
    v = v < lo ? lo : (v > hi ? hi : v);
    y[j] = static_cast<T>(v);
  }
}

}  // namespace statiq::kernels::ref
