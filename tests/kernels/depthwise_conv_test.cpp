// Depthwise int8 convolution on every compiled and supported target, bit for bit against ref::conv2d_q.
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <vector>

// Every attainable target, not only those above the -march baseline, so SSE4 and the scalar fallback run too.
#ifndef HWY_COMPILE_ALL_ATTAINABLE
#define HWY_COMPILE_ALL_ATTAINABLE
#endif
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "depthwise_conv_test.cpp"
#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <doctest/doctest.h>

#include "kernel_test_util.hpp"
#include "statiq/kernels/depthwise_conv-inl.h"
#include "statiq/kernels/ref/conv2d_q.hpp"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace {

#if STATIQ_X86_INT8_PATHS
// How many shapes the tap-pair and row-quad kernels took (each must take some): AVX2 (row-quad with 7-bit weights)
// and AVX-512 with AVX512-VNNI (row-quad on vpdpbusd, any weights).
std::size_t tap_pair_shapes = 0, row_quad_shapes = 0;
#endif
// How many shapes were also computed as slices of output rows (conv2d_rows).
std::size_t sliced_shapes = 0;

// x_zp: the activation zero point (at a bound: the extremes of |x - x_zp|); random when absent.
// wmax: weights in [-wmax, wmax] (64: the 7-bit weights of the saturation fix, which the row-quad kernel takes).
// Requantization scales are 2^e, e uniform in [e_lo, e_hi) per channel.
template <class T>
void CheckDepthwiseOnce(const conv2d_dims& d, std::mt19937& rng, test::fill xf, test::fill wf, std::size_t mis,
                        std::optional<int> x_zp = std::nullopt, int wmax = 127, double e_lo = -14.0,
                        double e_hi = -3.0) {
  constexpr int xlo = std::is_same_v<T, std::uint8_t> ? 0 : -128, xhi = std::is_same_v<T, std::uint8_t> ? 255 : 127;
  test::offset_buffer<T> x(static_cast<std::size_t>(d.in_h) * d.in_w * d.in_c, mis);
  test::offset_buffer<std::int8_t> w(static_cast<std::size_t>(d.out_c) * d.k_h * d.k_w, (mis + 1) % 4);
  test::offset_buffer<std::int32_t> bias(d.out_c, 0);
  const std::size_t ny = static_cast<std::size_t>(d.out_h) * d.out_w * d.out_c;
  test::offset_buffer<T> y(ny, (mis + 3) % 8), yref(ny, 0);
  test::fill_int(x, rng, xlo, xhi, xf);
  test::fill_int(w, rng, -wmax, wmax, wf);
  test::fill_int(bias, rng, -20000, 20000);
  std::vector<ref::requant_multiplier> m(d.out_c);
  std::uniform_real_distribution<double> sd(e_lo, e_hi);
  for (auto& mm : m) mm = ref::quantize_multiplier(std::exp2(sd(rng)));
  qconv_params q;
  q.x_zero_point = x_zp ? *x_zp : std::uniform_int_distribution<int>(xlo, xhi)(rng);
  q.y_zero_point = std::uniform_int_distribution<int>(xlo, xhi)(rng);
  q.multiplier = m.data();
  q.per_channel = (rng() % 4) != 0;
  q.lo = xlo + static_cast<int>(rng() % 3) * 10;
  q.hi = xhi - static_cast<int>(rng() % 3) * 10;
  ref::conv2d_q(d, q, x.data(), w.data(), bias.data(), yref.data());
  std::size_t bad = 0, first = ny;
  const auto compare = [&] {
    bad = 0;
    first = ny;
    for (std::size_t i = 0; i < ny; ++i)
      if (y[i] != yref[i]) { ++bad; if (first == ny) first = i; }
  };
  INFO("target ", hwy::TargetName(HWY_TARGET), " C=", d.in_c, " in=", d.in_h, "x", d.in_w, " k=", d.k_h, "x", d.k_w,
       " s=", d.stride_h, " dil=", d.dil_h, " pad=", d.pad_top, ",", d.pad_left, ",", d.pad_bottom, ",", d.pad_right,
       " x_zp=", q.x_zero_point, " per_channel=", q.per_channel, " first bad=", first);
  std::memset(y.data(), 0x5a, ny);
  detail::DepthwiseConv(d, q, x.data(), w.data(), bias.data(), y.data());
  compare();
  CHECK(bad == 0);
  std::mt19937 slice_rng(static_cast<unsigned>(ny + mis));  // its own: the sweep's shapes stay the same
  const test::slices_result sl =
      test::check_row_slices(d, slice_rng, x.data(), yref.data(), [&](const conv2d_dims& sd, const T* sx, T* sy) {
        detail::DepthwiseConv(sd, q, sx, w.data(), bias.data(), sy);
      });
  if (sl.ran) ++sliced_shapes;
  CHECK(sl.bad == 0);
#if STATIQ_X86_INT8_PATHS
  // The tap-pair kernel called directly, so the count proves it computed these outputs.
  std::memset(y.data(), 0x5a, ny);
  if (detail::DepthwiseConvTapPairs(d, q, x.data(), w.data(), bias.data(), y.data())) {
    ++tap_pair_shapes;
    compare();
    CHECK(bad == 0);
  }
  std::memset(y.data(), 0x5a, ny);
  if (detail::DepthwiseConvRowQuads(d, q, x.data(), w.data(), bias.data(), y.data())) {
    ++row_quad_shapes;
    if (!detail::kQuadStepAnyWeight) CHECK(wmax <= 64);  // vpmaddubsw: it must refuse weights outside [-64, 64]
    compare();
    CHECK(bad == 0);
  }
#endif
}

constexpr auto* OutSize = &test::out_size;

void TestDepthwiseConv() {
  std::mt19937 rng(1234);
#if STATIQ_X86_INT8_PATHS
  // 16 and up take the x86 tap-pair kernel: 24 and 17 end with an overlapping block, 48 is a pass of 3
  // blocks, 72 a second pass whose only block overlaps the first pass, 128 two full passes. With 7-bit weights on
  // AVX2 (row-quad): 16 and 17 take 16-lane units; 24, 33, 40, 48 and 72 24-lane units (40: rows of an even count,
  // so 3x3 stride 1 runs in row pairs only); 32, 56, 64 and 128 32-lane units.
  const int channels[] = {1, 3, 4, 5, 8, 16, 17, 24, 32, 33, 40, 48, 56, 64, 72, 128};
  const int extreme_channels[] = {5, 16, 17, 24, 32, 128};
#else
  // The portable kernel: partial and overlapping vectors of 4, 8, 16 or more lanes, and several passes. (Fewer
  // shapes than on AVX2: under qemu's SVE emulation every shape costs about 20 ms.)
  const int channels[] = {1, 3, 4, 5, 8, 17, 24, 33, 64};
  const int extreme_channels[] = {5, 17, 32};
#endif
  // 3x3 and 5x5 have compile-time taps, the others runtime taps (2x3: an even count, 7x7: 49, odd).
  const int kernels[][2] = {{3, 3}, {5, 5}, {2, 3}, {7, 7}};
  std::size_t mis = 0;
  for (const auto& k : kernels) {
    for (int s : {1, 2}) {
      for (int dil : {1, 2}) {
        for (int pad : {0, 1, 2}) {
          for (int c : channels) {
            conv2d_dims d;
            d.in_h = 7 + (c % 3);
            d.in_w = 9 - (c % 2);
            d.in_c = d.out_c = d.groups = c;
            d.k_h = k[0];
            d.k_w = k[1];
            d.stride_h = d.stride_w = s;
            d.dil_h = d.dil_w = dil;
            d.pad_top = d.pad_left = pad;
            d.pad_bottom = pad;
            d.pad_right = pad > 0 ? pad - 1 : 0;  // asymmetric
            d.out_h = OutSize(d.in_h, d.pad_top, d.pad_bottom, d.k_h, s, dil);
            d.out_w = OutSize(d.in_w, d.pad_left, d.pad_right, d.k_w, s, dil);
            if (d.out_h <= 0 || d.out_w <= 0) continue;
            ++mis;
            CheckDepthwiseOnce<std::uint8_t>(d, rng, test::fill::random, test::fill::random, mis % 8);
            CheckDepthwiseOnce<std::int8_t>(d, rng, test::fill::random, test::fill::random, mis % 8);
#if HWY_TARGET == HWY_AVX2
            if (c >= 16) {  // 7-bit weights: the row-quad kernel (VNNI takes it with any weights)
              CheckDepthwiseOnce<std::uint8_t>(d, rng, test::fill::random, test::fill::random, mis % 8, std::nullopt, 64);
              CheckDepthwiseOnce<std::int8_t>(d, rng, test::fill::random, test::fill::random, mis % 8, std::nullopt, 64);
            }
#endif
          }
        }
      }
    }
  }
  // Extreme values: every activation at the type's bound, every weight +-127, the zero point at either bound.
  for (int c : extreme_channels) {
    for (const auto& k : kernels) {
      conv2d_dims d;
      d.in_h = d.in_w = 8;
      d.in_c = d.out_c = d.groups = c;
      d.k_h = k[0];
      d.k_w = k[1];
      d.pad_top = k[0] / 2;  // "same" padding, asymmetric for the even kernel
      d.pad_bottom = (k[0] - 1) / 2;
      d.pad_left = k[1] / 2;
      d.pad_right = (k[1] - 1) / 2;
      d.out_h = OutSize(d.in_h, d.pad_top, d.pad_bottom, d.k_h, 1, 1);
      d.out_w = OutSize(d.in_w, d.pad_left, d.pad_right, d.k_w, 1, 1);
      for (auto xf : {test::fill::low, test::fill::high})
        for (auto wf : {test::fill::low, test::fill::high})
          for (int zp_high : {0, 1}) {
            CheckDepthwiseOnce<std::uint8_t>(d, rng, xf, wf, 1, zp_high ? 255 : 0);
            CheckDepthwiseOnce<std::int8_t>(d, rng, xf, wf, 3, zp_high ? 127 : -128);
            if (HWY_TARGET == HWY_AVX2 && c >= 16) {  // weights +-64: the row-quad kernel's bound
              CheckDepthwiseOnce<std::uint8_t>(d, rng, xf, wf, 2, zp_high ? 255 : 0, 64);
              CheckDepthwiseOnce<std::int8_t>(d, rng, xf, wf, 4, zp_high ? 127 : -128, 64);
            }
            // Scales in [2^-24.5, 0.5): channel blocks whose shifts leave the short requantization form (scales
            // of 0.25 and more, or below 2^-23) take the general one; u8 and s8, every kernel.
            CheckDepthwiseOnce<std::uint8_t>(d, rng, xf, wf, 5, zp_high ? 255 : 0, 64, -24.5, -1.0);
            CheckDepthwiseOnce<std::int8_t>(d, rng, xf, wf, 6, zp_high ? 127 : -128, 64, -24.5, -1.0);
          }
    }
  }
#if STATIQ_X86_INT8_PATHS
  // Rows wider than the row-quad kernel's buffer (several chunks per output row: 126 output columns of 3x3 at
  // stride 1 for 32-channel units, 120 of a 7x7 over two row groups for 16-channel units), stride 2, a vertical
  // dilation; and a reach it refuses (a 1x3 kernel dilated by 70 columns: the tap-pair kernel runs).
  const auto wide = [&](int h, int w, int c, int kh, int kw, int s, int dil_h, int dil_w, int pad) {
    conv2d_dims d;
    d.in_h = h;
    d.in_w = w;
    d.in_c = d.out_c = d.groups = c;
    d.k_h = kh;
    d.k_w = kw;
    d.stride_h = d.stride_w = s;
    d.dil_h = dil_h;
    d.dil_w = dil_w;
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = pad;
    d.out_h = OutSize(d.in_h, d.pad_top, d.pad_bottom, d.k_h, s, dil_h);
    d.out_w = OutSize(d.in_w, d.pad_left, d.pad_right, d.k_w, s, dil_w);
    return d;
  };
  for (auto xf : {test::fill::random, test::fill::high}) {
    CheckDepthwiseOnce<std::uint8_t>(wide(4, 300, 40, 3, 3, 1, 1, 1, 1), rng, xf, test::fill::random, 1, std::nullopt, 64);
    CheckDepthwiseOnce<std::int8_t>(wide(5, 301, 32, 3, 3, 2, 2, 1, 1), rng, xf, test::fill::low, 2, std::nullopt, 64);
    CheckDepthwiseOnce<std::uint8_t>(wide(9, 260, 20, 7, 7, 1, 1, 1, 3), rng, xf, test::fill::high, 3, std::nullopt, 64);
    CheckDepthwiseOnce<std::int8_t>(wide(4, 200, 24, 1, 3, 1, 1, 70, 1), rng, xf, test::fill::random, 4, std::nullopt,
                                    64);
  }
  CHECK(tap_pair_shapes > 0);
  CHECK(row_quad_shapes > 0);
#endif
  CHECK(sliced_shapes > 20);
}

}  // namespace
}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace statiq::kernels {
HWY_EXPORT(TestDepthwiseConv);

TEST_CASE("depthwise int8 conv equals ref::conv2d_q on every target") {
  test::on_every_target([](std::int64_t) { HWY_DYNAMIC_DISPATCH(TestDepthwiseConv)(); });
}
}  // namespace statiq::kernels
#endif
