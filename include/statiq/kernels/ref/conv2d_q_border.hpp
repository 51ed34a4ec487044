// Scalar int8 convolution of the border pixels of a value-padded input: the padding holds a per-channel value
// (in quantized units relative to the zero point, Q16 fixed point) instead of the zero point.
#pragma once

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/ref/conv2d_q.hpp"

namespace statiq::kernels::ref {

// Q16 fixed point of a pad value v (quantized units relative to the zero point), rounded half away from zero
// and saturated to int32.
constexpr std::int32_t pad_to_q16(double v) {
  const double s = v * 65536.0;
  if (s >= 2147483647.0) return 2147483647;
  if (s <= -2147483647.0) return -2147483647;
  return static_cast<std::int32_t>(s >= 0 ? static_cast<std::int64_t>(s + 0.5) : -static_cast<std::int64_t>(-s + 0.5));
}

// round_half_away(v / 2^16): a Q16 sum of pad values times weights in accumulator units, rounded once.
constexpr std::int32_t round_q16(std::int64_t v) {
  return static_cast<std::int32_t>(v >= 0 ? (v + 32768) >> 16 : -((-v + 32768) >> 16));
}

// Calls f(oh, ow, ih0, iw0) for every output pixel whose window reaches into the padding, in row-major order
// (ih0, iw0: the window's top-left input coordinate).
template <class F>
constexpr void for_each_border_pixel(const conv2d_dims& d, F&& f) {
  for (int oh = 0; oh < d.out_h; ++oh) {
    const int ih0 = oh * d.stride_h - d.pad_top;
    const bool row_border = ih0 < 0 || ih0 + (d.k_h - 1) * d.dil_h >= d.in_h;
    for (int ow = 0; ow < d.out_w; ++ow) {
      const int iw0 = ow * d.stride_w - d.pad_left;
      if (row_border || iw0 < 0 || iw0 + (d.k_w - 1) * d.dil_w >= d.in_w) f(oh, ow, ih0, iw0);
    }
  }
}

// For every output pixel whose window reaches into the padding (the others are conv2d_q's):
//   acc[oc] = bias[oc] + sum over taps inside the input of (x - q.x_zero_point) * w
//             + round_half_away(sum over padded taps of pad_q16[ci] * w / 2^16),
//   y = requantize(acc, multiplier[oc], y_zero_point, lo, hi).
// The rounded correction is the one integer closest to what the padding contributes: the same bound as the
// bias's own rounding. w: OHWI [out_c][k_h][k_w][in_c / groups]; pad_q16: [in_c].
template <class TI, class TO>
constexpr void conv2d_q_value_padded_border(const conv2d_dims& d, const qconv_params& q, const TI* x,
                                            const std::int8_t* w, const std::int32_t* bias,
                                            const std::int32_t* pad_q16, TO* y) {
  const int cin_g = d.in_c / d.groups;
  const int cout_g = d.out_c / d.groups;
  for_each_border_pixel(d, [&](int oh, int ow, int ih0, int iw0) {
    for (int oc = 0; oc < d.out_c; ++oc) {
      const int g = oc / cout_g;
      std::int32_t acc = bias ? bias[oc] : 0;
      std::int64_t pad_acc = 0;
      for (int kh = 0; kh < d.k_h; ++kh) {
        const int ih = ih0 + kh * d.dil_h;
        const bool h_out = ih < 0 || ih >= d.in_h;
        for (int kw = 0; kw < d.k_w; ++kw) {
          const int iw = iw0 + kw * d.dil_w;
          const std::int8_t* wp = w + ((static_cast<std::ptrdiff_t>(oc) * d.k_h + kh) * d.k_w + kw) * cin_g;
          if (h_out || iw < 0 || iw >= d.in_w) {
            for (int ci = 0; ci < cin_g; ++ci) pad_acc += std::int64_t{pad_q16[g * cin_g + ci]} * wp[ci];
          } else {
            const TI* xp = x + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw) * d.in_c + g * cin_g;
            for (int ci = 0; ci < cin_g; ++ci) acc += (std::int32_t{xp[ci]} - q.x_zero_point) * wp[ci];
          }
        }
      }
      acc += round_q16(pad_acc);
      y[(static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * d.out_c + oc] =
          static_cast<TO>(requantize(acc, q.multiplier[q.per_channel ? oc : 0], q.y_zero_point, q.lo, q.hi));
    }
  });
}

}  // namespace statiq::kernels::ref
