// Pooling (max, average, global average) on u8/s8/f32, NHWC, statically dispatched to this TU's target.
#pragma once

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/highway.h>

#include "statiq/kernels/pool-inl.h"

namespace statiq::kernels {

inline void max_pool2d(const pool2d_dims& d, const std::uint8_t* x, std::uint8_t* y) {
  HWY_STATIC_DISPATCH(MaxPoolU8)(d, x, y);
}
inline void max_pool2d(const pool2d_dims& d, const std::int8_t* x, std::int8_t* y) {
  HWY_STATIC_DISPATCH(MaxPoolS8)(d, x, y);
}
inline void max_pool2d(const pool2d_dims& d, const float* x, float* y) { HWY_STATIC_DISPATCH(MaxPoolF32)(d, x, y); }

// Same scale and zero point in and out; rounding half away from zero (ref::avg_pool_q).
inline void avg_pool2d_q(const pool2d_dims& d, bool count_include_pad, std::int32_t zp, std::int32_t lo,
                         std::int32_t hi, const std::uint8_t* x, std::uint8_t* y) {
  HWY_STATIC_DISPATCH(AvgPoolU8)(d, count_include_pad, zp, lo, hi, x, y);
}
inline void avg_pool2d_q(const pool2d_dims& d, bool count_include_pad, std::int32_t zp, std::int32_t lo,
                         std::int32_t hi, const std::int8_t* x, std::int8_t* y) {
  HWY_STATIC_DISPATCH(AvgPoolS8)(d, count_include_pad, zp, lo, hi, x, y);
}
inline void avg_pool2d_f32(const pool2d_dims& d, bool count_include_pad, const float* x, float* y) {
  HWY_STATIC_DISPATCH(AvgPoolF32)(d, count_include_pad, x, y);
}

inline void global_avg_pool_q(std::size_t hw, std::size_t c, std::int32_t zp, std::int32_t lo, std::int32_t hi,
                              const std::uint8_t* x, std::uint8_t* y) {
  HWY_STATIC_DISPATCH(GlobalAvgPoolU8)(hw, c, zp, lo, hi, x, y);
}
inline void global_avg_pool_q(std::size_t hw, std::size_t c, std::int32_t zp, std::int32_t lo, std::int32_t hi,
                              const std::int8_t* x, std::int8_t* y) {
  HWY_STATIC_DISPATCH(GlobalAvgPoolS8)(hw, c, zp, lo, hi, x, y);
}
inline void global_avg_pool_f32(std::size_t hw, std::size_t c, const float* x, float* y) {
  HWY_STATIC_DISPATCH(GlobalAvgPoolF32)(hw, c, x, y);
}

}  // namespace statiq::kernels
