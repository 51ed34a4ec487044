// Quantized element-wise add on every compiled and supported target, bit for bit against ref::add_q.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>

// Every attainable target, not only those above the -march baseline, so SSE4 and the scalar fallback run too.
#ifndef HWY_COMPILE_ALL_ATTAINABLE
#define HWY_COMPILE_ALL_ATTAINABLE
#endif
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "add_quantized_test.cpp"
#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <doctest/doctest.h>

#include "kernel_test_util.hpp"
#include "statiq/kernels/add_quantized-inl.h"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace {

template <class T>
void CheckAddOnce(std::size_t n, std::mt19937& rng, test::fill fa, test::fill fb, std::size_t mis) {
  constexpr int xlo = std::is_same_v<T, std::int8_t> ? -128 : 0, xhi = std::is_same_v<T, std::int8_t> ? 127 : 255;
  test::offset_buffer<T> a(n, mis), b(n, (mis + 3) % 8), y(n, (mis + 5) % 8), yref(n, 0);
  test::fill_int(a, rng, xlo, xhi, fa);
  test::fill_int(b, rng, xlo, xhi, fb);
  std::uniform_real_distribution<double> ls(-10.0, 0.0);
  std::uniform_int_distribution<int> zd(xlo, xhi);
  const double sa = std::exp2(ls(rng)), sb = std::exp2(ls(rng)), sy = std::exp2(ls(rng)) * 4.0;
  const int lo = xlo + static_cast<int>(rng() % 2) * 7, hi = xhi - static_cast<int>(rng() % 2) * 7;
  const qadd_params p = make_qadd_params(sa, zd(rng), sb, zd(rng), sy, zd(rng), lo, hi);
  ref::add_q(n, p, a.data(), b.data(), yref.data());
  std::memset(y.data(), 0x5a, n);
  detail::AddQuantized(n, p, a.data(), b.data(), y.data());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) bad += y[i] != yref[i];
  INFO("target ", hwy::TargetName(HWY_TARGET), " n=", n, " sa=", sa, " sb=", sb, " sy=", sy);
  CHECK(bad == 0);
}

void TestAddQuantized() {
  std::mt19937 rng(7);
  std::size_t mis = 0;
  for (std::size_t n : {1u, 3u, 7u, 8u, 9u, 31u, 32u, 33u, 100u, 1000u, 4099u}) {
    for (int rep = 0; rep < 8; ++rep) {
      ++mis;
      CheckAddOnce<std::uint8_t>(n, rng, test::fill::random, test::fill::random, mis % 8);
      CheckAddOnce<std::int8_t>(n, rng, test::fill::random, test::fill::random, mis % 8);
    }
  }
  for (auto fa : {test::fill::low, test::fill::high})
    for (auto fb : {test::fill::low, test::fill::high})
      for (int rep = 0; rep < 4; ++rep) {
        CheckAddOnce<std::uint8_t>(77, rng, fa, fb, 1);
        CheckAddOnce<std::int8_t>(77, rng, fa, fb, 2);
      }
}

}  // namespace
}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace statiq::kernels {
HWY_EXPORT(TestAddQuantized);

TEST_CASE("quantized add equals ref::add_q on every target") {
  test::on_every_target([](std::int64_t) { HWY_DYNAMIC_DISPATCH(TestAddQuantized)(); });
}
}  // namespace statiq::kernels
#endif
