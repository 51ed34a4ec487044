// Depthwise int8 convolution on every compiled and supported target, bit for bit against ref::conv2d_q.
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

// Every attainable target, not only those above the -march baseline, so SSE4 and the scalar fallback run too.
#ifndef HWY_COMPILE_ALL_ATTAINABLE
#define HWY_COMPILE_ALL_ATTAINABLE
#endif
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "depthwise_conv_test.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <doctest/doctest.h>

#include "kernel_test_util.hpp"
#include "statiq/kernels/depthwise_conv-inl.h"
#include "statiq/kernels/ref/conv2d_q.hpp"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace {

template <class T>
void CheckDepthwiseOnce(const conv2d_dims& d, std::mt19937& rng, test::fill xf, test::fill wf, std::size_t mis) {
  constexpr int xlo = std::is_same_v<T, std::uint8_t> ? 0 : -128, xhi = std::is_same_v<T, std::uint8_t> ? 255 : 127;
  test::offset_buffer<T> x(static_cast<std::size_t>(d.in_h) * d.in_w * d.in_c, mis);
  test::offset_buffer<std::int8_t> w(static_cast<std::size_t>(d.out_c) * d.k_h * d.k_w, (mis + 1) % 4);
  test::offset_buffer<std::int32_t> bias(d.out_c, 0);
  const std::size_t ny = static_cast<std::size_t>(d.out_h) * d.out_w * d.out_c;
  test::offset_buffer<T> y(ny, (mis + 3) % 8), yref(ny, 0);
  test::fill_int(x, rng, xlo, xhi, xf);
  test::fill_int(w, rng, -127, 127, wf);
  test::fill_int(bias, rng, -20000, 20000);
  std::vector<ref::requant_multiplier> m(d.out_c);
  std::uniform_real_distribution<double> sd(-14.0, -3.0);
  for (auto& mm : m) mm = ref::quantize_multiplier(std::exp2(sd(rng)));
  qconv_params q;
  q.x_zero_point = std::uniform_int_distribution<int>(xlo, xhi)(rng);
  q.y_zero_point = std::uniform_int_distribution<int>(xlo, xhi)(rng);
  q.multiplier = m.data();
  q.per_channel = (rng() % 4) != 0;
  q.lo = xlo + static_cast<int>(rng() % 3) * 10;
  q.hi = xhi - static_cast<int>(rng() % 3) * 10;
  std::memset(y.data(), 0x5a, ny);
  ref::conv2d_q(d, q, x.data(), w.data(), bias.data(), yref.data());
  detail::DepthwiseConv(d, q, x.data(), w.data(), bias.data(), y.data());
  std::size_t bad = 0, first = ny;
  for (std::size_t i = 0; i < ny; ++i)
    if (y[i] != yref[i]) { ++bad; if (first == ny) first = i; }
  INFO("target ", hwy::TargetName(HWY_TARGET), " C=", d.in_c, " in=", d.in_h, "x", d.in_w, " k=", d.k_h, "x", d.k_w,
       " s=", d.stride_h, " dil=", d.dil_h, " pad=", d.pad_top, ",", d.pad_left, ",", d.pad_bottom, ",", d.pad_right,
       " first bad=", first);
  CHECK(bad == 0);
}

int OutSize(int in, int pb, int pe, int k, int s, int dil) { return (in + pb + pe - dil * (k - 1) - 1) / s + 1; }

void TestDepthwiseConv() {
  std::mt19937 rng(1234);
  const int channels[] = {1, 3, 4, 5, 8, 17, 24, 33, 64};
  std::size_t mis = 0;
  for (int k : {3, 5, 2, 7}) {
    for (int s : {1, 2}) {
      for (int dil : {1, 2}) {
        for (int pad : {0, 1, 2}) {
          for (int c : channels) {
            conv2d_dims d;
            d.in_h = 7 + (c % 3);
            d.in_w = 9 - (c % 2);
            d.in_c = d.out_c = d.groups = c;
            d.k_h = d.k_w = k;
            d.stride_h = d.stride_w = s;
            d.dil_h = d.dil_w = dil;
            d.pad_top = d.pad_left = pad;
            d.pad_bottom = pad;
            d.pad_right = pad > 0 ? pad - 1 : 0;  // asymmetric
            d.out_h = OutSize(d.in_h, d.pad_top, d.pad_bottom, k, s, dil);
            d.out_w = OutSize(d.in_w, d.pad_left, d.pad_right, k, s, dil);
            if (d.out_h <= 0 || d.out_w <= 0) continue;
            ++mis;
            CheckDepthwiseOnce<std::uint8_t>(d, rng, test::fill::random, test::fill::random, mis % 8);
            CheckDepthwiseOnce<std::int8_t>(d, rng, test::fill::random, test::fill::random, mis % 8);
          }
        }
      }
    }
  }
  // Extreme values: every activation at the type's bound, every weight +-127.
  for (int c : {5, 17, 32}) {
    conv2d_dims d;
    d.in_h = d.in_w = 6;
    d.in_c = d.out_c = d.groups = c;
    d.k_h = d.k_w = 3;
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = 1;
    d.out_h = d.out_w = 6;
    for (auto xf : {test::fill::low, test::fill::high})
      for (auto wf : {test::fill::low, test::fill::high}) {
        CheckDepthwiseOnce<std::uint8_t>(d, rng, xf, wf, 1);
        CheckDepthwiseOnce<std::int8_t>(d, rng, xf, wf, 3);
      }
  }
}

}  // namespace
}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace statiq::kernels {
HWY_EXPORT(TestDepthwiseConv);

TEST_CASE("depthwise int8 conv equals ref::conv2d_q on every target") {
  for (const auto target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    HWY_DYNAMIC_DISPATCH(TestDepthwiseConv)();
  }
  hwy::SetSupportedTargetsForTest(0);
}
}  // namespace statiq::kernels
#endif
