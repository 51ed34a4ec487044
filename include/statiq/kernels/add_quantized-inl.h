// Element-wise addition of two quantized u8/s8 tensors with different scales and zero points, requantized.
// Shape: a, b, y [n] (same shape; broadcasting is the caller's).
#if defined(STATIQ_KERNELS_ADD_QUANTIZED_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef STATIQ_KERNELS_ADD_QUANTIZED_INL_H_
#undef STATIQ_KERNELS_ADD_QUANTIZED_INL_H_
#else
#define STATIQ_KERNELS_ADD_QUANTIZED_INL_H_
#endif

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/highway.h>

#include "statiq/kernels/detail/requant_lanes-inl.h"
#include "statiq/kernels/ref/add_q.hpp"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

namespace detail {

template <class T>
HWY_INLINE void AddQuantized(std::size_t n, const qadd_params& p, const T* HWY_RESTRICT a, const T* HWY_RESTRICT b,
                             T* HWY_RESTRICT y) {
#if HWY_TARGET == HWY_SCALAR
  ref::add_q(n, p, a, b, y);
#else
  const hn::ScalableTag<std::int32_t> d32;
  const hn::RepartitionToWide<decltype(d32)> d64;
  const hn::Rebind<T, decltype(d32)> dt;
  const std::size_t N = hn::Lanes(d32);
  const auto za = hn::Set(d32, p.a_zero_point), zb = hn::Set(d32, p.b_zero_point), zy = hn::Set(d32, p.y_zero_point);
  const auto ma = hn::Set(d32, p.a_multiplier.multiplier), mb = hn::Set(d32, p.b_multiplier.multiplier);
  const auto my = hn::Set(d32, p.y_multiplier.multiplier);
  const auto sa = hn::Set(d32, p.a_multiplier.shift - 32), sb = hn::Set(d32, p.b_multiplier.shift - 32);
  const auto sy = hn::Set(d32, p.y_multiplier.shift - 32);
  const auto ra = hn::Set(d64, std::int64_t{1} << (p.a_multiplier.shift - 1));
  const auto rb = hn::Set(d64, std::int64_t{1} << (p.b_multiplier.shift - 1));
  const auto ry = hn::Set(d64, std::int64_t{1} << (p.y_multiplier.shift - 1));
  const auto lo = hn::Set(d32, p.lo), hi = hn::Set(d32, p.hi);
  std::size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto av = hn::ShiftLeft<qadd_left_shift>(hn::Sub(hn::PromoteTo(d32, hn::LoadU(dt, a + i)), za));
    const auto bv = hn::ShiftLeft<qadd_left_shift>(hn::Sub(hn::PromoteTo(d32, hn::LoadU(dt, b + i)), zb));
    const auto sum = hn::Add(MulShiftQ31(d32, av, ma, sa, ra, ra), MulShiftQ31(d32, bv, mb, sb, rb, rb));
    auto v = hn::Add(MulShiftQ31(d32, sum, my, sy, ry, ry), zy);
    v = hn::Min(hn::Max(v, lo), hi);
    hn::StoreU(hn::DemoteTo(dt, v), dt, y + i);
  }
  if (i < n) ref::add_q(n - i, p, a + i, b + i, y + i);
#endif
}

}  // namespace detail

// Equal to ref::add_q bit for bit (TFLite's scheme: left shift 20, Q31 multipliers, round half up).
HWY_INLINE void AddQuantizedU8(std::size_t n, const qadd_params& p, const std::uint8_t* a, const std::uint8_t* b,
                               std::uint8_t* y) {
  detail::AddQuantized(n, p, a, b, y);
}
HWY_INLINE void AddQuantizedS8(std::size_t n, const qadd_params& p, const std::int8_t* a, const std::int8_t* b,
                               std::int8_t* y) {
  detail::AddQuantized(n, p, a, b, y);
}

}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // STATIQ_KERNELS_ADD_QUANTIZED_INL_H_
