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
#include <type_traits>

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/highway.h>

#include "statiq/kernels/detail/avx2_int8-inl.h"
#include "statiq/kernels/detail/requant_lanes-inl.h"
#include "statiq/kernels/detail/unroll.hpp"
#include "statiq/kernels/ref/conv2d_q.hpp"

#if STATIQ_X86_INT8_PATHS
#include <immintrin.h>
#endif

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

// Every target's kernel except AVX2 with 16 channels or more (DepthwiseConvTapPairBlock below):
// nv blocks of Lanes(d16) channels over every output pixel; block v starts at min(c0 + v * N, C - N), so a
// channel count that is not a multiple of N ends with a full block overlapping the previous one (its
// channels are computed twice, identically: 24 channels in 16-lane vectors run as 2 blocks in one pass
// instead of a 16-lane pass and an 8-lane pass). Channels sit in i16 lanes;
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

#if STATIQ_X86_INT8_PATHS  // AVX2, or AVX-512 with AVX512-VNNI (256-bit vectors, QuadStep = vpdpbusd)
// Channels per tap-pair block: the i16 lanes of a __m256i.
inline constexpr int kTapPairLanes = 16;

// 16 activations widened to i16 (vpmovzxbw / vpmovsxbw from memory).
template <class TI>
HWY_INLINE __m256i LoadWidened16(const TI* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if constexpr (std::is_same_v<TI, std::uint8_t>) return _mm256_cvtepu8_epi16(v);
  else return _mm256_cvtepi8_epi16(v);
}

// Lanes [dst, dst + 4) of p take lanes [src, src + 4) of s. Both are multiples of 4, so every 64-bit
// rounding term moves together with its two lanes.
HWY_INLINE void CopyRequantQuad(const RequantLaneParams& s, int src, RequantLaneParams& p, int dst) {
  for (int j = 0; j < 4; ++j) {
    p.bias[dst + j] = s.bias[src + j];
    p.mult[dst + j] = s.mult[src + j];
    p.shr[dst + j] = s.shr[src + j];
  }
  for (int j = 0; j < 2; ++j) {
    p.rnd_even[dst / 2 + j] = s.rnd_even[src / 2 + j];
    p.rnd_odd[dst / 2 + j] = s.rnd_odd[src / 2 + j];
  }
}

// Tap pointers of one output pixel, addressing channel `base` of the NHWC input: taps inside the input point
// into x, taps in the padding at zp_row (a row of the zero point, which the kernels' bias cancels). A pixel whose
// window lies inside takes precomputed offsets. KH/KW > 0 fix the taps at compile time.
template <int KH, int KW, class TI>
class TapPointers {
 public:
  TapPointers(const conv2d_dims& d, const TI* x, int base, const TI* zp_row)
      : d_(d), x_(x + base), zp_row_(zp_row), kh_n_(KH > 0 ? KH : d.k_h), kw_n_(KW > 0 ? KW : d.k_w) {
    const std::ptrdiff_t row_step = static_cast<std::ptrdiff_t>(d.dil_h) * d.in_w * d.in_c;
    const std::ptrdiff_t col_step = static_cast<std::ptrdiff_t>(d.dil_w) * d.in_c;
    for (int kh = 0; kh < kh_n_; ++kh)
      for (int kw = 0; kw < kw_n_; ++kw) off_[kh * kw_n_ + kw] = kh * row_step + kw * col_step;
  }
  // tp[t] for the taps t of pixel (oh, ow).
  HWY_INLINE void Fill(int oh, int ow, const TI** tp) const {
    const conv2d_dims& d = d_;
    const int kh_n = KH > 0 ? KH : kh_n_, kw_n = KW > 0 ? KW : kw_n_;
    const int ih0 = oh * d.stride_h - d.pad_top, iw0 = ow * d.stride_w - d.pad_left;
    if (ih0 >= 0 && ih0 + (kh_n - 1) * d.dil_h < d.in_h && iw0 >= 0 && iw0 + (kw_n - 1) * d.dil_w < d.in_w) {
      const TI* xp0 = x_ + (static_cast<std::ptrdiff_t>(ih0) * d.in_w + iw0) * d.in_c;
      STATIQ_UNROLL(25)
      for (int t = 0; t < kh_n * kw_n; ++t) tp[t] = xp0 + off_[t];
      return;
    }
    for (int kh = 0; kh < kh_n; ++kh) {
      const int ih = ih0 + kh * d.dil_h;
      for (int kw = 0; kw < kw_n; ++kw) {
        const int iw = iw0 + kw * d.dil_w;
        const bool in = ih >= 0 && ih < d.in_h && iw >= 0 && iw < d.in_w;
        tp[kh * kw_n + kw] = in ? x_ + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw) * d.in_c : zp_row_;
      }
    }
  }

 private:
  const conv2d_dims d_;
  const TI* x_;
  const TI* zp_row_;
  int kh_n_, kw_n_;
  std::ptrdiff_t off_[KH > 0 ? KH * KW : kDepthwiseMaxTaps];
};

// AVX2: nv blocks of 16 channels (starting as in DepthwiseConvBlock) over every output pixel, with one
// vpmaddwd per TWO taps instead of two per tap. The 16 widened activations of taps a and b are interleaved
// by vpunpcklwd / vpunpckhwd, so each i32 lane of vpmaddwd is one channel's x_a * w_a + x_b * w_b (exact:
// |x * w| <= 255 * 128). The unpacks work within 128-bit halves: acc_lo holds channels {0-3, 8-11} and
// acc_hi {4-7, 12-15}; the weights are interleaved by the same unpacks once per block, and the bias and
// requantization constants are laid out in that lane order, so vpackssdw of the two requantized halves
// lands in channel order 0-15. An odd tap count pairs its last tap with weight 0.
// Every pixel uses x itself and a bias that absorbs -x_zp * sum of the channel's taps; a tap in the
// padding reads a row of x_zp instead (contributing x_zp * w, which the bias cancels), so border pixels
// take the interior code with other pointers. KH/KW > 0 fix the taps at compile time.
template <int KH, int KW, class TI, class TO>
HWY_NOINLINE void DepthwiseConvTapPairBlock(const conv2d_dims& dims, const qconv_params& q,
                                            const TI* HWY_RESTRICT x, const std::int8_t* HWY_RESTRICT w,
                                            const std::int32_t* HWY_RESTRICT bias, TO* HWY_RESTRICT y, int c0,
                                            int nv) {
  const conv2d_dims d = dims;  // a local copy: stores to y cannot alias it
  const int kh_n = KH > 0 ? KH : d.k_h;
  const int kw_n = KW > 0 ? KW : d.k_w;
  const int taps = kh_n * kw_n;
  const int pairs = (taps + 1) / 2;
  const int C = d.in_c;
  const auto start = [&](int v) { return std::min(c0 + v * kTapPairLanes, C - kTapPairLanes); };
  // Tap pointers address channel `base`; block v reads at offset start(v) - base, in [0, 48].
  const int base = start(0);

  // wp[(v * pairs + p) * 2 + h]: taps 2p and 2p + 1 of block v, unpacked low (h = 0) or high (h = 1).
  __m256i wp[kDepthwiseVectors * (kDepthwiseMaxTaps / 2) * 2];
  __m256i bias_int[kDepthwiseVectors][2];
  RequantLaneParams rp[kDepthwiseVectors][2];
  for (int v = 0; v < nv; ++v) {
    const int cv = start(v);
    std::int32_t wsum[kTapPairLanes] = {};
    for (int p = 0; p < pairs; ++p) {
      HWY_ALIGN std::int16_t wa[kTapPairLanes], wb[kTapPairLanes];
      for (int l = 0; l < kTapPairLanes; ++l) {
        const std::int8_t* wc = w + static_cast<std::ptrdiff_t>(cv + l) * taps;
        wa[l] = wc[2 * p];
        wb[l] = 2 * p + 1 < taps ? wc[2 * p + 1] : std::int16_t{0};
        wsum[l] += wa[l] + wb[l];
      }
      const __m256i va = _mm256_load_si256(reinterpret_cast<const __m256i*>(wa));
      const __m256i vb = _mm256_load_si256(reinterpret_cast<const __m256i*>(wb));
      wp[(v * pairs + p) * 2] = _mm256_unpacklo_epi16(va, vb);
      wp[(v * pairs + p) * 2 + 1] = _mm256_unpackhi_epi16(va, vb);
    }
    // Channels cv + 0-7 and cv + 8-15 in order, then regrouped by quads: lane j of half h is channel
    // (j % 4) + 4 * h + 8 * (j / 4).
    RequantLaneParams first8, last8;
    FillRequantLanes(8, cv, 1, q.multiplier, q.per_channel, bias, first8);
    FillRequantLanes(8, cv + 8, 1, q.multiplier, q.per_channel, bias, last8);
    for (int h = 0; h < 2; ++h) {
      CopyRequantQuad(first8, 4 * h, rp[v][h], 0);
      CopyRequantQuad(last8, 4 * h, rp[v][h], 4);
      DeriveRequantLanes(rp[v][h], 8, q.y_zero_point);
      HWY_ALIGN std::int32_t b[8];
      for (int j = 0; j < 8; ++j) b[j] = rp[v][h].bias[j] - q.x_zero_point * wsum[j % 4 + 4 * h + 8 * (j / 4)];
      bias_int[v][h] = _mm256_load_si256(reinterpret_cast<const __m256i*>(b));
    }
  }
  TI zp_row[kDepthwiseVectors * kTapPairLanes];
  std::fill(zp_row, zp_row + kDepthwiseVectors * kTapPairLanes, static_cast<TI>(q.x_zero_point));

  const hn::Full256<std::int32_t> d32;
  using V32 = hn::Vec256<std::int32_t>;
  const auto yzp = hn::Set(d32, q.y_zero_point);
  const auto lo = hn::Set(d32, q.lo);
  const auto hi = hn::Set(d32, q.hi);
  const __m256i lo8 = _mm256_set1_epi8(static_cast<char>(q.lo)), hi8 = _mm256_set1_epi8(static_cast<char>(q.hi));
  const bool clamp = NeedsByteClamp<TO>(q.lo, q.hi);  // (as in the row-quad kernel below)
  const TapPointers<KH, KW, TI> taps_of(d, x, base, zp_row);
  // tp[t]: tap t's 16 activations of channel `base`. An odd count pairs its last tap with the zero-point row
  // (weight 0): tp[taps] is never overwritten.
  const TI* tp[KH > 0 ? KH * KW + 1 : kDepthwiseMaxTaps + 1];
  tp[taps] = zp_row;
  // The short requantization form where every block's channels take it, decided once for the whole loop.
  bool short_form = true;
  for (int v = 0; v < nv; ++v) short_form = short_form && rp[v][0].fast && rp[v][1].fast;
  const auto pixels = [&](auto k_short) HWY_ATTR {
    for (int oh = 0; oh < d.out_h; ++oh) {
      for (int ow = 0; ow < d.out_w; ++ow) {
        taps_of.Fill(oh, ow, tp);
        TO* yp = y + (static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * C;
        for (int v = 0; v < nv; ++v) {
          const int cv = start(v);
          const int off = cv - base;
          const __m256i* wv = wp + v * pairs * 2;
          __m256i acc_lo = bias_int[v][0], acc_hi = bias_int[v][1];
          STATIQ_UNROLL(13)
          for (int p = 0; p < pairs; ++p) {
            const __m256i xa = LoadWidened16(tp[2 * p] + off);
            const __m256i xb = LoadWidened16(tp[2 * p + 1] + off);
            acc_lo = _mm256_add_epi32(acc_lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xb), wv[2 * p]));
            acc_hi = _mm256_add_epi32(acc_hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xb), wv[2 * p + 1]));
            // An empty asm that "changes" the sums: GCC 12 otherwise reassociates the adds, computes all 26
            // products of a 5x5 kernel first and spills them to the stack.
            __asm__ volatile("" : "+x"(acc_lo), "+x"(acc_hi));
          }
          const auto y_lo =
              RequantizeLanes<decltype(k_short)::value, false>(d32, V32{acc_lo}, rp[v][0], 0, yzp, lo, hi);
          const auto y_hi =
              RequantizeLanes<decltype(k_short)::value, false>(d32, V32{acc_hi}, rp[v][1], 0, yzp, lo, hi);
          // acc_lo holds channels {0-3, 8-11}, acc_hi {4-7, 12-15}: PackBytes16's order.
          _mm_storeu_si128(reinterpret_cast<__m128i*>(yp + cv), PackBytes16<TO>(y_lo.raw, y_hi.raw, lo8, hi8, clamp));
        }
      }
    }
  };
  if (short_form) pixels(std::true_type{});
  else pixels(std::false_type{});
}

template <int KH, int KW, class TI, class TO>
HWY_INLINE void DepthwiseConvTapPairPasses(const conv2d_dims& d, const qconv_params& q, const TI* x,
                                           const std::int8_t* w, const std::int32_t* bias, TO* y) {
  const int step = kDepthwiseVectors * kTapPairLanes;
  for (int c = 0; c < d.in_c; c += step)
    DepthwiseConvTapPairBlock<KH, KW>(d, q, x, w, bias, y, c,
                                      std::min(kDepthwiseVectors, (d.in_c - c + kTapPairLanes - 1) / kTapPairLanes));
}

// Channels per row-quad unit (16, 24 or 32), channels per pass over the output rows (at most; a whole number of
// units), and the interleaved buffer's bound (64-byte column records of 16 channels, over all row groups and the
// unit's channels).
inline constexpr int kRowQuadPassChannels = 64;
inline constexpr int kRowQuadColumns = 256;

// Lane l of accumulator j of a row-quad unit holds this channel of the unit (the order the interleave leaves:
// vpunpck works within 128-bit halves): 16 lanes: {0-3, 8-11}, {4-7, 12-15} (PackBytes16's order); 24 lanes: those
// two, then {16-19, 20-23}; 32 lanes: {4j..4j+3, 16+4j..16+4j+3}, which vpackssdw (0,1), (2,3) then vpackuswb /
// vpacksswb put back in order.
template <int kLanes>
constexpr int RowQuadChannel(int j, int l) {
  if constexpr (kLanes == 32) return 4 * j + l % 4 + 16 * (l / 4);
  return j < 2 ? l % 4 + 8 * (l / 4) + 4 * j : 16 + l;
}

// AVX2 with 7-bit weights (|w| <= 64, what the quantizer's saturation fix gives on this target): kernel ROWS in
// quads, one vpmaddubsw per four taps. For one output row and a unit of kLanes channels, the input rows of a row
// group (kernel rows 4g..4g+3 at ih0 + r * dil_h; a row past k_h or in the padding reads the zero point) are
// interleaved once per input column (vpunpck{l,h}bw, then vpunpck{l,h}wd) so each 32-bit lane holds one
// channel's 4 rows, in the order RowQuadChannel gives. A pixel then loads, per row group and kernel column, the
// unit's kLanes / 8 vectors straight from the buffer into QuadStep against that column's weights interleaved the
// same way (exact: 255 * (64 + 64) = 32640 fits s16). The interleave of a column is shared by every pixel that
// reads it (k_w of them at stride 1); the tap-quad kernel this replaced interleaved 4 taps of every pixel anew
// (28x28x128 3x3: 168.5 -> 120.6 instructions per pixel and 32 channels).
// Units start at min(c0 + kLanes * u, C - kLanes), so the last one may overlap (C >= kLanes). With AVX-512 a unit of
// 32 lanes also takes 17 to 31 channels (C < kLanes): masked loads and stores, zero weights in the lanes past C
// (28x28x24 3x3: two overlapping 16-channel units took 6.0 us, 32 channels in one unit 4.6). s8 activations
// are flipped to u8 (x ^ 0x80 = x + 128) and the zero point moves by 128 with them. KH/KW > 0 fix the taps at
// compile time.
// On AVX2 a unit may also be 24 channels (3 accumulators where two overlapping 16-channel units had 4), and a 3-row
// kernel with stride and dilation 1 down the rows computes two output rows at once: rows oh and oh + 1 read input
// rows oh - pad_top .. oh - pad_top + 3, one quad, interleaved once for both. Row oh's weights are (w0, w1, w2, 0),
// row oh + 1's (0, w0, w1, w2), and every buffer load feeds both rows' QuadSteps. Zen 3, 3x3 stride 1: 28x28x24
// 10.2 -> 6.7 us, 28x28x128 32.4 -> 28.3 us. (VNNI keeps one row: not measured there.)
template <int KH, int KW, int kLanes, class TI, class TO>
HWY_NOINLINE void DepthwiseConvRowQuadPass(const conv2d_dims& dims, const qconv_params& q, const TI* HWY_RESTRICT x,
                                           const std::int8_t* HWY_RESTRICT w, const std::int32_t* HWY_RESTRICT bias,
                                           TO* HWY_RESTRICT y, int c0, int nu) {
  static_assert(kLanes == 16 || kLanes == 24 || kLanes == 32, "a row-quad unit is 16, 24 or 32 channels");
  static_assert(!(STATIQ_VNNI_PATHS && kLanes == 24), "the VNNI requantization takes accumulators in pairs");
  constexpr int kUnits = kRowQuadPassChannels / kLanes;
  constexpr int kAcc = kLanes / 8;             // accumulators (vectors) per unit
  constexpr int kRecord = 4 * kLanes;          // bytes of one column of one row group
  const conv2d_dims d = dims;  // a local copy: stores to y cannot alias it
  const int kh_n = KH > 0 ? KH : d.k_h;
  const int kw_n = KW > 0 ? KW : d.k_w;
  const int taps = kh_n * kw_n;
  const int groups = (kh_n + 3) / 4;
  const int C = d.in_c;
  const auto start = [&](int u) { return C < kLanes ? 0 : std::min(c0 + u * kLanes, C - kLanes); };
#if STATIQ_VNNI_PATHS
  // the channels of a unit that exist (all but where C < kLanes: one unit)
  const bool partial = C < kLanes;
  const __mmask32 valid = static_cast<__mmask32>((std::uint64_t{1} << (partial ? C : kLanes)) - 1);
#else
  HWY_DASSERT(C >= kLanes);
#endif
  constexpr bool kFlip = std::is_same_v<TI, std::int8_t>;
  const std::int32_t x_zp_u8 = q.x_zero_point + (kFlip ? 128 : 0);
  constexpr bool kTwoRowsAble = !STATIQ_VNNI_PATHS && KH == 3;
  const bool two_rows = kTwoRowsAble && d.stride_h == 1 && d.dil_h == 1;
  constexpr int kSets = kTwoRowsAble ? 2 : 1;

  // wq[s][((u * groups + g) * kw_n + kw) * kAcc + j]: unit u's weights of kernel rows 4g - s..4g + 3 - s at column
  // kw (s: the second of two output rows, whose rows start one lower), lanes as accumulator j.
  constexpr int kWq = kUnits * kAcc * (KH > 0 ? (KH + 3) / 4 * KW : kDepthwiseMaxTaps);
  __m256i wq[kSets][kWq];
  __m256i bias_int[kUnits][kAcc];
  RequantLaneParams rp[kUnits][kAcc];
  for (int u = 0; u < nu; ++u) {
    const int cu = start(u);
    RequantLaneParams by8[kAcc];  // channels cu + 8i .. cu + 8i + 7
    for (int i = 0; i < kAcc; ++i)
      FillRequantLanes(8, cu + 8 * i, 1, q.multiplier, q.per_channel, bias, by8[i], C - 1);
    for (int j = 0; j < kAcc; ++j) {
      const std::int8_t* wl[8];  // lane l's channel's taps, or null past C (zero weights)
      for (int l = 0; l < 8; ++l) {
        const int c = cu + RowQuadChannel<kLanes>(j, l);
        wl[l] = c < C ? w + static_cast<std::ptrdiff_t>(c) * taps : nullptr;
      }
      for (int g = 0; g < groups; ++g)
        for (int kw = 0; kw < kw_n; ++kw) {
          HWY_ALIGN std::int8_t wt[32] = {};
          for (int i = 0; i < 4 && 4 * g + i < kh_n; ++i)
            for (int l = 0; l < 8; ++l)
              if (wl[l]) wt[4 * l + i] = wl[l][(4 * g + i) * kw_n + kw];
          const int at = ((u * groups + g) * kw_n + kw) * kAcc + j;
          wq[0][at] = _mm256_load_si256(reinterpret_cast<const __m256i*>(wt));
          // (w0, w1, w2, 0) -> (0, w0, w1, w2): one byte up in every 32-bit lane (groups == 1 here)
          if (two_rows) wq[kSets - 1][at] = _mm256_slli_epi32(wq[0][at], 8);
        }
      // Lanes 0-3 and 4-7 each hold 4 consecutive channels: quads of the by8 blocks.
      for (int h = 0; h < 2; ++h) {
        const int c = RowQuadChannel<kLanes>(j, 4 * h);
        CopyRequantQuad(by8[c / 8], c % 8, rp[u][j], 4 * h);
      }
      DeriveRequantLanes(rp[u][j], 8, q.y_zero_point);
      HWY_ALIGN std::int32_t b[8];
      for (int l = 0; l < 8; ++l) {
        std::int32_t sum = 0;
        for (int t = 0; wl[l] && t < taps; ++t) sum += wl[l][t];
        b[l] = rp[u][j].bias[l] - x_zp_u8 * sum;
      }
      bias_int[u][j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(b));
    }
  }
#if STATIQ_VNNI_PATHS
  // With vpdpbusd the multiply-adds are cheap and requantization dominates: it runs on zmm, two accumulators at
  // a time, with lanes 0-7 and 8-15 holding accumulators 2i and 2i + 1's constants.
  RequantLaneParams rpz[kUnits][kAcc / 2];
  for (int u = 0; u < nu; ++u)
    for (int i = 0; i < kAcc / 2; ++i) {
      for (int h = 0; h < 4; ++h) CopyRequantQuad(rp[u][2 * i + h / 2], 4 * (h % 2), rpz[u][i], 4 * h);
      DeriveRequantLanes(rpz[u][i], 16, q.y_zero_point);
    }
  const hn::Full512<std::int32_t> dz;
  const auto yzp_z = hn::Set(dz, q.y_zero_point), lo_z = hn::Set(dz, q.lo), hi_z = hn::Set(dz, q.hi);
#endif
  TI zp_row[kLanes];
  std::fill(zp_row, zp_row + kLanes, static_cast<TI>(q.x_zero_point));

  const hn::Full256<std::int32_t> d32;
  using V32 = hn::Vec256<std::int32_t>;
  [[maybe_unused]] const auto yzp = hn::Set(d32, q.y_zero_point);
  [[maybe_unused]] const auto lo = hn::Set(d32, q.lo);
  [[maybe_unused]] const auto hi = hn::Set(d32, q.hi);
  const __m256i lo8 = _mm256_set1_epi8(static_cast<char>(q.lo)), hi8 = _mm256_set1_epi8(static_cast<char>(q.hi));
  // Without a clamp where [lo, hi] is TO's range: the byte packs saturate (28x28x24 3x3: 6.67 -> 6.21 us; the
  // clamp sat on every pixel's path to its stores).
  const bool clamp = NeedsByteClamp<TO>(q.lo, q.hi);
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i zp32 = _mm256_set1_epi8(static_cast<char>(x_zp_u8));
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(kFlip ? 0x80 : 0));
  const int reach = (kw_n - 1) * d.dil_w + 1;  // columns one pixel spans
  // Output columns per chunk: the buffer holds groups x ncols records.
  constexpr int kMaxRecords = kRowQuadColumns * 64 / kRecord;
  const int chunk = (kMaxRecords / groups - reach) / d.stride_w + 1;  // >= 1: DepthwiseConvRowQuads
  HWY_ALIGN std::uint8_t buf[kRowQuadColumns * 64];
  bool short_form = true;
  for (int u = 0; u < nu; ++u)
    for (int j = 0; j < kAcc; ++j) short_form = short_form && rp[u][j].fast;
  // Interleaves the 4 rows' kLanes activations at src[0..3] into the record at out.
  const auto interleave = [&](const TI* const* src, std::uint8_t* out) HWY_ATTR {
    if constexpr (kLanes == 16) {
      const auto ld = [&](int i) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src[i]));
        return kFlip ? _mm_xor_si128(v, _mm256_castsi256_si128(flip)) : v;
      };
      const __m128i r0 = ld(0), r1 = ld(1), r2 = ld(2), r3 = ld(3);
      const __m128i a = _mm_unpacklo_epi8(r0, r1), b = _mm_unpackhi_epi8(r0, r1);
      const __m128i c = _mm_unpacklo_epi8(r2, r3), e = _mm_unpackhi_epi8(r2, r3);
      __m128i* o = reinterpret_cast<__m128i*>(out);
      _mm_store_si128(o, _mm_unpacklo_epi16(a, c));      // channels 0-3
      _mm_store_si128(o + 1, _mm_unpacklo_epi16(b, e));  // 8-11
      _mm_store_si128(o + 2, _mm_unpackhi_epi16(a, c));  // 4-7
      _mm_store_si128(o + 3, _mm_unpackhi_epi16(b, e));  // 12-15
    } else if constexpr (kLanes == 24) {
      const auto ld = [&](int i) {  // channels {0-15, 8-23}: two loads, nothing past the 24 channels read
        const __m256i v = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src[i]))),
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(src[i] + 8)), 1);
        return kFlip ? _mm256_xor_si256(v, flip) : v;
      };
      const __m256i r0 = ld(0), r1 = ld(1), r2 = ld(2), r3 = ld(3);
      const __m256i a = _mm256_unpacklo_epi8(r0, r1), b = _mm256_unpackhi_epi8(r0, r1);  // {0-7, 8-15}, {8-15, 16-23}
      const __m256i c = _mm256_unpacklo_epi8(r2, r3), e = _mm256_unpackhi_epi8(r2, r3);
      __m256i* o = reinterpret_cast<__m256i*>(out);
      _mm256_store_si256(o, _mm256_unpacklo_epi16(a, c));      // channels {0-3, 8-11}
      _mm256_store_si256(o + 1, _mm256_unpackhi_epi16(a, c));  // {4-7, 12-15}
      _mm256_store_si256(o + 2, _mm256_permute2x128_si256(_mm256_unpacklo_epi16(b, e), _mm256_unpackhi_epi16(b, e),
                                                          0x31));  // {16-19, 20-23}
    } else {
      const auto ld = [&](int i) {
#if STATIQ_VNNI_PATHS
        const __m256i v = partial ? _mm256_maskz_loadu_epi8(valid, src[i])  // (nothing past C is read)
                                  : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src[i]));
#else
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src[i]));
#endif
        return kFlip ? _mm256_xor_si256(v, flip) : v;
      };
      const __m256i r0 = ld(0), r1 = ld(1), r2 = ld(2), r3 = ld(3);
      const __m256i a = _mm256_unpacklo_epi8(r0, r1), b = _mm256_unpackhi_epi8(r0, r1);
      const __m256i c = _mm256_unpacklo_epi8(r2, r3), e = _mm256_unpackhi_epi8(r2, r3);
      __m256i* o = reinterpret_cast<__m256i*>(out);
      _mm256_store_si256(o, _mm256_unpacklo_epi16(a, c));      // channels {0-3, 16-19}
      _mm256_store_si256(o + 1, _mm256_unpackhi_epi16(a, c));  // {4-7, 20-23}
      _mm256_store_si256(o + 2, _mm256_unpacklo_epi16(b, e));  // {8-11, 24-27}
      _mm256_store_si256(o + 3, _mm256_unpackhi_epi16(b, e));  // {12-15, 28-31}
    }
  };
  // Requantizes one output row's accumulators of unit u and stores them at yp.
  const auto emit = [&](auto k_short, const __m256i(&acc)[kAcc], int u,
                        TO* yp) HWY_ATTR __attribute__((always_inline)) {
    V32 r[kAcc];
#if STATIQ_VNNI_PATHS
    STATIQ_UNROLL(2)
    for (int i = 0; i < kAcc / 2; ++i) {
      const __m512i pair = _mm512_inserti64x4(_mm512_castsi256_si512(acc[2 * i]), acc[2 * i + 1], 1);
      const auto rz = RequantizeLanes<decltype(k_short)::value, false>(dz, hn::Vec512<std::int32_t>{pair}, rpz[u][i],
                                                                       0, yzp_z, lo_z, hi_z);
      r[2 * i] = V32{_mm512_castsi512_si256(rz.raw)};
      r[2 * i + 1] = V32{_mm512_extracti64x4_epi64(rz.raw, 1)};
    }
#else
    STATIQ_UNROLL(4)
    for (int j = 0; j < kAcc; ++j)
      r[j] = RequantizeLanes<decltype(k_short)::value, false>(d32, V32{acc[j]}, rp[u][j], 0, yzp, lo, hi);
#endif
    constexpr bool kU8 = std::is_same_v<TO, std::uint8_t>;
    if constexpr (kLanes == 16) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(yp), PackBytes16<TO>(r[0].raw, r[1].raw, lo8, hi8, clamp));
    } else if constexpr (kLanes == 24) {
      const __m256i s01 = _mm256_packs_epi32(r[0].raw, r[1].raw), s22 = _mm256_packs_epi32(r[2].raw, r[2].raw);
      __m256i b8 = kU8 ? _mm256_packus_epi16(s01, s22) : _mm256_packs_epi16(s01, s22);
      if (clamp) b8 = ClampBytes<TO>(b8, lo8, hi8);
      // b8's dwords hold channels {0-3, 4-7, 16-19, 16-19, 8-11, 12-15, 20-23, 20-23}
      const __m256i o = _mm256_permutevar8x32_epi32(b8, _mm256_setr_epi32(0, 1, 4, 5, 2, 6, 3, 7));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(yp), _mm256_castsi256_si128(o));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(yp + 16), _mm256_extracti128_si256(o, 1));
    } else {
      const __m256i s01 = _mm256_packs_epi32(r[0].raw, r[1].raw), s23 = _mm256_packs_epi32(r[2].raw, r[3].raw);
      __m256i b8 = kU8 ? _mm256_packus_epi16(s01, s23) : _mm256_packs_epi16(s01, s23);
      if (clamp) b8 = ClampBytes<TO>(b8, lo8, hi8);
#if STATIQ_VNNI_PATHS
      if (partial) _mm256_mask_storeu_epi8(yp, valid, b8);
      else _mm256_storeu_si256(reinterpret_cast<__m256i*>(yp), b8);
#else
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(yp), b8);
#endif
    }
  };
  const auto pixels = [&](auto k_short) HWY_ATTR __attribute__((always_inline)) {
    // In locals: the output stores are bytes, which may alias the dims, and Clang re-read them through the
    // closure for every tap.
    const int dil_w = d.dil_w, stride_w = d.stride_w;
    const std::ptrdiff_t next_row = static_cast<std::ptrdiff_t>(d.out_w) * C;
    // kRows (1 or 2) output rows of unit u from ow0 to ow1, the first at yp; the buffer holds the chunk's columns.
    const auto row_pixels = [&](auto rows, int u, int ow0, int ow1, int ncols,
                                TO* yp) HWY_ATTR __attribute__((always_inline)) {
      constexpr int kRows = decltype(rows)::value;
      const __m256i* wu = wq[0] + u * groups * kw_n * kAcc;
      const __m256i* wu1 = wq[kSets - 1] + u * groups * kw_n * kAcc;
      for (int ow = ow0; ow < ow1; ++ow, yp += C) {
        const std::uint8_t* bp = buf + (ow - ow0) * stride_w * kRecord;
        // Every loop over the accumulators is unrolled by pragma: at -O2 GCC 12 left them as loops over a stack
        // array (28x28x128 3x3 took 3.3x the -O3 time).
        __m256i acc[kAcc], acc1[kAcc];  // rows oh and oh + 1
        STATIQ_UNROLL(4)
        for (int j = 0; j < kAcc; ++j) acc[j] = acc1[j] = bias_int[u][j];
        STATIQ_UNROLL(8)
        for (int g = 0; g < groups; ++g) {
          STATIQ_UNROLL(8)
          for (int kw = 0; kw < kw_n; ++kw) {
            const __m256i* p = reinterpret_cast<const __m256i*>(bp + (g * ncols + kw * dil_w) * kRecord);
            const __m256i* wp = wu + (g * kw_n + kw) * kAcc;
            const __m256i* wp1 = wu1 + (g * kw_n + kw) * kAcc;
            STATIQ_UNROLL(4)
            for (int j = 0; j < kAcc; ++j) {
              const __m256i xv = _mm256_load_si256(p + j);
              acc[j] = QuadStep(acc[j], xv, wp[j], ones);
              if constexpr (kRows == 2) acc1[j] = QuadStep(acc1[j], xv, wp1[j], ones);
            }
          }
        }
        emit(k_short, acc, u, yp);
        if constexpr (kRows == 2) emit(k_short, acc1, u, yp + next_row);
      }
    };
    for (int oh = 0; oh < d.out_h; oh += two_rows ? 2 : 1) {
      const bool pair = two_rows && oh + 1 < d.out_h;  // rows oh and oh + 1 (the quad's fourth row is real)
      const int ih0 = oh * d.stride_h - d.pad_top;
      for (int ow0 = 0; ow0 < d.out_w; ow0 += chunk) {
        const int ow1 = std::min(ow0 + chunk, d.out_w);
        const int iw_first = ow0 * d.stride_w - d.pad_left;
        const int ncols = (ow1 - 1 - ow0) * d.stride_w + reach;
        // Columns [j_lo, j_hi) of the chunk lie inside the input.
        const int j_lo = std::min(std::max(-iw_first, 0), ncols);
        const int j_hi = std::max(std::min(d.in_w - iw_first, ncols), j_lo);
        for (int u = 0; u < nu; ++u) {
          const int cu = start(u);
          for (int g = 0; g < groups; ++g) {  // interleave the chunk's columns of row group g
            const TI* src[4];
            std::ptrdiff_t step[4];
            STATIQ_UNROLL(4)
            for (int i = 0; i < 4; ++i) {
              const int r = 4 * g + i, ih = ih0 + r * d.dil_h;
              const bool in = (r < kh_n || pair) && ih >= 0 && ih < d.in_h;
              src[i] = in ? x + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw_first + j_lo) * C + cu : zp_row;
              step[i] = in ? C : 0;
            }
            std::uint8_t* out = buf + g * ncols * kRecord;
            for (int j = 0; j < j_lo; ++j)
              for (int i = 0; i < kRecord; i += 32) _mm256_store_si256(reinterpret_cast<__m256i*>(out + j * kRecord + i), zp32);
            for (int j = j_lo; j < j_hi; ++j) {
              interleave(src, out + j * kRecord);
              STATIQ_UNROLL(4)
              for (int i = 0; i < 4; ++i) src[i] += step[i];
            }
            for (int j = j_hi; j < ncols; ++j)
              for (int i = 0; i < kRecord; i += 32) _mm256_store_si256(reinterpret_cast<__m256i*>(out + j * kRecord + i), zp32);
          }
          TO* yp = y + (static_cast<std::ptrdiff_t>(oh) * d.out_w + ow0) * C + cu;
          if constexpr (kTwoRowsAble) {  // (the two-row loop is compiled only where it can run)
            if (pair) {
              row_pixels(std::integral_constant<int, 2>{}, u, ow0, ow1, ncols, yp);
              continue;
            }
          }
          row_pixels(std::integral_constant<int, 1>{}, u, ow0, ow1, ncols, yp);
        }
      }
    }
  };
  if (short_form) pixels(std::true_type{});
  else pixels(std::false_type{});
}

// The row-quad kernel where it takes the shape (16 channels or more, every weight within [-64, 64], up to
// kDepthwiseMaxTaps taps, a pixel's columns of every row group within the buffer); false, computing nothing,
// otherwise. Units of 32 channels from 32 channels on (from 17 with AVX-512), of 16 below.
template <class TI, class TO>
HWY_INLINE bool DepthwiseConvRowQuads(const conv2d_dims& d, const qconv_params& q, const TI* x,
                                      const std::int8_t* w, const std::int32_t* bias, TO* y) {
  // 128-byte records of 32 channels: kRowQuadColumns / 2 of them
  if (d.in_c < 16 || d.k_h * d.k_w > kDepthwiseMaxTaps ||
      ((d.k_w - 1) * d.dil_w + 1) * ((d.k_h + 3) / 4) > kRowQuadColumns / 2)
    return false;
  const std::size_t n = static_cast<std::size_t>(d.in_c) * d.k_h * d.k_w;
  if constexpr (!detail::kQuadStepAnyWeight) {  // vpmaddubsw: exact for 7-bit weights
    unsigned outside = 0;  // no early exit: the loop vectorizes
    for (std::size_t i = 0; i < n; ++i) outside |= static_cast<unsigned>(w[i] + 64) > 128u;
    if (outside) return false;
  }
  const auto passes = [&](auto kh, auto kw, auto lanes) {
    constexpr int kLanes = decltype(lanes)::value;
    constexpr int kUnits = kRowQuadPassChannels / kLanes;
    for (int c = 0; c < d.in_c; c += kUnits * kLanes)
      DepthwiseConvRowQuadPass<decltype(kh)::value, decltype(kw)::value, kLanes>(
          d, q, x, w, bias, y, c, std::min(kUnits, (d.in_c - c + kLanes - 1) / kLanes));
  };
  const auto kernels = [&](auto lanes) {
    using I0 = std::integral_constant<int, 0>;
    using I3 = std::integral_constant<int, 3>;
    using I5 = std::integral_constant<int, 5>;
    if (d.k_h == 3 && d.k_w == 3) passes(I3{}, I3{}, lanes);
    else if (d.k_h == 5 && d.k_w == 5) passes(I5{}, I5{}, lanes);
    else passes(I0{}, I0{}, lanes);
  };
#if STATIQ_VNNI_PATHS
  const bool wide = d.in_c > 16;  // 17 to 31 channels: one partial unit of 32
  if (wide) kernels(std::integral_constant<int, 32>{});
  else kernels(std::integral_constant<int, 16>{});
#else
  // The unit size with the fewest accumulators over all channels; on a tie the wider (fewer interleave passes).
  // 24 channels: one 24-lane unit (3 accumulators) where two overlapping 16-lane units took 4.
  const int C = d.in_c;
  const auto accs = [C](int lanes) { return lanes / 8 * ((C + lanes - 1) / lanes); };
  if (C >= 32 && accs(32) <= accs(24) && accs(32) <= accs(16)) kernels(std::integral_constant<int, 32>{});
  else if (C >= 24 && accs(24) <= accs(16)) kernels(std::integral_constant<int, 24>{});
  else kernels(std::integral_constant<int, 16>{});
#endif
  return true;
}

// The tap-pair kernel where it takes the shape (16 channels or more, up to kDepthwiseMaxTaps taps); false,
// computing nothing, otherwise.
template <class TI, class TO>
HWY_INLINE bool DepthwiseConvTapPairs(const conv2d_dims& d, const qconv_params& q, const TI* x,
                                      const std::int8_t* w, const std::int32_t* bias, TO* y) {
  if (d.in_c < kTapPairLanes || d.k_h * d.k_w > kDepthwiseMaxTaps) return false;
  if (d.k_h == 3 && d.k_w == 3) DepthwiseConvTapPairPasses<3, 3>(d, q, x, w, bias, y);
  else if (d.k_h == 5 && d.k_w == 5) DepthwiseConvTapPairPasses<5, 5>(d, q, x, w, bias, y);
  else DepthwiseConvTapPairPasses<0, 0>(d, q, x, w, bias, y);
  return true;
}
#endif  // STATIQ_X86_INT8_PATHS
#endif  // HWY_TARGET != HWY_SCALAR

template <class TI, class TO>
HWY_INLINE void DepthwiseConv(const conv2d_dims& d, const qconv_params& q, const TI* x, const std::int8_t* w,
                              const std::int32_t* bias, TO* y) {
#if HWY_TARGET == HWY_SCALAR
  ref::conv2d_q(d, q, x, w, bias, y);
#else
  if (d.k_h * d.k_w > kDepthwiseMaxTaps) return ref::conv2d_q(d, q, x, w, bias, y);
#if STATIQ_X86_INT8_PATHS
  if (DepthwiseConvRowQuads(d, q, x, w, bias, y)) return;
  if (DepthwiseConvTapPairs(d, q, x, w, bias, y)) return;
#endif
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
