// Max, average and global average pooling (u8, s8, f32) on every compiled and supported target against the
// references in ref/pool.hpp and ref/pool_f32.hpp, bit for bit.
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

// Every attainable target, not only those above the -march baseline, so SSE4 and the scalar fallback run too.
#ifndef HWY_COMPILE_ALL_ATTAINABLE
#define HWY_COMPILE_ALL_ATTAINABLE
#endif
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "pool_test.cpp"
#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <doctest/doctest.h>

#include "kernel_test_util.hpp"
#include "statiq/kernels/pool-inl.h"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace {

template <class T>
std::size_t CountDiff(const test::offset_buffer<T>& a, const test::offset_buffer<T>& b) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < a.size(); ++i) bad += std::memcmp(&a[i], &b[i], sizeof(T)) != 0;
  return bad;
}

template <class T>
void CheckPoolOnce(const pool2d_dims& d, std::mt19937& rng, test::fill f, std::size_t mis) {
  constexpr bool is_f = std::is_same_v<T, float>;
  constexpr int xlo = std::is_same_v<T, std::int8_t> ? -128 : 0, xhi = std::is_same_v<T, std::int8_t> ? 127 : 255;
  test::offset_buffer<T> x(static_cast<std::size_t>(d.in_h) * d.in_w * d.channels, mis * (is_f ? 4 : 1));
  const std::size_t ny = static_cast<std::size_t>(d.out_h) * d.out_w * d.channels;
  test::offset_buffer<T> y(ny, (mis + 1) % 4), yref(ny, 0);
  if constexpr (is_f) {
    std::normal_distribution<float> nd(0.0f, 3.0f);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = nd(rng);
  } else {
    test::fill_int(x, rng, xlo, xhi, f);
  }
  INFO("target ", hwy::TargetName(HWY_TARGET), " C=", d.channels, " in=", d.in_h, "x", d.in_w, " k=", d.k_h, "x",
       d.k_w, " s=", d.stride_h, " dil=", d.dil_h, " pad=", d.pad_top, ",", d.pad_left, ",", d.pad_bottom, ",",
       d.pad_right);
  // max
  if constexpr (is_f) ref::max_pool_f32(d, x.data(), yref.data()); else ref::max_pool_q(d, x.data(), yref.data());
  std::memset(y.data(), 0x5a, ny * sizeof(T));
  detail::MaxPool(d, x.data(), y.data());
  CHECK(CountDiff(y, yref) == 0);
  if (d.dil_h != 1) return;
  for (bool cip : {false, true}) {
    CAPTURE(cip);
    if constexpr (is_f) {
      ref::avg_pool_f32(d, cip, x.data(), yref.data());
      std::memset(y.data(), 0x5a, ny * sizeof(T));
      detail::AvgPoolF32(d, cip, x.data(), y.data());
    } else {
      const int zp = std::uniform_int_distribution<int>(xlo, xhi)(rng);
      const int lo = xlo + static_cast<int>(rng() % 2) * 5, hi = xhi - static_cast<int>(rng() % 2) * 5;
      ref::avg_pool_q(d, cip, zp, lo, hi, x.data(), yref.data());
      std::memset(y.data(), 0x5a, ny * sizeof(T));
      detail::AvgPoolQ(d, cip, zp, lo, hi, x.data(), y.data());
    }
    CHECK(CountDiff(y, yref) == 0);
  }
  // global average over the whole input
  const std::size_t hw = static_cast<std::size_t>(d.in_h) * d.in_w;
  test::offset_buffer<T> g(d.channels, mis % 3), gref(d.channels, 0);
  if constexpr (is_f) {
    ref::global_avg_pool_f32(hw, d.channels, x.data(), gref.data());
    detail::GlobalAvgPoolF32(hw, d.channels, x.data(), g.data());
  } else {
    const int zp = std::uniform_int_distribution<int>(xlo, xhi)(rng);
    ref::global_avg_pool_q(hw, d.channels, zp, xlo, xhi, x.data(), gref.data());
    detail::GlobalAvgPoolQ(hw, d.channels, zp, xlo, xhi, x.data(), g.data());
  }
  CHECK(CountDiff(g, gref) == 0);
}

constexpr auto* OutSize = &test::out_size;

void TestPool() {
  std::mt19937 rng(99);
  std::size_t mis = 0;
  for (int k : {2, 3, 5}) {
    for (int s : {1, 2, 3}) {
      for (int dil : {1, 2}) {
        for (int pad : {0, 1, 2}) {
          if (pad >= k) continue;
          for (int c : {1, 3, 5, 8, 17, 24, 33, 64, 100}) {
            pool2d_dims d;
            d.in_h = 6 + c % 4;
            d.in_w = 9 - c % 3;
            d.channels = c;
            d.k_h = d.k_w = k;
            d.stride_h = d.stride_w = s;
            d.dil_h = d.dil_w = dil;
            d.pad_top = d.pad_left = pad;
            d.pad_bottom = pad;
            d.pad_right = pad > 0 ? pad - 1 : 0;
            d.out_h = OutSize(d.in_h, d.pad_top, d.pad_bottom, k, s, dil);
            d.out_w = OutSize(d.in_w, d.pad_left, d.pad_right, k, s, dil);
            if (d.out_h <= 0 || d.out_w <= 0) continue;
            ++mis;
            CheckPoolOnce<std::uint8_t>(d, rng, test::fill::random, mis % 8);
            CheckPoolOnce<std::int8_t>(d, rng, test::fill::random, mis % 8);
            CheckPoolOnce<float>(d, rng, test::fill::random, mis % 4);
          }
        }
      }
    }
  }
  // Extremes: every activation at the type's bound; a 7x7 global pool of a 7x7 map.
  for (auto f : {test::fill::low, test::fill::high}) {
    pool2d_dims d;
    d.in_h = d.in_w = 7;
    d.channels = 37;
    d.k_h = d.k_w = 7;
    d.out_h = d.out_w = 1;
    CheckPoolOnce<std::uint8_t>(d, rng, f, 1);
    CheckPoolOnce<std::int8_t>(d, rng, f, 2);
  }
}

}  // namespace
}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace statiq::kernels {
HWY_EXPORT(TestPool);

TEST_CASE("max/average/global average pooling equal their references on every target") {
  test::on_every_target([](std::int64_t) { HWY_DYNAMIC_DISPATCH(TestPool)(); });
}
}  // namespace statiq::kernels
#endif
