// Scalar reference for int8 2-D and depthwise convolution, NHWC: the exact result every int8 conv kernel must equal.
#pragma once

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/ref/conv2d.hpp"
#include "statiq/kernels/ref/requantize.hpp"

namespace statiq::kernels {

// Quantization of one int8 convolution. x (u8 or s8) has one zero point; weights are s8, symmetric, per
// output channel; bias is s32 in units of s_x * s_w[oc]; multiplier[oc] represents s_x * s_w[oc] / s_y.
struct qconv_params {
  std::int32_t x_zero_point = 0;
  std::int32_t y_zero_point = 0;
  const ref::requant_multiplier* multiplier = nullptr;  // [out_c] when per_channel, else [1]
  bool per_channel = true;
  std::int32_t lo = -128, hi = 127;  // clamp of y in quantized units (fused ReLU / ReLU6 / type range)
};

namespace ref {

// acc[oc] = bias[oc] + sum over the taps inside the input of (x - x_zero_point) * w[oc][kh][kw][ci];
// a tap in the padding holds x_zero_point (real 0), so it contributes exactly nothing.
// y = requantize(acc, multiplier[oc], y_zero_point, lo, hi). Computes output channels [oc_begin, oc_end)
// (default: all). Weights OHWI [out_c][k_h][k_w][in_c / groups]; depthwise is groups == in_c == out_c.
template <class TI, class TO>
constexpr void conv2d_q(const conv2d_dims& d, const qconv_params& q, const TI* x, const std::int8_t* w,
                        const std::int32_t* bias, TO* y, int oc_begin = 0, int oc_end = -1) {
  if (oc_end < 0) oc_end = d.out_c;
  const int cin_g = d.in_c / d.groups;
  const int cout_g = d.out_c / d.groups;
  for (int oh = 0; oh < d.out_h; ++oh) {
    for (int ow = 0; ow < d.out_w; ++ow) {
      for (int oc = oc_begin; oc < oc_end; ++oc) {
        const int g = oc / cout_g;
        std::int32_t acc = bias ? bias[oc] : 0;
        for (int kh = 0; kh < d.k_h; ++kh) {
          const int ih = oh * d.stride_h - d.pad_top + kh * d.dil_h;
          if (ih < 0 || ih >= d.in_h) continue;
          for (int kw = 0; kw < d.k_w; ++kw) {
            const int iw = ow * d.stride_w - d.pad_left + kw * d.dil_w;
            if (iw < 0 || iw >= d.in_w) continue;
            const TI* xp = x + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw) * d.in_c + g * cin_g;
            const std::int8_t* wp = w + ((static_cast<std::ptrdiff_t>(oc) * d.k_h + kh) * d.k_w + kw) * cin_g;
            for (int ci = 0; ci < cin_g; ++ci) acc += (std::int32_t{xp[ci]} - q.x_zero_point) * wp[ci];
          }
        }
        y[(static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * d.out_c + oc] = static_cast<TO>(
            requantize(acc, q.multiplier[q.per_channel ? oc : 0], q.y_zero_point, q.lo, q.hi));
      }
    }
  }
}

}  // namespace ref
}  // namespace statiq::kernels
