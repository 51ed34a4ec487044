// Depthwise 2-D convolution, int8 NHWC, statically dispatched to the target this translation unit is compiled for.
#pragma once

#include <cstdint>

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/highway.h>

#include "statiq/kernels/depthwise_conv-inl.h"

namespace statiq::kernels {

// y = ref::conv2d_q(d, q, x, w, bias) with groups == in_c == out_c; w is [C][k_h][k_w]. Exact. Any kernel,
// stride, dilation, padding (3x3 and 5x5 compiled with fixed taps; over 64 taps: the reference). y must not
// overlap x (a channel count that is not a multiple of the vector is finished by an overlapping block).
inline void depthwise_conv2d_q(const conv2d_dims& d, const qconv_params& q, const std::uint8_t* x,
                               const std::int8_t* w, const std::int32_t* bias, std::uint8_t* y) {
  HWY_STATIC_DISPATCH(DepthwiseConvU8S8)(d, q, x, w, bias, y);
}
inline void depthwise_conv2d_q(const conv2d_dims& d, const qconv_params& q, const std::int8_t* x,
                               const std::int8_t* w, const std::int32_t* bias, std::int8_t* y) {
  HWY_STATIC_DISPATCH(DepthwiseConvS8S8)(d, q, x, w, bias, y);
}

}  // namespace statiq::kernels
