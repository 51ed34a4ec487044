// Quantized GEMM / GEMV on every compiled and supported target, bit for bit against ref::gemm_s32 and
// ref::gemm_requantize, over swept M/N/K, misaligned buffers, both AVX2 routes and saturation edge values.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

// Every attainable target, not only those above the -march baseline, so SSE4 and the scalar fallback run too.
#ifndef HWY_COMPILE_ALL_ATTAINABLE
#define HWY_COMPILE_ALL_ATTAINABLE
#endif
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gemm_test.cpp"
#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <doctest/doctest.h>

#include "kernel_test_util.hpp"
#include "statiq/kernels/dense_f32-inl.h"
#include "statiq/kernels/gemm_u8s8-inl.h"
#include "statiq/kernels/pack.hpp"
#include "statiq/kernels/ref/dense.hpp"
#include "statiq/kernels/ref/gemm.hpp"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace {

// How weights are drawn: full range (forces the widening route), 7-bit (pairs fit s16), a constant, or the
// vpmaddubsw boundary: pairs (127, 1) / (-127, -1), whose 255-activation sums are exactly +-32640.
enum class wfill { full, seven_bit, constant, boundary };

struct Case {
  std::size_t m, n, k;
  std::size_t mis;
  wfill wf;
  int wconst;                       // weight value for wfill::constant
  test::fill xf;                    // activations random / all min / all max
  gemm_route route;
  std::size_t x_pad, y_pad;         // extra row stride
  std::size_t n_begin, n_end;       // computed channel range (n_begin a multiple of 8)
};

// Returns the number of mismatches (reports the first one).
template <class TIn, class TOut>
int CheckGemm(std::mt19937& rng, const Case& c) {
  constexpr int xlo = std::is_same_v<TIn, std::uint8_t> ? 0 : -128;
  constexpr int xhi = std::is_same_v<TIn, std::uint8_t> ? 255 : 127;
  const std::size_t xs = c.k + c.x_pad, ys = c.n + c.y_pad;
  test::offset_buffer<TIn> x(c.m * xs, c.mis % 5);
  test::offset_buffer<std::int8_t> w(c.n * c.k, 0);
  test::offset_buffer<std::int32_t> bias(c.n, 0);
  test::fill_int(x, rng, xlo, xhi, c.xf);
  if (c.wf == wfill::full) test::fill_int(w, rng, -127, 127);
  if (c.wf == wfill::seven_bit) test::fill_int(w, rng, -64, 64);
  if (c.wf == wfill::constant) test::fill_int(w, rng, c.wconst, c.wconst, test::fill::low);
  if (c.wf == wfill::boundary) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const int sign = ((i / c.k) % 2 == 0) ? 1 : -1;  // alternate per channel
      w[i] = static_cast<std::int8_t>(sign * ((i % c.k) % 2 == 0 ? 127 : 1));
    }
  }
  test::fill_int(bias, rng, -50000, 50000);
  const std::int32_t x_zp = std::uniform_int_distribution<int>(xlo, xhi)(rng);
  // Scales 2^e: half the cases e in [-20, -8) (every channel in the requantization's short form), half
  // e in [-24.5, -1) (channels outside it: the call takes the general form).
  std::vector<ref::requant_multiplier> mult(c.n);
  const bool wide_scales = rng() % 2 == 0;
  std::uniform_real_distribution<double> sd(wide_scales ? -24.5 : -20.0, wide_scales ? -1.0 : -8.0);
  for (auto& mm : mult) mm = ref::quantize_multiplier(std::exp2(sd(rng)));
  const bool per_channel = rng() % 2 == 0;

  test::offset_buffer<std::uint8_t> packed(gemm_packed_size(c.n, c.k), (c.mis * 3) % 8);
  pack_gemm_weights<TIn>(c.n, c.k, w.data(), bias.data(), x_zp, mult.data(), per_channel, packed.data(), c.route);

  // reference on a dense copy of x
  std::vector<TIn> xd(c.m * c.k);
  for (std::size_t i = 0; i < c.m; ++i) std::memcpy(xd.data() + i * c.k, x.data() + i * xs, c.k * sizeof(TIn));
  std::vector<TOut> expect(c.m * c.n);
  constexpr bool raw = std::is_same_v<TOut, std::int32_t>;
  std::int32_t y_zp = 0, lo = 0, hi = 0;
  if constexpr (raw) {
    ref::gemm_s32(c.m, c.n, c.k, xd.data(), x_zp, w.data(), bias.data(), expect.data());
  } else {
    constexpr std::int32_t tmin = std::numeric_limits<TOut>::min(), tmax = std::numeric_limits<TOut>::max();
    y_zp = std::uniform_int_distribution<int>(tmin, tmax)(rng);
    lo = std::uniform_int_distribution<int>(tmin, tmax)(rng);
    hi = std::uniform_int_distribution<int>(tmin, tmax)(rng);
    if (lo > hi) std::swap(lo, hi);
    if (rng() % 2) { lo = tmin; hi = tmax; }
    ref::gemm_requantize(c.m, c.n, c.k, xd.data(), x_zp, w.data(), bias.data(), mult.data(), per_channel, y_zp, lo,
                         hi, expect.data());
  }
  test::offset_buffer<TOut> y(c.m * ys, (c.mis * 7) % 8);
  const TOut sentinel = static_cast<TOut>(0x5A);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = sentinel;
  GemmPacked<TIn, TOut>(packed.data(), c.m, x.data(), xs, y.data(), ys, y_zp, lo, hi, c.n_begin, c.n_end);

  int bad = 0;
  for (std::size_t i = 0; i < c.m; ++i) {
    for (std::size_t j = 0; j < ys; ++j) {
      const bool inside = j >= c.n_begin && j < c.n_end && j < c.n;
      const TOut want = inside ? expect[i * c.n + j] : sentinel;
      const TOut got = y[i * ys + j];
      if (got != want && bad++ == 0) {
        FAIL_CHECK("target " << std::string(hwy::TargetName(HWY_TARGET)) << " M=" << c.m << " N=" << c.n << " K=" << c.k
                             << " in=" << (std::is_same_v<TIn, std::uint8_t> ? "u8" : "s8")
                             << " out_bits=" << 8 * sizeof(TOut) << " route=" << int(c.route)
                             << " flags=" << gemm_packed_view{packed.data()}.flags() << " at [" << i << "][" << j
                             << "] got " << static_cast<std::int64_t>(got) << " want "
                             << static_cast<std::int64_t>(want));
      }
    }
  }
  return bad;
}

template <class TIn>
void CheckAllOutputs(std::mt19937& rng, const Case& c) {
  CheckGemm<TIn, std::int32_t>(rng, c);
  CheckGemm<TIn, std::uint8_t>(rng, c);
  CheckGemm<TIn, std::int8_t>(rng, c);
}

void TestGemmSweep() {
  std::mt19937 rng(42);
  const std::size_t ms[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 17, 33, 70};
  const std::size_t ns[] = {1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33, 40, 63, 70};
  const std::size_t ks[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 70, 129};
  std::size_t iter = 0;
  for (std::size_t m : ms) {
    for (std::size_t n : ns) {
      for (std::size_t k : ks) {
        ++iter;
        Case c{m, n, k, iter, static_cast<wfill>(iter % 2), 0, test::fill::random,
               (iter % 5 == 0) ? gemm_route::widen_i16 : gemm_route::automatic, iter % 3, (iter / 3) % 2, 0,
               n};
        if (iter % 7 == 0 && n > 8) {  // a channel sub-range, as threads split a layer
          c.n_begin = 8;
          c.n_end = n - 1;
        }
        if (iter % 2) CheckAllOutputs<std::uint8_t>(rng, c);
        else CheckAllOutputs<std::int8_t>(rng, c);
      }
    }
  }
  // More than 16 panels: the AVX2 epilogue builds each panel pair's requantization constants per tile instead
  // of once per call; several blocks of 8 panels, the last one of 5, 7, 1 or 2 (pack.hpp); also a channel sub-range
  // that starts inside a block, at an odd panel or past the first pairs.
  for (std::size_t n : {100, 120, 136, 203}) {
    for (std::size_t m : {1, 4, 9}) {
      for (std::size_t k : {24, 67}) {
        ++iter;
        Case c{m, n, k, iter, static_cast<wfill>(iter % 2), 0, test::fill::random, gemm_route::automatic, 0, 0, 0, n};
        CheckAllOutputs<std::uint8_t>(rng, c);
        c.n_begin = n > 120 ? 120 : 24;
        c.n_end = n - 3;
        CheckAllOutputs<std::int8_t>(rng, c);
      }
    }
  }
}

// Small k, whole groups: the VNNI GEMM's resident-weight tile (weights of 2 zmm for up to 9 groups, of 3 zmm for up
// to 6, held in registers over all rows, 3 rows at a time) at and past its limits, every row count mod 3.
void TestGemmSmallK() {
  std::mt19937 rng(11);
  std::size_t iter = 0;
  for (std::size_t k : {20, 24, 28, 32, 36, 40}) {
    for (std::size_t n : {32, 40, 48, 64, 96}) {
      for (std::size_t m : {2, 3, 4, 5, 6, 7, 50}) {
        ++iter;
        Case c{m, n, k, iter, static_cast<wfill>(iter % 2), 0, test::fill::random, gemm_route::automatic, iter % 3,
               (iter / 3) % 2, 0, n};
        if (iter % 2) CheckAllOutputs<std::uint8_t>(rng, c);
        else CheckAllOutputs<std::int8_t>(rng, c);
      }
    }
  }
}

// Saturation edges: vpmaddubsw sums two u8 x s8 products into s16; 255 * 127 * 2 = 64770 would saturate.
// The packer must pick the exact route, and the vpmaddubsw route must hold exactly up to |w_a|+|w_b| = 128.
void TestGemmEdges() {
  std::mt19937 rng(7);
  const int wvals[] = {127, -127, -128, 64, -64, 65, -65, 63, -63, 1, 0};
  for (int wv : wvals) {
    for (auto xf : {test::fill::low, test::fill::high, test::fill::random}) {
      for (std::size_t m : {1, 4, 5, 11}) {
        for (std::size_t k : {4, 37, 256, 300}) {
          for (std::size_t n : {8, 13, 32, 33}) {
            Case c{m, n, k, m + k, wfill::constant, wv, xf, gemm_route::automatic, 0, 0, 0, n};
            CheckAllOutputs<std::uint8_t>(rng, c);
            CheckAllOutputs<std::int8_t>(rng, c);
          }
        }
      }
    }
  }
}

// The flag that selects vpmaddubsw is set exactly when every summed pair fits s16.
void TestGemmRouteFlag() {
  auto flags_for = [](std::vector<std::int8_t> w, std::size_t n, std::size_t k) {
    std::vector<std::int32_t> bias(n, 0);
    const ref::requant_multiplier m = ref::quantize_multiplier(0.01);
    std::vector<std::uint8_t> p(gemm_packed_size(n, k));
    pack_gemm_weights<std::uint8_t>(n, k, w.data(), bias.data(), 0, &m, false, p.data());
    return gemm_packed_view{p.data()}.flags() & gemm_pairs_fit_s16;
  };
  CHECK(flags_for({64, 64, 64, 64}, 1, 4) != 0);
  CHECK(flags_for({-64, -64, -64, -64}, 1, 4) != 0);
  CHECK(flags_for({127, 1, 1, 127}, 1, 4) != 0);   // pairs (127,1), (1,127): 128 each
  CHECK(flags_for({127, 2, 0, 0}, 1, 4) == 0);     // 129
  CHECK(flags_for({1, 127, 127, 1}, 1, 4) != 0);
  CHECK(flags_for({0, 65, 64, 0}, 1, 4) != 0);     // 65 and 64 sit in different pairs
  CHECK(flags_for({0, 65, 64, 0, 0}, 1, 5) != 0);
  CHECK(flags_for({65, 64}, 1, 2) == 0);
  CHECK(flags_for({127}, 1, 1) != 0);              // a lone weight pairs with the zero padding
  // the adversarial case of the widening route: every weight 127, every activation 255 (pairs of 254)
  std::mt19937 rng(3);
  for (std::size_t m : {1, 4, 6}) {
    for (std::size_t k : {4, 64, 101}) {  // pairs at exactly 128: the vpmaddubsw route at its limit
      Case b{m, 24, k, 1, wfill::boundary, 0, test::fill::high, gemm_route::automatic, 0, 0, 0, 24};
      CheckAllOutputs<std::uint8_t>(rng, b);
      CheckAllOutputs<std::int8_t>(rng, b);
    }
  }
  for (std::size_t m : {1, 6}) {
    Case c{m, 24, 64, 1, wfill::constant, 127, test::fill::high, gemm_route::automatic, 0, 0, 0, 24};
    CheckAllOutputs<std::uint8_t>(rng, c);
  }
}

// Float: same contract as ref::dense_f32; sums are reassociated, so compare within a relative bound of
// the sum of |products| (float rounding of a K-term sum in any order). Channels [n_begin, n_end) only, where given:
// the others must keep what y held.
void CheckDenseF32(std::mt19937& rng, std::size_t m, std::size_t n, std::size_t k, std::size_t n_begin = 0,
                   std::size_t n_end = static_cast<std::size_t>(-1)) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  test::offset_buffer<float> x(m * k, 4 * (k % 3)), w(n * k, 4 * (n % 5)), bias(n, 0), y(m * n, 4);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = dist(rng);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = dist(rng);
  for (std::size_t i = 0; i < n; ++i) bias[i] = dist(rng);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = 12345.0f;
  const bool clamp = (m + n + k) % 2 == 0;
  const float lo = clamp ? -0.5f : -1e30f, hi = clamp ? 2.0f : 1e30f;
  std::vector<float> want(m * n);
  ref::dense_f32(m, n, k, x.data(), w.data(), bias.data(), want.data(), lo, hi);
  DenseF32(m, n, k, x.data(), w.data(), bias.data(), y.data(), lo, hi, n_begin, n_end);
  for (std::size_t r = 0; r < m; ++r) {
    for (std::size_t j = 0; j < n; ++j) {
      const bool in = j >= n_begin && j < n_end;
      float mag = std::abs(bias[j]);
      for (std::size_t i = 0; in && i < k; ++i) mag += std::abs(x[r * k + i] * w[j * k + i]);
      const float tol = 4.0f * static_cast<float>(k + 1) * 6e-8f * mag + 1e-7f;
      if (in ? !(std::abs(y[r * n + j] - want[r * n + j]) <= tol) : y[r * n + j] != 12345.0f) {
        FAIL_CHECK("target " << std::string(hwy::TargetName(HWY_TARGET)) << " dense M=" << m << " N=" << n
                             << " K=" << k << " channels [" << n_begin << ", " << n_end << ") at [" << r << "][" << j
                             << "] got " << y[r * n + j] << " want " << (in ? want[r * n + j] : 12345.0f));
        return;
      }
    }
  }
}

// The sweep; then layers whose rows DenseF32 blocks (over 256 KiB of rows per k chunk and 8 panels or more: 300 rows
// run as blocks of 120, 120 and 60) over several k chunks, whole and as a channel range.
void TestDenseF32() {
  std::mt19937 rng(11);
  for (std::size_t m : {1, 2, 3, 4, 5, 9, 17, 64})
    for (std::size_t n : {1, 2, 3, 7, 8, 9, 17, 40, 70})
      for (std::size_t k : {1, 3, 7, 8, 9, 16, 31, 65, 300}) CheckDenseF32(rng, m, n, k);
  CheckDenseF32(rng, 300, 136, 600);
  CheckDenseF32(rng, 257, 300, 257, 24, 291);
}

// Long rows: the AVX2 widening route widens a row block once up to k = 4096 and in slices beyond.
void TestGemmLongK() {
  std::mt19937 rng(9);
  // batch 1, full-range extremes: the split GEMV folds its s16 high-bit sums every 128 groups (512 k)
  for (int wv : {-128, -127, 127}) {
    for (std::size_t k : {511, 512, 513, 1024, 2049, 4100}) {
      Case c{1, 40, k, k, wfill::constant, wv, test::fill::high, gemm_route::automatic, 0, 0, 0, 40};
      CheckAllOutputs<std::uint8_t>(rng, c);
      CheckAllOutputs<std::int8_t>(rng, c);
    }
  }
  // The VNNI GEMM's 6 x 64-channel tiles over long rows and more rows than one row block (about 64 KiB of
  // activations: 72 rows of k = 1000) and a last block of 3 or 8 rows; 136 channels: blocks of 8, 8 and 1 panels.
  for (std::size_t m : {75, 80}) {
    Case c{m, 136, 1000, m, wfill::full, 0, test::fill::random, gemm_route::automatic, 0, 0, 0, 136};
    CheckAllOutputs<std::uint8_t>(rng, c);
    c.n_begin = 8;  // a sub-range starting at panel 1: 7 panels left in the first block
    CheckAllOutputs<std::int8_t>(rng, c);
  }
  for (std::size_t k : {1023, 1024, 1025, 4095, 4096, 4097, 5000}) {
    for (std::size_t m : {1, 5}) {
      Case c{m, 17, k, k, wfill::full, 0, test::fill::random, gemm_route::automatic, 1, 0, 0, 17};
      CheckAllOutputs<std::uint8_t>(rng, c);
      c.wf = wfill::seven_bit;
      CheckAllOutputs<std::int8_t>(rng, c);
    }
  }
}

void TestGemmSweepAndLongK() {
  TestGemmSweep();
  TestGemmSmallK();
  TestGemmLongK();
}

void TestGemmSaturation() {
  TestGemmEdges();
  TestGemmRouteFlag();
}

}  // namespace
}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace statiq::kernels {
HWY_EXPORT(TestGemmSweepAndLongK);
HWY_EXPORT(TestGemmSaturation);
HWY_EXPORT(TestDenseF32);

// Three test cases, so that a runner can split them across processes (tools/ci/aarch64_kernel_tests.sh does).
TEST_CASE("int8 GEMM/GEMV equals ref::gemm_s32 / ref::gemm_requantize on every target") {
  test::on_every_target([](std::int64_t target) {
    MESSAGE("gemm on " << std::string(hwy::TargetName(target)));
    HWY_DYNAMIC_DISPATCH(TestGemmSweepAndLongK)();
  });
}

TEST_CASE("int8 GEMM/GEMV at the saturation edges is exact on every route and target") {
  test::on_every_target([](std::int64_t) { HWY_DYNAMIC_DISPATCH(TestGemmSaturation)(); });
}

TEST_CASE("f32 dense matches ref::dense_f32 within float rounding on every target") {
  test::on_every_target([](std::int64_t) { HWY_DYNAMIC_DISPATCH(TestDenseF32)(); });
}
}  // namespace statiq::kernels
#endif
