// Splits a channel count into full vectors, then 16/8/4-lane vectors, leaving fewer than 4 for scalar code.
#if defined(STATIQ_KERNELS_DETAIL_CHANNEL_BLOCKS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef STATIQ_KERNELS_DETAIL_CHANNEL_BLOCKS_INL_H_
#undef STATIQ_KERNELS_DETAIL_CHANNEL_BLOCKS_INL_H_
#else
#define STATIQ_KERNELS_DETAIL_CHANNEL_BLOCKS_INL_H_
#endif

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE::detail {
namespace hn = hwy::HWY_NAMESPACE;

// Calls f(d, c0) for consecutive blocks of Lanes(d) channels of type T; returns the first channel left
// (at most 3 remain). Narrow layers (24 channels: 16 + 8 on AVX2) thus stay in vectors.
template <class T, class Func>
HWY_INLINE int ForEachChannelBlock(int channels, const Func& f) {
  int c = 0;
  const hn::ScalableTag<T> d;
  const int n = static_cast<int>(hn::Lanes(d));
  for (; c + n <= channels; c += n) f(d, c);
  const hn::CappedTag<T, 16> d16;
  const int n16 = static_cast<int>(hn::Lanes(d16));
  if (n16 < n && c + n16 <= channels) {
    f(d16, c);
    c += n16;
  }
  const hn::CappedTag<T, 8> d8;
  const int n8 = static_cast<int>(hn::Lanes(d8));
  if (n8 < n && n8 < n16 && c + n8 <= channels) {
    f(d8, c);
    c += n8;
  }
  const hn::CappedTag<T, 4> d4;
  const int n4 = static_cast<int>(hn::Lanes(d4));
  if (n4 == 4 && n4 < n && n4 < n8 && c + n4 <= channels) {
    f(d4, c);
    c += n4;
  }
  return c;
}

}  // namespace statiq::kernels::HWY_NAMESPACE::detail
HWY_AFTER_NAMESPACE();

#endif  // STATIQ_KERNELS_DETAIL_CHANNEL_BLOCKS_INL_H_
