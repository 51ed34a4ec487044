// The f32 convolution and f32 depthwise convolution on every compiled and supported target, against
// ref::conv2d_f32 within float rounding: the error bound is the reference's sum of |terms| times k * eps.
#include <array>
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
#define HWY_TARGET_INCLUDE "conv2d_f32_test.cpp"
#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <doctest/doctest.h>

#include "kernel_test_util.hpp"
#include "statiq/kernels/conv2d-inl.h"
#include "statiq/kernels/ref/conv2d.hpp"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace {

constexpr auto* MakeDims = &test::make_conv_dims;

// How many shapes were also computed as slices of output rows (conv2d_rows).
std::size_t sliced_shapes = 0;

void CheckConvF32Once(const conv2d_dims& d, std::mt19937& rng, std::size_t mis) {
  const int cin_g = d.in_c / d.groups;
  test::offset_buffer<float> x(static_cast<std::size_t>(d.in_h) * d.in_w * d.in_c, 4 * (mis % 4));
  test::offset_buffer<float> w(static_cast<std::size_t>(d.out_c) * d.k_h * d.k_w * cin_g, 4 * ((mis + 1) % 4));
  test::offset_buffer<float> bias(d.out_c, 0);
  const std::size_t ny = static_cast<std::size_t>(d.out_h) * d.out_w * d.out_c;
  test::offset_buffer<float> y(ny, 4 * ((mis + 2) % 4)), yref(ny, 0), yabs(ny, 0);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = nd(rng);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = nd(rng);
  for (std::size_t i = 0; i < bias.size(); ++i) bias[i] = nd(rng);
  const float lo = (rng() % 2) ? 0.0f : -1e30f, hi = (rng() % 2) ? 6.0f : 1e30f;
  ref::conv2d_f32(d, x.data(), w.data(), bias.data(), yref.data(), lo, hi);
  // Error bound: the same sum of |terms| (computed by the reference on absolute values) times k * eps.
  test::offset_buffer<float> xa(x.size(), 0), wa(w.size(), 0), ba(bias.size(), 0);
  for (std::size_t i = 0; i < x.size(); ++i) xa[i] = std::fabs(x[i]);
  for (std::size_t i = 0; i < w.size(); ++i) wa[i] = std::fabs(w[i]);
  for (std::size_t i = 0; i < bias.size(); ++i) ba[i] = std::fabs(bias[i]);
  ref::conv2d_f32(d, xa.data(), wa.data(), ba.data(), yabs.data(), -1e30f, 1e30f);
  const float k = static_cast<float>(d.k_h * d.k_w * cin_g + 1);
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1 && !(d.groups == d.in_c && d.out_c == d.in_c)) break;
    std::memset(y.data(), 0x5a, ny * sizeof(float));
    if (pass == 0) Conv2dF32(d, x.data(), w.data(), bias.data(), y.data(), lo, hi);
    else DepthwiseConvF32(d, x.data(), w.data(), bias.data(), y.data(), lo, hi);
    std::size_t bad = 0, first = ny;
    for (std::size_t i = 0; i < ny; ++i) {
      const float tol = 2.0f * k * 1.2e-7f * yabs[i] + 1e-30f;
      if (!(std::fabs(y[i] - yref[i]) <= tol)) { ++bad; if (first == ny) first = i; }
    }
    INFO("target ", hwy::TargetName(HWY_TARGET), " f32 pass=", pass, " in=", d.in_h, "x", d.in_w, "x", d.in_c,
         " out_c=", d.out_c, " k=", d.k_h, "x", d.k_w, " s=", d.stride_h, " dil=", d.dil_h, " g=", d.groups,
         " first bad=", first, " y=", (first < ny ? y[first] : 0.0f), " ref=", (first < ny ? yref[first] : 0.0f));
    CHECK(bad == 0);
    // As slices of output rows (conv2d_rows), within the same bound of the reference: a slice may take another
    // route than the whole layer (fewer rows), so sums may run in another order (found: a last-bit difference).
    std::mt19937 slice_rng(static_cast<unsigned>(ny + mis + static_cast<std::size_t>(pass)));
    const test::slices_result sl = test::check_row_slices(
        d, slice_rng, x.data(), y.data(), [&](const conv2d_dims& sd, const float* sx, float* sy) {
          if (pass == 0) Conv2dF32(sd, sx, w.data(), bias.data(), sy, lo, hi);
          else DepthwiseConvF32(sd, sx, w.data(), bias.data(), sy, lo, hi);
        },
        [&](std::size_t i, float got, float) { return std::fabs(got - yref[i]) <= 2.0f * k * 1.2e-7f * yabs[i] + 1e-30f; });
    if (sl.ran) ++sliced_shapes;
    CHECK(sl.bad == 0);
  }
}

void TestConv2dF32() {
  std::mt19937 rng(8765);
  std::size_t mis = 0;
  const int cins[] = {1, 3, 4, 5, 8, 17, 32};
  const int couts[] = {1, 3, 8, 16, 17, 33};
  const int ks[][2] = {{1, 1}, {3, 3}, {5, 5}, {1, 3}, {2, 2}};
  for (const auto& k : ks)
    for (int s : {1, 2})
      for (int dil : {1, 2})
        for (int pad : {0, 1, 2})
          for (int rep = 0; rep < 3; ++rep) {
            const int cin = cins[rng() % 7], cout = couts[rng() % 6];
            const int groups = (rep == 2 && cin % 2 == 0 && cout % 2 == 0) ? 2 : 1;
            const conv2d_dims d = MakeDims(5 + static_cast<int>(rng() % 5), 4 + static_cast<int>(rng() % 6), cin,
                                           cout, k[0], k[1], s, dil, pad, groups);
            if (d.out_h <= 0 || d.out_w <= 0) continue;
            CheckConvF32Once(d, rng, ++mis);
          }
  // Depthwise shapes (3x3 and dilated 5x5): the general kernel and the f32 depthwise kernel.
  for (int c : {1, 3, 8, 17, 24})
    for (int s : {1, 2}) {
      CheckConvF32Once(MakeDims(7, 6, c, c, 3, 3, s, 1, 1, c), rng, ++mis);
      CheckConvF32Once(MakeDims(9, 8, c, c, 5, 5, s, 2, 2, c), rng, ++mis);
    }
  // 3x3 depthwise: several vectors per pass (40; 136: a full pass of 128 channels and a rest) with the interior
  // columns' own loop, no padding, dilation with padding, strides with padding wider than the kernel reaches; 23
  // columns of 136 channels: the interior columns in chunks of 8 (3 input rows over 16 KiB), the last one short.
  for (int c : {40, 136})
    for (const auto& [s, dil, pad] : {std::array{1, 1, 0}, std::array{1, 2, 2}, std::array{2, 1, 2}, std::array{2, 2, 1},
                                      std::array{1, 1, 1}}) {
      CheckConvF32Once(MakeDims(8, 9, c, c, 3, 3, s, dil, pad, c), rng, ++mis);
      if (c == 136) CheckConvF32Once(MakeDims(5, 23, c, c, 3, 3, s, dil, pad, c), rng, ++mis);
    }
  // The layer shapes of the benchmarks (first layer 28x28x1 -> 16, 14x14x16 -> 32, 28x28x32 -> 32: 6-pixel tiles
  // and 4 left over; the 1x1 24 -> 48, a GEMM on the input).
  CheckConvF32Once(MakeDims(28, 28, 1, 16, 3, 3, 1, 1, 1, 1), rng, 0);
  CheckConvF32Once(MakeDims(14, 14, 16, 32, 3, 3, 1, 1, 1, 1), rng, 1);
  CheckConvF32Once(MakeDims(28, 28, 32, 32, 3, 3, 1, 1, 1, 1), rng, 2);
  CheckConvF32Once(MakeDims(28, 28, 24, 48, 1, 1, 1, 1, 0, 1), rng, 3);
  // The float first layer (at most 4 input channels, output channels in fours): RGB stride 2 over 24 channels (2
  // and 1 vectors), 4 channels over 20 (a 4-lane block after the vectors), 5x5 over 2 channels; rows wider than one
  // chunk of its row buffer (8192 floats: 2730 columns for 3x3x1, 682 for 3x3x4, dilated 2); rows narrower than a
  // 6-pixel tile.
  CheckConvF32Once(MakeDims(17, 19, 3, 24, 3, 3, 2, 1, 1, 1), rng, 4);
  CheckConvF32Once(MakeDims(9, 13, 4, 20, 3, 3, 1, 1, 1, 1), rng, 5);
  CheckConvF32Once(MakeDims(11, 10, 2, 16, 5, 5, 1, 1, 2, 1), rng, 6);
  CheckConvF32Once(MakeDims(3, 3000, 1, 16, 3, 3, 1, 1, 1, 1), rng, 7);
  CheckConvF32Once(MakeDims(4, 700, 4, 8, 3, 3, 1, 2, 2, 1), rng, 0);
  CheckConvF32Once(MakeDims(6, 5, 1, 32, 3, 3, 1, 1, 1, 1), rng, 1);
  CHECK(sliced_shapes > 100);
}

}  // namespace
}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace statiq::kernels {
HWY_EXPORT(TestConv2dF32);

TEST_CASE("conv2d and depthwise f32 match ref::conv2d_f32 within float rounding on every target") {
  test::on_every_target([](std::int64_t) { HWY_DYNAMIC_DISPATCH(TestConv2dF32)(); });
}
}  // namespace statiq::kernels
#endif
