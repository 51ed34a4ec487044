// Quantized GEMM / fully connected: u8 or s8 activations x packed s8 weights -> s32 or requantized u8/s8.
//
// Exactness on AVX2 without VNNI: vpmaddubsw sums two u8 x s8 products into a saturating s16 (255 * 127 * 2
// = 64770 > 32767; oneDNN's u8s8 GEMM returns such saturated sums). Two routes, chosen per layer by the
// packer and recorded in the blob (gemm_pairs_fit_s16), both exact for every input:
//  - vpmaddubsw when every summed weight pair has |w_a| + |w_b| <= 128 (always true for 7-bit weights,
//    OpenVINO's saturation_fix); measured ~115-150 GOPS single thread on the Zen 3 (4x16 tile);
//  - otherwise the widening route (vpmovsxbw + vpmaddwd), ~80-125 GOPS on the same shapes; at batch 1 an
//    activation-splitting vpmaddubsw route (Split1x4) instead.
// AVX3 / AVX3_DL with AVX512-VNNI in the flags (STATIQ_VNNI_PATHS) run vpdpbusd (4 u8 x s8 products per s32 lane,
// no s16 step: exact for any weights); so does GemmPackedVnni on any AVX-512 pass (dynamic dispatch, after CPUID).
// Other targets (SSE4, AVX3 without AVX512-VNNI in the flags, NEON, SVE/SVE2) run a portable Highway tile built on
// ReorderWidenMulAccumulate (exact: s16 x s16 -> s32 pairs); HWY_SCALAR runs plain loops. All equal ref::gemm_s32
// bit for bit.

// Toggling include guard: re-included once per Highway target (foreach_target.h).
#if defined(STATIQ_KERNELS_GEMM_U8S8_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef STATIQ_KERNELS_GEMM_U8S8_INL_H_
#undef STATIQ_KERNELS_GEMM_U8S8_INL_H_
#else
#define STATIQ_KERNELS_GEMM_U8S8_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "statiq/kernels/detail/hwy_config.hpp"
#include "hwy/highway.h"
#include "statiq/kernels/detail/avx2_int8-inl.h"
#include "statiq/kernels/detail/requant_lanes-inl.h"
#include "statiq/kernels/detail/unroll.hpp"
#include "statiq/kernels/pack.hpp"
#include "statiq/kernels/ref/requantize.hpp"
#include "statiq/kernels/requantize-inl.h"

#if HWY_TARGET == HWY_AVX2 || STATIQ_AVX512_PASS
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

namespace gemm_detail {

// Where finished s32 sums (bias' included) go: raw (TOut = int32_t) or requantized to u8/s8.
template <class TOut>
struct Sink {
  TOut* y;
  std::size_t stride;
  std::int32_t zp, lo, hi;
  std::size_t n_end;  // channels at or past n_end are not written
  // Rows come in groups of 4 (the 4 pixels of a 2x2 pooling window): output row m / 4 is the requantized
  // maximum of the group's sums. Requantization is monotonic (positive multiplier, then a clamp), so this equals
  // max-pooling the requantized rows, at a quarter of the requantization work. Rows are a multiple of 4.
  bool pool4 = false;
  // Every channel's requantization takes the short form (ShortRequant): the AVX2 epilogue uses it.
  bool short_rq = false;

  // channels of panel p to write (0..8)
  HWY_INLINE std::size_t Width(std::size_t p) const {
    const std::size_t c0 = p * gemm_nr;
    return n_end - c0 < gemm_nr ? n_end - c0 : gemm_nr;
  }
};

// 4 activation bytes of group g (k = 4g..4g+3) of one row, zero-filled past k; s8 inputs get their sign
// bit flipped (x ^ 0x80 = x + 128 as u8: pack_gemm_weights moved the zero point by 128 to match).
template <class TIn>
HWY_INLINE std::uint32_t Quad(const TIn* HWY_RESTRICT row, std::size_t g, std::size_t k) {
  std::uint32_t q = 0;
  const std::size_t i = 4 * g;
  if (i + 4 <= k) {
    std::memcpy(&q, row + i, 4);
  } else {
    std::memcpy(&q, row + i, k - i);
  }
  if constexpr (std::is_same_v<TIn, std::int8_t>) q ^= 0x80808080u;
  return q;
}

// f(std::true_type) where every channel takes the short requantization form (Sink::short_rq; s32 output has no
// requantization), else f(std::false_type): the per-tile code is instantiated for both and branches on neither.
template <class TOut, class F>
HWY_INLINE void WithRequantForm(const Sink<TOut>& out, F&& f) {
  if (out.short_rq && !std::is_same_v<TOut, std::int32_t>) f(std::true_type{});
  else f(std::false_type{});
}

// True if every channel takes detail::RequantizeQ31's short form with output zero point zp (the packer's
// gemm_short_requant, |zp| <= 255).
HWY_INLINE bool ShortRequant(const gemm_packed_view& pk, std::int32_t zp) {
  return (pk.flags() & gemm_short_requant) != 0 && zp >= -255 && zp <= 255;
}

// Writes nc <= 8 sums of one row of one panel (channels 8p..8p+nc-1).
template <class TOut>
HWY_INLINE void EmitRow(const Sink<TOut>& out, const gemm_packed_view& pk, std::size_t row, std::size_t p,
                        std::size_t nc, const std::int32_t* HWY_RESTRICT sums) {
  TOut* HWY_RESTRICT y = out.y + row * out.stride + p * gemm_nr;
  if constexpr (std::is_same_v<TOut, std::int32_t>) {
    std::memcpy(y, sums, nc * sizeof(std::int32_t));
  } else {
    std::int32_t mult[gemm_nr], shift[gemm_nr];
    std::memcpy(mult, pk.multiplier() + 4 * gemm_nr * p, sizeof(mult));
    std::memcpy(shift, pk.shift() + 4 * gemm_nr * p, sizeof(shift));
    TOut q[gemm_nr];
#if HWY_TARGET != HWY_SCALAR
    const hn::CappedTag<std::int32_t, gemm_nr> d32;
    const hn::Rebind<TOut, decltype(d32)> d8;
    const auto vzp = hn::Set(d32, out.zp), vlo = hn::Set(d32, out.lo), vhi = hn::Set(d32, out.hi);
    for (std::size_t i = 0; i < gemm_nr; i += hn::Lanes(d32)) {
      const auto r = RequantizeVec(d32, hn::LoadU(d32, sums + i), hn::LoadU(d32, mult + i),
                                   hn::LoadU(d32, shift + i), vzp, vlo, vhi);
      hn::StoreU(hn::DemoteTo(d8, r), d8, q + i);
    }
#else
    for (std::size_t i = 0; i < gemm_nr; ++i) {
      q[i] = static_cast<TOut>(ref::requantize(sums[i], {mult[i], shift[i]}, out.zp, out.lo, out.hi));
    }
#endif
    std::memcpy(y, q, nc * sizeof(TOut));
  }
}

#if HWY_TARGET == HWY_SCALAR
// Scalar target: plain loops over the packed layout.
template <class TIn, class TOut>
HWY_INLINE void Panels(const gemm_packed_view& pk, std::size_t rows, const TIn* x, std::size_t x_stride,
                       const Sink<TOut>& out, std::size_t p_begin, std::size_t p_end) {
  const std::size_t k = pk.k(), kg = pk.kp() / gemm_kr;
  for (std::size_t p = p_begin; p < p_end; ++p) {
    const std::size_t nc = out.Width(p);
    std::int32_t best[gemm_nr];
    for (std::size_t m = 0; m < rows; ++m) {
      std::int32_t sums[gemm_nr];
      for (std::size_t c = 0; c < gemm_nr; ++c) sums[c] = pk.bias_at(p * gemm_nr + c);
      for (std::size_t g = 0; g < kg; ++g) {
        const std::uint32_t q = Quad(x + m * x_stride, g, k);
        const std::uint8_t* wg = pk.group(p, g);
        for (std::size_t c = 0; c < gemm_nr; ++c) {
          std::int32_t s = 0;
          for (std::size_t i = 0; i < 4; ++i) {
            s += static_cast<std::int32_t>((q >> (8 * i)) & 0xFF) * static_cast<std::int8_t>(wg[4 * c + i]);
          }
          sums[c] = static_cast<std::int32_t>(static_cast<std::uint32_t>(sums[c]) + static_cast<std::uint32_t>(s));
        }
      }
      if (!out.pool4) {
        EmitRow(out, pk, m, p, nc, sums);
        continue;
      }
      for (std::size_t c = 0; c < gemm_nr; ++c) best[c] = m % 4 == 0 || sums[c] > best[c] ? sums[c] : best[c];
      if (m % 4 == 3) EmitRow(out, pk, m / 4, p, nc, best);
    }
  }
}
#else

// Spreads 4 bytes into 4 u16 lanes of a u64: the pattern ReorderWidenMulAccumulate pairs with one group.
HWY_INLINE std::uint64_t Spread4(std::uint32_t q) {
  std::uint64_t v = q;
  v = (v | v << 16) & 0x0000FFFF0000FFFFull;
  return (v | v << 8) & 0x00FF00FF00FF00FFull;
}

// Portable tile: 4 rows x one 8-channel panel, exact on every target. A vector of L <= 8 s32 lanes covers
// L channels in two halves: the 2L weight bytes of L/2 channels x 4 k widen to s16 and pair with the row's
// 4 activations repeated (one u64 broadcast); each s32 lane then holds the sum of 2 of the 4 k of one
// channel, and the two partial lanes are added when the tile is written.
template <class TIn>
HWY_INLINE void TilePortable(const gemm_packed_view& pk, std::size_t p, const TIn* const* xr,
                             std::int32_t (*sums)[gemm_nr]) {
  const hn::CappedTag<std::int32_t, gemm_nr> d32;
  const hn::Repartition<std::int16_t, decltype(d32)> d16;
  const hn::Rebind<std::int8_t, decltype(d16)> d8;
  const hn::Repartition<std::uint64_t, decltype(d16)> du64;
  const std::size_t L = hn::Lanes(d32);
  const std::size_t k = pk.k(), kg = pk.kp() / gemm_kr;
  for (std::size_t r = 0; r < 4; ++r) {
    for (std::size_t c = 0; c < gemm_nr; ++c) sums[r][c] = pk.bias_at(p * gemm_nr + c);
  }
  for (std::size_t c0 = 0; c0 < gemm_nr; c0 += L) {
    auto a0l = hn::Zero(d32), a0l1 = hn::Zero(d32), a0h = hn::Zero(d32), a0h1 = hn::Zero(d32);
    auto a1l = hn::Zero(d32), a1l1 = hn::Zero(d32), a1h = hn::Zero(d32), a1h1 = hn::Zero(d32);
    auto a2l = hn::Zero(d32), a2l1 = hn::Zero(d32), a2h = hn::Zero(d32), a2h1 = hn::Zero(d32);
    auto a3l = hn::Zero(d32), a3l1 = hn::Zero(d32), a3h = hn::Zero(d32), a3h1 = hn::Zero(d32);
    const std::int8_t* wg = reinterpret_cast<const std::int8_t*>(pk.group(p, 0)) + 4 * c0;
    const std::size_t gs = pk.group_stride(p);
    for (std::size_t g = 0; g < kg; ++g, wg += gs) {
      const auto wl = hn::PromoteTo(d16, hn::LoadU(d8, wg));
      const auto wh = hn::PromoteTo(d16, hn::LoadU(d8, wg + 2 * L));
      const auto x0 = hn::BitCast(d16, hn::Set(du64, Spread4(Quad(xr[0], g, k))));
      a0l = hn::ReorderWidenMulAccumulate(d32, wl, x0, a0l, a0l1);
      a0h = hn::ReorderWidenMulAccumulate(d32, wh, x0, a0h, a0h1);
      const auto x1 = hn::BitCast(d16, hn::Set(du64, Spread4(Quad(xr[1], g, k))));
      a1l = hn::ReorderWidenMulAccumulate(d32, wl, x1, a1l, a1l1);
      a1h = hn::ReorderWidenMulAccumulate(d32, wh, x1, a1h, a1h1);
      const auto x2 = hn::BitCast(d16, hn::Set(du64, Spread4(Quad(xr[2], g, k))));
      a2l = hn::ReorderWidenMulAccumulate(d32, wl, x2, a2l, a2l1);
      a2h = hn::ReorderWidenMulAccumulate(d32, wh, x2, a2h, a2h1);
      const auto x3 = hn::BitCast(d16, hn::Set(du64, Spread4(Quad(xr[3], g, k))));
      a3l = hn::ReorderWidenMulAccumulate(d32, wl, x3, a3l, a3l1);
      a3h = hn::ReorderWidenMulAccumulate(d32, wh, x3, a3h, a3h1);
    }
    // lane j of half h holds part of channel c0 + h * L / 2 + j / 2
    HWY_ALIGN std::int32_t part[2 * gemm_nr];
    const auto finish = [&](std::int32_t* s, decltype(a0l) lo, decltype(a0l) hi) {
      hn::Store(lo, d32, part);
      hn::Store(hi, d32, part + L);
      for (std::size_t j = 0; j < 2 * L; ++j) {
        s[c0 + j / 2] = static_cast<std::int32_t>(static_cast<std::uint32_t>(s[c0 + j / 2]) +
                                                  static_cast<std::uint32_t>(part[j]));
      }
    };
    finish(sums[0], hn::RearrangeToOddPlusEven(a0l, a0l1), hn::RearrangeToOddPlusEven(a0h, a0h1));
    finish(sums[1], hn::RearrangeToOddPlusEven(a1l, a1l1), hn::RearrangeToOddPlusEven(a1h, a1h1));
    finish(sums[2], hn::RearrangeToOddPlusEven(a2l, a2l1), hn::RearrangeToOddPlusEven(a2h, a2h1));
    finish(sums[3], hn::RearrangeToOddPlusEven(a3l, a3l1), hn::RearrangeToOddPlusEven(a3h, a3h1));
  }
}

template <class TIn, class TOut>
HWY_INLINE void PanelsPortable(const gemm_packed_view& pk, std::size_t rows, const TIn* x, std::size_t x_stride,
                               const Sink<TOut>& out, std::size_t p_begin, std::size_t p_end) {
  for (std::size_t p = p_begin; p < p_end; ++p) {
    const std::size_t nc = out.Width(p);
    for (std::size_t m = 0; m < rows; m += 4) {
      const std::size_t mr = rows - m < 4 ? rows - m : 4;
      const TIn* xr[4];
      for (std::size_t r = 0; r < 4; ++r) xr[r] = x + (m + (r < mr ? r : 0)) * x_stride;
      std::int32_t sums[4][gemm_nr];
      TilePortable(pk, p, xr, sums);
      if (out.pool4) {  // mr == 4: rows are a multiple of 4
        for (std::size_t c = 0; c < gemm_nr; ++c)
          for (std::size_t r = 1; r < 4; ++r) sums[0][c] = sums[r][c] > sums[0][c] ? sums[r][c] : sums[0][c];
        EmitRow(out, pk, m / 4, p, nc, sums[0]);
        continue;
      }
      for (std::size_t r = 0; r < mr; ++r) EmitRow(out, pk, m + r, p, nc, sums[r]);
    }
  }
}

#if STATIQ_AVX2_GEMM_PATHS
// AVX2 tile: MR rows x NP panels (8 channels each), raw intrinsics.
// kPairs (gemm_pairs_fit_s16): vpmaddubsw (u8 x s8 -> s16 pair sums, exact because the packer proved
// 255 * (|w_a| + |w_b|) <= 32640) + vpmaddwd by ones + vpaddd: 3 ops per 32 MAC, 2 of them on Zen 3's two
// multiply pipes, so ~32 MAC/cycle; activations arrive by vpbroadcastd from memory (a load, no ALU op).
// Otherwise the exact widening route: the 32-byte group widens in two halves (vpmovsxbw, shared by the MR
// rows), the row's 4 activations, pre-widened to s16 once per row block, arrive by vpbroadcastq from memory,
// and vpmaddwd sums 2 k per s32 lane: 2 accumulators per panel (channels 0-3 and 4-7), folded by vphaddd at
// the end. Same multiply-pipe count per MAC as vpmaddubsw, plus 2 shuffles per group and panel.
// The hot shapes (4x16 and 1x32 vpmaddubsw, 4x8 and 1x16 widening) are written with named accumulators:
// with arrays of __m256i GCC 12 kept one accumulator on the stack, a store-to-load chain that halved speed.

// An empty asm that "changes" its operands: GCC 12 -O3 otherwise hoists all rows' broadcasts and products
// ahead of the adds, runs out of the 16 ymm registers and keeps an accumulator on the stack, a loop-carried
// store/load that measured 2x slower. Ordering row by row keeps every accumulator in a register.
#define STATIQ_PIN(...) __asm__ volatile("" : __VA_ARGS__)
#define STATIQ_PAIRS_STEP(acc, x, wv) \
  acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, wv), ones))
#define STATIQ_WIDEN_STEP(acc_l, acc_h, x, wl, wh)                 \
  acc_l = _mm256_add_epi32(acc_l, _mm256_madd_epi16(wl, x));       \
  acc_h = _mm256_add_epi32(acc_h, _mm256_madd_epi16(wh, x))

template <bool kFlip>
HWY_INLINE __m256i BroadcastQuad(const std::uint8_t* p) {
  __m256i x = _mm256_broadcastd_epi32(_mm_loadu_si32(p));
  if constexpr (kFlip) x = _mm256_xor_si256(x, _mm256_set1_epi8(static_cast<char>(0x80)));
  return x;
}
HWY_INLINE __m256i BroadcastWidened(const std::uint8_t* p) {
  return _mm256_broadcastq_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
HWY_INLINE __m256i WidenLo(const std::uint8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
HWY_INLINE __m256i WidenHi(const std::uint8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)));
}
constexpr std::size_t kGroupBytes = gemm_nr * gemm_kr;

// The AVX2 tiles below read NP panels of one block (pack.hpp): panel p + j's group at w + j * kGroupBytes, the next
// group gs bytes further.

// One group (4 k) of 4 rows x 2 panels: q0..q3 point at the rows' 4 activations, w at panel p's weights (panel
// p + 1 at w + kGroupBytes); accumulates into c00..c31 (row r, panel j: crj). Only the broadcast is pinned: pinning
// the sums too made GCC 12 shuffle them through 3 register moves per row and group.
#define STATIQ_PAIRS_4X2_GROUP(w, q0, q1, q2, q3)                                             \
  {                                                                                           \
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));               \
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + kGroupBytes)); \
    __m256i x = BroadcastQuad<kFlip>(q0);                                                     \
    STATIQ_PIN("+x"(x));                                                                      \
    STATIQ_PAIRS_STEP(c00, x, w0);                                                            \
    STATIQ_PAIRS_STEP(c01, x, w1);                                                            \
    x = BroadcastQuad<kFlip>(q1);                                                             \
    STATIQ_PIN("+x"(x));                                                                      \
    STATIQ_PAIRS_STEP(c10, x, w0);                                                            \
    STATIQ_PAIRS_STEP(c11, x, w1);                                                            \
    x = BroadcastQuad<kFlip>(q2);                                                             \
    STATIQ_PIN("+x"(x));                                                                      \
    STATIQ_PAIRS_STEP(c20, x, w0);                                                            \
    STATIQ_PAIRS_STEP(c21, x, w1);                                                            \
    x = BroadcastQuad<kFlip>(q3);                                                             \
    STATIQ_PIN("+x"(x));                                                                      \
    STATIQ_PAIRS_STEP(c30, x, w0);                                                            \
    STATIQ_PAIRS_STEP(c31, x, w1);                                                            \
  }

template <bool kFlip>
HWY_INLINE void Pairs4x2(const std::uint8_t* HWY_RESTRICT w, std::size_t gs, const std::uint8_t* const* a,
                         std::size_t groups, __m256i* acc) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i c00 = acc[0], c01 = acc[1], c10 = acc[2], c11 = acc[3];
  __m256i c20 = acc[4], c21 = acc[5], c30 = acc[6], c31 = acc[7];
  const std::uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
  for (std::size_t g = 0; g < groups; ++g, w += gs) {
    STATIQ_PAIRS_4X2_GROUP(w, a0 + 4 * g, a1 + 4 * g, a2 + 4 * g, a3 + 4 * g)
  }
  acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11;
  acc[4] = c20, acc[5] = c21, acc[6] = c30, acc[7] = c31;
}

// One row (GEMV) x NP panels of a block: 4, or the whole block of 8, whose groups are then 256 contiguous bytes, one
// stream for the prefetchers. Two groups a pass, the sums pinned in registers: inlined into GemmPacked's GEMV, GCC
// kept the loop's bound and the activation pointer on the stack and copied every sum to a new register each group,
// about 6 instructions per 32 MAC where Zen 3 dispatches 6 a cycle and multiplies 32 MAC a cycle.
template <std::size_t NP, bool kFlip>
HWY_INLINE void Pairs1xN(const std::uint8_t* HWY_RESTRICT w, std::size_t gs, const std::uint8_t* HWY_RESTRICT a0,
                         std::size_t groups, __m256i* HWY_RESTRICT acc) {
  static_assert(NP == 4 || NP == 8, "half a block or a whole one");
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
#define STATIQ_W(wp, j) _mm256_loadu_si256(reinterpret_cast<const __m256i*>((wp) + (j) * kGroupBytes))
#define STATIQ_1XN_GROUP(xp, wp)                           \
  {                                                        \
    __m256i x = BroadcastQuad<kFlip>(xp);                  \
    STATIQ_PIN("+x"(x));                                   \
    STATIQ_PAIRS_STEP(c0, x, STATIQ_W(wp, 0));             \
    STATIQ_PAIRS_STEP(c1, x, STATIQ_W(wp, 1));             \
    STATIQ_PAIRS_STEP(c2, x, STATIQ_W(wp, 2));             \
    STATIQ_PAIRS_STEP(c3, x, STATIQ_W(wp, 3));             \
    STATIQ_PIN("+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3));    \
    if constexpr (NP == 8) {                               \
      STATIQ_PAIRS_STEP(c4, x, STATIQ_W(wp, 4));           \
      STATIQ_PAIRS_STEP(c5, x, STATIQ_W(wp, 5));           \
      STATIQ_PAIRS_STEP(c6, x, STATIQ_W(wp, 6));           \
      STATIQ_PAIRS_STEP(c7, x, STATIQ_W(wp, 7));           \
      STATIQ_PIN("+x"(c4), "+x"(c5), "+x"(c6), "+x"(c7));  \
    }                                                      \
  }
  for (const std::uint8_t* const a_end = a0 + 4 * (groups & ~std::size_t{1}); a0 != a_end; a0 += 8, w += 2 * gs) {
    STATIQ_1XN_GROUP(a0, w)
    STATIQ_1XN_GROUP(a0 + 4, w + gs)
  }
  if (groups & 1) STATIQ_1XN_GROUP(a0, w)
#undef STATIQ_1XN_GROUP
#undef STATIQ_W
  const __m256i c[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
  for (std::size_t j = 0; j < NP; ++j) acc[j] = _mm256_add_epi32(acc[j], c[j]);
}

// The whole-block GEMV out of line, so that the register allocator sees only its loop: 1x512x784 6.0 -> 5.0 us,
// 1x64x784 0.68 -> 0.56 us on Zen 3. Half blocks (4 panels) stay inline: there the call cost as much as it saved.
template <bool kFlip>
HWY_NOINLINE void Pairs1x8(const std::uint8_t* HWY_RESTRICT w, std::size_t gs, const std::uint8_t* HWY_RESTRICT a0,
                           std::size_t groups, __m256i* HWY_RESTRICT acc) {
  Pairs1xN<8, kFlip>(w, gs, a0, groups, acc);
}

HWY_INLINE void Widen4x1(const std::uint8_t* HWY_RESTRICT w, std::size_t gs, const std::uint8_t* const* a,
                         std::size_t groups, __m256i* acc) {
  __m256i c0l = acc[0], c0h = acc[1], c1l = acc[2], c1h = acc[3];
  __m256i c2l = acc[4], c2h = acc[5], c3l = acc[6], c3h = acc[7];
  const std::uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
  for (std::size_t g = 0; g < groups; ++g, w += gs) {
    const __m256i wl = WidenLo(w), wh = WidenHi(w);
    __m256i x = BroadcastWidened(a0 + 8 * g);
    STATIQ_PIN("+x"(x));
    STATIQ_WIDEN_STEP(c0l, c0h, x, wl, wh);
    STATIQ_PIN("+x"(c0l), "+x"(c0h));
    x = BroadcastWidened(a1 + 8 * g);
    STATIQ_PIN("+x"(x));
    STATIQ_WIDEN_STEP(c1l, c1h, x, wl, wh);
    STATIQ_PIN("+x"(c1l), "+x"(c1h));
    x = BroadcastWidened(a2 + 8 * g);
    STATIQ_PIN("+x"(x));
    STATIQ_WIDEN_STEP(c2l, c2h, x, wl, wh);
    STATIQ_PIN("+x"(c2l), "+x"(c2h));
    x = BroadcastWidened(a3 + 8 * g);
    STATIQ_PIN("+x"(x));
    STATIQ_WIDEN_STEP(c3l, c3h, x, wl, wh);
    STATIQ_PIN("+x"(c3l), "+x"(c3h));
  }
  acc[0] = c0l, acc[1] = c0h, acc[2] = c1l, acc[3] = c1h;
  acc[4] = c2l, acc[5] = c2h, acc[6] = c3l, acc[7] = c3h;
}

HWY_INLINE void Widen1x2(const std::uint8_t* HWY_RESTRICT w, std::size_t gs, const std::uint8_t* const* a,
                         std::size_t groups, __m256i* acc) {
  __m256i c0l = acc[0], c0h = acc[1], c1l = acc[2], c1h = acc[3];
  const std::uint8_t* a0 = a[0];
  for (std::size_t g = 0; g < groups; ++g, w += gs) {
    const __m256i x = BroadcastWidened(a0 + 8 * g);
    STATIQ_WIDEN_STEP(c0l, c0h, x, WidenLo(w), WidenHi(w));
    STATIQ_WIDEN_STEP(c1l, c1h, x, WidenLo(w + kGroupBytes), WidenHi(w + kGroupBytes));
  }
  acc[0] = c0l, acc[1] = c0h, acc[2] = c1l, acc[3] = c1h;
}

// Any other MR x NP (row and panel remainders): array accumulators, fine for these rare tiles.
template <std::size_t MR, std::size_t NP, bool kPairs, bool kFlip>
HWY_INLINE void GenericAVX2(const std::uint8_t* HWY_RESTRICT w, std::size_t gs, const std::uint8_t* const* a,
                            std::size_t groups, __m256i* acc) {
  const __m256i ones = _mm256_set1_epi16(1);
  for (std::size_t g = 0; g < groups; ++g, w += gs) {
#pragma GCC unroll 16
    for (std::size_t j = 0; j < NP; ++j) {
      if constexpr (kPairs) {
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + j * kGroupBytes));
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r) STATIQ_PAIRS_STEP(acc[r * NP + j], BroadcastQuad<kFlip>(a[r] + 4 * g), wv);
      } else {
        const __m256i wl = WidenLo(w + j * kGroupBytes), wh = WidenHi(w + j * kGroupBytes);
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r) {
          const __m256i x = BroadcastWidened(a[r] + 8 * g);
          STATIQ_WIDEN_STEP(acc[(r * NP + j) * 2], acc[(r * NP + j) * 2 + 1], x, wl, wh);
        }
      }
    }
  }
}
#undef STATIQ_WIDEN_STEP

// Accumulates groups [0, groups) of panels p..p+NP-1 (one block; w: panel p's first group, gs: the block's group
// stride) into acc (layout: [row][panel] for vpmaddubsw, [row][panel][half] for the widening route). a: per row,
// u8 activations or the widened u16 copy.
template <std::size_t MR, std::size_t NP, bool kPairs, bool kFlip>
HWY_INLINE void RunAVX2(const std::uint8_t* w, std::size_t gs, const std::uint8_t* const* a, std::size_t groups,
                        __m256i* acc) {
  if constexpr (kPairs && MR == 4 && NP == 2) {
    Pairs4x2<kFlip>(w, gs, a, groups, acc);
  } else if constexpr (kPairs && MR == 1 && NP == 4) {
    Pairs1xN<4, kFlip>(w, gs, a[0], groups, acc);
  } else if constexpr (kPairs && MR == 1 && NP == 8) {
    Pairs1x8<kFlip>(w, gs, a[0], groups, acc);
  } else if constexpr (!kPairs && MR == 4 && NP == 1) {
    Widen4x1(w, gs, a, groups, acc);
  } else if constexpr (!kPairs && MR == 1 && NP == 2) {
    Widen1x2(w, gs, a, groups, acc);
  } else {
    GenericAVX2<MR, NP, kPairs, kFlip>(w, gs, a, groups, acc);
  }
}

// Rows of activations widened to u16 (s8 inputs flipped to u8 first), zero-padded to whole groups.
inline constexpr std::size_t kWidenMaxK = 4096;  // 4 rows: 32 KiB of stack

template <class TIn>
HWY_INLINE void WidenRow(const TIn* HWY_RESTRICT x, std::size_t len, std::uint16_t* HWY_RESTRICT out) {
  std::size_t i = 0;
  for (; i + 16 <= len; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    if constexpr (std::is_same_v<TIn, std::int8_t>) v = _mm_xor_si128(v, _mm_set1_epi8(static_cast<char>(0x80)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_cvtepu8_epi16(v));
  }
  for (; i < len; ++i) {
    out[i] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(x[i]) ^ (std::is_same_v<TIn, std::int8_t> ? 0x80 : 0));
  }
  for (; i % gemm_kr != 0; ++i) out[i] = 0;
}

// Sums (bias' added, channel order) of MR rows x NP panels starting at panel p.
// widened: for the widening route, the rows already widened (all k), or null to widen here in slices.
// nseg > 1 (vpmaddubsw route only; the implicit convolution): a row is nseg segments of seg_groups whole
// groups each, read from xr[r * nseg + s], so a patch is never copied (see PanelsSegAVX2).
template <std::size_t MR, std::size_t NP, bool kPairs, class TIn>
HWY_INLINE void TileAVX2(const gemm_packed_view& pk, std::size_t p, const TIn* const* xr,
                         const std::uint16_t* const* widened, __m256i* out, std::size_t nseg = 1,
                         std::size_t seg_groups = 0) {
  constexpr std::size_t NA = kPairs ? NP : 2 * NP;
  constexpr bool kFlip = std::is_same_v<TIn, std::int8_t>;
  const std::size_t k = pk.k();
  const std::size_t gs = pk.group_stride(p);
  const std::uint8_t* w = pk.group(p, 0);
  __m256i acc[MR * NA];
  for (std::size_t i = 0; i < MR * NA; ++i) acc[i] = _mm256_setzero_si256();
  const std::uint8_t* a[MR];
  if constexpr (kPairs) {
    if (nseg > 1) {
      for (std::size_t s = 0; s < nseg; ++s) {
        for (std::size_t r = 0; r < MR; ++r) a[r] = reinterpret_cast<const std::uint8_t*>(xr[r * nseg + s]);
        RunAVX2<MR, NP, true, kFlip>(w + s * seg_groups * gs, gs, a, seg_groups, acc);
      }
    } else {
      const std::size_t kfull = k / gemm_kr;
      for (std::size_t r = 0; r < MR; ++r) a[r] = reinterpret_cast<const std::uint8_t*>(xr[r]);
      RunAVX2<MR, NP, true, kFlip>(w, gs, a, kfull, acc);
      if (kfull * gemm_kr < k) {  // last partial group from a zero-padded copy
        alignas(16) std::uint8_t tail[MR][gemm_kr] = {};
        for (std::size_t r = 0; r < MR; ++r) {
          std::memcpy(tail[r], a[r] + kfull * gemm_kr, k - kfull * gemm_kr);
          a[r] = tail[r];
        }
        RunAVX2<MR, NP, true, kFlip>(w + kfull * gs, gs, a, 1, acc);
      }
    }
  } else if (widened != nullptr && widened[0] != nullptr) {
    for (std::size_t r = 0; r < MR; ++r) a[r] = reinterpret_cast<const std::uint8_t*>(widened[r]);
    RunAVX2<MR, NP, false, false>(w, gs, a, pk.kp() / gemm_kr, acc);
  } else {
    constexpr std::size_t kSlice = 1024;
    alignas(32) std::uint16_t buf[MR][kSlice + 16];
    for (std::size_t r = 0; r < MR; ++r) a[r] = reinterpret_cast<const std::uint8_t*>(buf[r]);
    for (std::size_t k0 = 0; k0 < k; k0 += kSlice) {
      const std::size_t len = k - k0 < kSlice ? k - k0 : kSlice;
      for (std::size_t r = 0; r < MR; ++r) WidenRow(xr[r] + k0, len, buf[r]);
      RunAVX2<MR, NP, false, false>(w + (k0 / gemm_kr) * gs, gs, a, (len + gemm_kr - 1) / gemm_kr, acc);
    }
  }
  for (std::size_t r = 0; r < MR; ++r) {
    for (std::size_t j = 0; j < NP; ++j) {
      __m256i s;
      if constexpr (kPairs) {
        s = acc[r * NP + j];
      } else {  // [c0 c1 c4 c5 | c2 c3 c6 c7] -> channel order
        s = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[(r * NP + j) * 2], acc[(r * NP + j) * 2 + 1]), 0xD8);
      }
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pk.bias() + 4 * gemm_nr * (p + j)));
      out[r * NP + j] = _mm256_add_epi32(s, b);
    }
  }
}

// The requantization constants of panels p and p + 1 (16 channels), for PanelPairBytes: short form where
// out.short_rq.
struct PanelPairRequant {
  using V = hn::Vec256<std::int32_t>;
  V mult[2], mult_odd[2], shr[2], add[2], zp;
  hn::Vec256<std::int64_t> rnd_even[2], rnd_odd[2];
  __m256i lo8, hi8, order;
  bool clamp = true;  // [lo, hi] narrower than the output type's range (detail::NeedsByteClamp)

  PanelPairRequant() = default;
  template <class TOut>
  HWY_INLINE PanelPairRequant(const Sink<TOut>& out, const gemm_packed_view& pk, std::size_t p) {
    const hn::Full256<std::int32_t> d32;
    const hn::Full256<std::int64_t> d64;
    const hn::Full256<std::uint64_t> du64;
    zp = hn::Set(d32, out.zp);
    const V one = hn::Set(d32, 1);
    for (int h = 0; h < 2; ++h) {
      const std::size_t c = (p + static_cast<std::size_t>(h)) * gemm_nr;
      mult[h] = hn::LoadU(d32, reinterpret_cast<const std::int32_t*>(pk.multiplier() + 4 * c));
      const V shift = hn::LoadU(d32, reinterpret_cast<const std::int32_t*>(pk.shift() + 4 * c));
      mult_odd[h] = hn::BitCast(d32, hn::ShiftRight<32>(hn::BitCast(du64, mult[h])));
      shr[h] = hn::Sub(shift, hn::Set(d32, 32));
      add[h] = zp;
      rnd_even[h] = rnd_odd[h] = hn::Zero(d64);
      if (out.short_rq) {
        add[h] = hn::Add(hn::Shl(one, hn::Sub(shr[h], one)), hn::Shl(zp, shr[h]));
      } else {  // 2^(shift - 1) in 64 bits, for the even and the odd lanes
        const auto sh = hn::BitCast(du64, shift), one64 = hn::Set(du64, 1);
        rnd_even[h] = hn::BitCast(d64, hn::Shl(one64, hn::Sub(hn::And(sh, hn::Set(du64, 0xFFFFFFFFull)), one64)));
        rnd_odd[h] = hn::BitCast(d64, hn::Shl(one64, hn::Sub(hn::ShiftRight<32>(sh), one64)));
      }
    }
    lo8 = _mm256_set1_epi8(static_cast<char>(out.lo));
    hi8 = _mm256_set1_epi8(static_cast<char>(out.hi));
    clamp = detail::NeedsByteClamp<TOut>(out.lo, out.hi);
    order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  }
};

// One row's sums of panels p and p + 1 (s0: channels 0-7, s1: 8-15) requantized, packed to 16 bytes
// (vpackssdw, vpackuswb / vpacksswb, one vpermd back to channel order) and clamped on the bytes: 20 vector ops per
// row and 16 channels with the store, against 34 through RequantizeVec and one 8-lane DemoteTo per panel.
// Panels p and p + 1's sums requantized and packed to s16 (vpackssdw: [0-3, 8-11 | 4-7, 12-15]).
template <bool kShort>
HWY_INLINE __m256i PanelPairS16(const PanelPairRequant& c, __m256i s0, __m256i s1) {
  const hn::Full256<std::int32_t> d32;
  using V = hn::Vec256<std::int32_t>;
  const V v0 = detail::RequantizeQ31<kShort>(d32, V{s0}, c.mult[0], c.mult_odd[0], c.shr[0], c.add[0],
                                             c.rnd_even[0], c.rnd_odd[0], c.zp);
  const V v1 = detail::RequantizeQ31<kShort>(d32, V{s1}, c.mult[1], c.mult_odd[1], c.shr[1], c.add[1],
                                             c.rnd_even[1], c.rnd_odd[1], c.zp);
  return _mm256_packs_epi32(v0.raw, v1.raw);
}
// Two s16 vectors as bytes (vpackuswb / vpacksswb), in channel order (vpermd by c.order), clamped where c says.
template <class TOut>
HWY_INLINE __m256i BytesInOrder(const PanelPairRequant& c, __m256i lo, __m256i hi) {
  const __m256i b8 = std::is_same_v<TOut, std::uint8_t> ? _mm256_packus_epi16(lo, hi) : _mm256_packs_epi16(lo, hi);
  __m256i y8 = _mm256_permutevar8x32_epi32(b8, c.order);
  if (c.clamp) y8 = detail::ClampBytes<TOut>(y8, c.lo8, c.hi8);
  return y8;
}
template <bool kShort, class TOut>
HWY_INLINE __m128i PanelPairPacked(const PanelPairRequant& c, __m256i s0, __m256i s1) {
  // the s16 as bytes twice, in dwords 0, 1 | 4, 5: vpermd puts 0-15 in order
  const __m256i s16 = PanelPairS16<kShort>(c, s0, s1);
  return _mm256_castsi256_si128(BytesInOrder<TOut>(c, s16, s16));
}
// The same for 32 channels (panels p..p + 3: s0..s3, constants of p, p + 1 in a and of p + 2, p + 3 in b): two
// vpackssdw, one byte pack and one vpermd for all 32 (the same order: dword i of the packed bytes holds channels
// 8 * (i % 4) + 4 * (i / 4) ..), against two of each and two vpermd as two PanelPairPacked.
template <bool kShort, class TOut>
HWY_INLINE __m256i PanelQuadPacked(const PanelPairRequant& a, const PanelPairRequant& b, __m256i s0, __m256i s1,
                                   __m256i s2, __m256i s3) {
  return BytesInOrder<TOut>(a, PanelPairS16<kShort>(a, s0, s1), PanelPairS16<kShort>(b, s2, s3));
}
template <class TOut>
HWY_INLINE void Store32(TOut* y, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(y), v);
}
template <class TOut>
HWY_INLINE void Store16(TOut* y, __m128i v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(y), v);
}
template <bool kShort, class TOut>
HWY_INLINE void PanelPairBytes(const PanelPairRequant& c, __m256i s0, __m256i s1, TOut* HWY_RESTRICT y) {
  Store16(y, PanelPairPacked<kShort, TOut>(c, s0, s1));
}

// Panels p and p + 1 (16 channels, both full) of MR rows to u8 / s8 (row r's sums at s[r * np], s[r * np + 1]).
template <std::size_t MR, class TOut>
HWY_INLINE void EmitPanelPairAVX2(const Sink<TOut>& out, const gemm_packed_view& pk, std::size_t m, std::size_t p,
                                  const __m256i* s, std::size_t np) {
  const PanelPairRequant c(out, pk, p);
  TOut* y = out.y + m * out.stride + p * gemm_nr;
  const auto rows = [&](auto k_short) HWY_ATTR {
    for (std::size_t r = 0; r < MR; ++r) {
      PanelPairBytes<decltype(k_short)::value>(c, s[r * np], s[r * np + 1], y + r * out.stride);
    }
  };
  if (out.short_rq) rows(std::true_type{});
  else rows(std::false_type{});
}

// Writes an AVX2 tile; full panels are requantized in registers.
template <std::size_t MR, std::size_t NP, class TOut>
HWY_INLINE void EmitAVX2(const Sink<TOut>& out, const gemm_packed_view& pk, std::size_t m, std::size_t p,
                         const __m256i* s) {
  if constexpr (MR == 4) {
    if (out.pool4) {  // the 4 rows are one pooling window: one output row of their maxima
      __m256i t[NP];
      for (std::size_t j = 0; j < NP; ++j)
        t[j] = _mm256_max_epi32(_mm256_max_epi32(s[j], s[NP + j]), _mm256_max_epi32(s[2 * NP + j], s[3 * NP + j]));
      return EmitAVX2<1, NP>(out, pk, m / 4, p, t);
    }
  }
  if constexpr (MR > 1 && NP % 2 == 0 && !std::is_same_v<TOut, std::int32_t>) {
    if (out.Width(p + NP - 1) == gemm_nr) {  // every panel full
      for (std::size_t j = 0; j < NP; j += 2) EmitPanelPairAVX2<MR>(out, pk, m, p + j, s + j, NP);
      return;
    }
  }
  const hn::Full256<std::int32_t> d32;
  for (std::size_t j = 0; j < NP; ++j) {
    const std::size_t c0 = (p + j) * gemm_nr;
    const std::size_t nc = out.Width(p + j);
    if (nc == gemm_nr) {
      if constexpr (std::is_same_v<TOut, std::int32_t>) {
        for (std::size_t r = 0; r < MR; ++r) {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.y + (m + r) * out.stride + c0), s[r * NP + j]);
        }
      } else {
        const hn::Rebind<TOut, decltype(d32)> d8;
        const auto mult = hn::LoadU(d32, reinterpret_cast<const std::int32_t*>(pk.multiplier() + 4 * c0));
        const auto shift = hn::LoadU(d32, reinterpret_cast<const std::int32_t*>(pk.shift() + 4 * c0));
        const auto vzp = hn::Set(d32, out.zp), vlo = hn::Set(d32, out.lo), vhi = hn::Set(d32, out.hi);
        for (std::size_t r = 0; r < MR; ++r) {
          const auto v = RequantizeVec(d32, hn::Vec256<std::int32_t>{s[r * NP + j]}, mult, shift, vzp, vlo, vhi);
          hn::StoreU(hn::DemoteTo(d8, v), d8, out.y + (m + r) * out.stride + c0);
        }
      }
    } else {
      for (std::size_t r = 0; r < MR; ++r) {
        HWY_ALIGN std::int32_t tmp[gemm_nr];
        _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), s[r * NP + j]);
        EmitRow(out, pk, m + r, p + j, nc, tmp);
      }
    }
  }
}

// Pairs4x2Bytes' sums (row r: cr0, cr1) requantized and stored; out.pool4: their window's maxima as one row.
template <bool kShort, class TOut>
HWY_INLINE void Emit4x2Bytes(const Sink<TOut>& out, const PanelPairRequant& c, std::size_t m, std::size_t p,
                             __m256i c00, __m256i c01, __m256i c10, __m256i c11, __m256i c20, __m256i c21,
                             __m256i c30, __m256i c31) {
  if (out.pool4) {  // one output row: the maxima of the window's 4 rows (see Sink::pool4)
    const __m256i t0 = _mm256_max_epi32(_mm256_max_epi32(c00, c10), _mm256_max_epi32(c20, c30));
    const __m256i t1 = _mm256_max_epi32(_mm256_max_epi32(c01, c11), _mm256_max_epi32(c21, c31));
    PanelPairBytes<kShort>(c, t0, t1, out.y + (m / 4) * out.stride + p * gemm_nr);
    return;
  }
  // Every row packed before the first store: a byte store may alias c, which GCC otherwise copied to the stack.
  const __m128i r0 = PanelPairPacked<kShort, TOut>(c, c00, c01), r1 = PanelPairPacked<kShort, TOut>(c, c10, c11);
  const __m128i r2 = PanelPairPacked<kShort, TOut>(c, c20, c21), r3 = PanelPairPacked<kShort, TOut>(c, c30, c31);
  TOut* y = out.y + m * out.stride + p * gemm_nr;
  Store16(y, r0);
  Store16(y + out.stride, r1);
  Store16(y + 2 * out.stride, r2);
  Store16(y + 3 * out.stride, r3);
}

// The hot tile of the vpmaddubsw route with 8-bit outputs: 4 rows x panels p, p + 1 (both full), its eight sums
// in named registers from the bias to the stored bytes. (Through TileAVX2's arrays GCC 12 kept them on the stack:
// a libc memset, stores and reloads per tile, a third of the instructions of a 1x1 convolution's tile with k = 24.)
// Row r is nseg segments of seg_groups whole groups, segment s at a[r * nseg + s]; with nseg == 1 a row may end
// in a partial group (k % 4 values), read from a zero-padded copy. goff != nullptr: row r is the one pointer a[r],
// group g of it at a[r] + goff[g] (g < nseg * seg_groups; the implicit convolution on a padded input), so one loop
// runs over all of a row's groups. out.pool4: the 4 rows are one pooling window.
template <bool kFlip, class TOut>
HWY_INLINE void Pairs4x2Bytes(const Sink<TOut>& out, const gemm_packed_view& pk, std::size_t m, std::size_t p,
                              const std::uint8_t* const* a, std::size_t nseg, std::size_t seg_groups,
                              const PanelPairRequant* cached, const std::ptrdiff_t* goff = nullptr) {
  static_assert(!std::is_same_v<TOut, std::int32_t>, "8-bit outputs only");
  const __m256i ones = _mm256_set1_epi16(1);
  const std::size_t gs = pk.group_stride(p);
  const std::uint8_t* w = pk.group(p, 0);
  const std::int32_t* bias = reinterpret_cast<const std::int32_t*>(pk.bias()) + gemm_nr * p;
  const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias));
  const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + gemm_nr));
  __m256i c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
  if (goff != nullptr) {  // one loop: its exit, once per tile instead of once per segment
    const std::uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    for (const std::ptrdiff_t *go = goff, *ge = goff + nseg * seg_groups; go != ge; ++go, w += gs) {
      const std::ptrdiff_t o = *go;
      STATIQ_PAIRS_4X2_GROUP(w, a0 + o, a1 + o, a2 + o, a3 + o)
    }
  } else {
    for (std::size_t s = 0; s < nseg; ++s) {
      const std::uint8_t *a0 = a[s], *a1 = a[nseg + s], *a2 = a[2 * nseg + s], *a3 = a[3 * nseg + s];
      for (std::size_t g = 0; g < seg_groups; ++g, w += gs, a0 += 4, a1 += 4, a2 += 4, a3 += 4) {
        STATIQ_PAIRS_4X2_GROUP(w, a0, a1, a2, a3)
      }
    }
  }
  const std::size_t done = nseg * seg_groups * gemm_kr, k = pk.k();
  if (done < k) {  // the last, partial group (nseg == 1, no goff)
    alignas(16) std::uint8_t tail[4][gemm_kr] = {};
    for (std::size_t r = 0; r < 4; ++r) std::memcpy(tail[r], a[r] + done, k - done);
    STATIQ_PAIRS_4X2_GROUP(w, tail[0], tail[1], tail[2], tail[3])
  }
  PanelPairRequant built;
  if (cached == nullptr) built = PanelPairRequant(out, pk, p);
  const PanelPairRequant& c = cached != nullptr ? *cached : built;
  // By value: a lambda capturing the sums by reference put them in memory for the whole loop above.
  if (out.short_rq) Emit4x2Bytes<true>(out, c, m, p, c00, c01, c10, c11, c20, c21, c30, c31);
  else Emit4x2Bytes<false>(out, c, m, p, c00, c01, c10, c11, c20, c21, c30, c31);
}

// One group of row r (its 4 activations at q) x panels p..p + 3 (the weights of one group: 128 bytes at w, read as
// memory operands: 12 accumulators leave no register for them).
#define STATIQ_PAIRS_ROW_X4(r, q)                                                                  \
  {                                                                                                \
    __m256i x = BroadcastQuad<kFlip>(q);                                                           \
    STATIQ_PIN("+x"(x));                                                                           \
    STATIQ_PAIRS_STEP(c##r##0, x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)));         \
    STATIQ_PAIRS_STEP(c##r##1, x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32)));    \
    STATIQ_PAIRS_STEP(c##r##2, x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 64)));    \
    STATIQ_PAIRS_STEP(c##r##3, x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 96)));    \
  }

// Pairs3x4Bytes' sums (row r: cr0..cr3) requantized and stored, 32 bytes a row, all three packed before the first
// store.
template <bool kShort, class TOut>
HWY_INLINE void Emit3x4Bytes(const Sink<TOut>& out, const PanelPairRequant& ca, const PanelPairRequant& cb,
                             std::size_t m, std::size_t p, __m256i c00, __m256i c01, __m256i c02, __m256i c03,
                             __m256i c10, __m256i c11, __m256i c12, __m256i c13, __m256i c20, __m256i c21,
                             __m256i c22, __m256i c23) {
  // The constants are read through pointers GCC cannot follow, once per row: so it takes them as memory operands
  // instead of loading each once and keeping the copies (no register is free for them) on the stack.
  const PanelPairRequant *a = &ca, *b = &cb;
  const __m256i r0 = PanelQuadPacked<kShort, TOut>(*a, *b, c00, c01, c02, c03);
  STATIQ_PIN("+r"(a), "+r"(b));
  const __m256i r1 = PanelQuadPacked<kShort, TOut>(*a, *b, c10, c11, c12, c13);
  STATIQ_PIN("+r"(a), "+r"(b));
  const __m256i r2 = PanelQuadPacked<kShort, TOut>(*a, *b, c20, c21, c22, c23);
  TOut* y = out.y + m * out.stride + p * gemm_nr;
  const std::size_t st = out.stride;
  Store32(y, r0);
  Store32(y + st, r1);
  Store32(y + 2 * st, r2);
}

// A window of a tile's groups: the border pixels of the implicit convolution leave out their taps in the padding
// (conv_detail::ImplicitBorderRows, ImplicitConvBorders).
struct TileWindow {
  std::size_t g_first;                // goff and the packed weights from group g_first on
  const std::int32_t* bias;           // the sums' start per channel, in place of the packed bias'
  const std::uint8_t* w = nullptr;    // or the weights here: group j of panel p at w + j * gs + p * kGroupBytes
};

// The wide tile of the segmented route (PanelsSegAVX2): 3 rows x panels p..p + 3 (32 channels, all full, one
// block), 12 sums in named registers. Against Pairs4x2Bytes it loads 15 vectors per 12 QuadSteps instead of 6 per
// 8 (Zen 3 issues 3 loads a cycle), and runs a third fewer tiles, each with its loop exit and its epilogue's
// set-up: 28x28x32 -> 32 3x3 78.8 -> 78.2 us, 14x14x16 -> 32 10.7 -> 10.5 us on Zen 3. Rows as Pairs4x2Bytes' (no
// partial group); cq, cq2: the requantization constants of panels p, p + 1 and p + 2, p + 3 (PairRequantCache).
// win (goff != nullptr only): the groups [win->g_first, win->g_first + nseg * seg_groups) of the rows, from
// win->bias.
template <bool kFlip, class TOut>
HWY_INLINE void Pairs3x4Bytes(const Sink<TOut>& out, const gemm_packed_view& pk, std::size_t m, std::size_t p,
                              const std::uint8_t* const* a, std::size_t nseg, std::size_t seg_groups,
                              const PanelPairRequant* cq, const PanelPairRequant* cq2, const std::ptrdiff_t* goff,
                              const TileWindow* win = nullptr) {
  static_assert(!std::is_same_v<TOut, std::int32_t>, "8-bit outputs only");
  HWY_DASSERT(p % 4 == 0 && !out.pool4 && (goff != nullptr || win == nullptr));
  const std::size_t g_first = win != nullptr ? win->g_first : 0;
  HWY_DASSERT(win != nullptr ? (g_first + nseg * seg_groups) * gemm_kr <= pk.k()
                             : nseg * seg_groups * gemm_kr == pk.k());
  const __m256i ones = _mm256_set1_epi16(1);
  const std::size_t gs = pk.group_stride(p);
  const std::uint8_t* w = win != nullptr && win->w != nullptr ? win->w + p * kGroupBytes : pk.group(p, g_first);
  const __m256i* bias = reinterpret_cast<const __m256i*>(
      (win != nullptr ? win->bias : reinterpret_cast<const std::int32_t*>(pk.bias())) + gemm_nr * p);
  const __m256i b0 = _mm256_loadu_si256(bias), b1 = _mm256_loadu_si256(bias + 1);
  const __m256i b2 = _mm256_loadu_si256(bias + 2), b3 = _mm256_loadu_si256(bias + 3);
  __m256i c00 = b0, c01 = b1, c02 = b2, c03 = b3, c10 = b0, c11 = b1, c12 = b2, c13 = b3;
  __m256i c20 = b0, c21 = b1, c22 = b2, c23 = b3;
  if (goff != nullptr) {
    const std::uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2];
    for (const std::ptrdiff_t *go = goff + g_first, *ge = go + nseg * seg_groups; go != ge; ++go, w += gs) {
      const std::ptrdiff_t o = *go;
      STATIQ_PAIRS_ROW_X4(0, a0 + o)
      STATIQ_PAIRS_ROW_X4(1, a1 + o)
      STATIQ_PAIRS_ROW_X4(2, a2 + o)
    }
  } else {
    for (std::size_t s = 0; s < nseg; ++s) {
      const std::uint8_t *a0 = a[s], *a1 = a[nseg + s], *a2 = a[2 * nseg + s];
      for (std::size_t g = 0; g < seg_groups; ++g, w += gs, a0 += 4, a1 += 4, a2 += 4) {
        STATIQ_PAIRS_ROW_X4(0, a0)
        STATIQ_PAIRS_ROW_X4(1, a1)
        STATIQ_PAIRS_ROW_X4(2, a2)
      }
    }
  }
  // By value, as Pairs4x2Bytes' sums.
  if (out.short_rq) Emit3x4Bytes<true>(out, *cq, *cq2, m, p, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23);
  else Emit3x4Bytes<false>(out, *cq, *cq2, m, p, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23);
}
#undef STATIQ_PAIRS_ROW_X4
#undef STATIQ_PAIRS_4X2_GROUP
#undef STATIQ_PAIRS_STEP

// The requantization constants of every panel pair of a call with at most kCachedPairs pairs, built once (per
// tile they were about 40 of the ~430 instructions of a 1x1 convolution's tile with k = 24); For(p) is null for a
// call with more pairs (Pairs4x2Bytes then builds them per tile), for a pair not in the cache and for s32 outputs.
inline constexpr std::size_t kCachedPairs = 8;
struct PairRequantCache {
  PanelPairRequant pair[kCachedPairs];
  std::int8_t slot[2 * kCachedPairs];  // pair[slot[p - p_begin]] holds panels p and p + 1; -1: none
  std::size_t p_begin = 0, p_end = 0;

  // The pairs ForEachTileAVX2's walk takes: from p_begin and from each block's start (pack.hpp) on, two by two.
  template <class TOut>
  HWY_INLINE PairRequantCache(const Sink<TOut>& out, const gemm_packed_view& pk, std::size_t p_begin_,
                              std::size_t p_end_) : p_begin(p_begin_), p_end(p_end_) {
    if (std::is_same_v<TOut, std::int32_t> || p_end - p_begin > 2 * kCachedPairs) {
      p_end = p_begin;
      return;
    }
    std::size_t pairs = 0;
    for (std::size_t i = 0; i < p_end - p_begin; ++i) slot[i] = -1;
    for (std::size_t p = p_begin; p < p_end;) {
      const std::size_t e = gemm_packed_view::block_end(p, p_end);
      for (; p + 2 <= e && out.Width(p + 1) == gemm_nr; p += 2) {
        slot[p - p_begin] = static_cast<std::int8_t>(pairs);
        pair[pairs++] = PanelPairRequant(out, pk, p);
      }
      p = e;
    }
  }
  HWY_INLINE const PanelPairRequant* For(std::size_t p) const {
    if (p - p_begin >= p_end - p_begin || slot[p - p_begin] < 0) return nullptr;
    return &pair[slot[p - p_begin]];
  }
};

// Whether tile (mr, np) of panels from p on takes Pairs4x2Bytes.
template <std::size_t MR, std::size_t NP, bool kPairs, class TOut>
HWY_INLINE bool TakesPairs4x2Bytes(const Sink<TOut>& out, std::size_t p) {
  if constexpr (MR == 4 && NP == 2 && kPairs && !std::is_same_v<TOut, std::int32_t>) {
    return out.Width(p + 1) == gemm_nr;
  }
  return false;
}

template <std::size_t MR, std::size_t NP, bool kPairs, class TIn, class TOut>
HWY_INLINE void BlockAVX2(const gemm_packed_view& pk, std::size_t m, std::size_t p, const TIn* x,
                          std::size_t x_stride, const std::uint16_t* const* widened, const Sink<TOut>& out) {
  const TIn* xr[MR];
  for (std::size_t r = 0; r < MR; ++r) xr[r] = x + (m + r) * x_stride;
  __m256i s[MR * NP];
  TileAVX2<MR, NP, kPairs>(pk, p, xr, widened, s);
  EmitAVX2<MR, NP>(out, pk, m, p, s);
}

// Panels whose weights (at most 192 KiB) stay in L2 while every row block passes over them: a multiple of np.
HWY_INLINE std::size_t PanelsPerL2Block(const gemm_packed_view& pk, std::size_t np) {
  const std::size_t pb = (192 * 1024) / (pk.kp() * gemm_nr);
  return pb < np ? np : pb / np * np;
}

// The tile walk of both AVX2 GEMM drivers. Cache blocking: the weights of a block of panels (<= 192 KiB) stay in
// L2 while every row block passes over them, and the row block's activations stay in L1. Rows in blocks of 4, then
// one block of the 1-3 left; panels NP at a time, then singly. rows_ready(m, n) runs before rows [m, m + n) are
// used (the widening route widens them there); tile(mr, np, m, p) computes and writes one tile, with mr and np
// given as std::integral_constant.
template <std::size_t NP, class RowsReady, class Tile>
HWY_INLINE void ForEachTileAVX2(const gemm_packed_view& pk, std::size_t rows, std::size_t p_begin, std::size_t p_end,
                                const RowsReady& rows_ready, const Tile& tile) {
  using C1 = std::integral_constant<std::size_t, 1>;
  using C2 = std::integral_constant<std::size_t, 2>;
  using C3 = std::integral_constant<std::size_t, 3>;
  using C4 = std::integral_constant<std::size_t, 4>;
  using CNP = std::integral_constant<std::size_t, NP>;
  const std::size_t pb = PanelsPerL2Block(pk, NP);
  for (std::size_t p0 = p_begin; p0 < p_end; p0 += pb) {
    const std::size_t p1 = p0 + pb < p_end ? p0 + pb : p_end;
    std::size_t m = 0;
    for (; m + 4 <= rows; m += 4) {
      rows_ready(m, std::size_t{4});
      for (std::size_t p = p0; p < p1;) {  // a tile's panels lie in one block
        const std::size_t e = gemm_packed_view::block_end(p, p1);
        for (; p + NP <= e; p += NP) tile(C4{}, CNP{}, m, p);
        for (; p < e; ++p) tile(C4{}, C1{}, m, p);
      }
    }
    const std::size_t rest = rows - m;
    if (rest == 0) continue;
    rows_ready(m, rest);
    for (std::size_t p = p0; p < p1; ++p) {
      if (rest == 3) tile(C3{}, C1{}, m, p);
      if (rest == 2) tile(C2{}, C1{}, m, p);
      if (rest == 1) tile(C1{}, C1{}, m, p);
    }
  }
}

// x (rows of k activations, row stride x_stride) times the packed panels [p_begin, p_end): ForEachTileAVX2 with
// tiles of 4 rows x 2 panels (vpmaddubsw) or 4 x 1 (widening; the rows widened once per row block). The tile is
// forced inline: as a call of its own its prologue, epilogue and pointer set-up were an eighth of a 1x1
// convolution's time (28x28x24 -> 48: 25.0 -> 21.8 us inlined).
template <bool kPairs, class TIn, class TOut>
HWY_INLINE void PanelsAVX2(const gemm_packed_view& pk, std::size_t rows, const TIn* x, std::size_t x_stride,
                           const Sink<TOut>& out, std::size_t p_begin, std::size_t p_end) {
  constexpr std::size_t MR = 4;
  const bool widen_once = !kPairs && pk.k() <= kWidenMaxK;
  alignas(32) std::uint16_t buf[kPairs ? 1 : MR][kPairs ? 1 : kWidenMaxK + 16];
  const std::uint16_t* widened[MR] = {};
  const auto rows_ready = [&](std::size_t m, std::size_t n) {
    if constexpr (!kPairs) {
      if (widen_once) {
        for (std::size_t r = 0; r < n; ++r) {
          WidenRow(x + (m + r) * x_stride, pk.k(), buf[r]);
          widened[r] = buf[r];
        }
      }
    }
  };
  const PairRequantCache rq(out, pk, kPairs ? p_begin : p_end, p_end);
  const auto tile = [&](auto mr, auto np, std::size_t m, std::size_t p) HWY_ATTR __attribute__((always_inline)) {
    constexpr std::size_t R = decltype(mr)::value, C = decltype(np)::value;
    if constexpr (kPairs && !std::is_same_v<TOut, std::int32_t>) {
      if (TakesPairs4x2Bytes<R, C, kPairs>(out, p)) {
        const std::uint8_t* a[4];
        for (std::size_t r = 0; r < 4; ++r) a[r] = reinterpret_cast<const std::uint8_t*>(x + (m + r) * x_stride);
        return Pairs4x2Bytes<std::is_same_v<TIn, std::int8_t>>(out, pk, m, p, a, 1, pk.k() / gemm_kr, rq.For(p));
      }
    }
    BlockAVX2<R, C, kPairs>(pk, m, p, x, x_stride, widened, out);
  };
  ForEachTileAVX2<kPairs ? 2 : 1>(pk, rows, p_begin, p_end, rows_ready, tile);
}

// The vpmaddubsw GEMM over segmented rows (the implicit convolution): row m's k values are nseg segments of
// seg_groups whole groups, segment s at tab[m * nseg + s] (nseg * seg_groups groups = k / gemm_kr, k a multiple
// of gemm_kr). A convolution points each segment at one kernel row's taps where they lie in its NHWC input
// (k_w * in_c contiguous values) instead of copying the patch into an im2col row. goff != nullptr: one pointer per
// row, tab[m], group g of row m at tab[m] + goff[g] (segment s starts at goff[s * seg_groups]).
inline constexpr std::size_t kMaxSegAVX2 = 16;  // segments per row
// A remainder tile (rows or panels) of PanelsSegAVX2: not inlined, so the hot tile's code stays compact.
template <std::size_t MR, std::size_t NP, class TIn, class TOut>
HWY_NOINLINE void SegTileAVX2(const gemm_packed_view& pk, const TIn* const* tab, std::size_t nseg,
                              std::size_t seg_groups, const Sink<TOut>& out, std::size_t m, std::size_t p,
                              const std::ptrdiff_t* goff) {
  const TIn* const* rt = tab + m * nseg;
  const TIn* segs[MR * kMaxSegAVX2];
  if (goff != nullptr) {  // one pointer per row: the segments' pointers from the group offsets
    for (std::size_t r = 0; r < MR; ++r)
      for (std::size_t s = 0; s < nseg; ++s) segs[r * nseg + s] = tab[m + r] + goff[s * seg_groups];
    rt = segs;
  }
  __m256i s[MR * NP];
  TileAVX2<MR, NP, true>(pk, p, rt, nullptr, s, nseg, seg_groups);
  EmitAVX2<MR, NP>(out, pk, m, p, s);
}
// On the 3-row tile route, 1 or 2 rows left over are computed as the last 3 rows again, rewriting the others'
// outputs with the same bytes (a convolution's output does not overlap its input).
template <class TIn, class TOut>
HWY_INLINE void PanelsSegAVX2(const gemm_packed_view& pk, std::size_t rows, const TIn* const* tab, std::size_t nseg,
                              std::size_t seg_groups, const Sink<TOut>& out, std::size_t p_begin, std::size_t p_end,
                              const std::ptrdiff_t* goff = nullptr) {
  HWY_DASSERT((pk.flags() & gemm_pairs_fit_s16) != 0 && nseg * seg_groups * gemm_kr == pk.k());
  HWY_DASSERT(goff == nullptr || nseg <= kMaxSegAVX2);
  const PairRequantCache rq(out, pk, p_begin, p_end);
  const std::size_t per_row = goff != nullptr ? 1 : nseg;
  if constexpr (!std::is_same_v<TOut, std::int32_t>) {
    // Pairs3x4Bytes where every panel is full and in quads (p_begin % 4 == 0: a quad lies in one block). Rows in
    // threes; the 1 or 2 left, 2 panels at a time.
    if (!out.pool4 && p_begin % 4 == 0 && (p_end - p_begin) % 4 == 0 && out.Width(p_end - 1) == gemm_nr &&
        rq.For(p_begin) != nullptr) {  // every pair cached (at most kCachedPairs)
      const std::size_t pb = PanelsPerL2Block(pk, 4);
      for (std::size_t p0 = p_begin; p0 < p_end; p0 += pb) {
        const std::size_t p1 = p0 + pb < p_end ? p0 + pb : p_end;
        std::size_t m = 0;
        const auto tile3 = [&](std::size_t m3) HWY_ATTR __attribute__((always_inline)) {
          for (std::size_t p = p0; p < p1; p += 4) {
            Pairs3x4Bytes<std::is_same_v<TIn, std::int8_t>>(
                out, pk, m3, p, reinterpret_cast<const std::uint8_t* const*>(tab + m3 * per_row), nseg, seg_groups,
                rq.For(p), rq.For(p + 2), goff);
          }
        };
        for (; m + 3 <= rows; m += 3) tile3(m);
        if (m < rows && rows >= 3) {  // the last 3 rows again: the same bytes for the 1 or 2 first done
          tile3(rows - 3);
          m = rows;
        }
        for (std::size_t p = p0; p < p1 && m < rows; p += 2) {
          if (rows - m == 2) SegTileAVX2<2, 2>(pk, tab, nseg, seg_groups, out, m, p, goff);
          else SegTileAVX2<1, 2>(pk, tab, nseg, seg_groups, out, m, p, goff);
        }
      }
      return;
    }
  }
  const auto tile = [&](auto mr, auto np, std::size_t m, std::size_t p) HWY_ATTR __attribute__((always_inline)) {
    constexpr std::size_t MR = decltype(mr)::value, NP = decltype(np)::value;
    if constexpr (!std::is_same_v<TOut, std::int32_t>) {
      if (TakesPairs4x2Bytes<MR, NP, true>(out, p)) {
        return Pairs4x2Bytes<std::is_same_v<TIn, std::int8_t>>(
            out, pk, m, p, reinterpret_cast<const std::uint8_t* const*>(tab + m * per_row), nseg, seg_groups,
            rq.For(p), goff);
      }
    }
    SegTileAVX2<MR, NP>(pk, tab, nseg, seg_groups, out, m, p, goff);
  };
  ForEachTileAVX2<2>(pk, rows, p_begin, p_end, [](std::size_t, std::size_t) {}, tile);
}

// Exact batch-1 route for full-range weights. The widening route is bound here by vpmovsxbw (one per cycle
// on Zen 3: 2 per 32 MAC, ~93 GOPS); instead split x = 128 h + l (h in {0,1}, l in [0,127]) once per call:
// vpmaddubsw(l, w) pairs stay within 127 * 128 * 2 = 32512 (exact), and vpmaddubsw(h, w) pairs within 256,
// so those s16 sums are accumulated in s16 for 128 groups (|sum| <= 32768) before one vpmaddwd by 128
// folds them in. 3 multiplies per 32 MAC and no shuffles: ~1.4x the widening GEMV.
inline constexpr std::size_t kSplitGroups = 128;

HWY_INLINE void SplitRow(const std::uint8_t* HWY_RESTRICT x, std::size_t k, bool flip, std::uint8_t* HWY_RESTRICT lo,
                         std::uint8_t* HWY_RESTRICT hi) {
  std::size_t i = 0;
  const __m256i f = _mm256_set1_epi8(static_cast<char>(flip ? 0x80 : 0)), m7 = _mm256_set1_epi8(0x7F);
  for (; i + 32 <= k; i += 32) {
    const __m256i v = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)), f);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + i), _mm256_and_si256(v, m7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + i),
                        _mm256_and_si256(_mm256_srli_epi16(v, 7), _mm256_set1_epi8(1)));
  }
  for (; i < k; ++i) {
    const std::uint8_t v = static_cast<std::uint8_t>(x[i] ^ (flip ? 0x80 : 0));
    lo[i] = v & 0x7F;
    hi[i] = v >> 7;
  }
  for (; i % gemm_kr != 0; ++i) lo[i] = hi[i] = 0;
}

// 4 panels (32 channels) of one row from the split activations; sums (bias' added) to out[4].
HWY_INLINE void Split1x4(const gemm_packed_view& pk, std::size_t p, const std::uint8_t* HWY_RESTRICT lo,
                         const std::uint8_t* HWY_RESTRICT hi, __m256i* out) {
  const std::size_t gs = pk.group_stride(p), groups = pk.kp() / gemm_kr;
  const std::uint8_t* w = pk.group(p, 0);
  const __m256i ones = _mm256_set1_epi16(1), s128 = _mm256_set1_epi16(128);
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
  for (std::size_t g0 = 0; g0 < groups; g0 += kSplitGroups) {
    const std::size_t g1 = g0 + kSplitGroups < groups ? g0 + kSplitGroups : groups;
    __m256i h0 = _mm256_setzero_si256(), h1 = h0, h2 = h0, h3 = h0;
    for (std::size_t g = g0; g < g1; ++g) {
      const std::size_t o = g * gs;
      __m256i xl = BroadcastQuad<false>(lo + 4 * g), xh = BroadcastQuad<false>(hi + 4 * g);
      STATIQ_PIN("+x"(xl), "+x"(xh));
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + o));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + kGroupBytes + o));
      const __m256i w2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 2 * kGroupBytes + o));
      const __m256i w3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 3 * kGroupBytes + o));
      c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_maddubs_epi16(xl, w0), ones));
      h0 = _mm256_add_epi16(h0, _mm256_maddubs_epi16(xh, w0));
      STATIQ_PIN("+x"(c0), "+x"(h0));
      c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_maddubs_epi16(xl, w1), ones));
      h1 = _mm256_add_epi16(h1, _mm256_maddubs_epi16(xh, w1));
      STATIQ_PIN("+x"(c1), "+x"(h1));
      c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(_mm256_maddubs_epi16(xl, w2), ones));
      h2 = _mm256_add_epi16(h2, _mm256_maddubs_epi16(xh, w2));
      STATIQ_PIN("+x"(c2), "+x"(h2));
      c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(_mm256_maddubs_epi16(xl, w3), ones));
      h3 = _mm256_add_epi16(h3, _mm256_maddubs_epi16(xh, w3));
      STATIQ_PIN("+x"(c3), "+x"(h3));
    }
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(h0, s128));
    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(h1, s128));
    c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(h2, s128));
    c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(h3, s128));
  }
  const __m256i c[4] = {c0, c1, c2, c3};
  for (std::size_t j = 0; j < 4; ++j) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pk.bias() + 4 * gemm_nr * (p + j)));
    out[j] = _mm256_add_epi32(c[j], b);
  }
}

// Batch 1 (GEMV): a 512x784 layer streams 401 KB of weights from L2 for 401 K MAC, so loads and multiplies both
// run near their ceilings. With 7-bit weights a whole block of 8 panels per pass (Pairs1x8), then 4, then 1;
// each group's activation broadcast serves all of them.
template <bool kPairs, class TIn, class TOut>
HWY_INLINE void GemvAVX2(const gemm_packed_view& pk, const TIn* x, const Sink<TOut>& out, std::size_t p_begin,
                         std::size_t p_end) {
  constexpr std::size_t NP = kPairs ? 4 : 2;
  const bool split = !kPairs && pk.k() <= kWidenMaxK;
  alignas(32) std::uint8_t lo[kPairs ? 1 : kWidenMaxK + 32], hi[kPairs ? 1 : kWidenMaxK + 32];
  alignas(32) std::uint16_t buf[kPairs ? 1 : kWidenMaxK + 16];
  const std::uint16_t* widened[1] = {nullptr};
  if constexpr (!kPairs) {
    if (split) SplitRow(reinterpret_cast<const std::uint8_t*>(x), pk.k(), std::is_same_v<TIn, std::int8_t>, lo, hi);
  }
  for (std::size_t p = p_begin; p < p_end;) {  // a tile's panels lie in one block
    const std::size_t e = gemm_packed_view::block_end(p, p_end);
    if constexpr (!kPairs) {
      if (split) {
        for (; p + 4 <= e; p += 4) {
          __m256i s[4];
          Split1x4(pk, p, lo, hi, s);
          EmitAVX2<1, 4>(out, pk, 0, p, s);
        }
      }
      if (p < e && widened[0] == nullptr && pk.k() <= kWidenMaxK) {
        WidenRow(x, pk.k(), buf);
        widened[0] = buf;
      }
    }
    if constexpr (kPairs) {
      if (p + gemm_block_panels <= e) {  // a whole block
        BlockAVX2<1, gemm_block_panels, kPairs>(pk, 0, p, x, 0, widened, out);
        p += gemm_block_panels;
      }
    }
    for (; p + NP <= e; p += NP) BlockAVX2<1, NP, kPairs>(pk, 0, p, x, 0, widened, out);
    for (; p < e; ++p) BlockAVX2<1, 1, kPairs>(pk, 0, p, x, 0, widened, out);
  }
}
#undef STATIQ_PIN
#endif  // STATIQ_AVX2_GEMM_PATHS

#if STATIQ_AVX512_PASS
// AVX-512 VNNI: vpdpbusd adds 4 u8 x s8 products to an s32 lane in one instruction, with no s16 step: exact for
// full-range weights (no 7-bit weights, no widening route). Two neighbouring 8-channel panels' 32-byte groups fill
// one zmm (16 channels x 4 k), the zmm's upper half from the next panel (or the same panel again past the last
// one: those lanes are never written). A tile is MR rows x NZ zmm (2 * NZ panels); each row's 4 activations
// arrive by vpbroadcastd from memory. Highway 1.0.3's AVX3 / AVX3_DL targets never enable AVX512-VNNI, and the
// code here needs no compiler support for it (vpdpbusd is inline asm): it compiles in every AVX-512 pass, and runs
// where the CPU is known to have AVX512-VNNI: STATIQ_VNNI_PATHS (the translation unit's flags include it), or
// GemmPackedVnni after a CPUID check (dynamic.hpp).
namespace vnni {

inline constexpr std::size_t kMaxSegments = 16;  // segments per row (kernel rows of an implicit convolution)

HWY_INLINE __mmask16 FirstLanes(std::size_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
}

// Bias, multipliers or shifts of the 16 channels from c0 (n of them valid; masked loads never touch the rest).
HWY_INLINE __m512i Load16(const std::uint8_t* base, std::size_t c0, std::size_t n) {
  return _mm512_maskz_loadu_epi32(FirstLanes(n), base + 4 * c0);
}

// acc += 4 u8 x s8 products per s32 lane. In asm: with the intrinsic GCC 12 copied every accumulator to a new
// register and back around each vpdpbusd and kept some on the stack (measured at half speed).
HWY_INLINE void Dpbusd(__m512i& acc, __m512i x_u8, __m512i w_s8) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x_u8), "v"(w_s8));
}

// One zmm of output channels: [c0, c0 + nc), nc <= 16, and its requantization constants (detail::RequantizeQ31's
// short form where the blob and zero point allow it, Sink::short_rq, else the general one), built once per block.
struct Zmm16 {
  std::size_t c0;
  __mmask16 lanes;  // the nc channels to write
  hn::Vec512<std::int32_t> bias, mult, mult_odd, shr, add;
  hn::Vec512<std::int64_t> rnd_even, rnd_odd;
};

template <class TOut>
HWY_INLINE Zmm16 MakeZmm16(const Sink<TOut>& out, const gemm_packed_view& pk, std::size_t c0, std::size_t nc,
                           std::size_t loaded) {
  const hn::Full512<std::int32_t> d32;
  const hn::Full512<std::int64_t> d64;
  const hn::Full512<std::uint64_t> du64;
  using V = hn::Vec512<std::int32_t>;
  Zmm16 c;
  c.c0 = c0;
  c.lanes = FirstLanes(nc);
  c.bias = V{Load16(pk.bias(), c0, loaded)};
  c.mult = V{Load16(pk.multiplier(), c0, nc)};
  const V shift = V{Load16(pk.shift(), c0, nc)};
  c.shr = hn::Sub(shift, hn::Set(d32, 32));
  c.mult_odd = hn::BitCast(d32, hn::ShiftRight<32>(hn::BitCast(du64, c.mult)));
  const V one = hn::Set(d32, 1);
  c.add = hn::Add(hn::Shl(one, hn::Sub(c.shr, one)), hn::Shl(hn::Set(d32, out.zp), c.shr));  // short form only
  const auto sh64 = hn::BitCast(du64, shift), one64 = hn::Set(du64, 1);
  c.rnd_even = hn::BitCast(d64, hn::Shl(one64, hn::Sub(hn::And(sh64, hn::Set(du64, 0xFFFFFFFFull)), one64)));
  c.rnd_odd = hn::BitCast(d64, hn::Shl(one64, hn::Sub(hn::ShiftRight<32>(sh64), one64)));
  return c;
}

// The Zmm16 of panels p0 and p0 + 1 in a range of panels ending at p_end: p0 + 1 at or past p_end is neither loaded
// (lanes 8-15 get a zero bias) nor written; no channel at or past out.n_end is written.
template <class TOut>
HWY_INLINE Zmm16 PanelPairZmm16(const Sink<TOut>& out, const gemm_packed_view& pk, std::size_t p0, std::size_t p_end) {
  const std::size_t c0 = gemm_nr * p0;
  const std::size_t c_end = out.n_end < gemm_nr * p_end ? out.n_end : gemm_nr * p_end;
  return MakeZmm16(out, pk, c0, c_end - c0 < 16 ? c_end - c0 : 16, p0 + 1 < p_end ? 16 : 8);
}

// The epilogue's values for all of a tile's zmm, held in locals: the stores are of bytes, which may alias
// anything, so GCC re-read every constant, pointer and mask through the Sink and the Zmm16s for each zmm (17
// instructions per zmm, now 11).
template <class TOut>
struct Epilogue {
  TOut* y;
  std::size_t stride;
  __m512i zp, lo, hi;
  __m512i lo8, hi8;  // the clamp in every byte (EmitBytes)
  HWY_INLINE explicit Epilogue(const Sink<TOut>& out)
      : y(out.y), stride(out.stride), zp(_mm512_set1_epi32(out.zp)), lo(_mm512_set1_epi32(out.lo)),
        hi(_mm512_set1_epi32(out.hi)), lo8(_mm512_set1_epi8(static_cast<char>(out.lo))),
        hi8(_mm512_set1_epi8(static_cast<char>(out.hi))) {}
};

// detail::RequantizeQ31 (the short form with kShort) of the s32 sums of the zmm c, not clamped.
template <bool kShort, class TOut>
HWY_INLINE __m512i RequantSums(const Epilogue<TOut>& e, const Zmm16& c, __m512i sums) {
  const hn::Full512<std::int32_t> d32;
  using V = hn::Vec512<std::int32_t>;
  __m512i pe = _mm512_mul_epi32(sums, c.mult.raw);
  __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(sums, 32), c.mult_odd.raw);
  if constexpr (kShort) {
    return _mm512_srav_epi32(_mm512_add_epi32(detail::HighWords(d32, V{pe}, V{po}).raw, c.add.raw), c.shr.raw);
  } else {
    pe = _mm512_add_epi64(pe, c.rnd_even.raw);
    po = _mm512_add_epi64(po, c.rnd_odd.raw);
    return _mm512_add_epi32(_mm512_srav_epi32(detail::HighWords(d32, V{pe}, V{po}).raw, c.shr.raw), e.zp);
  }
}

// Writes the channels c.lanes of [c.c0, c.c0 + 16) of output row y_row from their s32 sums: detail::RequantizeQ31
// (the short form with kShort), the clamp to [lo, hi] and the narrowing.
template <bool kShort, class TOut>
HWY_INLINE void Emit(const Epilogue<TOut>& e, const Zmm16& c, __mmask16 m, TOut* HWY_RESTRICT y, __m512i sums) {
  if constexpr (std::is_same_v<TOut, std::int32_t>) {
    _mm512_mask_storeu_epi32(y, m, sums);
  } else {
    // [lo, hi] lies within TOut's range: the truncating narrow keeps every clamped value.
    const __m512i r = _mm512_min_epi32(_mm512_max_epi32(RequantSums<kShort>(e, c, sums), e.lo), e.hi);
    _mm_mask_storeu_epi8(y, m, _mm512_cvtepi32_epi8(r));
  }
}

// Writes the 16 * NZ channels (NZ = 2, 3 or 4 zmm, all 16 lanes written) of one output row from their s32 sums in
// s[0..NZ): saturating packs to bytes (vpackssdw, vpackuswb / vpacksswb: per 128-bit lane i, dword j holds channels
// 16j + 4i .. 16j + 4i + 3), one vpermd back to channel order, the clamp on the bytes (saturation is monotonic and
// [lo, hi] lies within TOut's range: equal to clamping first) and one store; Emit's narrowing stores with a mask
// cost more in Tile (784x64x64 to u8: 10.18 -> 9.66 us; 784x128x144: 38.3 -> 37.2), though not in TileResident
// (784x96x16: 7.19 -> 7.65 us).
template <std::size_t NZ, bool kShort, class TOut>
HWY_INLINE void EmitBytes(const Epilogue<TOut>& e, const Zmm16 (&zc)[NZ], TOut* HWY_RESTRICT y,
                          const __m512i (&s)[NZ]) {
  static_assert(NZ >= 2 && NZ <= 4, "EmitBytes packs 2 to 4 zmm");
  __m512i r[4];
  STATIQ_UNROLL_FULL(4)
  for (std::size_t z = 0; z < NZ; ++z) r[z] = RequantSums<kShort>(e, zc[z], s[z]);
  const __m512i w01 = _mm512_packs_epi32(r[0], r[1]);
  const __m512i w23 = NZ == 2 ? w01 : _mm512_packs_epi32(r[2], r[NZ == 3 ? 2 : 3]);  // (lanes past NZ not stored)
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  __m512i b;
  if constexpr (std::is_same_v<TOut, std::uint8_t>) {
    b = _mm512_permutexvar_epi32(order, _mm512_packus_epi16(w01, w23));
    b = _mm512_min_epu8(_mm512_max_epu8(b, e.lo8), e.hi8);
  } else {
    b = _mm512_permutexvar_epi32(order, _mm512_packs_epi16(w01, w23));
    b = _mm512_min_epi8(_mm512_max_epi8(b, e.lo8), e.hi8);
  }
  if constexpr (NZ == 4) _mm512_storeu_si512(y, b);
  else if constexpr (NZ == 2) _mm256_storeu_si256(reinterpret_cast<__m256i*>(y), _mm512_castsi512_si256(b));
  else _mm512_mask_storeu_epi8(y, (__mmask64{1} << 48) - 1, b);
}

// 4 activations as one u8 lane pattern in every s32 lane (s8 activations moved to u8 by flipping the sign bits; the
// packer folded the matching correction into the bias).
template <class TIn>
HWY_INLINE __m512i SplatQuad(std::uint32_t q) {
  if constexpr (std::is_same_v<TIn, std::int8_t>) q ^= 0x80808080u;
  return _mm512_set1_epi32(static_cast<int>(q));
}

// The zmm of weights for one group of panels p and p + 1 of a block (16 channels x 4 k): one 64-byte load, aligned
// in a full block of an aligned blob (pack.hpp). Where p is the last panel of an odd block (or of the blob), its upper
// half holds the next group's first panel (or the blob's slack): those lanes are never written.
HWY_INLINE __m512i WeightZmm(const std::uint8_t* at) { return _mm512_loadu_si512(at); }

// Each of a tile's NZ zmm: the channels to write and the output column they start at, in locals.
template <std::size_t NZ, class TOut>
struct OutColumns {
  __mmask16 lanes[NZ];
  TOut* y_col[NZ];
  HWY_INLINE OutColumns(const Epilogue<TOut>& e, const Zmm16 (&zc)[NZ]) {
    STATIQ_UNROLL_FULL(4)
    for (std::size_t z = 0; z < NZ; ++z) {
      lanes[z] = zc[z].lanes;
      y_col[z] = e.y + zc[z].c0;
    }
  }
  // Whether EmitBytes writes the rows: 8-bit outputs, 2 to 4 zmm, every zmm's 16 channels written.
  HWY_INLINE bool Whole() const {
    if constexpr (NZ < 2 || std::is_same_v<TOut, std::int32_t>) return false;
    __mmask16 all = 0xFFFF;
    STATIQ_UNROLL_FULL(4)
    for (std::size_t z = 0; z < NZ; ++z) all &= lanes[z];
    return all == 0xFFFF;
  }
};

// One tile, products and epilogue: rows [m, m + mr) (mr <= MR; the rows past mr repeat row mr - 1's pointers) x
// NZ zmm of 16 channels. Row r's k values lie in nseg segments of sg groups each, segment s at tab[r * nseg + s]
// (a plain GEMM: one segment per row); with tail (one segment only) the last k % 4 activations follow as one more
// group, zero-filled. goff != nullptr (nseg == 1, no tail): group g of row r lies at tab[r] + goff[g] (the
// implicit convolution on a padded input, where every row's kernel rows lie at the same offsets from its first:
// one loop over all groups, no segment switches). w: the first panel's group 0, the tile's panels in one block
// (pack.hpp), group g gs bytes after group g - 1; zmm z takes panel p + 2z's groups in its lower half and p + 2z + 1's
// in its upper half (WeightZmm).
// Not inlined, with no lambda touching the accumulators and no call inside: so GCC keeps the MR x NZ accumulators
// in registers (inlined into its caller, or through a lambda, they went to the stack: 2.6x slower).
template <std::size_t MR, std::size_t NZ, bool kShort, class TIn, class TOut>
HWY_NOINLINE void Tile(const std::uint8_t* HWY_RESTRICT w, std::size_t gs,
                       const TIn* const* tab, const std::ptrdiff_t* goff, std::size_t nseg, std::size_t sg,
                       bool tail, std::size_t k, const Zmm16 (&zc)[NZ], const Sink<TOut>& out, std::size_t m,
                       std::size_t mr) {
  __m512i acc[MR][NZ];
  STATIQ_UNROLL_FULL(16)
  for (std::size_t r = 0; r < MR; ++r) {
    STATIQ_UNROLL_FULL(4)
    for (std::size_t z = 0; z < NZ; ++z) acc[r][z] = zc[z].bias.raw;
  }
  const TIn* rows[MR];  // segment s of each row (the tail reads segment 0, the only one then)
  STATIQ_UNROLL_FULL(16)
  for (std::size_t r = 0; r < MR; ++r) rows[r] = tab[(r < mr ? r : mr - 1) * nseg];
  constexpr std::size_t kPairBytes = 2 * gemm_nr * gemm_kr;  // zmm to zmm
  // Per group: NZ weight zmm, then each row's 4 activations broadcast against them.
  __m512i wv[NZ];
#define STATIQ_VNNI_WEIGHTS(g)                                                                                \
  STATIQ_UNROLL_FULL(4)                                                                                            \
  for (std::size_t z = 0; z < NZ; ++z) {                                                                      \
    wv[z] = WeightZmm(w + (g) * gs + z * kPairBytes);                                                         \
  }
  // Each row's 4 activations at offset o broadcast against the group's weights.
#define STATIQ_VNNI_ROWS(o)                                                                                   \
  STATIQ_UNROLL_FULL(16)                                                                                           \
  for (std::size_t r = 0; r < MR; ++r) {                                                                      \
    std::uint32_t q;                                                                                          \
    std::memcpy(&q, rows[r] + (o), 4);                                                                        \
    const __m512i x = SplatQuad<TIn>(q);                                                                      \
    STATIQ_UNROLL_FULL(4)                                                                                          \
    for (std::size_t z = 0; z < NZ; ++z) Dpbusd(acc[r][z], x, wv[z]);                                         \
  }
  if (goff != nullptr) {
    for (std::size_t g = 0; g < sg; ++g) {
      const std::ptrdiff_t o = goff[g];
      STATIQ_VNNI_WEIGHTS(g)
      STATIQ_VNNI_ROWS(o)
    }
  } else {
    for (std::size_t s = 0; s < nseg; ++s) {
      STATIQ_UNROLL_FULL(16)
      for (std::size_t r = 0; r < MR; ++r) rows[r] = tab[(r < mr ? r : mr - 1) * nseg + s];
      for (std::size_t g = 0; g < sg; ++g) {
        STATIQ_VNNI_WEIGHTS(g)
        STATIQ_VNNI_ROWS(4 * g)
      }
      w += sg * gs;
    }
  }
#undef STATIQ_VNNI_ROWS
  if (tail) {  // the last k % 4 activations after the one segment's sg groups (w is past them), zero-filled
    STATIQ_VNNI_WEIGHTS(0)
    STATIQ_UNROLL_FULL(16)
    for (std::size_t r = 0; r < MR; ++r) {
      // 1 to 3 bytes (as a loop GCC vectorised it on zmm, spilling accumulators around it)
      const TIn* t = rows[r] + 4 * sg;
      std::uint32_t q = static_cast<std::uint8_t>(t[0]);
      if (k - 4 * sg > 1) q |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(t[1])) << 8;
      if (k - 4 * sg > 2) q |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(t[2])) << 16;
      const __m512i x = SplatQuad<TIn>(q);  // (flipped padding bytes meet zero weights)
      STATIQ_UNROLL_FULL(4)
      for (std::size_t z = 0; z < NZ; ++z) Dpbusd(acc[r][z], x, wv[z]);
    }
  }
#undef STATIQ_VNNI_WEIGHTS
  const Epilogue<TOut> e(out);
  const OutColumns<NZ, TOut> oc(e, zc);
  const auto& lanes = oc.lanes;
  const auto& y_col = oc.y_col;
  if (out.pool4) {  // rows in windows of 4 (mr a multiple of 4): the requantized maximum of each window
    // (A guard, not a break: Clang unrolls only loops without an early exit, and else keeps acc in memory.)
    STATIQ_UNROLL_FULL(4)
    for (std::size_t r = 0; r + 4 <= MR; r += 4) {
      if (r < mr) {
        const std::size_t row = (m + r) / 4 * e.stride;
        STATIQ_UNROLL_FULL(4)
        for (std::size_t z = 0; z < NZ; ++z) {
          const __m512i best = _mm512_max_epi32(_mm512_max_epi32(acc[r][z], acc[r + 1][z]),
                                                _mm512_max_epi32(acc[r + 2][z], acc[r + 3][z]));
          Emit<kShort>(e, zc[z], lanes[z], y_col[z] + row, best);
        }
      }
    }
    return;
  }
  std::size_t row = m * e.stride;
  if constexpr (NZ >= 2 && !std::is_same_v<TOut, std::int32_t>) {
    if (oc.Whole()) {
      STATIQ_UNROLL_FULL(16)
      for (std::size_t r = 0; r < MR; ++r, row += e.stride) {
        if (r < mr) EmitBytes<NZ, kShort>(e, zc, y_col[0] + row, acc[r]);
      }
      return;
    }
  }
  STATIQ_UNROLL_FULL(16)
  for (std::size_t r = 0; r < MR; ++r, row += e.stride) {
    if (r < mr) {
      STATIQ_UNROLL_FULL(4)
      for (std::size_t z = 0; z < NZ; ++z) Emit<kShort>(e, zc[z], lanes[z], y_col[z] + row, acc[r][z]);
    }
  }
}

// Small k (a plain GEMM of at most kResidentGroups(NZ) whole groups, no tail): the column block's weights are
// loaded once, as NZ x sg zmm that stay in registers, and the rows run through them MR at a time. Tile reloads
// the weights for every tile of rows, and its prologue and epilogue weigh as much as the products when k is this
// small. The group count is a constant
// (kResidentGroups) so that wv lives in registers; groups past sg are skipped by uniform branches.
inline constexpr std::size_t kResidentZmm = 18;  // weight zmm held, beside up to 3 x 3 accumulators, of 32
// Rows per step: 3 measured faster than 2 or 4 (784x96x16: 7.6, 7.0 and 7.2 us; 784x64x32: 7.3, 6.7, 6.8).
inline constexpr std::size_t kResidentMR = 3;
template <std::size_t NZ>
inline constexpr std::size_t kResidentGroups = kResidentZmm / NZ;
template <std::size_t NZ>
inline constexpr bool kResidentNZ = NZ == 2 || NZ == 3;  // tiles of this many zmm have a resident form

// Whether Columns<MR, NZ> takes TileResident: a plain GEMM (one segment per row, no group offsets) of at most
// kResidentGroups<NZ> whole groups, not pooled.
template <std::size_t NZ, class TOut>
HWY_INLINE bool TakesResident(const gemm_packed_view& pk, const std::ptrdiff_t* goff, std::size_t nseg,
                              std::size_t sg, const Sink<TOut>& out) {
  return kResidentNZ<NZ> && goff == nullptr && nseg == 1 && pk.k() % gemm_kr == 0 && !out.pool4 &&
         sg <= kResidentGroups<NZ>;
}

template <std::size_t MR, std::size_t NZ, bool kShort, class TIn, class TOut>
HWY_NOINLINE void TileResident(const std::uint8_t* HWY_RESTRICT w, std::size_t gs,
                               const TIn* const* tab, std::size_t sg, const Zmm16 (&zc)[NZ],
                               const Sink<TOut>& out, std::size_t rows) {
  constexpr std::size_t kG = kResidentGroups<NZ>;
  constexpr std::size_t kPairBytes = 2 * gemm_nr * gemm_kr;
  __m512i wv[kG][NZ];
  STATIQ_UNROLL_FULL(9)
  for (std::size_t g = 0; g < kG; ++g) {
    if (g < sg) {
      STATIQ_UNROLL_FULL(4)
      for (std::size_t z = 0; z < NZ; ++z) {
        wv[g][z] = WeightZmm(w + z * kPairBytes + g * gs);
      }
    } else {
      STATIQ_UNROLL_FULL(4)
      for (std::size_t z = 0; z < NZ; ++z) wv[g][z] = _mm512_setzero_si512();
    }
  }
  const Epilogue<TOut> e(out);
  const OutColumns<NZ, TOut> oc(e, zc);
  const auto& lanes = oc.lanes;
  const auto& y_col = oc.y_col;
  for (std::size_t m = 0; m < rows; m += MR) {
    __m512i acc[MR][NZ];
    const TIn* rp[MR];
    STATIQ_UNROLL_FULL(8)
    for (std::size_t r = 0; r < MR; ++r) {
      rp[r] = tab[m + r < rows ? m + r : rows - 1];
      STATIQ_UNROLL_FULL(4)
      for (std::size_t z = 0; z < NZ; ++z) acc[r][z] = zc[z].bias.raw;
    }
    STATIQ_UNROLL_FULL(9)
    for (std::size_t g = 0; g < kG; ++g) {
      if (g < sg) {
        STATIQ_UNROLL_FULL(8)
        for (std::size_t r = 0; r < MR; ++r) {
          std::uint32_t q;
          std::memcpy(&q, rp[r] + 4 * g, 4);
          const __m512i x = SplatQuad<TIn>(q);
          STATIQ_UNROLL_FULL(4)
          for (std::size_t z = 0; z < NZ; ++z) Dpbusd(acc[r][z], x, wv[g][z]);
        }
      }
    }
    STATIQ_UNROLL_FULL(8)
    for (std::size_t r = 0; r < MR; ++r) {
      if (m + r < rows) {
        STATIQ_UNROLL_FULL(4)
        for (std::size_t z = 0; z < NZ; ++z)
          Emit<kShort>(e, zc[z], lanes[z], y_col[z] + (m + r) * e.stride, acc[r][z]);
      }
    }
  }
}

// The zmm of panels [p, min(p + 2 * NZ, p_end)) (of one block) over rows [0, rows) in tiles of MR (the last one:
// of 4 or fewer rows when it has that few). tab: the rows' segment pointers (tab[r * nseg + s], see Tile). Fewer
// panels than 2 * NZ - 1 take a narrower tile.
template <std::size_t MR, std::size_t NZ, class TIn, class TOut>
HWY_INLINE void Columns(const gemm_packed_view& pk, const TIn* const* tab, const std::ptrdiff_t* goff,
                        std::size_t nseg, std::size_t sg, const Sink<TOut>& out, std::size_t rows, std::size_t p,
                        std::size_t p_end) {
  if constexpr (NZ > 1) {
    if ((p_end - p + 1) / 2 < NZ) return Columns<MR, NZ - 1>(pk, tab, goff, nseg, sg, out, rows, p, p_end);
  }
  const std::size_t k = pk.k(), gs = pk.group_stride(p);
  const bool tail = nseg == 1 && k % gemm_kr != 0;
  Zmm16 zc[NZ];
  for (std::size_t z = 0; z < NZ; ++z) zc[z] = PanelPairZmm16(out, pk, p + 2 * z, p_end);
  const std::uint8_t* w = pk.group(p, 0);
  const bool resident = TakesResident<NZ>(pk, goff, nseg, sg, out);
  const auto run = [&](auto k_short) HWY_ATTR {
    constexpr bool kShort = decltype(k_short)::value;
    if constexpr (kResidentNZ<NZ>) {
      if (resident) return TileResident<kResidentMR, NZ, kShort>(w, gs, tab, sg, zc, out, rows);
    }
    std::size_t m = 0;
    for (; m + MR <= rows; m += MR)
      Tile<MR, NZ, kShort>(w, gs, tab + m * nseg, goff, nseg, sg, tail, k, zc, out, m, MR);
    if (m == rows) return;
    if constexpr (MR > 4) {
      if (rows - m <= 4)
        return Tile<4, NZ, kShort>(w, gs, tab + m * nseg, goff, nseg, sg, tail, k, zc, out, m, rows - m);
    }
    Tile<MR, NZ, kShort>(w, gs, tab + m * nseg, goff, nseg, sg, tail, k, zc, out, m, rows - m);
  };
  WithRequantForm(out, run);
}

// Tiles: 6 rows x 4 zmm (a block's 8 panels, 64 channels) where a block has 7 or 8 panels left, else 8 rows x 2 or
// 3 zmm. Per group the 6 x 4 tile issues 24 vpdpbusd against 4 weight loads and 6 broadcasts, the 8 x 2 one 16
// against 2 and 8: the broadcasts compete with the products (1024^3: 2690 -> 2580 us, 240x64x1024: 815 -> 873
// GOPS against 891 for vpdpbusd alone; 12 x 2, 8 x 3 and 4 x 4 measured slower than 8 x 2). 6 rows do not hold
// whole pooling windows (pool4), and small k keeps TileResident's 8 x 2 (weights in registers).
inline constexpr std::size_t kWideMR = 6, kWideNZ = 4, kMR = 8, kNZ = 2;
inline constexpr std::size_t kRowQuantum = 24;  // a multiple of both tiles' rows

// GEMV (one row) over panels [p, p_end) of one block, p_end - p <= 2 * NZ: zmm z holds panels p + 2z and p + 2z + 1
// (16 channels), whose groups lie side by side in the blob (pack.hpp), so each group is NZ plain 64-byte loads at
// the block's group stride against its 4 activations broadcast: a full block reads its 256 bytes per group, and the
// blob end to end is one sequential stream (as 8 streams 6 KiB apart, one per panel, a 512x784 layer read its
// 401 KB from L2 at half the speed: 3.62 against 2.6 us). Two sets of accumulators (even and odd groups) keep
// 2 * NZ vpdpbusd in flight.
template <std::size_t NZ, bool kShort, class TIn, class TOut>
HWY_NOINLINE void GemvBlock(const gemm_packed_view& pk, const TIn* HWY_RESTRICT x, const Sink<TOut>& out,
                            std::size_t p, std::size_t p_end) {
  constexpr std::size_t kGroupBytes = gemm_nr * gemm_kr;
  const std::size_t k = pk.k(), sg = k / gemm_kr, gs = pk.group_stride(p);
  const std::uint8_t* HWY_RESTRICT w = pk.group(p, 0);
  // (Where p_end - p is odd the last zmm's upper half is the next group's first panel or the blob's slack: loaded,
  // never written; WeightZmm.)
  __m512i even[NZ], odd[NZ];
  STATIQ_UNROLL_FULL(4)
  for (std::size_t z = 0; z < NZ; ++z) {
    even[z] = Load16(pk.bias(), gemm_nr * (p + 2 * z), p + 2 * z + 1 < p_end ? 16 : 8);
    odd[z] = _mm512_setzero_si512();
  }
  std::size_t g = 0;
  for (; g + 2 <= sg; g += 2, w += 2 * gs) {
    std::uint32_t q0, q1;
    std::memcpy(&q0, x + 4 * g, 4);
    std::memcpy(&q1, x + 4 * g + 4, 4);
    const __m512i x0 = SplatQuad<TIn>(q0), x1 = SplatQuad<TIn>(q1);
    STATIQ_UNROLL_FULL(4)
    for (std::size_t z = 0; z < NZ; ++z) {
      Dpbusd(even[z], x0, WeightZmm(w + 2 * z * kGroupBytes));
      Dpbusd(odd[z], x1, WeightZmm(w + gs + 2 * z * kGroupBytes));
    }
  }
  for (; 4 * g < k; ++g, w += gs) {  // an odd last whole group, then the last k % 4 values (zero-padded weights)
    const std::size_t nb = k - 4 * g < 4 ? k - 4 * g : 4;
    std::uint32_t q = 0;
    if (nb == 4) {
      std::memcpy(&q, x + 4 * g, 4);
    } else {
      for (std::size_t b = 0; b < nb; ++b) q |= std::uint32_t{static_cast<std::uint8_t>(x[4 * g + b])} << (8 * b);
    }
    const __m512i xq = SplatQuad<TIn>(q);  // (flipped padding bytes meet zero weights)
    STATIQ_UNROLL_FULL(4)
    for (std::size_t z = 0; z < NZ; ++z) Dpbusd(even[z], xq, WeightZmm(w + 2 * z * kGroupBytes));
  }
  const Epilogue<TOut> e(out);
  STATIQ_UNROLL_FULL(4)
  for (std::size_t z = 0; z < NZ; ++z) {
    const Zmm16 zc = PanelPairZmm16(out, pk, p + 2 * z, p_end);
    Emit<kShort>(e, zc, zc.lanes, e.y + zc.c0, _mm512_add_epi32(even[z], odd[z]));
  }
}

// GEMV over panels [p_begin, p_end): block by block, a GemvBlock of as many zmm as the panels need.
template <class TIn, class TOut>
HWY_INLINE void Gemv(const gemm_packed_view& pk, const TIn* x, const Sink<TOut>& out, std::size_t p_begin,
                     std::size_t p_end) {
  const auto run = [&](auto k_short) HWY_ATTR {
    constexpr bool kShort = decltype(k_short)::value;
    for (std::size_t p = p_begin; p < p_end;) {
      const std::size_t e = gemm_packed_view::block_end(p, p_end);
      switch ((e - p + 1) / 2) {
        case 4: GemvBlock<4, kShort>(pk, x, out, p, e); break;
        case 3: GemvBlock<3, kShort>(pk, x, out, p, e); break;
        case 2: GemvBlock<2, kShort>(pk, x, out, p, e); break;
        default: GemvBlock<1, kShort>(pk, x, out, p, e); break;
      }
      p = e;
    }
  };
  WithRequantForm(out, run);
}

// The GEMM over rows given as segment tables (tab[r * nseg + s], nseg <= kMaxSegments, each segment sg whole
// groups), or (goff != nullptr, nseg == 1) as one pointer per row with group g at tab[r] + goff[g], g < sg: the
// implicit convolution's entry (PanelsSegAVX2's counterpart).
template <class TIn, class TOut>
HWY_INLINE void PanelsSeg(const gemm_packed_view& pk, std::size_t rows, const TIn* const* tab,
                          const std::ptrdiff_t* goff, std::size_t nseg, std::size_t sg, const Sink<TOut>& out,
                          std::size_t p_begin, std::size_t p_end) {
  const bool wide = !out.pool4 && !TakesResident<kNZ>(pk, goff, nseg, sg, out);
  for (std::size_t b = p_begin; b < p_end;) {  // a tile's panels lie in one block
    const std::size_t e = gemm_packed_view::block_end(b, p_end);
    for (std::size_t p = b; p < e;) {
      if (wide && e - p >= 2 * kWideNZ - 1) {
        Columns<kWideMR, kWideNZ>(pk, tab, goff, nseg, sg, out, rows, p, e);
        p += 2 * kWideNZ;
      } else if (e - p == 5 || e - p == 6) {  // the block's last 40 or 48 channels: one tile of 3 zmm, not 2 + 1
        Columns<kMR, 3>(pk, tab, goff, nseg, sg, out, rows, p, e);
        p = e;
      } else {
        Columns<kMR, kNZ>(pk, tab, goff, nseg, sg, out, rows, p, e);
        p += 2 * kNZ;
      }
    }
    b = e;
  }
}

template <class TIn, class TOut>
HWY_INLINE void Panels(const gemm_packed_view& pk, std::size_t rows, const TIn* x, std::size_t x_stride,
                       const Sink<TOut>& out, std::size_t p_begin, std::size_t p_end) {
  const std::size_t sg = pk.k() / gemm_kr;
  if (rows == 1) return Gemv(pk, x, out, p_begin, p_end);
  // Row blocks of about 64 KiB of activations, a multiple of both tiles' rows (a tile column's weights are read
  // from L1 or L2 by each of the block's row tiles), with a table of their row pointers.
  constexpr std::size_t kBlock = 256;
  std::size_t mb = (65536 / (pk.kp() + 1) + kRowQuantum / 2) / kRowQuantum * kRowQuantum;
  mb = mb < kRowQuantum ? kRowQuantum : (mb > kBlock ? kBlock : mb);
  const TIn* a[kBlock];
  for (std::size_t m0 = 0; m0 < rows; m0 += mb) {
    const std::size_t n = rows - m0 < mb ? rows - m0 : mb;
    for (std::size_t r = 0; r < n; ++r) a[r] = x + (m0 + r) * x_stride;
    Sink<TOut> o = out;
    o.y = out.y + (out.pool4 ? m0 / 4 : m0) * out.stride;
    PanelsSeg(pk, n, a, nullptr, 1, sg, o, p_begin, p_end);
  }
}

}  // namespace vnni
#endif  // STATIQ_AVX512_PASS

template <class TIn, class TOut>
HWY_INLINE void Panels(const gemm_packed_view& pk, std::size_t rows, const TIn* x, std::size_t x_stride,
                       const Sink<TOut>& out, std::size_t p_begin, std::size_t p_end) {
#if STATIQ_AVX2_GEMM_PATHS
  const bool pairs = (pk.flags() & gemm_pairs_fit_s16) != 0;
  if (rows == 1) {
    if (pairs) return GemvAVX2<true>(pk, x, out, p_begin, p_end);
    return GemvAVX2<false>(pk, x, out, p_begin, p_end);
  }
  if (pairs) return PanelsAVX2<true>(pk, rows, x, x_stride, out, p_begin, p_end);
  return PanelsAVX2<false>(pk, rows, x, x_stride, out, p_begin, p_end);
#elif STATIQ_VNNI_PATHS
  vnni::Panels(pk, rows, x, x_stride, out, p_begin, p_end);
#else
  PanelsPortable(pk, rows, x, x_stride, out, p_begin, p_end);
#endif
}
#endif  // HWY_SCALAR

// GemmPacked's body; kVnni: on the vpdpbusd kernels (an AVX-512 pass only) whatever the flags.
template <bool kVnni, class TIn, class TOut>
HWY_INLINE void Entry(const std::uint8_t* HWY_RESTRICT packed, std::size_t rows, const TIn* HWY_RESTRICT x,
                      std::size_t x_stride, TOut* HWY_RESTRICT y, std::size_t y_stride, std::int32_t y_zp,
                      std::int32_t lo, std::int32_t hi, std::size_t n_begin, std::size_t n_end) {
  const gemm_packed_view pk{packed};
  const std::size_t n = pk.n();
  if (n_end > n) n_end = n;
  if (rows == 0 || n_begin >= n_end) return;
  const Sink<TOut> out{y, y_stride, y_zp, lo, hi, n_end, false, ShortRequant(pk, y_zp)};
  const std::size_t p_begin = n_begin / gemm_nr, p_end = (n_end + gemm_nr - 1) / gemm_nr;
#if STATIQ_AVX512_PASS
  if constexpr (kVnni) return vnni::Panels(pk, rows, x, x_stride, out, p_begin, p_end);
#else
  static_assert(!kVnni, "the vpdpbusd kernels exist in AVX-512 passes only");
#endif
  Panels(pk, rows, x, x_stride, out, p_begin, p_end);
}

}  // namespace gemm_detail

// y[m][j] = bias'[j] + sum_i x[m][i] * w[j][i] (s32; TOut = std::int32_t), or that sum requantized with the
// packed per-channel multipliers to TOut = std::uint8_t / std::int8_t with zero point y_zp and clamp
// [lo, hi] (within TOut's range). x: rows x k, row stride x_stride elements; y: rows x n, stride y_stride.
// Only channels [n_begin, n_end) are computed (n_begin a multiple of 8): threads split a layer this way.
// TIn must match the packing (pack_gemm_weights<TIn>); s32 sums wrap modulo 2^32 like ref::gemm_s32.
template <class TIn, class TOut>
HWY_NOINLINE void GemmPacked(const std::uint8_t* HWY_RESTRICT packed, std::size_t rows, const TIn* HWY_RESTRICT x,
                             std::size_t x_stride, TOut* HWY_RESTRICT y, std::size_t y_stride, std::int32_t y_zp,
                             std::int32_t lo, std::int32_t hi, std::size_t n_begin = 0,
                             std::size_t n_end = static_cast<std::size_t>(-1)) {
  gemm_detail::Entry<false>(packed, rows, x, x_stride, y, y_stride, y_zp, lo, hi, n_begin, n_end);
}

#if STATIQ_AVX512_PASS
// GemmPacked on the vpdpbusd kernels whatever the translation unit's flags, for a caller that has checked the CPU
// for AVX512-VNNI (dynamic.hpp's dispatch: its translation unit is compiled for an old baseline, and its AVX-512
// pass would otherwise run the portable tile). Static dispatch never needs it: GemmPacked takes these kernels
// wherever the flags include AVX512-VNNI.
template <class TIn, class TOut>
HWY_NOINLINE void GemmPackedVnni(const std::uint8_t* HWY_RESTRICT packed, std::size_t rows,
                                 const TIn* HWY_RESTRICT x, std::size_t x_stride, TOut* HWY_RESTRICT y,
                                 std::size_t y_stride, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                                 std::size_t n_begin = 0, std::size_t n_end = static_cast<std::size_t>(-1)) {
  gemm_detail::Entry<true>(packed, rows, x, x_stride, y, y_stride, y_zp, lo, hi, n_begin, n_end);
}
#endif

// GemmPacked with a 2x2 max pool fused (Sink::pool4): rows (a multiple of 4) come in groups of 4, the pixels of
// one pooling window; y row m / 4 = the requantized maximum of the group's sums = max_pool(GemmPacked(...)).
// TOut is std::uint8_t or std::int8_t.
template <class TIn, class TOut>
HWY_NOINLINE void GemmPackedMaxPool4(const std::uint8_t* HWY_RESTRICT packed, std::size_t rows,
                                     const TIn* HWY_RESTRICT x, std::size_t x_stride, TOut* HWY_RESTRICT y,
                                     std::size_t y_stride, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                                     std::size_t n_begin = 0, std::size_t n_end = static_cast<std::size_t>(-1)) {
  static_assert(!std::is_same_v<TOut, std::int32_t>, "GemmPackedMaxPool4 requantizes: TOut is u8 or s8");
  const gemm_packed_view pk{packed};
  const std::size_t n = pk.n();
  if (n_end > n) n_end = n;
  HWY_DASSERT(rows % 4 == 0);
  if (rows < 4 || n_begin >= n_end) return;
  const gemm_detail::Sink<TOut> out{y, y_stride, y_zp, lo, hi, n_end, true,
                                    gemm_detail::ShortRequant(pk, y_zp)};
  gemm_detail::Panels(pk, rows - rows % 4, x, x_stride, out, n_begin / gemm_nr, (n_end + gemm_nr - 1) / gemm_nr);
}

// Named entry points (op and types in the name). Plain inline, not HWY_INLINE: a static-dispatch caller
// compiled without the target's attributes (aarch64 without +crypto for NEON) cannot force-inline them.
inline void MatMulU8S8ToS32(const std::uint8_t* packed, std::size_t rows, const std::uint8_t* x,
                            std::size_t x_stride, std::int32_t* y, std::size_t y_stride) {
  GemmPacked<std::uint8_t, std::int32_t>(packed, rows, x, x_stride, y, y_stride, 0, 0, 0);
}
inline void MatMulS8S8ToS32(const std::uint8_t* packed, std::size_t rows, const std::int8_t* x,
                            std::size_t x_stride, std::int32_t* y, std::size_t y_stride) {
  GemmPacked<std::int8_t, std::int32_t>(packed, rows, x, x_stride, y, y_stride, 0, 0, 0);
}
inline void MatMulU8S8ToU8(const std::uint8_t* packed, std::size_t rows, const std::uint8_t* x,
                           std::size_t x_stride, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                           std::uint8_t* y, std::size_t y_stride) {
  GemmPacked<std::uint8_t, std::uint8_t>(packed, rows, x, x_stride, y, y_stride, y_zp, lo, hi);
}
inline void MatMulS8S8ToS8(const std::uint8_t* packed, std::size_t rows, const std::int8_t* x,
                           std::size_t x_stride, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                           std::int8_t* y, std::size_t y_stride) {
  GemmPacked<std::int8_t, std::int8_t>(packed, rows, x, x_stride, y, y_stride, y_zp, lo, hi);
}
// Batch 1 (GEMV: its own AVX2 kernel, selected by rows == 1).
inline void MatVecU8S8ToU8(const std::uint8_t* packed, const std::uint8_t* x, std::int32_t y_zp,
                           std::int32_t lo, std::int32_t hi, std::uint8_t* y) {
  GemmPacked<std::uint8_t, std::uint8_t>(packed, 1, x, 0, y, 0, y_zp, lo, hi);
}
inline void MatVecS8S8ToS8(const std::uint8_t* packed, const std::int8_t* x, std::int32_t y_zp,
                           std::int32_t lo, std::int32_t hi, std::int8_t* y) {
  GemmPacked<std::int8_t, std::int8_t>(packed, 1, x, 0, y, 0, y_zp, lo, hi);
}
inline void MatVecU8S8ToS32(const std::uint8_t* packed, const std::uint8_t* x, std::int32_t* y) {
  GemmPacked<std::uint8_t, std::int32_t>(packed, 1, x, 0, y, 0, 0, 0, 0);
}

}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // STATIQ_KERNELS_GEMM_U8S8_INL_H_
