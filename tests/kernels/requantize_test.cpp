// Requantization s32 -> u8/s8 on every compiled and supported target, bit for bit against ref::requantize.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

// Every attainable target, not only those above the -march baseline, so SSE4 and the scalar fallback run too.
#ifndef HWY_COMPILE_ALL_ATTAINABLE
#define HWY_COMPILE_ALL_ATTAINABLE
#endif
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "requantize_test.cpp"
#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <doctest/doctest.h>

#include "kernel_test_util.hpp"
#include "statiq/kernels/detail/requant_lanes-inl.h"
#include "statiq/kernels/ref/requantize.hpp"
#include "statiq/kernels/requantize-inl.h"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace {

// acc values that hit every branch: extremes, exact halves (round half up on both signs), small values.
std::int32_t EdgeAcc(std::mt19937& rng, std::size_t i) {
  constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
  constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();
  static constexpr std::int32_t kEdges[] = {kMin, kMin + 1, kMax, kMax - 1, 0, 1, -1, 2, -2, 3, -3, 6, -6};
  switch (i % 4) {
    case 0: return kEdges[(i / 4) % (sizeof(kEdges) / sizeof(kEdges[0]))];
    case 1: return std::uniform_int_distribution<std::int32_t>(-64, 64)(rng);
    case 2: return std::uniform_int_distribution<std::int32_t>(-1 << 20, 1 << 20)(rng);
    default: return std::uniform_int_distribution<std::int32_t>(kMin, kMax)(rng);
  }
}

ref::requant_multiplier RandomMultiplier(std::mt19937& rng, bool edges) {
  if (edges) {  // exact powers of two make acc * m / 2^shift land exactly on halves
    const std::int32_t shift = std::uniform_int_distribution<std::int32_t>(32, 62)(rng);
    const std::int32_t m = (rng() & 1) ? (1 << 30) : std::numeric_limits<std::int32_t>::max();
    return {m, shift};
  }
  return {std::uniform_int_distribution<std::int32_t>(1 << 30, std::numeric_limits<std::int32_t>::max())(rng),
          std::uniform_int_distribution<std::int32_t>(32, 62)(rng)};
}

template <class T>
void CheckRequantize(std::mt19937& rng, std::size_t n, std::size_t mis, bool per_channel, bool edges) {
  constexpr std::int32_t tmin = std::numeric_limits<T>::min(), tmax = std::numeric_limits<T>::max();
  test::offset_buffer<std::int32_t> acc(n, 4 * (mis % 4)), mult(n, 4 * ((mis + 1) % 4)),
      shift(n, 4 * ((mis + 2) % 4));
  test::offset_buffer<T> out(n, mis % 7);
  std::vector<T> expect(n);
  for (std::size_t i = 0; i < n; ++i) {
    acc[i] = EdgeAcc(rng, i + mis);
    const ref::requant_multiplier m = RandomMultiplier(rng, edges);
    mult[i] = m.multiplier;
    shift[i] = m.shift;
  }
  const std::int32_t zp = std::uniform_int_distribution<std::int32_t>(tmin, tmax)(rng);
  std::int32_t lo = std::uniform_int_distribution<std::int32_t>(tmin, tmax)(rng);
  std::int32_t hi = std::uniform_int_distribution<std::int32_t>(tmin, tmax)(rng);
  if (lo > hi) std::swap(lo, hi);
  if (rng() % 2) { lo = tmin; hi = tmax; }
  if (per_channel) {
    for (std::size_t i = 0; i < n; ++i)
      expect[i] = static_cast<T>(ref::requantize(acc[i], {mult[i], shift[i]}, zp, lo, hi));
    RequantizeS32PerChannel<T>(acc.data(), n, mult.data(), shift.data(), zp, lo, hi, out.data());
  } else {
    const ref::requant_multiplier m{mult[0], shift[0]};
    for (std::size_t i = 0; i < n; ++i) expect[i] = static_cast<T>(ref::requantize(acc[i], m, zp, lo, hi));
    RequantizeS32PerTensor<T>(acc.data(), n, m, zp, lo, hi, out.data());
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (out[i] != expect[i]) {
      FAIL_CHECK("target " << std::string(hwy::TargetName(HWY_TARGET)) << " n=" << n << " i=" << i << " acc=" << acc[i]
                           << " mult=" << mult[i] << " shift=" << shift[i] << " got " << int(out[i])
                           << " want " << int(expect[i]));
      return;
    }
  }
}

void TestRequantize() {
  std::mt19937 rng(1234);
  for (std::size_t n = 1; n <= 70; ++n) {
    for (std::size_t mis = 0; mis < 4; ++mis) {
      for (bool per_channel : {true, false}) {
        for (bool edges : {false, true}) {
          CheckRequantize<std::uint8_t>(rng, n, mis + n, per_channel, edges);
          CheckRequantize<std::int8_t>(rng, n, mis + n, per_channel, edges);
        }
      }
    }
  }
  // a long run so every lane position sees many random values
  for (int rep = 0; rep < 20; ++rep) {
    CheckRequantize<std::uint8_t>(rng, 4096 + rep, rep, rep % 2 == 0, rep % 3 == 0);
    CheckRequantize<std::int8_t>(rng, 4096 + rep, rep, rep % 2 == 1, rep % 3 == 1);
  }
}

// detail::RequantizeLanes (the per-lane form of the convolution kernels) against ref::requantize: the short form
// (every lane's shift - 32 within [1, kRequantShortMaxShr], the zero point within +-255) and the general form, the
// unclamped value exactly (clamped to int32 only) and clamped to a random range. Lanes see every shift at both
// ends of the short form, multipliers at both ends, acc at the int32 extremes and the zero point at +-255.
void TestRequantizeLanes() {
#if HWY_TARGET != HWY_SCALAR
  const hn::ScalableTag<std::int32_t> d32;
  const std::size_t N = hn::Lanes(d32);
  constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
  constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();
  constexpr int kShortMax = detail::kRequantShortMaxShr;
  std::mt19937 rng(77);
  std::size_t fast_blocks = 0, general_blocks = 0;
  for (int rep = 0; rep < 3000; ++rep) {
    detail::RequantLaneParams p;
    const int form = rep % 3;  // 0: short-form shifts at their ends, 1: random short-form shifts, 2: any shift
    for (std::size_t j = 0; j < N; ++j) {
      int t = std::uniform_int_distribution<int>(0, 30)(rng);
      if (form == 0) t = (j + rep / 3) % 2 ? kShortMax : 1;
      if (form == 1) t = std::uniform_int_distribution<int>(1, kShortMax)(rng);
      const ref::requant_multiplier m{rep % 5 == 0 ? ((j % 2) ? (1 << 30) : kMax)
                                                   : std::uniform_int_distribution<std::int32_t>(1 << 30, kMax)(rng),
                                      32 + t};
      p.bias[j] = 0;
      p.mult[j] = m.multiplier;
      p.shr[j] = t;
      const std::int64_t r = std::int64_t{1} << (m.shift - 1);
      if (j % 2 == 0) p.rnd_even[j / 2] = r; else p.rnd_odd[j / 2] = r;
    }
    static constexpr std::int32_t kZps[] = {-255, 255, -128, 127, 0};
    const std::int32_t zp = rep % 2 ? kZps[(rep / 2) % 5] : std::uniform_int_distribution<std::int32_t>(-255, 255)(rng);
    detail::DeriveRequantLanes(p, N, zp);
    bool short_ok = true;
    for (std::size_t j = 0; j < N; ++j) short_ok = short_ok && p.shr[j] >= 1 && p.shr[j] <= kShortMax;
    CHECK(p.fast == short_ok);
    (p.fast ? fast_blocks : general_blocks) += 1;
    HWY_ALIGN std::int32_t acc[HWY_LANES(std::int32_t)], got[HWY_LANES(std::int32_t)];
    for (std::size_t j = 0; j < N; ++j) acc[j] = EdgeAcc(rng, j + static_cast<std::size_t>(rep));
    std::int32_t lo = std::uniform_int_distribution<std::int32_t>(-300, 300)(rng);
    std::int32_t hi = std::uniform_int_distribution<std::int32_t>(-300, 300)(rng);
    if (lo > hi) std::swap(lo, hi);
    const auto vacc = hn::Load(d32, acc), vzp = hn::Set(d32, zp);
    // form 0: general, clamped; 1: general, unclamped; 2, 3: the same in the short form (where p.fast).
    for (int f = 0; f < 4; ++f) {
      const bool clamp = f % 2 == 0, short_form = f >= 2;
      if (short_form && !p.fast) break;
      const std::int32_t l = clamp ? lo : kMin, h = clamp ? hi : kMax;
      const auto vl = hn::Set(d32, l), vh = hn::Set(d32, h);
      hn::Vec<decltype(d32)> v;
      switch (f) {
        case 0: v = detail::RequantizeLanes<false, true>(d32, vacc, p, 0, vzp, vl, vh); break;
        case 1: v = detail::RequantizeLanes<false, false>(d32, vacc, p, 0, vzp, vl, vh); break;
        case 2: v = detail::RequantizeLanes<true, true>(d32, vacc, p, 0, vzp, vl, vh); break;
        default: v = detail::RequantizeLanes<true, false>(d32, vacc, p, 0, vzp, vl, vh); break;
      }
      hn::Store(v, d32, got);
      for (std::size_t j = 0; j < N; ++j) {
        const std::int32_t want = ref::requantize(acc[j], {p.mult[j], p.shr[j] + 32}, zp, l, h);
        if (got[j] != want) {
          FAIL_CHECK("target " << std::string(hwy::TargetName(HWY_TARGET)) << " lane " << j << " acc=" << acc[j]
                               << " mult=" << p.mult[j] << " shift=" << p.shr[j] + 32 << " zp=" << zp
                               << " short form=" << short_form << " clamp=" << clamp << " got " << got[j]
                               << " want " << want);
          return;
        }
      }
    }
  }
  CHECK(fast_blocks > 0);
  CHECK(general_blocks > 0);
#endif
}

}  // namespace
}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace statiq::kernels {
HWY_EXPORT(TestRequantize);
HWY_EXPORT(TestRequantizeLanes);

TEST_CASE("requantize s32 -> u8/s8 equals ref::requantize on every target") {
  test::on_every_target([](std::int64_t) { HWY_DYNAMIC_DISPATCH(TestRequantize)(); });
}

TEST_CASE("per-lane requantization, short and general forms, equals ref::requantize on every target") {
  test::on_every_target([](std::int64_t) { HWY_DYNAMIC_DISPATCH(TestRequantizeLanes)(); });
}

TEST_CASE("quantize_multiplier is constexpr and round-trips the scale") {
  constexpr auto m = ref::quantize_multiplier(0.00123);
  static_assert(m.multiplier >= (1 << 30) && m.shift >= 32 && m.shift <= 62);
  CHECK(static_cast<double>(m.multiplier) * std::exp2(-m.shift) == doctest::Approx(0.00123).epsilon(1e-9));
}
}  // namespace statiq::kernels
#endif
