// Float fully connected / GEMM, statically dispatched to the target this translation unit is compiled for.
#pragma once

#include <cstddef>

#include "statiq/kernels/detail/hwy_config.hpp"
#include "hwy/highway.h"
#include "statiq/kernels/dense_f32-inl.h"

namespace statiq::kernels {

// y[m][j] = clamp(bias[j] + sum_i x[m][i] * w[j][i], lo, hi); x [rows][k], w [n][k] (unpacked, one row per
// output channel), bias may be null: the signature of ref::dense_f32, plus an optional channel range.
inline void dense_f32(std::size_t rows, std::size_t n, std::size_t k, const float* x, const float* w,
                      const float* bias, float* y, float lo, float hi, std::size_t n_begin = 0,
                      std::size_t n_end = static_cast<std::size_t>(-1)) {
  HWY_STATIC_DISPATCH(DenseF32)(rows, n, k, x, w, bias, y, lo, hi, n_begin, n_end);
}

}  // namespace statiq::kernels
