// Float fully connected / GEMM with Highway FMA: y = clamp(bias + x * w^T, lo, hi), w given as [n][k].

// Toggling include guard: re-included once per Highway target (foreach_target.h).
#if defined(STATIQ_KERNELS_DENSE_F32_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef STATIQ_KERNELS_DENSE_F32_INL_H_
#undef STATIQ_KERNELS_DENSE_F32_INL_H_
#else
#define STATIQ_KERNELS_DENSE_F32_INL_H_
#endif

#include <cstddef>

#include "statiq/kernels/detail/hwy_config.hpp"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

namespace dense_detail {

HWY_INLINE float Finish(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Dot-product form over unpacked [n][k] weights (no packing step, so the float executor passes the model's
// weights as they are): a 4-row x 3-channel tile keeps 12 accumulators; per vector of k it issues 7 loads
// for 12 FMA, under Zen 3's 3 loads per 2 FMA per cycle, so the tile is FMA bound. Rows and channels past the
// edge alias the last valid one (computed, not stored). K is split into a vector part and a scalar tail.
HWY_INLINE void Tile4x3(std::size_t k, const float* HWY_RESTRICT x0, const float* HWY_RESTRICT x1,
                        const float* HWY_RESTRICT x2, const float* HWY_RESTRICT x3, const float* HWY_RESTRICT w0,
                        const float* HWY_RESTRICT w1, const float* HWY_RESTRICT w2, float (*out)[3]) {
  const hn::ScalableTag<float> d;
  const std::size_t N = hn::Lanes(d);
  auto a00 = hn::Zero(d), a01 = hn::Zero(d), a02 = hn::Zero(d);
  auto a10 = hn::Zero(d), a11 = hn::Zero(d), a12 = hn::Zero(d);
  auto a20 = hn::Zero(d), a21 = hn::Zero(d), a22 = hn::Zero(d);
  auto a30 = hn::Zero(d), a31 = hn::Zero(d), a32 = hn::Zero(d);
  std::size_t i = 0;
  for (; i + N <= k; i += N) {
    const auto v0 = hn::LoadU(d, w0 + i), v1 = hn::LoadU(d, w1 + i), v2 = hn::LoadU(d, w2 + i);
    const auto b0 = hn::LoadU(d, x0 + i);
    a00 = hn::MulAdd(b0, v0, a00);
    a01 = hn::MulAdd(b0, v1, a01);
    a02 = hn::MulAdd(b0, v2, a02);
    const auto b1 = hn::LoadU(d, x1 + i);
    a10 = hn::MulAdd(b1, v0, a10);
    a11 = hn::MulAdd(b1, v1, a11);
    a12 = hn::MulAdd(b1, v2, a12);
    const auto b2 = hn::LoadU(d, x2 + i);
    a20 = hn::MulAdd(b2, v0, a20);
    a21 = hn::MulAdd(b2, v1, a21);
    a22 = hn::MulAdd(b2, v2, a22);
    const auto b3 = hn::LoadU(d, x3 + i);
    a30 = hn::MulAdd(b3, v0, a30);
    a31 = hn::MulAdd(b3, v1, a31);
    a32 = hn::MulAdd(b3, v2, a32);
  }
  out[0][0] = hn::GetLane(hn::SumOfLanes(d, a00));
  out[0][1] = hn::GetLane(hn::SumOfLanes(d, a01));
  out[0][2] = hn::GetLane(hn::SumOfLanes(d, a02));
  out[1][0] = hn::GetLane(hn::SumOfLanes(d, a10));
  out[1][1] = hn::GetLane(hn::SumOfLanes(d, a11));
  out[1][2] = hn::GetLane(hn::SumOfLanes(d, a12));
  out[2][0] = hn::GetLane(hn::SumOfLanes(d, a20));
  out[2][1] = hn::GetLane(hn::SumOfLanes(d, a21));
  out[2][2] = hn::GetLane(hn::SumOfLanes(d, a22));
  out[3][0] = hn::GetLane(hn::SumOfLanes(d, a30));
  out[3][1] = hn::GetLane(hn::SumOfLanes(d, a31));
  out[3][2] = hn::GetLane(hn::SumOfLanes(d, a32));
  const float* xs[4] = {x0, x1, x2, x3};
  const float* ws[3] = {w0, w1, w2};
  // The tail as a count: with k a constant, GCC otherwise warns (-Waggressive-loop-optimizations) about a
  // tail loop it has itself proved empty.
  for (std::size_t t = 0, rest = k - i; t < rest; ++t) {
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 3; ++c) out[r][c] += xs[r][i + t] * ws[c][i + t];
  }
}

// Batch 1: 8 channels at once (8 independent FMA chains cover the 4-cycle FMA latency at 2 per cycle).
HWY_INLINE void Row1x8(std::size_t k, const float* HWY_RESTRICT x, const float* const* w, float* out) {
  const hn::ScalableTag<float> d;
  const std::size_t N = hn::Lanes(d);
  auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
  auto a4 = hn::Zero(d), a5 = hn::Zero(d), a6 = hn::Zero(d), a7 = hn::Zero(d);
  std::size_t i = 0;
  for (; i + N <= k; i += N) {
    const auto b = hn::LoadU(d, x + i);
    a0 = hn::MulAdd(b, hn::LoadU(d, w[0] + i), a0);
    a1 = hn::MulAdd(b, hn::LoadU(d, w[1] + i), a1);
    a2 = hn::MulAdd(b, hn::LoadU(d, w[2] + i), a2);
    a3 = hn::MulAdd(b, hn::LoadU(d, w[3] + i), a3);
    a4 = hn::MulAdd(b, hn::LoadU(d, w[4] + i), a4);
    a5 = hn::MulAdd(b, hn::LoadU(d, w[5] + i), a5);
    a6 = hn::MulAdd(b, hn::LoadU(d, w[6] + i), a6);
    a7 = hn::MulAdd(b, hn::LoadU(d, w[7] + i), a7);
  }
  out[0] = hn::GetLane(hn::SumOfLanes(d, a0));
  out[1] = hn::GetLane(hn::SumOfLanes(d, a1));
  out[2] = hn::GetLane(hn::SumOfLanes(d, a2));
  out[3] = hn::GetLane(hn::SumOfLanes(d, a3));
  out[4] = hn::GetLane(hn::SumOfLanes(d, a4));
  out[5] = hn::GetLane(hn::SumOfLanes(d, a5));
  out[6] = hn::GetLane(hn::SumOfLanes(d, a6));
  out[7] = hn::GetLane(hn::SumOfLanes(d, a7));
  for (std::size_t t = 0, rest = k - i; t < rest; ++t)  // a count, as in Tile4x3
    for (int c = 0; c < 8; ++c) out[c] += x[i + t] * w[c][i + t];
}

// Batch N: one panel of 2 vectors of channels at a time is transposed into a [kc][2 * lanes] stack buffer
// (kc <= 256 k: 16 KiB on AVX2), then every 6-row block runs a broadcast-x outer-product tile over it:
// per k, 2 weight loads + 6 broadcasts feed 12 FMA in 12 accumulators (enough to cover 4-cycle FMA latency
// at 2 per cycle), against 16 loads per 12 FMA for a dot-product tile over unpacked rows (GCC keeps the
// weights as memory operands there). Rows past the edge alias the last one (not stored).
inline constexpr std::size_t kDenseKc = 256;
// Rows per block where the rows' k chunk (rows x kDenseKc floats) is larger than L2's share (256 KiB) and at least 8
// panels would read it: the block's chunk stays in L2 while every panel passes over it, and each panel is packed
// once per block instead of once. 1024^3 on Zen 3: 28.4 -> 25.8 ms (96 rows: 26.0, 240: 26.2, 480: 27.3). Layers
// whose rows fit, or with fewer panels, keep one block: blocking 256^3 made it 3 % slower, 784x32x288 1 %.
inline constexpr std::size_t kDenseMc = 120;  // a multiple of the 6-row tile
inline constexpr std::size_t kDenseMcMinPanels = 8;

#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
// Stores v's 128-bit blocks: block b at row(b0 + b) + c (4 floats each), splitting v in halves down to one block
// (a whole-vector store read back by parts stalls store forwarding).
template <class D>
HWY_INLINE void StoreBlocks(D d, hn::Vec<D> v, std::size_t b0, float* HWY_RESTRICT base, std::size_t row_stride) {
  if constexpr (sizeof(hn::Vec<D>) <= 16) {
    hn::StoreU(v, d, base + b0 * 4 * row_stride);
  } else {
    const hn::Half<D> dh;
    constexpr std::size_t kHalfBlocks = sizeof(hn::Vec<D>) / 32;
    StoreBlocks(dh, hn::LowerHalf(dh, v), b0, base, row_stride);
    StoreBlocks(dh, hn::UpperHalf(dh, v), b0 + kHalfBlocks, base, row_stride);
  }
}
#endif

// wp[i][c] = w[j0 + c][k0 + i] for i < kc, c < 2 * lanes (zero for c >= nc). Where vectors are whole 128-bit
// blocks (not SVE), 4 channels x one vector of k at a time: two rounds of InterleaveLower/Upper transpose each
// block's 4 x 4, and block b of the t-th result is channels c..c+3 at k = i + 4b + t. The plain loop (the tail,
// SVE) reads with stride k: GCC 12 vectorised it on AVX-512 with vgatherqps, some 17 cycles per element on Zen 5,
// half the time of a 256^3 GEMM.
template <class D>
HWY_INLINE void PackPanel(D d, const float* HWY_RESTRICT w, std::size_t k, std::size_t j0, std::size_t nc,
                          std::size_t k0, std::size_t kc, float* HWY_RESTRICT wp) {
  const std::size_t N = hn::Lanes(d), nr = 2 * N;
  std::size_t i = 0;
#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
  for (; i + N <= kc; i += N) {
    for (std::size_t c = 0; c < nr; c += 4) {
      const float* src = w + (j0 + c) * k + k0 + i;
      const auto r0 = c < nc ? hn::LoadU(d, src) : hn::Zero(d);
      const auto r1 = c + 1 < nc ? hn::LoadU(d, src + k) : hn::Zero(d);
      const auto r2 = c + 2 < nc ? hn::LoadU(d, src + 2 * k) : hn::Zero(d);
      const auto r3 = c + 3 < nc ? hn::LoadU(d, src + 3 * k) : hn::Zero(d);
      const auto t0 = hn::InterleaveLower(d, r0, r2), t1 = hn::InterleaveLower(d, r1, r3);
      const auto t2 = hn::InterleaveUpper(d, r0, r2), t3 = hn::InterleaveUpper(d, r1, r3);
      float* out = wp + i * nr + c;
      StoreBlocks(d, hn::InterleaveLower(d, t0, t1), 0, out, nr);
      StoreBlocks(d, hn::InterleaveUpper(d, t0, t1), 0, out + nr, nr);
      StoreBlocks(d, hn::InterleaveLower(d, t2, t3), 0, out + 2 * nr, nr);
      StoreBlocks(d, hn::InterleaveUpper(d, t2, t3), 0, out + 3 * nr, nr);
    }
  }
#endif
  for (; i < kc; ++i) {
    for (std::size_t c = 0; c < nr; ++c) wp[i * nr + c] = c < nc ? w[(j0 + c) * k + k0 + i] : 0.0f;
  }
}

// Not inlined: inside DenseF32, with the packing beside it, GCC 12 kept the two weight vectors in stack slots
// and read them back for every FMA (at 0.65x the speed).
template <class D>
HWY_NOINLINE void Tile6xPanel(D d, std::size_t kc, const float* HWY_RESTRICT wp, const float* const* xr,
                            float* HWY_RESTRICT out /*[6][nr]*/) {
  const std::size_t N = hn::Lanes(d);
  const float *x0 = xr[0], *x1 = xr[1], *x2 = xr[2], *x3 = xr[3], *x4 = xr[4], *x5 = xr[5];
  auto a00 = hn::Zero(d), a01 = hn::Zero(d), a10 = hn::Zero(d), a11 = hn::Zero(d);
  auto a20 = hn::Zero(d), a21 = hn::Zero(d), a30 = hn::Zero(d), a31 = hn::Zero(d);
  auto a40 = hn::Zero(d), a41 = hn::Zero(d), a50 = hn::Zero(d), a51 = hn::Zero(d);
  for (std::size_t i = 0; i < kc; ++i) {
    const auto w0 = hn::Load(d, wp + 2 * N * i), w1 = hn::Load(d, wp + 2 * N * i + N);
    auto b = hn::Set(d, x0[i]);
    a00 = hn::MulAdd(b, w0, a00);
    a01 = hn::MulAdd(b, w1, a01);
    b = hn::Set(d, x1[i]);
    a10 = hn::MulAdd(b, w0, a10);
    a11 = hn::MulAdd(b, w1, a11);
    b = hn::Set(d, x2[i]);
    a20 = hn::MulAdd(b, w0, a20);
    a21 = hn::MulAdd(b, w1, a21);
    b = hn::Set(d, x3[i]);
    a30 = hn::MulAdd(b, w0, a30);
    a31 = hn::MulAdd(b, w1, a31);
    b = hn::Set(d, x4[i]);
    a40 = hn::MulAdd(b, w0, a40);
    a41 = hn::MulAdd(b, w1, a41);
    b = hn::Set(d, x5[i]);
    a50 = hn::MulAdd(b, w0, a50);
    a51 = hn::MulAdd(b, w1, a51);
  }
  hn::Store(a00, d, out), hn::Store(a01, d, out + N);
  hn::Store(a10, d, out + 2 * N), hn::Store(a11, d, out + 3 * N);
  hn::Store(a20, d, out + 4 * N), hn::Store(a21, d, out + 5 * N);
  hn::Store(a30, d, out + 6 * N), hn::Store(a31, d, out + 7 * N);
  hn::Store(a40, d, out + 8 * N), hn::Store(a41, d, out + 9 * N);
  hn::Store(a50, d, out + 10 * N), hn::Store(a51, d, out + 11 * N);
}

}  // namespace dense_detail

// y[m][j] = clamp(bias[j] + sum_i x[m][i] * w[j][i], lo, hi): x [rows][k], w [n][k], y [rows][n]; bias may
// be null. Same contract as ref::dense_f32; sums are reassociated (vector lanes), so results differ from it
// by rounding only. Channels [n_begin, n_end) only, for threads that split a layer.
inline HWY_NOINLINE void DenseF32(std::size_t rows, std::size_t n, std::size_t k, const float* HWY_RESTRICT x,
                           const float* HWY_RESTRICT w, const float* HWY_RESTRICT bias, float* HWY_RESTRICT y,
                           float lo, float hi, std::size_t n_begin = 0,
                           std::size_t n_end = static_cast<std::size_t>(-1)) {
  if (n_end > n) n_end = n;
  if (rows == 0 || n_begin >= n_end) return;
  if (rows == 1) {
    for (std::size_t j = n_begin; j < n_end; j += 8) {
      const float* ws[8];
      for (std::size_t c = 0; c < 8; ++c) ws[c] = w + (j + c < n_end ? j + c : n_end - 1) * k;
      float out[8];
      dense_detail::Row1x8(k, x, ws, out);
      for (std::size_t c = 0; c < 8 && j + c < n_end; ++c)
        y[j + c] = dense_detail::Finish(out[c] + (bias ? bias[j + c] : 0.0f), lo, hi);
    }
    return;
  }
  if (rows < 8) {  // too few rows to repay transposing the weights: dot products over the rows as they are
    for (std::size_t m = 0; m < rows; m += 4) {
      const float* xr[4];
      for (std::size_t r = 0; r < 4; ++r) xr[r] = x + (m + r < rows ? m + r : rows - 1) * k;
      for (std::size_t j = n_begin; j < n_end; j += 3) {
        const float* w0 = w + j * k;
        const float* w1 = w + (j + 1 < n_end ? j + 1 : j) * k;
        const float* w2 = w + (j + 2 < n_end ? j + 2 : j) * k;
        float o[4][3];
        dense_detail::Tile4x3(k, xr[0], xr[1], xr[2], xr[3], w0, w1, w2, o);
        for (std::size_t r = 0; r < 4 && m + r < rows; ++r)
          for (std::size_t c = 0; c < 3 && j + c < n_end; ++c)
            y[(m + r) * n + j + c] = dense_detail::Finish(o[r][c] + (bias ? bias[j + c] : 0.0f), lo, hi);
      }
    }
    return;
  }
  const hn::ScalableTag<float> d;
  const std::size_t nr = 2 * hn::Lanes(d);
  constexpr std::size_t kMaxNr = 2 * HWY_MAX_BYTES / sizeof(float);
  HWY_ALIGN float wp[dense_detail::kDenseKc * (kMaxNr < 32 ? kMaxNr : 32)];
  HWY_ALIGN float out[6 * (kMaxNr < 32 ? kMaxNr : 32)];
  if (nr > 32) {  // SVE wider than 512 bits: the dot-product form
    for (std::size_t m = 0; m < rows; ++m) DenseF32(1, n, k, x + m * k, w, bias, y + m * n, lo, hi, n_begin, n_end);
    return;
  }
  const auto vlo = hn::Set(d, lo), vhi = hn::Set(d, hi);
  const std::size_t kc_max = k < dense_detail::kDenseKc ? k : dense_detail::kDenseKc;
  const bool blocked = rows * kc_max * sizeof(float) > 256 * 1024 &&
                       n_end - n_begin >= dense_detail::kDenseMcMinPanels * nr;
  const std::size_t mc = blocked ? dense_detail::kDenseMc : rows;
  for (std::size_t m0 = 0; m0 < rows; m0 += mc) {  // row blocks, then k chunks, then panels
    const std::size_t m1 = rows - m0 < mc ? rows : m0 + mc;
    for (std::size_t k0 = 0; k0 < k || k0 == 0; k0 += dense_detail::kDenseKc) {
      const std::size_t kc = k - k0 < dense_detail::kDenseKc ? k - k0 : dense_detail::kDenseKc;
      const bool first = k0 == 0, last = k0 + kc >= k;
      for (std::size_t j0 = n_begin; j0 < n_end; j0 += nr) {
        const std::size_t nc = n_end - j0 < nr ? n_end - j0 : nr;
        dense_detail::PackPanel(d, w, k, j0, nc, k0, kc, wp);
        for (std::size_t m = m0; m < m1; m += 6) {
          const float* xr[6];
          for (std::size_t r = 0; r < 6; ++r) xr[r] = x + (m + r < m1 ? m + r : m1 - 1) * k + k0;
          dense_detail::Tile6xPanel(d, kc, wp, xr, out);
          for (std::size_t r = 0; r < 6 && m + r < m1; ++r) {
            float* yr = y + (m + r) * n + j0;
            std::size_t c = 0;
            if (nc == nr) {  // whole vectors; Finish's comparisons as they are (a NaN passes the clamp)
              for (; c < nr; c += hn::Lanes(d)) {
                auto v = hn::Add(hn::Load(d, out + r * nr + c),
                                 first ? (bias ? hn::LoadU(d, bias + j0 + c) : hn::Zero(d)) : hn::LoadU(d, yr + c));
                if (last) v = hn::IfThenElse(hn::Lt(v, vlo), vlo, hn::IfThenElse(hn::Gt(v, vhi), vhi, v));
                hn::StoreU(v, d, yr + c);
              }
            }
            for (; c < nc; ++c) {
              float v = out[r * nr + c] + (first ? (bias ? bias[j0 + c] : 0.0f) : yr[c]);
              yr[c] = last ? dense_detail::Finish(v, lo, hi) : v;
            }
          }
        }
      }
      if (k == 0) break;
    }
  }
}

}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // STATIQ_KERNELS_DENSE_F32_INL_H_
