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
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <doctest/doctest.h>

#include "kernel_test_util.hpp"
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

}  // namespace
}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace statiq::kernels {
HWY_EXPORT(TestRequantize);

TEST_CASE("requantize s32 -> u8/s8 equals ref::requantize on every target") {
  test::on_every_target([](std::int64_t) { HWY_DYNAMIC_DISPATCH(TestRequantize)(); });
}

TEST_CASE("quantize_multiplier is constexpr and round-trips the scale") {
  constexpr auto m = ref::quantize_multiplier(0.00123);
  static_assert(m.multiplier >= (1 << 30) && m.shift >= 32 && m.shift <= 62);
  CHECK(static_cast<double>(m.multiplier) * std::exp2(-m.shift) == doctest::Approx(0.00123).epsilon(1e-9));
}
}  // namespace statiq::kernels
#endif
