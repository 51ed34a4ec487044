// 2-D convolution NHWC (int8 over packed weights, f32, f32 depthwise), statically dispatched to this TU's target.
#pragma once

#include <cstdint>
#include <type_traits>

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/highway.h>

#include "statiq/kernels/conv2d-inl.h"
#include "statiq/kernels/conv2d_border.hpp"
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

// conv2d_q followed by a 2x2, stride-2 max pool (no padding, floor mode) in one pass: y is [out_h / 2][out_w / 2]
// [out_c], equal to ref::max_pool_q over ref::conv2d_q's output. The window's sums are pooled before one
// requantization (which is monotonic), so the convolution's full output is never stored. Requires
// conv2d_q_pool2_fits(d).
inline void conv2d_q_max_pool2(const conv2d_dims& d, const std::uint8_t* packed, const std::uint8_t* x,
                               std::int32_t y_zp, std::int32_t lo, std::int32_t hi, std::uint8_t* y) {
  HWY_STATIC_DISPATCH(Conv2dMaxPool2U8S8)(d, packed, x, y_zp, lo, hi, y);
}
inline void conv2d_q_max_pool2(const conv2d_dims& d, const std::uint8_t* packed, const std::int8_t* x,
                               std::int32_t y_zp, std::int32_t lo, std::int32_t hi, std::int8_t* y) {
  HWY_STATIC_DISPATCH(Conv2dMaxPool2S8S8)(d, packed, x, y_zp, lo, hi, y);
}

// The convolution of a ValuePadded layer (its padding holds pad_q16[c], Q16 quantized units relative to the zero
// point, instead of the zero point): y = ref::conv2d_q with zero-point padding, then
// ref::conv2d_q_value_padded_border over the border pixels (w, bias: the unpacked OHWI weights and biases). First
// layers (in_c <= 4) take one pass: the border correction is added in the kernel before requantization.
template <class T>
void conv2d_q_value_padded(const conv2d_dims& d, const std::uint8_t* packed, const qconv_params& q, const std::int8_t* w,
                           const std::int32_t* bias, const std::int32_t* pad_q16, const T* x, T* y) {
  bool done;
  if constexpr (std::is_same_v<T, std::uint8_t>)
    done = HWY_STATIC_DISPATCH(Conv2dValuePaddedU8)(d, packed, x, pad_q16, q.y_zero_point, q.lo, q.hi, y);
  else
    done = HWY_STATIC_DISPATCH(Conv2dValuePaddedS8)(d, packed, x, pad_q16, q.y_zero_point, q.lo, q.hi, y);
  if (done) return;
  conv2d_q(d, packed, x, q.y_zero_point, q.lo, q.hi, y);
  conv2d_q_value_padded_border(d, q, x, w, bias, pad_q16, y);
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
