// 2-D int8 convolution on every compiled and supported target, bit for bit against ref::conv2d_q: plain, with a
// fused 2x2 max pool, and value-padded (the first layer with the input mean folded in). The f32 convolution has
// conv2d_f32_test.cpp.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

// Every attainable target, not only those above the -march baseline, so SSE4 and the scalar fallback run too.
#ifndef HWY_COMPILE_ALL_ATTAINABLE
#define HWY_COMPILE_ALL_ATTAINABLE
#endif
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "conv2d_test.cpp"
#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <doctest/doctest.h>

#include "kernel_test_util.hpp"
#include "statiq/kernels/conv2d-inl.h"
#include "statiq/kernels/ref/conv2d_q_border.hpp"
#include "statiq/kernels/conv2d_pack.hpp"
#include "statiq/kernels/ref/conv2d_q.hpp"
#include "statiq/kernels/ref/pool.hpp"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace {

constexpr auto* OutSize = &test::out_size;

// d with vertical dilation dil_h, its output height recomputed.
conv2d_dims DilatedH(conv2d_dims d, int dil_h) {
  d.dil_h = dil_h;
  d.out_h = OutSize(d.in_h, d.pad_top, d.pad_bottom, d.k_h, d.stride_h, d.dil_h);
  return d;
}
constexpr auto* MakeDims = &test::make_conv_dims;

// How many shapes the value-padded first-layer kernel took (it must take some on SIMD targets).
std::size_t value_padded_first_layers = 0;
// How many shapes the pooled convolution took, and of those the pooled first-layer kernel.
std::size_t pooled_convs = 0, pooled_first_layers = 0;
// How many shapes met the AVX2 kQuad first layer's conditions (7-bit weights, dil_w == 1, 16 channels or more).
std::size_t quad_first_layers = 0;
// How many shapes the implicit (im2col-free) AVX2 convolution took, and of those how many assembled the segments
// crossing the padding (an input too large to copy padded).
std::size_t implicit_convs = 0, implicit_assembled = 0;
// How many shapes ran border rows without their kernel rows in the padding (the AVX2 implicit convolution on its
// padded copy), how many also border columns without their kernel columns there, and how many of them with an
// input zero point the kernel multiplies as 0 (no compensation to add back).
std::size_t border_row_convs = 0, border_column_convs = 0, border_zero_zp = 0;
// How many pooled shapes ran that convolution and a separate 2x2 max pool (Conv2dQMaxPool2).
std::size_t border_pooled = 0;
// How many shapes were also computed as slices of output rows.
std::size_t sliced_convs = 0;

// The 2x2, stride-2 max pool (floor mode) of a convolution's output, by ref::max_pool_q.
template <class T>
std::vector<T> RefMaxPool2(const conv2d_dims& d, const T* y) {
  const pool2d_dims p = conv2d_q_pool2_dims(d);
  std::vector<T> out(static_cast<std::size_t>(p.out_h) * p.out_w * p.channels);
  ref::max_pool_q(p, y, out.data());
  return out;
}

// Weight ranges: full [-127, 127], or 7-bit [-64, 64] (the GEMM's vpmaddubsw route is exact for these).
// Requantization scales are 2^e, e uniform in [e_lo, e_hi) per channel.
// kRandomZp: the input zero point drawn at random, else x_zp.
constexpr int kRandomZp = 1000;
template <class T>
void CheckConvQOnce(const conv2d_dims& d, std::mt19937& rng, test::fill xf, test::fill wf, int wmax,
                    gemm_route route, std::size_t mis, double e_lo = -18.0, double e_hi = -6.0, int x_zp = kRandomZp) {
  constexpr int xlo = std::is_same_v<T, std::uint8_t> ? 0 : -128, xhi = std::is_same_v<T, std::uint8_t> ? 255 : 127;
  const int cin_g = d.in_c / d.groups;
  test::offset_buffer<T> x(static_cast<std::size_t>(d.in_h) * d.in_w * d.in_c, mis);
  test::offset_buffer<std::int8_t> w(static_cast<std::size_t>(d.out_c) * d.k_h * d.k_w * cin_g, 0);
  test::offset_buffer<std::int32_t> bias(d.out_c, 0);
  const std::size_t ny = static_cast<std::size_t>(d.out_h) * d.out_w * d.out_c;
  test::offset_buffer<T> y(ny, (mis + 3) % 8), yref(ny, 0);
  test::fill_int(x, rng, xlo, xhi, xf);
  test::fill_int(w, rng, -wmax, wmax, wf);
  test::fill_int(bias, rng, -50000, 50000);
  std::vector<ref::requant_multiplier> m(d.out_c);
  std::uniform_real_distribution<double> sd(e_lo, e_hi);
  for (auto& mm : m) mm = ref::quantize_multiplier(std::exp2(sd(rng)));
  qconv_params q;
  q.x_zero_point = std::uniform_int_distribution<int>(xlo, xhi)(rng);
  if (x_zp != kRandomZp) q.x_zero_point = x_zp;
  q.y_zero_point = std::uniform_int_distribution<int>(xlo, xhi)(rng);
  q.multiplier = m.data();
  q.per_channel = (rng() % 4) != 0;
  q.lo = xlo + static_cast<int>(rng() % 2) * 10;
  q.hi = xhi - static_cast<int>(rng() % 2) * 10;
  std::vector<std::uint8_t> packed(conv2d_q_packed_size(d));
  pack_conv2d_q<T>(d, q, w.data(), bias.data(), packed.data(), route);
  ref::conv2d_q(d, q, x.data(), w.data(), bias.data(), yref.data());
  std::memset(y.data(), 0x5a, ny);
  Conv2dQ<T, T>(d, packed.data(), x.data(), q.y_zero_point, q.lo, q.hi, y.data());
  std::size_t bad = 0, first = ny;
  for (std::size_t i = 0; i < ny; ++i)
    if (y[i] != yref[i]) { ++bad; if (first == ny) first = i; }
  INFO("target ", hwy::TargetName(HWY_TARGET), " in=", d.in_h, "x", d.in_w, "x", d.in_c, " out_c=", d.out_c,
       " k=", d.k_h, "x", d.k_w, " s=", d.stride_h, " dil=", d.dil_h, " g=", d.groups, " pad=", d.pad_top, ",",
       d.pad_left, ",", d.pad_bottom, ",", d.pad_right, " wmax=", wmax, " first bad=", first);
  CHECK(bad == 0);
  // The same output as slices of rows (conv2d_rows), as threads would compute it. A generator of its own, so the
  // shapes the sweep draws stay those it drew before.
  std::mt19937 slice_rng(static_cast<unsigned>(ny + mis));
  const test::slices_result sl =
      test::check_row_slices(d, slice_rng, x.data(), yref.data(), [&](const conv2d_dims& sd, const T* sx, T* sy) {
        Conv2dQ<T, T>(sd, packed.data(), sx, q.y_zero_point, q.lo, q.hi, sy);
      });
  if (sl.ran) ++sliced_convs;
  CHECK(sl.bad == 0);
#if HWY_TARGET == HWY_AVX2
  const bool first_layer = d.groups == 1 && d.in_c <= 4 && d.k_h * d.k_w * d.in_c <= conv_detail::kFirstLayerMaxK;
  if (first_layer && d.out_c >= 16 && conv_detail::FirstLayerQuadFit(d) &&
      conv_detail::FirstLayerQuadWeights(gemm_packed_view{packed.data()}, 0, 16))
    ++quad_first_layers;
#endif
#if STATIQ_AVX2_GEMM_PATHS || STATIQ_VNNI_PATHS
  if (!(d.groups == 1 && d.in_c <= 4 && d.k_h * d.k_w * d.in_c <= conv_detail::kFirstLayerMaxK) &&
      !conv_detail::GemmOnInput(d) && conv_detail::ImplicitConvFits(d, gemm_packed_view{packed.data()})) {
    ++implicit_convs;  // the pooled run below takes it too
    if (!conv_detail::ImplicitConvCopiesInput(d)) ++implicit_assembled;
  }
#endif
#if STATIQ_AVX2_GEMM_PATHS
  if (!(d.groups == 1 && d.in_c <= 4 && d.k_h * d.k_w * d.in_c <= conv_detail::kFirstLayerMaxK) &&
      !conv_detail::GemmOnInput(d) && conv_detail::ImplicitConvFits(d, gemm_packed_view{packed.data()}) &&
      conv_detail::ImplicitConvCopiesInput(d) && conv_detail::ImplicitBorderRowsFit(d)) {
    const conv_detail::BorderRegion region = conv_detail::ImplicitBorderRegion(d);
    if (conv_detail::ImplicitBorderRowsTaken(d, region)) {
      ++border_row_convs;
      if (conv_detail::ImplicitBorderColumnsTaken(d, gemm_packed_view{packed.data()}, region)) {
        ++border_column_convs;
        if (conv2d_q_pool2_fits(d) && ny * sizeof(T) <= conv_detail::kPoolSeparateBytes) ++border_pooled;
      }
      if (q.x_zero_point == (std::is_same_v<T, std::int8_t> ? -128 : 0)) ++border_zero_zp;
    }
  }
#endif
  // The same convolution with a 2x2 max pool fused: ref::max_pool_q over the reference output, bit for bit.
  if (conv2d_q_pool2_fits(d)) {
    const std::vector<T> pref = RefMaxPool2(d, yref.data());
    test::offset_buffer<T> yp(pref.size() + 1, (mis + 5) % 8);
    std::memset(yp.data(), 0x5a, yp.size());
    Conv2dQMaxPool2<T, T>(d, packed.data(), x.data(), q.y_zero_point, q.lo, q.hi, yp.data());
    std::size_t pbad = 0;
    for (std::size_t i = 0; i < pref.size(); ++i) pbad += yp[i] != pref[i];
    CHECK(pbad == 0);
    CHECK(yp[pref.size()] == static_cast<T>(0x5a));  // nothing written past the pooled output
    ++pooled_convs;
#if HWY_TARGET != HWY_SCALAR
    if (d.groups == 1 && d.in_c <= 4 && d.k_h * d.k_w * d.in_c <= conv_detail::kFirstLayerMaxK) ++pooled_first_layers;
#endif
  }
  // The value-padded convolution (padding holds a per-channel value): the first-layer one-pass kernel, where it
  // takes the shape, equals ref::conv2d_q followed by ref::conv2d_q_value_padded_border.
  if (d.pad_top + d.pad_left + d.pad_bottom + d.pad_right > 0) {
    std::vector<std::int32_t> pad_q16(static_cast<std::size_t>(d.in_c));
    for (auto& v : pad_q16) v = std::uniform_int_distribution<int>(-255 * 65536, 255 * 65536)(rng);
    ref::conv2d_q_value_padded_border(d, q, x.data(), w.data(), bias.data(), pad_q16.data(), yref.data());
    std::memset(y.data(), 0x5a, ny);
    if (Conv2dValuePaddedFirstLayer<T, T>(d, packed.data(), x.data(), pad_q16.data(), q.y_zero_point, q.lo, q.hi,
                                          y.data())) {
      ++value_padded_first_layers;
      std::size_t vbad = 0;
      for (std::size_t i = 0; i < ny; ++i) vbad += y[i] != yref[i];
      CHECK(vbad == 0);
    }
  }
}

void TestConv2d() {
  std::mt19937 rng(4321);
  std::size_t mis = 0;
  const int cins[] = {1, 3, 4, 5, 8, 17, 32};
  const int couts[] = {1, 3, 8, 16, 17, 33};
  const int ks[][2] = {{1, 1}, {3, 3}, {5, 5}, {1, 3}, {2, 2}};
  for (const auto& k : ks)
    for (int s : {1, 2})
      for (int dil : {1, 2})
        for (int pad : {0, 1, 2}) {
          // a random subset of the channel combinations keeps the sweep fast on every target
          for (int rep = 0; rep < 3; ++rep) {
            const int cin = cins[rng() % 7], cout = couts[rng() % 6];
            int groups = 1;
            if (rep == 2 && cin % 2 == 0 && cout % 2 == 0) groups = 2;
            const conv2d_dims d = MakeDims(5 + static_cast<int>(rng() % 5), 4 + static_cast<int>(rng() % 6), cin,
                                           cout, k[0], k[1], s, dil, pad, groups);
            if (d.out_h <= 0 || d.out_w <= 0) continue;
            ++mis;
            const int wmax = (mis % 2) ? 127 : 64;
            CheckConvQOnce<std::uint8_t>(d, rng, test::fill::random, test::fill::random, wmax, gemm_route::automatic,
                                         mis % 8);
            CheckConvQOnce<std::int8_t>(d, rng, test::fill::random, test::fill::random, wmax, gemm_route::automatic,
                                        mis % 8);
            CheckConvQOnce<std::uint8_t>(d, rng, test::fill::random, test::fill::random, 64, gemm_route::widen_i16,
                                         mis % 8);
          }
        }
  // Depthwise shapes through the general int8 path.
  for (int c : {1, 3, 8, 17, 24})
    for (int s : {1, 2}) {
      const conv2d_dims d = MakeDims(7, 6, c, c, 3, 3, s, 1, 1, c);
      CheckConvQOnce<std::uint8_t>(d, rng, test::fill::random, test::fill::random, 127, gemm_route::automatic, 1);
    }
  // The layer shapes of the benchmarks (first layer 28x28x1 -> 16, 14x14x16 -> 32, 1x1 24 -> 48).
  CheckConvQOnce<std::uint8_t>(MakeDims(28, 28, 1, 16, 3, 3, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                               127, gemm_route::automatic, 0);
  CheckConvQOnce<std::int8_t>(MakeDims(14, 14, 16, 32, 3, 3, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                              127, gemm_route::automatic, 1);
  CheckConvQOnce<std::uint8_t>(MakeDims(28, 28, 24, 48, 1, 1, 1, 1, 0, 1), rng, test::fill::random, test::fill::random,
                               64, gemm_route::automatic, 2);
  // 56 or more output channels: the VNNI GEMM's 6-row x 64-channel tile (7 or 8 panels left in a block), on the
  // padded copy (group offsets), on kernel-row segments (no padding), fused with a 2x2 max pool (which keeps the
  // 8-row tiles), and as a 1x1 GEMM on the input; 72 and 136 channels end in a block of 1 panel.
  CheckConvQOnce<std::uint8_t>(MakeDims(11, 9, 16, 64, 3, 3, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                               127, gemm_route::automatic, 1);
  CheckConvQOnce<std::int8_t>(MakeDims(10, 13, 12, 72, 3, 3, 1, 1, 0, 1), rng, test::fill::random, test::fill::random,
                              127, gemm_route::automatic, 2);
  CheckConvQOnce<std::uint8_t>(MakeDims(9, 8, 8, 60, 5, 5, 2, 1, 2, 1), rng, test::fill::high, test::fill::low, 127,
                               gemm_route::automatic, 3);
  CheckConvQOnce<std::int8_t>(MakeDims(7, 9, 40, 136, 1, 1, 1, 1, 0, 1), rng, test::fill::random, test::fill::random,
                              127, gemm_route::automatic, 4);
  // First layers on rows wider than one chunk of row-pair words (1024 columns for 3x3x1, 341 for 3x3x3), and a
  // dilation so large that one pixel's columns overflow the words buffer (the per-pixel gathering path).
  CheckConvQOnce<std::uint8_t>(MakeDims(3, 1100, 1, 16, 3, 3, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                               127, gemm_route::automatic, 1);
  CheckConvQOnce<std::int8_t>(MakeDims(4, 700, 3, 8, 3, 3, 2, 2, 2, 1), rng, test::fill::random, test::fill::random,
                              127, gemm_route::automatic, 2);
  CheckConvQOnce<std::uint8_t>(MakeDims(5, 357, 4, 17, 2, 2, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                               64, gemm_route::automatic, 3);
  {
    conv2d_dims wide = MakeDims(3, 2210, 1, 8, 1, 3, 1, 1, 0, 1);
    wide.dil_w = 1100;
    wide.out_w = OutSize(wide.in_w, wide.pad_left, wide.pad_right, wide.k_w, wide.stride_w, wide.dil_w);
    CheckConvQOnce<std::uint8_t>(wide, rng, test::fill::random, test::fill::random, 127, gemm_route::automatic, 0);
  }
  // Extremes: activations at the type's bounds, weights +-127 (widening route) and +-64 (vpmaddubsw route).
  for (auto xf : {test::fill::low, test::fill::high})
    for (auto wf : {test::fill::low, test::fill::high})
      for (int wmax : {127, 64}) {
        const conv2d_dims d = MakeDims(6, 7, 19, 17, 3, 3, 1, 1, 1, 1);
        CheckConvQOnce<std::uint8_t>(d, rng, xf, wf, wmax, gemm_route::automatic, 3);
        CheckConvQOnce<std::int8_t>(d, rng, xf, wf, wmax, gemm_route::automatic, 5);
      }
  // The Fashion-MNIST first layer with the mean folded in (value padding), at the extremes too.
  for (auto xf : {test::fill::random, test::fill::low, test::fill::high})
    CheckConvQOnce<std::uint8_t>(MakeDims(28, 28, 1, 16, 3, 3, 1, 1, 1, 1), rng, xf, test::fill::random, 127,
                                 gemm_route::automatic, 0);
  // Scales in [2^-24.5, 0.5): first-layer channel blocks outside the short requantization form take the general
  // one (plain, pooled and value-padded); and a 3-channel first layer.
  for (auto xf : {test::fill::random, test::fill::low, test::fill::high}) {
    CheckConvQOnce<std::uint8_t>(MakeDims(12, 10, 1, 16, 3, 3, 1, 1, 1, 1), rng, xf, test::fill::high, 127,
                                 gemm_route::automatic, 1, -24.5, -1.0);
    CheckConvQOnce<std::int8_t>(MakeDims(9, 12, 3, 24, 3, 3, 1, 1, 1, 1), rng, xf, test::fill::low, 127,
                                gemm_route::automatic, 2, -24.5, -1.0);
  }
  if (HWY_TARGET != HWY_SCALAR) CHECK(value_padded_first_layers > 0);
  // The AVX2 kQuad first layer (7-bit weights): the Fashion-MNIST layer (the padded input held whole) and its
  // extremes (weights +-64, activations at the type's bounds), u8 and s8; RGB 3x3 stride 2 with remainder
  // channels on the row-pair kernel; 5x5 over 2 channels (3 quads per kernel row, the last one part zero); rows
  // wider than the whole-input buffer (built per chunk); a vertical dilation; a horizontal one (row pairs);
  // scales outside the short requantization form.
  for (auto xf : {test::fill::random, test::fill::low, test::fill::high})
    for (auto wf : {test::fill::random, test::fill::low, test::fill::high}) {
      CheckConvQOnce<std::uint8_t>(MakeDims(28, 28, 1, 16, 3, 3, 1, 1, 1, 1), rng, xf, wf, 64, gemm_route::automatic,
                                   1);
      CheckConvQOnce<std::int8_t>(MakeDims(28, 28, 1, 32, 3, 3, 1, 1, 1, 1), rng, xf, wf, 64, gemm_route::automatic,
                                  2);
    }
  CheckConvQOnce<std::uint8_t>(MakeDims(17, 19, 3, 40, 3, 3, 2, 1, 1, 1), rng, test::fill::random, test::fill::random,
                               64, gemm_route::automatic, 3);
  CheckConvQOnce<std::int8_t>(MakeDims(13, 12, 2, 16, 5, 5, 1, 1, 2, 1), rng, test::fill::random, test::fill::high, 64,
                              gemm_route::automatic, 4);
  CheckConvQOnce<std::uint8_t>(MakeDims(5, 3000, 1, 16, 3, 3, 1, 1, 1, 1), rng, test::fill::random,
                               test::fill::random, 64, gemm_route::automatic, 5);
  CheckConvQOnce<std::int8_t>(MakeDims(6, 900, 3, 16, 3, 3, 2, 1, 1, 1), rng, test::fill::high, test::fill::low, 64,
                              gemm_route::automatic, 6);
  {
    const conv2d_dims dh = DilatedH(MakeDims(15, 14, 1, 16, 3, 3, 1, 1, 2, 1), 2);
    CheckConvQOnce<std::uint8_t>(dh, rng, test::fill::random, test::fill::random, 64, gemm_route::automatic, 7);
    conv2d_dims dw = MakeDims(15, 14, 1, 16, 3, 3, 1, 1, 2, 1);
    dw.dil_w = 2;
    dw.out_w = OutSize(dw.in_w, dw.pad_left, dw.pad_right, dw.k_w, dw.stride_w, dw.dil_w);
    CheckConvQOnce<std::int8_t>(dw, rng, test::fill::random, test::fill::random, 64, gemm_route::automatic, 0);
  }
  for (auto xf : {test::fill::random, test::fill::low, test::fill::high}) {
    CheckConvQOnce<std::uint8_t>(MakeDims(12, 10, 1, 16, 3, 3, 1, 1, 1, 1), rng, xf, test::fill::high, 64,
                                 gemm_route::automatic, 1, -24.5, -1.0);
    CheckConvQOnce<std::int8_t>(MakeDims(9, 12, 3, 32, 3, 3, 1, 1, 1, 1), rng, xf, test::fill::low, 64,
                                gemm_route::automatic, 2, -24.5, -1.0);
  }
  if (HWY_TARGET == HWY_AVX2) CHECK(quad_first_layers > 0);
  // Pooled shapes: the row-pair first layer with its remainder channels, the GEMM route, odd sizes (the last
  // row and column dropped), wide rows in several chunks, groups.
  for (int cout : {1, 3, 8, 16, 17, 20, 35})
    CheckConvQOnce<std::uint8_t>(MakeDims(9, 11, 1, cout, 3, 3, 1, 1, 1, 1), rng, test::fill::random,
                                 test::fill::random, 127, gemm_route::automatic, static_cast<std::size_t>(cout) % 8);
  CheckConvQOnce<std::int8_t>(MakeDims(7, 150, 3, 16, 3, 3, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                              127, gemm_route::automatic, 1);
  CheckConvQOnce<std::uint8_t>(MakeDims(6, 9, 2, 16, 5, 5, 1, 2, 2, 1), rng, test::fill::random, test::fill::random,
                               64, gemm_route::automatic, 2);
  for (auto xf : {test::fill::random, test::fill::low, test::fill::high})
    for (int wmax : {127, 64}) {
      CheckConvQOnce<std::uint8_t>(MakeDims(14, 14, 16, 32, 3, 3, 1, 1, 1, 1), rng, xf, test::fill::random, wmax,
                                   gemm_route::automatic, 3);
      CheckConvQOnce<std::int8_t>(MakeDims(9, 7, 24, 12, 3, 3, 1, 1, 1, 2), rng, xf, test::fill::random, wmax,
                                  gemm_route::automatic, 4);
    }
  // The implicit convolution on inputs too large for its padded copy: the segments crossing the left and right
  // padding assembled, kernel rows in the top and bottom padding on the zero-point row (an input 2 rows high),
  // a vertical dilation, a 1x1 stride-2 layer, stride 2 on a wide input; u8 and s8, pooled where it fits.
  CheckConvQOnce<std::uint8_t>(MakeDims(40, 40, 32, 16, 3, 3, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                               64, gemm_route::automatic, 1);
  CheckConvQOnce<std::int8_t>(MakeDims(36, 33, 32, 20, 3, 3, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                              64, gemm_route::automatic, 2);
  CheckConvQOnce<std::uint8_t>(MakeDims(2, 300, 64, 8, 3, 3, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                               64, gemm_route::automatic, 3);
  CheckConvQOnce<std::int8_t>(MakeDims(30, 45, 24, 9, 3, 5, 2, 1, 2, 1), rng, test::fill::random, test::fill::random,
                              64, gemm_route::automatic, 4);
  CheckConvQOnce<std::uint8_t>(MakeDims(29, 31, 48, 24, 1, 1, 2, 1, 0, 1), rng, test::fill::random, test::fill::random,
                               64, gemm_route::automatic, 5);
  {
    const conv2d_dims dh = DilatedH(MakeDims(40, 38, 32, 12, 3, 3, 1, 1, 2, 1), 2);
    CheckConvQOnce<std::uint8_t>(dh, rng, test::fill::random, test::fill::random, 64, gemm_route::automatic, 6);
    CheckConvQOnce<std::int8_t>(dh, rng, test::fill::high, test::fill::low, 64, gemm_route::automatic, 7);
    // the same on an input small enough for the padded copy (the kernel rows 2 input rows apart there too)
    const conv2d_dims dp = DilatedH(MakeDims(11, 12, 8, 16, 3, 3, 1, 1, 2, 1), 2);
    CheckConvQOnce<std::uint8_t>(dp, rng, test::fill::random, test::fill::random, 64, gemm_route::automatic, 1);
  }
  // 32-channel multiples (the vpmaddubsw route's 3-row x 32-channel tile): on the padded copy with 2 rows left
  // over (80 rows), s8 over 96 channels (quads in two blocks of panels) with 1 row left; on kernel-row segments (an
  // input past the padded copy's size); over 160 channels (more panel pairs than the requantization cache holds:
  // the 4-row tile); and weights past the 192 KiB of one block of panels (680 input channels, 64 output channels:
  // two blocks of 4 panels).
  CheckConvQOnce<std::uint8_t>(MakeDims(8, 10, 16, 32, 3, 3, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                               64, gemm_route::automatic, 1);
  CheckConvQOnce<std::int8_t>(MakeDims(10, 7, 12, 96, 3, 3, 1, 1, 1, 1), rng, test::fill::high, test::fill::low, 64,
                              gemm_route::automatic, 2);
  CheckConvQOnce<std::int8_t>(MakeDims(40, 40, 32, 32, 3, 3, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                              64, gemm_route::automatic, 3);
  CheckConvQOnce<std::uint8_t>(MakeDims(6, 5, 8, 160, 3, 3, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                               64, gemm_route::automatic, 4);
  CheckConvQOnce<std::uint8_t>(MakeDims(5, 5, 680, 64, 3, 3, 1, 1, 1, 1), rng, test::fill::random, test::fill::random,
                               64, gemm_route::automatic, 5);
  // Border pixels without their taps in the padding (32-channel multiples on the padded copy): padding 1 and 2
  // (two rows and columns of each border, each with its own taps), rows of 3 to 9 pixels (the last tile of a row
  // or column repeating 2, 1 or no pixels; 0, 1 or 2 columns of the rest left over from its whole tiles), stride 2,
  // a vertical dilation, 5x5, an input so short that every output row is a border row, padding at the top only, 64
  // to 128 channels (more than one block of panels: border rows only, on the padded copy), u8 and s8, activations
  // and weights at their bounds, and input zero points the kernel multiplies as 0 (u8 0, s8 -128).
  {
    std::size_t rep = 0;
    for (int pad : {1, 2})
      for (int w : {3, 4, 5, 7, 8, 9})
        for (int cout : {32, 64}) {
          const conv2d_dims d = MakeDims(7, w, 8, cout, 3, 3, 1, 1, pad, 1);
          CheckConvQOnce<std::uint8_t>(d, rng, test::fill::random, test::fill::random, 64, gemm_route::automatic,
                                       rep++ % 8);
          CheckConvQOnce<std::int8_t>(d, rng, test::fill::random, test::fill::random, 64, gemm_route::automatic,
                                      rep++ % 8);
        }
    for (auto xf : {test::fill::low, test::fill::high})
      for (auto wf : {test::fill::low, test::fill::high}) {
        const conv2d_dims d = MakeDims(6, 7, 12, 32, 3, 3, 1, 1, 1, 1);
        CheckConvQOnce<std::uint8_t>(d, rng, xf, wf, 64, gemm_route::automatic, 1);
        CheckConvQOnce<std::int8_t>(d, rng, xf, wf, 64, gemm_route::automatic, 2);
      }
    CheckConvQOnce<std::uint8_t>(MakeDims(9, 8, 16, 32, 3, 3, 2, 1, 1, 1), rng, test::fill::random, test::fill::random,
                                 64, gemm_route::automatic, 3);
    CheckConvQOnce<std::int8_t>(MakeDims(9, 9, 4, 96, 5, 5, 1, 1, 2, 1), rng, test::fill::random, test::fill::random,
                                64, gemm_route::automatic, 4);
    CheckConvQOnce<std::uint8_t>(MakeDims(2, 6, 8, 128, 3, 3, 1, 1, 1, 1), rng, test::fill::random,
                                 test::fill::random, 64, gemm_route::automatic, 5);
    const conv2d_dims dh = DilatedH(MakeDims(12, 6, 8, 32, 3, 3, 1, 1, 2, 1), 2);
    CheckConvQOnce<std::int8_t>(dh, rng, test::fill::random, test::fill::random, 64, gemm_route::automatic, 6);
    conv2d_dims dt = MakeDims(8, 7, 8, 32, 3, 3, 1, 1, 1, 1);
    dt.pad_top = 2;
    dt.pad_bottom = 0;
    dt.out_h = OutSize(dt.in_h, dt.pad_top, dt.pad_bottom, dt.k_h, dt.stride_h, dt.dil_h);
    CheckConvQOnce<std::uint8_t>(dt, rng, test::fill::random, test::fill::random, 64, gemm_route::automatic, 7);
    for (auto xf : {test::fill::random, test::fill::low}) {
      CheckConvQOnce<std::uint8_t>(MakeDims(14, 14, 16, 32, 3, 3, 1, 1, 1, 1), rng, xf, test::fill::random, 64,
                                   gemm_route::automatic, 0, -18.0, -6.0, 0);
      CheckConvQOnce<std::int8_t>(MakeDims(14, 14, 16, 32, 3, 3, 1, 1, 1, 1), rng, xf, test::fill::random, 64,
                                  gemm_route::automatic, 1, -18.0, -6.0, -128);
    }
  }
  if (STATIQ_AVX2_GEMM_PATHS) {
    CHECK(border_row_convs > 50);
    CHECK(border_column_convs > 15);
    CHECK(border_pooled > 10);
    CHECK(border_zero_zp >= 4);
  }
  CHECK(pooled_convs > 0);
  CHECK(sliced_convs > 100);
  if (HWY_TARGET != HWY_SCALAR) CHECK(pooled_first_layers > 0);
  // the implicit convolution ran (AVX2, and AVX-512 without AVX512-VNNI in the flags: vpmaddubsw; AVX-512 with it:
  // vpdpbusd, also for full-range weights)
  if (STATIQ_AVX2_GEMM_PATHS || STATIQ_VNNI_PATHS) {
    CHECK(implicit_convs > 0);
    CHECK(implicit_assembled > 0);
  }
}

}  // namespace
}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace statiq::kernels {
HWY_EXPORT(TestConv2d);

TEST_CASE("conv2d int8 equals ref::conv2d_q on every target, plain, pooled and value-padded") {
  test::on_every_target([](std::int64_t) { HWY_DYNAMIC_DISPATCH(TestConv2d)(); });
}
}  // namespace statiq::kernels
#endif
