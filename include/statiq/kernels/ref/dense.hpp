// Scalar reference for fully connected layers (Gemm/MatMul with bias), float.
#pragma once

#include <cstddef>

namespace statiq::kernels::ref {

// y[m][n] = clamp(bias[n] + sum_k x[m][k] * w[n][k], lo, hi); x: [rows][k], w: [n][k] (one row per output).
constexpr void dense_f32(std::size_t rows, std::size_t n, std::size_t k, const float* x, const float* w,
                         const float* bias, float* y, float lo, float hi) {
  for (std::size_t m = 0; m < rows; ++m) {
    for (std::size_t j = 0; j < n; ++j) {
      float acc = bias ? bias[j] : 0.0f;
      for (std::size_t i = 0; i < k; ++i) acc += x[m * k + i] * w[j * k + i];
      acc = acc < lo ? lo : acc;
      acc = acc > hi ? hi : acc;
      y[m * n + j] = acc;
    }
  }
}

}  // namespace statiq::kernels::ref
