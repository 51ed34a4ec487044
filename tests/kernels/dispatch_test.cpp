// Dispatch: the static entry points (gemm.hpp, dense.hpp, requantize.hpp) and the opt-in dynamic dispatch
// (dynamic.hpp, instantiated in this TU only), against the references; the dynamic choice against libhwy's.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#ifndef HWY_COMPILE_ALL_ATTAINABLE
#define HWY_COMPILE_ALL_ATTAINABLE
#endif
// The one TU of this binary that instantiates dynamic dispatch.
#define STATIQ_DYNAMIC_DISPATCH_IMPLEMENTATION
#include "statiq/kernels/dynamic.hpp"

#include <doctest/doctest.h>

#include "statiq/kernels/dense.hpp"
#include "statiq/kernels/gemm.hpp"
#include "statiq/kernels/ref/dense.hpp"
#include "statiq/kernels/ref/gemm.hpp"
#include "statiq/kernels/requantize.hpp"

namespace statiq::kernels {
namespace {

struct layer {
  std::size_t m, n, k;
  std::vector<std::uint8_t> x;
  std::vector<std::int8_t> w;
  std::vector<std::int32_t> bias;
  std::vector<ref::requant_multiplier> mult;
  std::vector<std::uint8_t> packed;
  std::vector<std::uint8_t> want;

  layer(std::size_t m_, std::size_t n_, std::size_t k_, int wmax, std::mt19937& rng) : m(m_), n(n_), k(k_) {
    std::uniform_int_distribution<int> xd(0, 255), wd(-wmax, wmax), bd(-5000, 5000);
    x.resize(m * k);
    w.resize(n * k);
    bias.resize(n);
    mult.resize(n);
    for (auto& v : x) v = static_cast<std::uint8_t>(xd(rng));
    for (auto& v : w) v = static_cast<std::int8_t>(wd(rng));
    for (auto& v : bias) v = bd(rng);
    for (std::size_t j = 0; j < n; ++j) mult[j] = ref::quantize_multiplier(std::exp2(-12.0 - 0.1 * j));
    packed.resize(gemm_packed_size(n, k));
    pack_gemm_weights<std::uint8_t>(n, k, w.data(), bias.data(), 117, mult.data(), true, packed.data());
    want.resize(m * n);
    ref::gemm_requantize(m, n, k, x.data(), 117, w.data(), bias.data(), mult.data(), true, 5, 0, 250, want.data());
  }
};

TEST_CASE("static dispatch: gemm.hpp / requantize.hpp / dense.hpp equal the references") {
  std::mt19937 rng(21);
  for (int wmax : {127, 64}) {
    for (std::size_t m : {1, 3, 8}) {
      layer l(m, 37, 83, wmax, rng);
      std::vector<std::uint8_t> y(m * 37);
      if (m == 1) {
        matvec_u8s8_to_u8(l.packed.data(), l.x.data(), 5, 0, 250, y.data());
      } else {
        matmul_u8s8_to_u8(l.packed.data(), m, l.x.data(), l.k, 5, 0, 250, y.data(), 37);
      }
      CHECK(y == l.want);
    }
  }
  std::vector<std::int32_t> acc(45), mult(45), shift(45);
  std::vector<std::uint8_t> out(45), want(45);
  for (std::size_t i = 0; i < acc.size(); ++i) {
    acc[i] = static_cast<std::int32_t>(rng());
    const auto m = ref::quantize_multiplier(std::exp2(-2.0 - 0.5 * i));
    mult[i] = m.multiplier;
    shift[i] = m.shift;
    want[i] = static_cast<std::uint8_t>(ref::requantize(acc[i], m, 7, 0, 255));
  }
  requantize_s32_to_u8_per_channel(acc.data(), acc.size(), mult.data(), shift.data(), 7, 0, 255, out.data());
  CHECK(out == want);
  std::vector<float> x(3 * 20, 0.5f), w(5 * 20, 0.25f), yf(15), yr(15);
  dense_f32(3, 5, 20, x.data(), w.data(), nullptr, yf.data(), -1e9f, 1e9f);
  ref::dense_f32(3, 5, 20, x.data(), w.data(), nullptr, yr.data(), -1e9f, 1e9f);
  CHECK(yf == yr);  // exact: every partial sum is a small multiple of 1/8
}

TEST_CASE("dynamic dispatch picks the best supported target, as libhwy would, and equals the references") {
  // statiq never picks the fixed-width SVE_256 / SVE2_128 specialisations (the generic SVE/SVE2 run there)
  const std::int64_t compiled = HWY_TARGETS & ~(HWY_SVE_256 | HWY_SVE2_128 | HWY_AVX3_DL);
  const std::int64_t hwy_supported = hwy::SupportedTargets() & compiled;
  const std::int64_t best = hwy_supported & -hwy_supported;  // lowest bit = best target
  MESSAGE("dynamic dispatch chose " << std::string(dynamic::target_name()) << ", libhwy would choose "
                                    << std::string(hwy::TargetName(best)));
  CHECK(dynamic::target() == best);
  // The int8 GEMM's kernels: vpdpbusd on every AVX-512 CPU with AVX512-VNNI (HWY_AVX3_DL implies it), the AVX2
  // ones on AVX2.
  const std::string path = dynamic::int8_gemm_path();
  MESSAGE("dynamic dispatch's int8 GEMM: " << path);
  if (dynamic::target() == HWY_AVX3 && (hwy::SupportedTargets() & HWY_AVX3_DL)) CHECK(path == "vpdpbusd");
  if (dynamic::target() == HWY_AVX2) CHECK(path == "avx2");

  std::mt19937 rng(22);
  for (int wmax : {127, 64}) {
    for (std::size_t m : {1, 5, 16}) {
      layer l(m, 41, 70, wmax, rng);
      std::vector<std::uint8_t> y(m * 41);
      dynamic::matmul_u8s8_to_u8(l.packed.data(), m, l.x.data(), l.k, 5, 0, 250, y.data(), 41);
      CHECK(y == l.want);
    }
  }
  std::vector<float> x(4 * 33, 0.5f), w(9 * 33, -0.25f), b(9, 1.0f), yf(36), yr(36);
  dynamic::dense_f32(4, 9, 33, x.data(), w.data(), b.data(), yf.data(), -1e9f, 1e9f);
  ref::dense_f32(4, 9, 33, x.data(), w.data(), b.data(), yr.data(), -1e9f, 1e9f);
  CHECK(yf == yr);
}

}  // namespace
}  // namespace statiq::kernels
