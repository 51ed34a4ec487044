// Requantization s32 -> u8/s8 (Q31 multiplier, shift 32..62, round half up, zero point, fused clamp), SIMD.

// Toggling include guard: re-included once per Highway target (foreach_target.h).
#if defined(STATIQ_KERNELS_REQUANTIZE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef STATIQ_KERNELS_REQUANTIZE_INL_H_
#undef STATIQ_KERNELS_REQUANTIZE_INL_H_
#else
#define STATIQ_KERNELS_REQUANTIZE_INL_H_
#endif

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/detail/hwy_config.hpp"
#include "hwy/highway.h"
#include "statiq/kernels/detail/requant_lanes-inl.h"
#include "statiq/kernels/ref/requantize.hpp"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR
// Exact ref::requantize on a vector, per-lane multiplier and shift. The 64-bit product of each lane is
// formed by MulEven (vpmuldq) on even lanes and on the odd lanes moved down by Shuffle2301; adding
// 2^(shift-1) in 64 bits and keeping the high 32 bits (detail::HighWords) leaves only a 32-bit arithmetic shift
// by shift-32, which every target has (AVX2 has no 64-bit arithmetic shift: that is why shift >= 32).
template <class D32, class V = hn::Vec<D32>>
HWY_INLINE V RequantizeVec(D32 d32, V acc, V mult, V shift, V zp, V lo, V hi) {
  const hn::Repartition<int64_t, D32> d64;
  const hn::Repartition<uint64_t, D32> du64;
  const auto one = hn::Set(du64, 1);
  const auto sh64 = hn::BitCast(du64, shift);
  const auto sh_even = hn::And(sh64, hn::Set(du64, 0xFFFFFFFFull));
  const auto sh_odd = hn::ShiftRight<32>(sh64);
  const auto p_even = hn::Add(hn::MulEven(acc, mult), hn::BitCast(d64, hn::Shl(one, hn::Sub(sh_even, one))));
  const auto p_odd = hn::Add(hn::MulEven(hn::Shuffle2301(acc), hn::Shuffle2301(mult)),
                             hn::BitCast(d64, hn::Shl(one, hn::Sub(sh_odd, one))));
  const V high = detail::HighWords(d32, hn::BitCast(d32, p_even), hn::BitCast(d32, p_odd));
  const V r = hn::Shr(high, hn::Sub(shift, hn::Set(d32, 32)));
  return hn::Min(hn::Max(hn::Add(r, zp), lo), hi);
}

// Same with one multiplier for every lane (per-tensor): the rounding term and the shift are constants.
template <class D32, class V = hn::Vec<D32>>
HWY_INLINE V RequantizeVec(D32 d32, V acc, V mult, ref::requant_multiplier m, V zp, V lo, V hi) {
  const hn::Repartition<int64_t, D32> d64;
  const auto round = hn::Set(d64, std::int64_t{1} << (m.shift - 1));
  const auto p_even = hn::Add(hn::MulEven(acc, mult), round);
  const auto p_odd = hn::Add(hn::MulEven(hn::Shuffle2301(acc), mult), round);
  const V high = detail::HighWords(d32, hn::BitCast(d32, p_even), hn::BitCast(d32, p_odd));
  const V r = hn::ShiftRightSame(high, m.shift - 32);
  return hn::Min(hn::Max(hn::Add(r, zp), lo), hi);
}
#endif

// out[i] = ref::requantize(acc[i], {mult[i], shift[i]}, zp, lo, hi), i < n; per-channel multipliers given
// as two arrays (structure of arrays: one vector load each). TOut is std::uint8_t or std::int8_t and
// [lo, hi] lies within its range.
template <class TOut>
HWY_NOINLINE void RequantizeS32PerChannel(const std::int32_t* HWY_RESTRICT acc, std::size_t n,
                                          const std::int32_t* HWY_RESTRICT mult,
                                          const std::int32_t* HWY_RESTRICT shift, std::int32_t zp, std::int32_t lo,
                                          std::int32_t hi, TOut* HWY_RESTRICT out) {
  std::size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  const hn::ScalableTag<std::int32_t> d32;
  const hn::Rebind<TOut, decltype(d32)> d8;
  const std::size_t N = hn::Lanes(d32);
  const auto vzp = hn::Set(d32, zp), vlo = hn::Set(d32, lo), vhi = hn::Set(d32, hi);
  for (; i + N <= n; i += N) {
    const auto r = RequantizeVec(d32, hn::LoadU(d32, acc + i), hn::LoadU(d32, mult + i), hn::LoadU(d32, shift + i),
                                 vzp, vlo, vhi);
    hn::StoreU(hn::DemoteTo(d8, r), d8, out + i);
  }
#endif
  for (; i < n; ++i) out[i] = static_cast<TOut>(ref::requantize(acc[i], {mult[i], shift[i]}, zp, lo, hi));
}

// Per-tensor: one multiplier for all n values.
template <class TOut>
HWY_NOINLINE void RequantizeS32PerTensor(const std::int32_t* HWY_RESTRICT acc, std::size_t n,
                                         ref::requant_multiplier m, std::int32_t zp, std::int32_t lo,
                                         std::int32_t hi, TOut* HWY_RESTRICT out) {
  std::size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  const hn::ScalableTag<std::int32_t> d32;
  const hn::Rebind<TOut, decltype(d32)> d8;
  const std::size_t N = hn::Lanes(d32);
  const auto vzp = hn::Set(d32, zp), vlo = hn::Set(d32, lo), vhi = hn::Set(d32, hi);
  const auto vm = hn::Set(d32, m.multiplier);
  for (; i + N <= n; i += N) {
    const auto r = RequantizeVec(d32, hn::LoadU(d32, acc + i), vm, m, vzp, vlo, vhi);
    hn::StoreU(hn::DemoteTo(d8, r), d8, out + i);
  }
#endif
  for (; i < n; ++i) out[i] = static_cast<TOut>(ref::requantize(acc[i], m, zp, lo, hi));
}

inline void RequantizeS32ToU8PerChannel(const std::int32_t* acc, std::size_t n, const std::int32_t* mult,
                                        const std::int32_t* shift, std::int32_t zp, std::int32_t lo,
                                        std::int32_t hi, std::uint8_t* out) {
  RequantizeS32PerChannel<std::uint8_t>(acc, n, mult, shift, zp, lo, hi, out);
}
inline void RequantizeS32ToS8PerChannel(const std::int32_t* acc, std::size_t n, const std::int32_t* mult,
                                        const std::int32_t* shift, std::int32_t zp, std::int32_t lo,
                                        std::int32_t hi, std::int8_t* out) {
  RequantizeS32PerChannel<std::int8_t>(acc, n, mult, shift, zp, lo, hi, out);
}
inline void RequantizeS32ToU8(const std::int32_t* acc, std::size_t n, ref::requant_multiplier m,
                              std::int32_t zp, std::int32_t lo, std::int32_t hi, std::uint8_t* out) {
  RequantizeS32PerTensor<std::uint8_t>(acc, n, m, zp, lo, hi, out);
}
inline void RequantizeS32ToS8(const std::int32_t* acc, std::size_t n, ref::requant_multiplier m,
                              std::int32_t zp, std::int32_t lo, std::int32_t hi, std::int8_t* out) {
  RequantizeS32PerTensor<std::int8_t>(acc, n, m, zp, lo, hi, out);
}

}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // STATIQ_KERNELS_REQUANTIZE_INL_H_
