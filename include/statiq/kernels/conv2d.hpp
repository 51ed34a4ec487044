// 2-D convolution NHWC (int8 over packed weights, f32, f32 depthwise), statically dispatched to this TU's target.
#pragma once

#include <cstdint>

#include <hwy/highway.h>

#include "statiq/kernels/conv2d-inl.h"
#include "statiq/kernels/conv2d_pack.hpp"

namespace statiq::kernels {

// y = ref::conv2d_q(d, q, x, w, bias) where packed = pack_conv2d_q<TIn>(d, q, w, bias) (holding x's zero
// point, bias and multipliers); y_zp, lo, hi as in q. Any kernel, stride, padding, dilation, groups, with
// k_h * k_w * in_c / groups <= 24576. Exact.
inline void conv2d_q(const conv2d_dims& d, const std::uint8_t* packed, const std::uint8_t* x, std::int32_t y_zp,
                     std::int32_t lo, std::int32_t hi, std::uint8_t* y) {
  HWY_STATIC_DISPATCH(Conv2dU8S8)(d, packed, x, y_zp, lo, hi, y);
}
inline void conv2d_q(const conv2d_dims& d, const std::uint8_t* packed, const std::int8_t* x, std::int32_t y_zp,
                     std::int32_t lo, std::int32_t hi, std::int8_t* y) {
  HWY_STATIC_DISPATCH(Conv2dS8S8)(d, packed, x, y_zp, lo, hi, y);
}

// Same signature and result as ref::conv2d_f32 (within float rounding: sums run in another order, FMA).
inline void conv2d_f32(const conv2d_dims& d, const float* x, const float* w, const float* bias, float* y, float lo,
                       float hi) {
  HWY_STATIC_DISPATCH(Conv2dF32)(d, x, w, bias, y, lo, hi);
}
// Depthwise (groups == in_c == out_c), same signature as ref::conv2d_f32.
inline void depthwise_conv2d_f32(const conv2d_dims& d, const float* x, const float* w, const float* bias, float* y,
                                 float lo, float hi) {
  HWY_STATIC_DISPATCH(DepthwiseConvF32)(d, x, w, bias, y, lo, hi);
}

}  // namespace statiq::kernels
