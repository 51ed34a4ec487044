// Scalar references for float element-wise layers: add, clamp, batch normalisation, softmax, concat.
#pragma once

#include <cmath>
#include <cstddef>

namespace statiq::kernels::ref {

constexpr void add_f32(std::size_t n, const float* a, const float* b, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

constexpr void clamp_f32(std::size_t n, const float* x, float lo, float hi, float* y) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i] < lo ? lo : x[i];
    y[i] = v > hi ? hi : v;
  }
}

// Range supervision (Protected<Act>): x clamped to [lo, hi], and a NaN, which lies in no range, set to lo.
// clamp_f32 passes a NaN through (x < lo and x > hi are both false); a NaN a bit flip made would then reach
// every later layer.
constexpr void supervise_range_f32(std::size_t n, const float* x, float lo, float hi, float* y) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i] >= lo ? x[i] : lo;  // false for NaN
    y[i] = v > hi ? hi : v;
  }
}

// y[p][c] = (x[p][c] - mean[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c], the order PyTorch uses.
inline void batch_norm_f32(std::size_t positions, std::size_t c, const float* x, const float* gamma,
                           const float* beta, const float* mean, const float* var, float eps, float* y) {
  for (std::size_t p = 0; p < positions; ++p)
    for (std::size_t j = 0; j < c; ++j) {
      const float inv = 1.0f / std::sqrt(var[j] + eps);
      y[p * c + j] = (x[p * c + j] - mean[j]) * inv * gamma[j] + beta[j];
    }
}

// Softmax over the last axis of each of `rows` rows of n: exp(x - max) / sum.
inline void softmax_f32(std::size_t rows, std::size_t n, const float* x, float* y) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    float m = xr[0];
    for (std::size_t i = 1; i < n; ++i) m = xr[i] > m ? xr[i] : m;
    float s = 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
      yr[i] = std::exp(xr[i] - m);
      s += yr[i];
    }
    const float inv = 1.0f / s;
    for (std::size_t i = 0; i < n; ++i) yr[i] *= inv;
  }
}

// Copies `rows` rows of `width` floats into a destination whose rows are `stride` floats apart, at `col`.
constexpr void copy_columns_f32(std::size_t rows, std::size_t width, const float* x, std::size_t stride,
                                std::size_t col, float* y) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t i = 0; i < width; ++i) y[r * stride + col + i] = x[r * width + i];
}

// NCHW -> NHWC for one sample.
constexpr void nchw_to_nhwc_f32(std::size_t h, std::size_t w, std::size_t c, const float* x, float* y) {
  for (std::size_t ch = 0; ch < c; ++ch)
    for (std::size_t p = 0; p < h * w; ++p) y[p * c + ch] = x[ch * h * w + p];
}

}  // namespace statiq::kernels::ref
