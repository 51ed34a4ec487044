// Scalar reference for requantization s32 -> u8/s8: the exact integer result every SIMD kernel must equal.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace statiq::kernels::ref {

// A real scale s in [2^-32, 0.5) is represented as multiplier * 2^-shift with multiplier in [2^30, 2^31)
// and shift in [32, 62]. Why shift >= 32: SIMD code computes the 64-bit product, adds the rounding term
// and keeps only the high 32 bits (one shuffle), then shifts those right by (shift - 32) in 32-bit lanes;
// AVX2 has no 64-bit arithmetic right shift, so this is the cheap exact route on every target.
struct requant_multiplier {
  std::int32_t multiplier = 0;  // Q31 mantissa, in [2^30, 2^31)
  std::int32_t shift = 32;      // total right shift, in [32, 62]
};

// The SIMD kernels' short exact form of the requantization (detail::RequantizeQ31) holds for shifts within
// [33, 32 + requant_short_max_shr] (scales within [2^-23, 0.25)) and output zero points within [-255, 255].
inline constexpr int requant_short_max_shr = 21;

inline constexpr double requant_min_scale = 1.0 / 4294967296.0;  // 2^-32
inline constexpr double requant_max_scale = 0.5;                 // exclusive

// Decomposes a positive scale into multiplier and shift; constexpr, so baked models carry the result.
// Scales outside [2^-32, 0.5) are clamped to the nearest representable value; callers check the range
// first (requant_scale_in_range) and report the layer.
constexpr bool requant_scale_in_range(double scale) {
  return scale >= requant_min_scale && scale < requant_max_scale;
}

constexpr requant_multiplier quantize_multiplier(double scale) {
  if (!(scale > 0.0)) return {1 << 30, 62};
  if (scale >= requant_max_scale) return {std::numeric_limits<std::int32_t>::max(), 32};
  int shift = 31;  // scale = m * 2^-shift with m in [2^30, 2^31): normalise m = scale * 2^shift
  double m = scale * 2147483648.0;  // scale * 2^31
  while (m < 1073741824.0) {        // < 2^30
    m *= 2.0;
    ++shift;
  }
  // round half away from zero (m > 0)
  auto q = static_cast<std::int64_t>(m + 0.5);
  if (q == (std::int64_t{1} << 31)) {  // rounding carried into the next power of two
    q >>= 1;
    --shift;
  }
  if (shift < 32) shift = 32;  // unreachable for scale < 0.5; kept for clarity of the contract
  if (shift > 62) return {1 << 30, 62};
  return {static_cast<std::int32_t>(q), shift};
}

// out = clamp(zero_point + round_half_up(acc * multiplier / 2^shift), lo, hi)
// round_half_up(x) = floor(x + 1/2), computed exactly in 64 bits: |acc * multiplier| < 2^62.
constexpr std::int32_t requantize(std::int32_t acc, requant_multiplier m, std::int32_t zero_point,
                                  std::int32_t lo, std::int32_t hi) {
  const std::int64_t prod = static_cast<std::int64_t>(acc) * m.multiplier;
  const std::int64_t rounded = (prod + (std::int64_t{1} << (m.shift - 1))) >> m.shift;
  std::int64_t v = rounded + zero_point;
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  return static_cast<std::int32_t>(v);
}

// Applies requantize to a row of n accumulators with one multiplier per channel (per-channel weights)
// or one for all (per_channel == false). Output element type T is std::uint8_t or std::int8_t.
template <class T>
constexpr void requantize_row(const std::int32_t* acc, std::size_t n, const requant_multiplier* m,
                              bool per_channel, std::int32_t zero_point, std::int32_t lo, std::int32_t hi,
                              T* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<T>(requantize(acc[i], m[per_channel ? i : 0], zero_point, lo, hi));
  }
}

}  // namespace statiq::kernels::ref
