// Q31 requantization of i32 lanes with per-lane multipliers and shifts, equal to ref::requantize bit for bit.
// Used by the convolution, depthwise and add kernels; lanes carry any channel order the caller chooses.
#if defined(STATIQ_KERNELS_DETAIL_REQUANT_LANES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef STATIQ_KERNELS_DETAIL_REQUANT_LANES_INL_H_
#undef STATIQ_KERNELS_DETAIL_REQUANT_LANES_INL_H_
#else
#define STATIQ_KERNELS_DETAIL_REQUANT_LANES_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/highway.h>

#include "statiq/kernels/ref/requantize.hpp"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE::detail {
namespace hn = hwy::HWY_NAMESPACE;

// Per-lane requantization constants for up to HWY_LANES(int32_t) lanes, filled once per channel block.
// rnd_even[i] / rnd_odd[i] = 2^(shift - 1) of lanes 2i / 2i+1 (the 64-bit rounding term). DeriveRequantLanes
// adds the short form's constants (see there); until it runs, fast is false and the general form is used.
struct RequantLaneParams {
  HWY_ALIGN std::int32_t bias[HWY_LANES(std::int32_t)];
  HWY_ALIGN std::int32_t mult[HWY_LANES(std::int32_t)];
  HWY_ALIGN std::int32_t shr[HWY_LANES(std::int32_t)];  // shift - 32, in [0, 30]
  HWY_ALIGN std::int64_t rnd_even[HWY_LANES(std::int64_t)];
  HWY_ALIGN std::int64_t rnd_odd[HWY_LANES(std::int64_t)];
  HWY_ALIGN std::int32_t mult_odd[HWY_LANES(std::int32_t)];  // lane 2i: mult[2i + 1] (where MulEven reads it)
  HWY_ALIGN std::int32_t add[HWY_LANES(std::int32_t)];       // 2^(shr - 1) + zero_point * 2^shr
  bool fast = false;  // every lane's shr within [1, kRequantShortMaxShr]: the short form is exact
};

// The short form: with P = acc * mult (64 bits) and t = shift - 32 >= 1, ref::requantize's
// floor((P + 2^(31 + t)) / 2^(32 + t)) equals floor((H + 2^(t - 1)) / 2^t) for H = floor(P / 2^32) (the high
// word: dropping P's low word, a fraction below 1, cannot change the floor of an integer divided by 2^t), and
// adding zero_point * 2^t before the shift adds zero_point after it. |H| <= 2^30 (|acc|, mult < 2^31), so the sum
// H + 2^(t - 1) + zero_point * 2^t stays within 32 bits for |zero_point| <= 255 while t <= 21 (255.5 * 2^21 <
// 2^30). It saves the two 64-bit rounding adds and the zero-point add of the general form. Requantization
// scales within [2^-23, 0.25) have such t; others take the general form.
inline constexpr int kRequantShortMaxShr = ref::requant_short_max_shr;

// Fills p's short-form constants for lanes [0, lanes) and output zero point zp; fast if every lane qualifies.
HWY_INLINE void DeriveRequantLanes(RequantLaneParams& p, std::size_t lanes, std::int32_t zp) {
  bool fast = zp >= -255 && zp <= 255;
  for (std::size_t j = 0; j < HWY_LANES(std::int32_t); ++j) {
    p.mult_odd[j] = 0;
    p.add[j] = 0;
  }
  for (std::size_t j = 0; j < lanes; ++j) {
    if (j % 2 == 1) p.mult_odd[j - 1] = p.mult[j];
    const int t = p.shr[j];
    if (t < 1 || t > kRequantShortMaxShr) {
      fast = false;
      continue;
    }
    p.add[j] = (std::int32_t{1} << (t - 1)) + zp * (std::int32_t{1} << t);
  }
  p.fast = fast;
}

// Lane j holds channel first + j * step, or last where that is past it (lanes no output takes); per_channel ==
// false uses m[0] everywhere.
HWY_INLINE void FillRequantLanes(std::size_t lanes, int first, int step, const ref::requant_multiplier* m,
                                 bool per_channel, const std::int32_t* bias, RequantLaneParams& p,
                                 int last = std::numeric_limits<int>::max()) {
  for (std::size_t j = 0; j < lanes; ++j) {
    const int c = std::min(first + static_cast<int>(j) * step, last);
    const ref::requant_multiplier mc = m[per_channel ? c : 0];
    p.bias[j] = bias ? bias[c] : 0;
    p.mult[j] = mc.multiplier;
    p.shr[j] = mc.shift - 32;
    const std::int64_t r = std::int64_t{1} << (mc.shift - 1);
    if (j % 2 == 0) p.rnd_even[j / 2] = r; else p.rnd_odd[j / 2] = r;
  }
}

// Lane 2i: the high word of the 64-bit lane i of pe (its lane 2i + 1); lane 2i + 1: that of po (its own lane).
// On AVX-512 one masked vpshufd: it runs beside vpdpbusd, while the blend (or a vpermt2d) takes a slot of the two
// pipes vpdpbusd and vpmuldq share (half a cycle per zmm, measured on Zen 5).
template <class D32, class V = hn::Vec<D32>>
HWY_INLINE V HighWords(D32 d32, V pe, V po) {
#if STATIQ_AVX512_PASS
  (void)d32;
  if constexpr (sizeof(pe.raw) == 64) {
    return V{_mm512_mask_shuffle_epi32(po.raw, __mmask16(0x5555), pe.raw, _MM_PERM_CDAB)};
  } else if constexpr (sizeof(pe.raw) == 32) {
    return V{_mm256_mask_shuffle_epi32(po.raw, __mmask8(0x55), pe.raw, _MM_PERM_CDAB)};
  } else {
    return V{_mm_mask_shuffle_epi32(po.raw, __mmask8(0x5), pe.raw, _MM_PERM_CDAB)};
  }
#else
  const hn::RebindToUnsigned<hn::RepartitionToWide<D32>> du64;
  return hn::OddEven(po, hn::BitCast(d32, hn::ShiftRight<32>(hn::BitCast(du64, pe))));
#endif
}

// The arithmetic of both forms on vectors. mult_odd holds lane 2i + 1's multiplier in lane 2i (where MulEven
// reads it). kShort: add = 2^(shr - 1) + zp * 2^shr per lane (see kRequantShortMaxShr); rnd_even, rnd_odd and zp
// are unused. Otherwise rnd_even / rnd_odd hold 2^(shr + 31) for the even / odd lanes' 64-bit products, zp is
// added after the shift, and add is unused. The result is not clamped.
template <bool kShort, class D32, class V = hn::Vec<D32>, class V64 = hn::Vec<hn::RepartitionToWide<D32>>>
HWY_INLINE V RequantizeQ31(D32 d32, V acc, V mult, V mult_odd, V shr, V add, V64 rnd_even, V64 rnd_odd, V zp) {
  const hn::RepartitionToWide<D32> d64;
  const hn::RebindToUnsigned<decltype(d64)> du64;
  const auto acc_o = hn::BitCast(d32, hn::ShiftRight<32>(hn::BitCast(du64, acc)));
  auto pe = hn::MulEven(acc, mult);
  auto po = hn::MulEven(acc_o, mult_odd);
  if constexpr (!kShort) {
    pe = hn::Add(pe, rnd_even);
    po = hn::Add(po, rnd_odd);
  }
  const auto high = HighWords(d32, hn::BitCast(d32, pe), hn::BitCast(d32, po));
  if constexpr (kShort) return hn::Shr(hn::Add(high, add), shr);
  return hn::Add(hn::Shr(high, shr), zp);
}

// round_half_up(acc * mult / 2^(32 + shr)) per lane (the general form without the zero point): adding the
// rounding term to the 64-bit products and keeping the high words is exact because |acc * mult| < 2^62; the
// remaining shift (0..30) is a 32-bit arithmetic shift.
template <class D32>
HWY_INLINE hn::Vec<D32> MulShiftQ31(D32 d32, hn::Vec<D32> acc, hn::Vec<D32> mult, hn::Vec<D32> shr,
                                    hn::Vec<hn::RepartitionToWide<D32>> rnd_even,
                                    hn::Vec<hn::RepartitionToWide<D32>> rnd_odd) {
  const hn::RebindToUnsigned<hn::RepartitionToWide<D32>> du64;
  const auto mult_odd = hn::BitCast(d32, hn::ShiftRight<32>(hn::BitCast(du64, mult)));
  return RequantizeQ31<false>(d32, acc, mult, mult_odd, shr, hn::Zero(d32), rnd_even, rnd_odd, hn::Zero(d32));
}

// ref::requantize on every lane, with p's lane constants starting at lane offset `off` (a multiple of 2). kShort:
// the short form, which requires p.fast (DeriveRequantLanes with this zp); a caller decides once per call, for all
// its channel blocks, so the per-pixel code has no branch. kClamp == false leaves out the clamp to [lo, hi], for a
// caller that clamps after narrowing (saturating narrowing is monotonic and exact on [lo, hi]: the results are
// equal).
template <bool kShort = false, bool kClamp = true, class D32>
HWY_INLINE hn::Vec<D32> RequantizeLanes(D32 d32, hn::Vec<D32> acc, const RequantLaneParams& p, std::size_t off,
                                        hn::Vec<D32> zp, hn::Vec<D32> lo, hn::Vec<D32> hi) {
  const hn::RepartitionToWide<D32> d64;
  const hn::RebindToUnsigned<decltype(d64)> du64;
  const auto mult = hn::LoadU(d32, p.mult + off);
  hn::Vec<D32> v;
  if constexpr (kShort) {
    HWY_DASSERT(p.fast);
    v = RequantizeQ31<true>(d32, acc, mult, hn::LoadU(d32, p.mult_odd + off), hn::LoadU(d32, p.shr + off),
                            hn::LoadU(d32, p.add + off), hn::Zero(d64), hn::Zero(d64), zp);
  } else {
    v = RequantizeQ31<false>(d32, acc, mult, hn::BitCast(d32, hn::ShiftRight<32>(hn::BitCast(du64, mult))),
                             hn::LoadU(d32, p.shr + off), zp, hn::LoadU(d64, p.rnd_even + off / 2),
                             hn::LoadU(d64, p.rnd_odd + off / 2), zp);
  }
  if constexpr (!kClamp) return v;
  return hn::Min(hn::Max(v, lo), hi);
}

}  // namespace statiq::kernels::HWY_NAMESPACE::detail
HWY_AFTER_NAMESPACE();

#endif  // STATIQ_KERNELS_DETAIL_REQUANT_LANES_INL_H_
