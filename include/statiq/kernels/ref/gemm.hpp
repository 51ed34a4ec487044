// Scalar reference for quantized GEMM / fully connected (u8 or s8 activations x s8 weights): the exact result.
#pragma once

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/ref/requantize.hpp"

namespace statiq::kernels::ref {

// acc[m][j] = bias[j] + sum_i (x[m][i] - x_zp) * w[j][i], with x: [rows][k], w: [n][k] (one row per output
// channel, symmetric s8, zero point 0), bias may be null. The sum is exact in 64 bits and returned modulo
// 2^32, which is what every SIMD kernel's wrapping s32 adds compute; for |x - x_zp| <= 255 and |w| <= 127 it
// never wraps while k * 255 * 127 + |bias| < 2^31 (k < 66000).
template <class TIn>
constexpr void gemm_s32(std::size_t rows, std::size_t n, std::size_t k, const TIn* x, std::int32_t x_zp,
                        const std::int8_t* w, const std::int32_t* bias, std::int32_t* acc) {
  for (std::size_t m = 0; m < rows; ++m) {
    for (std::size_t j = 0; j < n; ++j) {
      std::int64_t s = bias ? bias[j] : 0;
      for (std::size_t i = 0; i < k; ++i) {
        s += (static_cast<std::int64_t>(x[m * k + i]) - x_zp) * w[j * k + i];
      }
      acc[m * n + j] = static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(s)));
    }
  }
}

// y[m][j] = requantize(acc[m][j], mult[per_channel ? j : 0], y_zp, lo, hi): the quantized fully connected
// layer (ONNX QLinearMatMul / QGemm, TFLite FULLY_CONNECTED). TOut is std::uint8_t or std::int8_t.
template <class TIn, class TOut>
constexpr void gemm_requantize(std::size_t rows, std::size_t n, std::size_t k, const TIn* x, std::int32_t x_zp,
                               const std::int8_t* w, const std::int32_t* bias, const requant_multiplier* mult,
                               bool per_channel, std::int32_t y_zp, std::int32_t lo, std::int32_t hi, TOut* y) {
  for (std::size_t m = 0; m < rows; ++m) {
    for (std::size_t j = 0; j < n; ++j) {
      std::int32_t acc = 0;
      gemm_s32<TIn>(1, 1, k, x + m * k, x_zp, w + j * k, bias ? bias + j : nullptr, &acc);
      y[m * n + j] = static_cast<TOut>(requantize(acc, mult[per_channel ? j : 0], y_zp, lo, hi));
    }
  }
}

}  // namespace statiq::kernels::ref
