// Depthwise 2-D convolution, int8 NHWC: u8/s8 activations with a zero point, s8 per-channel weights, s32 bias.
// Shape: x [in_h][in_w][C], w [C][k_h][k_w] (OHWI with groups == C), y [out_h][out_w][C].
#if defined(STATIQ_KERNELS_DEPTHWISE_CONV_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef STATIQ_KERNELS_DEPTHWISE_CONV_INL_H_
#undef STATIQ_KERNELS_DEPTHWISE_CONV_INL_H_
#else
#define STATIQ_KERNELS_DEPTHWISE_CONV_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <hwy/highway.h>

#include "statiq/kernels/detail/requant_lanes-inl.h"
#include "statiq/kernels/detail/unroll.hpp"
#include "statiq/kernels/ref/conv2d_q.hpp"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

namespace detail {

// Kernels with more taps than this go to the scalar reference (the widened weights live on the stack).
inline constexpr int kDepthwiseMaxTaps = 64;

#if HWY_TARGET != HWY_SCALAR
// Vectors of channels per pass over the pixels: one pass reads each input row band once for up to 4 * 16
// channels instead of once per vector (measured on AVX2, 28x28x128 3x3: 84 -> 67 us).
inline constexpr int kDepthwiseVectors = 4;

// nv blocks of Lanes(d16) channels over every output pixel; block v starts at min(c0 + v * N, C - N), so a
// channel count that is not a multiple of N ends with a full block overlapping the previous one (its
// channels are computed twice, identically: 28x28x24 on AVX2 runs as 2 blocks of 16 in one pass instead
// of a 16-lane pass and an 8-lane pass). Channels sit in i16 lanes;
// each tap multiplies them by the widened weights with ReorderWidenMulAccumulate (vpmaddwd: exact
// i16*i16 -> i32, adjacent lanes summed) twice: once with all weights (pair sums) and once with
// odd-channel weights zeroed (even channels alone); odd = pairs - even. This keeps every product exact
// without interleaving channels, and the two requantized halves recombine in channel order with one
// OddEven. Border pixels use x - zp in [-255, 255] and skip padded taps (their x - zp is 0); interior
// pixels use x itself and a bias that absorbs -x_zp * sum of the channel's taps (9 fewer vpsubw per 16
// outputs). KH/KW > 0 fix the taps at compile time.
template <int KH, int KW, class D16, class TI, class TO>
HWY_NOINLINE void DepthwiseConvBlock(D16 d16, const conv2d_dims& dims, const qconv_params& q,
                                     const TI* HWY_RESTRICT x, const std::int8_t* HWY_RESTRICT w,
                                     const std::int32_t* HWY_RESTRICT bias, TO* HWY_RESTRICT y, int c0, int nv) {
  const conv2d_dims d = dims;  // a local copy: stores to y cannot alias it
  const int kh_n = KH > 0 ? KH : d.k_h;
  const int kw_n = KW > 0 ? KW : d.k_w;
  const int taps = kh_n * kw_n;
  const int C = d.in_c;
  const std::size_t N = hn::Lanes(d16);
  const hn::Repartition<std::int32_t, D16> d32;
  const hn::Rebind<TI, D16> dx;
  const hn::Rebind<TO, D16> dy;

  // wall/weven[(v * taps + t) * N + l]: channel c0 + v * N + l, tap t
  HWY_ALIGN std::int16_t wall[kDepthwiseVectors * kDepthwiseMaxTaps * HWY_LANES(std::int16_t)];
  HWY_ALIGN std::int16_t weven[kDepthwiseVectors * kDepthwiseMaxTaps * HWY_LANES(std::int16_t)];
  RequantLaneParams pe[kDepthwiseVectors], po[kDepthwiseVectors];
  HWY_ALIGN std::int32_t bias_int_e[kDepthwiseVectors][HWY_LANES(std::int32_t)];
  HWY_ALIGN std::int32_t bias_int_o[kDepthwiseVectors][HWY_LANES(std::int32_t)];
  const auto start = [&](int v) { return std::min(c0 + v * static_cast<int>(N), C - static_cast<int>(N)); };
  for (int v = 0; v < nv; ++v) {
    const int cv = start(v);
    for (int t = 0; t < taps; ++t)
      for (std::size_t l = 0; l < N; ++l) {
        const std::int16_t wv = w[(cv + static_cast<int>(l)) * taps + t];
        wall[(v * taps + t) * N + l] = wv;
        weven[(v * taps + t) * N + l] = (l % 2 == 0) ? wv : std::int16_t{0};
      }
    FillRequantLanes(N / 2, cv, 2, q.multiplier, q.per_channel, bias, pe[v]);
    FillRequantLanes(N / 2, cv + 1, 2, q.multiplier, q.per_channel, bias, po[v]);
    for (std::size_t j = 0; j < N / 2; ++j) {
      std::int32_t se = 0, so = 0;
      for (int t = 0; t < taps; ++t) {
        se += wall[(v * taps + t) * N + 2 * j];
        so += wall[(v * taps + t) * N + 2 * j + 1];
      }
      bias_int_e[v][j] = pe[v].bias[j] - q.x_zero_point * se;
      bias_int_o[v][j] = po[v].bias[j] - q.x_zero_point * so;
    }
  }
  const auto vzp = hn::Set(d16, static_cast<std::int16_t>(q.x_zero_point));
  const auto yzp = hn::Set(d32, q.y_zero_point);
  const auto lo = hn::Set(d32, q.lo);
  const auto hi = hn::Set(d32, q.hi);
  const std::ptrdiff_t row_step = static_cast<std::ptrdiff_t>(d.dil_h) * d.in_w * C;
  const std::ptrdiff_t col_step = static_cast<std::ptrdiff_t>(d.dil_w) * C;

  for (int oh = 0; oh < d.out_h; ++oh) {
    const int ih0 = oh * d.stride_h - d.pad_top;
    const bool rows_inside = ih0 >= 0 && ih0 + (kh_n - 1) * d.dil_h < d.in_h;
    for (int ow = 0; ow < d.out_w; ++ow) {
      const int iw0 = ow * d.stride_w - d.pad_left;
      const bool inside = rows_inside && iw0 >= 0 && iw0 + (kw_n - 1) * d.dil_w < d.in_w;
      TO* yp = y + (static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * C;
      for (int v = 0; v < nv; ++v) {
        const int cv = start(v);
        const std::int16_t* wa = wall + v * taps * N;
        const std::int16_t* we = weven + v * taps * N;
        auto a0 = hn::Zero(d32), a1 = hn::Zero(d32), e0 = hn::Zero(d32), e1 = hn::Zero(d32);
        if (inside) {
          const TI* xp0 = x + (static_cast<std::ptrdiff_t>(ih0) * d.in_w + iw0) * C + cv;
          STATIQ_UNROLL(25)
          for (int kh = 0; kh < kh_n; ++kh) {
            STATIQ_UNROLL(5)
            for (int kw = 0; kw < kw_n; ++kw) {
              const int t = kh * kw_n + kw;
              const auto xv = hn::PromoteTo(d16, hn::LoadU(dx, xp0 + kh * row_step + kw * col_step));
              a0 = hn::ReorderWidenMulAccumulate(d32, xv, hn::Load(d16, wa + t * N), a0, a1);
              e0 = hn::ReorderWidenMulAccumulate(d32, xv, hn::Load(d16, we + t * N), e0, e1);
            }
          }
        } else {
          for (int kh = 0; kh < kh_n; ++kh) {
            const int ih = ih0 + kh * d.dil_h;
            if (ih < 0 || ih >= d.in_h) continue;
            for (int kw = 0; kw < kw_n; ++kw) {
              const int iw = iw0 + kw * d.dil_w;
              if (iw < 0 || iw >= d.in_w) continue;
              const int t = kh * kw_n + kw;
              const TI* xp = x + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw) * C + cv;
              const auto xv = hn::Sub(hn::PromoteTo(d16, hn::LoadU(dx, xp)), vzp);
              a0 = hn::ReorderWidenMulAccumulate(d32, xv, hn::Load(d16, wa + t * N), a0, a1);
              e0 = hn::ReorderWidenMulAccumulate(d32, xv, hn::Load(d16, we + t * N), e0, e1);
            }
          }
        }
        const auto bias_e = hn::Load(d32, inside ? bias_int_e[v] : pe[v].bias);
        const auto bias_o = hn::Load(d32, inside ? bias_int_o[v] : po[v].bias);
        const auto pairs = hn::RearrangeToOddPlusEven(a0, a1);
        const auto even = hn::RearrangeToOddPlusEven(e0, e1);
        const auto odd = hn::Sub(pairs, even);
        const auto ye = RequantizeLanes(d32, hn::Add(even, bias_e), pe[v], 0, yzp, lo, hi);
        const auto yo = RequantizeLanes(d32, hn::Add(odd, bias_o), po[v], 0, yzp, lo, hi);
        const auto y16 = hn::OddEven(hn::BitCast(d16, hn::ShiftLeft<16>(yo)), hn::BitCast(d16, ye));
        hn::StoreU(hn::DemoteTo(dy, y16), dy, yp + cv);
      }
    }
  }
}

template <int KH, int KW, class TI, class TO>
HWY_INLINE void DepthwiseConvChannels(const conv2d_dims& d, const qconv_params& q, const TI* x, const std::int8_t* w,
                                      const std::int32_t* bias, TO* y) {
  const int C = d.in_c;
  // Full vectors, or 8 or 4 lanes when the channels are fewer; the last block overlaps its predecessor.
  const auto passes = [&](auto dv) HWY_ATTR {
    const int n = static_cast<int>(hn::Lanes(dv));
    for (int c = 0; c < C; c += kDepthwiseVectors * n) {
      int nv = (C - c + n - 1) / n;
      nv = nv > kDepthwiseVectors ? kDepthwiseVectors : nv;
      DepthwiseConvBlock<KH, KW>(dv, d, q, x, w, bias, y, c, nv);
    }
  };
  const hn::ScalableTag<std::int16_t> d16;
  const hn::CappedTag<std::int16_t, 8> d8;
  const hn::CappedTag<std::int16_t, 4> d4;
  if (C >= static_cast<int>(hn::Lanes(d16))) return passes(d16);
  if (C >= static_cast<int>(hn::Lanes(d8))) return passes(d8);
  if (hn::Lanes(d4) == 4 && C >= 4) return passes(d4);
  ref::conv2d_q(d, q, x, w, bias, y);  // fewer than 4 channels
}
#endif  // HWY_TARGET != HWY_SCALAR

template <class TI, class TO>
HWY_INLINE void DepthwiseConv(const conv2d_dims& d, const qconv_params& q, const TI* x, const std::int8_t* w,
                              const std::int32_t* bias, TO* y) {
#if HWY_TARGET == HWY_SCALAR
  ref::conv2d_q(d, q, x, w, bias, y);
#else
  if (d.k_h * d.k_w > kDepthwiseMaxTaps) return ref::conv2d_q(d, q, x, w, bias, y);
  if (d.k_h == 3 && d.k_w == 3) return DepthwiseConvChannels<3, 3>(d, q, x, w, bias, y);
  if (d.k_h == 5 && d.k_w == 5) return DepthwiseConvChannels<5, 5>(d, q, x, w, bias, y);
  DepthwiseConvChannels<0, 0>(d, q, x, w, bias, y);
#endif
}

}  // namespace detail

// Depthwise convolution (groups == in_c == out_c, channel multiplier 1), equal to ref::conv2d_q bit for
// bit. 3x3 and 5x5 have compile-time taps (any stride, dilation, padding); other kernels up to 64 taps take
// the same code with runtime taps. Output channels must equal input channels; y must not overlap x.
HWY_INLINE void DepthwiseConvU8S8(const conv2d_dims& d, const qconv_params& q, const std::uint8_t* x,
                                  const std::int8_t* w, const std::int32_t* bias, std::uint8_t* y) {
  detail::DepthwiseConv(d, q, x, w, bias, y);
}
HWY_INLINE void DepthwiseConvS8S8(const conv2d_dims& d, const qconv_params& q, const std::int8_t* x,
                                  const std::int8_t* w, const std::int32_t* bias, std::int8_t* y) {
  detail::DepthwiseConv(d, q, x, w, bias, y);
}

}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // STATIQ_KERNELS_DEPTHWISE_CONV_INL_H_
