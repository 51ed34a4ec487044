// Requantization s32 -> u8/s8, statically dispatched to the target this translation unit is compiled for.
#pragma once

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/detail/hwy_config.hpp"
#include "hwy/highway.h"
#include "statiq/kernels/requantize-inl.h"

namespace statiq::kernels {

// out[i] = ref::requantize(acc[i], {mult[i], shift[i]}, zp, lo, hi) for i < n (per-channel multipliers).
inline void requantize_s32_to_u8_per_channel(const std::int32_t* acc, std::size_t n, const std::int32_t* mult,
                                             const std::int32_t* shift, std::int32_t zp, std::int32_t lo,
                                             std::int32_t hi, std::uint8_t* out) {
  HWY_STATIC_DISPATCH(RequantizeS32ToU8PerChannel)(acc, n, mult, shift, zp, lo, hi, out);
}
inline void requantize_s32_to_s8_per_channel(const std::int32_t* acc, std::size_t n, const std::int32_t* mult,
                                             const std::int32_t* shift, std::int32_t zp, std::int32_t lo,
                                             std::int32_t hi, std::int8_t* out) {
  HWY_STATIC_DISPATCH(RequantizeS32ToS8PerChannel)(acc, n, mult, shift, zp, lo, hi, out);
}
// out[i] = ref::requantize(acc[i], m, zp, lo, hi) for i < n (one multiplier per tensor).
inline void requantize_s32_to_u8(const std::int32_t* acc, std::size_t n, ref::requant_multiplier m,
                                 std::int32_t zp, std::int32_t lo, std::int32_t hi, std::uint8_t* out) {
  HWY_STATIC_DISPATCH(RequantizeS32ToU8)(acc, n, m, zp, lo, hi, out);
}
inline void requantize_s32_to_s8(const std::int32_t* acc, std::size_t n, ref::requant_multiplier m,
                                 std::int32_t zp, std::int32_t lo, std::int32_t hi, std::int8_t* out) {
  HWY_STATIC_DISPATCH(RequantizeS32ToS8)(acc, n, m, zp, lo, hi, out);
}

}  // namespace statiq::kernels
