// Max, average and global average pooling on u8/s8 and f32, NHWC, vectorized over channels.
// Shape: x [in_h][in_w][C] -> y [out_h][out_w][C]; global: x [hw][C] -> y [C].
#if defined(STATIQ_KERNELS_POOL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef STATIQ_KERNELS_POOL_INL_H_
#undef STATIQ_KERNELS_POOL_INL_H_
#else
#define STATIQ_KERNELS_POOL_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <limits>

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/highway.h>

#include "statiq/kernels/detail/channel_blocks-inl.h"
#include "statiq/kernels/ref/pool.hpp"
#include "statiq/kernels/ref/pool_f32.hpp"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

namespace detail {

using PoolWindow = pool_window;
HWY_INLINE PoolWindow PoolWindowAt(const pool2d_dims& d, bool count_include_pad, int oh, int ow) {
  return pool_window_at(d, count_include_pad, oh, ow);
}

// Max over the taps inside the input, any dilation; T is u8, s8 or float (exact for all three).
template <class T>
HWY_INLINE void MaxPool(const pool2d_dims& d, const T* HWY_RESTRICT x, T* HWY_RESTRICT y) {
#if HWY_TARGET == HWY_SCALAR
  if constexpr (std::is_same_v<T, float>) ref::max_pool_f32(d, x, y); else ref::max_pool_q(d, x, y);
#else
  const int C = d.channels;
  // Windows wholly inside the input (all of them for unpadded pooling) read their taps at fixed offsets from
  // the window's first element: no bounds checks, the first tap loaded rather than maxed with the lowest value.
  constexpr int kMaxTaps = 64;
  std::ptrdiff_t tap[kMaxTaps];
  const int taps = d.k_h * d.k_w;
  if (taps <= kMaxTaps)
    for (int kh = 0; kh < d.k_h; ++kh)
      for (int kw = 0; kw < d.k_w; ++kw)
        tap[kh * d.k_w + kw] = (static_cast<std::ptrdiff_t>(kh) * d.dil_h * d.in_w + static_cast<std::ptrdiff_t>(kw) * d.dil_w) * C;
  for (int oh = 0; oh < d.out_h; ++oh)
    for (int ow = 0; ow < d.out_w; ++ow) {
      const int ih0 = oh * d.stride_h - d.pad_top, iw0 = ow * d.stride_w - d.pad_left;
      T* yp = y + (static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * C;
      if (taps <= kMaxTaps && ih0 >= 0 && iw0 >= 0 && ih0 + (d.k_h - 1) * d.dil_h < d.in_h &&
          iw0 + (d.k_w - 1) * d.dil_w < d.in_w) {
        const T* xp = x + (static_cast<std::ptrdiff_t>(ih0) * d.in_w + iw0) * C;
        const auto inside = [&](auto dt, int c0) HWY_ATTR {
          auto m = hn::LoadU(dt, xp + c0);
          for (int t = 1; t < taps; ++t) m = hn::Max(m, hn::LoadU(dt, xp + tap[t] + c0));
          hn::StoreU(m, dt, yp + c0);
        };
        for (int cc = ForEachChannelBlock<T>(C, inside); cc < C; ++cc) {  // < 4 channels left
          T m = std::is_same_v<T, float> ? T(-std::numeric_limits<float>::infinity()) : xp[cc];
          for (int t = std::is_same_v<T, float> ? 0 : 1; t < taps; ++t) m = xp[tap[t] + cc] > m ? xp[tap[t] + cc] : m;
          yp[cc] = m;
        }
        continue;
      }
      const auto block = [&](auto dt, int c0) HWY_ATTR {
        auto m = hn::Set(dt, std::is_same_v<T, float> ? -std::numeric_limits<float>::infinity()
                                                       : std::numeric_limits<T>::lowest());
        bool any = false;
        for (int kh = 0; kh < d.k_h; ++kh) {
          const int ih = ih0 + kh * d.dil_h;
          if (ih < 0 || ih >= d.in_h) continue;
          for (int kw = 0; kw < d.k_w; ++kw) {
            const int iw = iw0 + kw * d.dil_w;
            if (iw < 0 || iw >= d.in_w) continue;
            m = hn::Max(m, hn::LoadU(dt, x + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw) * C + c0));
            any = true;
          }
        }
        if (!any && !std::is_same_v<T, float>) m = hn::Zero(dt);
        hn::StoreU(m, dt, yp + c0);
      };
      const int c = ForEachChannelBlock<T>(C, block);
      for (int cc = c; cc < C; ++cc) {  // < 4 channels left
        bool any = false;
        T m = std::is_same_v<T, float> ? T(-std::numeric_limits<float>::infinity()) : T(0);
        for (int kh = 0; kh < d.k_h; ++kh) {
          const int ih = ih0 + kh * d.dil_h;
          if (ih < 0 || ih >= d.in_h) continue;
          for (int kw = 0; kw < d.k_w; ++kw) {
            const int iw = iw0 + kw * d.dil_w;
            if (iw < 0 || iw >= d.in_w) continue;
            const T v = x[(static_cast<std::ptrdiff_t>(ih) * d.in_w + iw) * C + cc];
            if constexpr (std::is_same_v<T, float>) m = v > m ? v : m;
            else m = (!any || v > m) ? v : m;
            any = true;
          }
        }
        yp[cc] = m;
      }
    }
#endif
}

#if HWY_TARGET != HWY_SCALAR
// zp + div_round_half_away(s, count) on i32 lanes. The division runs in f32: with n = 2|s| + count and
// n < 2^23, the correctly rounded quotient n / (2 count) never crosses an integer, so its floor is exact.
template <class D32>
HWY_INLINE hn::Vec<D32> RoundedAverage(D32 d32, hn::Vec<D32> s, int count) {
  const hn::Rebind<float, D32> df;
  const auto a = hn::Abs(s);
  const auto n = hn::Add(hn::Add(a, a), hn::Set(d32, count));
  const auto q = hn::ConvertTo(d32, hn::Floor(hn::Div(hn::ConvertTo(df, n), hn::Set(df, 2.0f * count))));
  return hn::IfThenElse(hn::Lt(s, hn::Zero(d32)), hn::Neg(q), q);
}
#endif

// Quantized average; see ref::avg_pool_q. Windows of more than 16384 taps go to the reference (the f32
// division above needs 2 * 255 * taps < 2^23).
template <class T>
HWY_INLINE void AvgPoolQ(const pool2d_dims& d, bool count_include_pad, std::int32_t zp, std::int32_t lo,
                         std::int32_t hi, const T* HWY_RESTRICT x, T* HWY_RESTRICT y) {
#if HWY_TARGET == HWY_SCALAR
  ref::avg_pool_q(d, count_include_pad, zp, lo, hi, x, y);
#else
  if (d.k_h * d.k_w > 16384 || d.dil_h != 1 || d.dil_w != 1)
    return ref::avg_pool_q(d, count_include_pad, zp, lo, hi, x, y);
  const int C = d.channels;
  for (int oh = 0; oh < d.out_h; ++oh)
    for (int ow = 0; ow < d.out_w; ++ow) {
      const PoolWindow win = PoolWindowAt(d, count_include_pad, oh, ow);
      const int valid = (win.he - win.hs) * (win.we - win.ws);
      T* yp = y + (static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * C;
      const auto block = [&](auto d32, int c0) HWY_ATTR {
        const hn::Rebind<T, decltype(d32)> dt;
        auto s = hn::Set(d32, -valid * zp);
        for (int ih = win.hs; ih < win.he; ++ih)
          for (int iw = win.ws; iw < win.we; ++iw)
            s = hn::Add(s, hn::PromoteTo(d32, hn::LoadU(dt, x + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw) * C + c0)));
        auto v = hn::Set(d32, zp);
        if (win.count > 0) v = hn::Add(v, RoundedAverage(d32, s, win.count));
        v = hn::Min(hn::Max(v, hn::Set(d32, lo)), hn::Set(d32, hi));
        hn::StoreU(hn::DemoteTo(dt, v), dt, yp + c0);
      };
      const int c = ForEachChannelBlock<std::int32_t>(C, block);
      for (int cc = c; cc < C; ++cc) {
        std::int32_t s = 0;
        for (int ih = win.hs; ih < win.he; ++ih)
          for (int iw = win.ws; iw < win.we; ++iw) s += std::int32_t{x[(ih * d.in_w + iw) * C + cc]} - zp;
        std::int32_t v = zp + (win.count > 0 ? ref::div_round_half_away(s, win.count) : 0);
        yp[cc] = static_cast<T>(v < lo ? lo : (v > hi ? hi : v));
      }
    }
#endif
}

// Float average; the same sums in the same order as ref::avg_pool_f32, hence bit-identical.
HWY_INLINE void AvgPoolF32(const pool2d_dims& d, bool count_include_pad, const float* HWY_RESTRICT x,
                           float* HWY_RESTRICT y) {
#if HWY_TARGET == HWY_SCALAR
  ref::avg_pool_f32(d, count_include_pad, x, y);
#else
  if (d.dil_h != 1 || d.dil_w != 1) return ref::avg_pool_f32(d, count_include_pad, x, y);
  const int C = d.channels;
  for (int oh = 0; oh < d.out_h; ++oh)
    for (int ow = 0; ow < d.out_w; ++ow) {
      const PoolWindow win = PoolWindowAt(d, count_include_pad, oh, ow);
      float* yp = y + (static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * C;
      const auto block = [&](auto df, int c0) HWY_ATTR {
        auto s = hn::Zero(df);
        for (int ih = win.hs; ih < win.he; ++ih)
          for (int iw = win.ws; iw < win.we; ++iw)
            s = hn::Add(s, hn::LoadU(df, x + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw) * C + c0));
        hn::StoreU(win.count > 0 ? hn::Div(s, hn::Set(df, static_cast<float>(win.count))) : hn::Zero(df), df,
                   yp + c0);
      };
      const int c = ForEachChannelBlock<float>(C, block);
      for (int cc = c; cc < C; ++cc) {
        float s = 0.0f;
        for (int ih = win.hs; ih < win.he; ++ih)
          for (int iw = win.ws; iw < win.we; ++iw) s += x[(ih * d.in_w + iw) * C + cc];
        yp[cc] = win.count > 0 ? s / static_cast<float>(win.count) : 0.0f;
      }
    }
#endif
}

template <class T>
HWY_INLINE void GlobalAvgPoolQ(std::size_t hw, std::size_t channels, std::int32_t zp, std::int32_t lo,
                               std::int32_t hi, const T* HWY_RESTRICT x, T* HWY_RESTRICT y) {
#if HWY_TARGET == HWY_SCALAR
  ref::global_avg_pool_q(hw, channels, zp, lo, hi, x, y);
#else
  if (hw == 0 || hw > 16384) return ref::global_avg_pool_q(hw, channels, zp, lo, hi, x, y);
  const int count = static_cast<int>(hw);
  const auto block = [&](auto d32, int c0) HWY_ATTR {
    const hn::Rebind<T, decltype(d32)> dt;
    auto s = hn::Set(d32, -count * zp);
    for (std::size_t p = 0; p < hw; ++p) s = hn::Add(s, hn::PromoteTo(d32, hn::LoadU(dt, x + p * channels + c0)));
    auto v = hn::Add(hn::Set(d32, zp), RoundedAverage(d32, s, count));
    v = hn::Min(hn::Max(v, hn::Set(d32, lo)), hn::Set(d32, hi));
    hn::StoreU(hn::DemoteTo(dt, v), dt, y + c0);
  };
  const int c = ForEachChannelBlock<std::int32_t>(static_cast<int>(channels), block);
  for (std::size_t cc = static_cast<std::size_t>(c); cc < channels; ++cc) {
    std::int32_t s = 0;
    for (std::size_t p = 0; p < hw; ++p) s += std::int32_t{x[p * channels + cc]} - zp;
    const std::int32_t v = zp + ref::div_round_half_away(s, count);
    y[cc] = static_cast<T>(v < lo ? lo : (v > hi ? hi : v));
  }
#endif
}

HWY_INLINE void GlobalAvgPoolF32(std::size_t hw, std::size_t channels, const float* HWY_RESTRICT x,
                                 float* HWY_RESTRICT y) {
#if HWY_TARGET == HWY_SCALAR
  ref::global_avg_pool_f32(hw, channels, x, y);
#else
  const auto block = [&](auto df, int c0) HWY_ATTR {
    auto s = hn::Zero(df);
    for (std::size_t p = 0; p < hw; ++p) s = hn::Add(s, hn::LoadU(df, x + p * channels + c0));
    hn::StoreU(hn::Div(s, hn::Set(df, static_cast<float>(hw))), df, y + c0);
  };
  const int c = ForEachChannelBlock<float>(static_cast<int>(channels), block);
  // The leftover channels as a count: with the channels a constant, GCC otherwise warns
  // (-Waggressive-loop-optimizations) about a loop it has itself proved empty.
  for (std::size_t t = 0, rest = channels - static_cast<std::size_t>(c); t < rest; ++t) {
    const std::size_t cc = static_cast<std::size_t>(c) + t;
    float s = 0.0f;
    for (std::size_t p = 0; p < hw; ++p) s += x[p * channels + cc];
    y[cc] = s / static_cast<float>(hw);
  }
#endif
}

}  // namespace detail

// Bit-exact against ref::max_pool_q / avg_pool_q / global_avg_pool_q and the *_f32 references.
HWY_INLINE void MaxPoolU8(const pool2d_dims& d, const std::uint8_t* x, std::uint8_t* y) { detail::MaxPool(d, x, y); }
HWY_INLINE void MaxPoolS8(const pool2d_dims& d, const std::int8_t* x, std::int8_t* y) { detail::MaxPool(d, x, y); }
HWY_INLINE void MaxPoolF32(const pool2d_dims& d, const float* x, float* y) { detail::MaxPool(d, x, y); }
HWY_INLINE void AvgPoolU8(const pool2d_dims& d, bool count_include_pad, std::int32_t zp, std::int32_t lo,
                          std::int32_t hi, const std::uint8_t* x, std::uint8_t* y) {
  detail::AvgPoolQ(d, count_include_pad, zp, lo, hi, x, y);
}
HWY_INLINE void AvgPoolS8(const pool2d_dims& d, bool count_include_pad, std::int32_t zp, std::int32_t lo,
                          std::int32_t hi, const std::int8_t* x, std::int8_t* y) {
  detail::AvgPoolQ(d, count_include_pad, zp, lo, hi, x, y);
}
HWY_INLINE void AvgPoolF32(const pool2d_dims& d, bool count_include_pad, const float* x, float* y) {
  detail::AvgPoolF32(d, count_include_pad, x, y);
}
HWY_INLINE void GlobalAvgPoolU8(std::size_t hw, std::size_t c, std::int32_t zp, std::int32_t lo, std::int32_t hi,
                                const std::uint8_t* x, std::uint8_t* y) {
  detail::GlobalAvgPoolQ(hw, c, zp, lo, hi, x, y);
}
HWY_INLINE void GlobalAvgPoolS8(std::size_t hw, std::size_t c, std::int32_t zp, std::int32_t lo, std::int32_t hi,
                                const std::int8_t* x, std::int8_t* y) {
  detail::GlobalAvgPoolQ(hw, c, zp, lo, hi, x, y);
}
HWY_INLINE void GlobalAvgPoolF32(std::size_t hw, std::size_t c, const float* x, float* y) {
  detail::GlobalAvgPoolF32(hw, c, x, y);
}

}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // STATIQ_KERNELS_POOL_INL_H_
