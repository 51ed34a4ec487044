// Quantized GEMM / fully connected over packed weights, statically dispatched to this TU's target.
#pragma once

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/detail/hwy_config.hpp"
#include "hwy/highway.h"
#include "statiq/kernels/gemm_u8s8-inl.h"
#include "statiq/kernels/pack.hpp"

namespace statiq::kernels {

// packed: a blob from pack_gemm_weights<TIn> (layout in pack.hpp). x: rows x k (stride x_stride elements),
// y: rows x n (stride y_stride). Computes channels [n_begin, n_end) (n_begin a multiple of 8).
// TOut = std::int32_t: y = bias' + x * w^T (s32). TOut = std::uint8_t / std::int8_t: requantized with the
// packed multipliers, zero point y_zp, clamp [lo, hi]. Bit-exact to ref::gemm_s32 / ref::gemm_requantize.
template <class TIn, class TOut>
inline void gemm_packed(const std::uint8_t* packed, std::size_t rows, const TIn* x, std::size_t x_stride, TOut* y,
                        std::size_t y_stride, std::int32_t y_zp = 0, std::int32_t lo = 0, std::int32_t hi = 0,
                        std::size_t n_begin = 0, std::size_t n_end = static_cast<std::size_t>(-1)) {
  // = HWY_STATIC_DISPATCH(GemmPacked<TIn, TOut>), spelled out: the macro cannot take the template's comma
  HWY_NAMESPACE::GemmPacked<TIn, TOut>(packed, rows, x, x_stride, y, y_stride, y_zp, lo, hi, n_begin, n_end);
}

inline void matmul_u8s8_to_s32(const std::uint8_t* packed, std::size_t rows, const std::uint8_t* x,
                               std::size_t x_stride, std::int32_t* y, std::size_t y_stride) {
  gemm_packed(packed, rows, x, x_stride, y, y_stride);
}
inline void matmul_s8s8_to_s32(const std::uint8_t* packed, std::size_t rows, const std::int8_t* x,
                               std::size_t x_stride, std::int32_t* y, std::size_t y_stride) {
  gemm_packed(packed, rows, x, x_stride, y, y_stride);
}
inline void matmul_u8s8_to_u8(const std::uint8_t* packed, std::size_t rows, const std::uint8_t* x,
                              std::size_t x_stride, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                              std::uint8_t* y, std::size_t y_stride) {
  gemm_packed(packed, rows, x, x_stride, y, y_stride, y_zp, lo, hi);
}
inline void matmul_s8s8_to_s8(const std::uint8_t* packed, std::size_t rows, const std::int8_t* x,
                              std::size_t x_stride, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                              std::int8_t* y, std::size_t y_stride) {
  gemm_packed(packed, rows, x, x_stride, y, y_stride, y_zp, lo, hi);
}
// Batch 1 (GEMV kernel).
inline void matvec_u8s8_to_u8(const std::uint8_t* packed, const std::uint8_t* x, std::int32_t y_zp,
                              std::int32_t lo, std::int32_t hi, std::uint8_t* y) {
  gemm_packed(packed, 1, x, 0, y, 0, y_zp, lo, hi);
}
inline void matvec_s8s8_to_s8(const std::uint8_t* packed, const std::int8_t* x, std::int32_t y_zp,
                              std::int32_t lo, std::int32_t hi, std::int8_t* y) {
  gemm_packed(packed, 1, x, 0, y, 0, y_zp, lo, hi);
}

}  // namespace statiq::kernels
