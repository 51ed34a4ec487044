// Scalar reference for element-wise addition of two quantized u8/s8 tensors with requantization.
#pragma once

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/ref/requantize.hpp"

namespace statiq::kernels {

// TFLite's scheme with statiq's Q31 requantization: both inputs are moved to a common fixed-point scale
// 2^-20 * 4 * max(s_a, s_b) (left shift 20, then multipliers s_a / (4 max) and s_b / (4 max), both <= 1/4,
// so |a'| + |b'| < 2^27), added, and the sum requantized by 4 max / (2^20 s_y). The 20-bit headroom keeps
// the two intermediate roundings below 2^-12 of an output step for any scale ratio up to 2^10.
struct qadd_params {
  std::int32_t a_zero_point = 0, b_zero_point = 0, y_zero_point = 0;
  ref::requant_multiplier a_multiplier{}, b_multiplier{}, y_multiplier{};
  std::int32_t lo = -128, hi = 127;
};

inline constexpr int qadd_left_shift = 20;

// Builds the parameters from the real scales; s_y must satisfy 4 max(s_a, s_b) / (2^20 s_y) < 0.5.
constexpr qadd_params make_qadd_params(double s_a, std::int32_t zp_a, double s_b, std::int32_t zp_b, double s_y,
                                       std::int32_t zp_y, std::int32_t lo, std::int32_t hi) {
  const double m = 4.0 * (s_a > s_b ? s_a : s_b);
  qadd_params p;
  p.a_zero_point = zp_a;
  p.b_zero_point = zp_b;
  p.y_zero_point = zp_y;
  p.a_multiplier = ref::quantize_multiplier(s_a / m);
  p.b_multiplier = ref::quantize_multiplier(s_b / m);
  p.y_multiplier = ref::quantize_multiplier(m / (double(1 << qadd_left_shift) * s_y));
  p.lo = lo;
  p.hi = hi;
  return p;
}

namespace ref {

// round_half_up(v * m / 2^shift), no zero point, no clamp (the inner step of requantize).
constexpr std::int32_t mul_shift_q31(std::int32_t v, requant_multiplier m) {
  const std::int64_t prod = static_cast<std::int64_t>(v) * m.multiplier;
  return static_cast<std::int32_t>((prod + (std::int64_t{1} << (m.shift - 1))) >> m.shift);
}

// y = requantize(mul_shift_q31((a - za) << 20, ma) + mul_shift_q31((b - zb) << 20, mb), my, zy, lo, hi)
template <class T>
constexpr void add_q(std::size_t n, const qadd_params& p, const T* a, const T* b, T* y) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t av = mul_shift_q31((std::int32_t{a[i]} - p.a_zero_point) * (1 << qadd_left_shift), p.a_multiplier);
    const std::int32_t bv = mul_shift_q31((std::int32_t{b[i]} - p.b_zero_point) * (1 << qadd_left_shift), p.b_multiplier);
    y[i] = static_cast<T>(requantize(av + bv, p.y_multiplier, p.y_zero_point, p.lo, p.hi));
  }
}

}  // namespace ref
}  // namespace statiq::kernels
