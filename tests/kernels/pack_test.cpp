// Weight packing: constexpr evaluation, the documented layout, the folded zero-point bias and the sizes.
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "statiq/kernels/pack.hpp"

namespace statiq::kernels {
namespace {

constexpr std::size_t kN = 10, kK = 7;

constexpr std::array<std::int8_t, kN * kK> make_weights() {
  std::array<std::int8_t, kN * kK> w{};
  for (std::size_t j = 0; j < kN; ++j)
    for (std::size_t i = 0; i < kK; ++i) w[j * kK + i] = static_cast<std::int8_t>((int(j * 31 + i * 17) % 255) - 127);
  return w;
}
constexpr auto kWeights = make_weights();
constexpr std::array<std::int32_t, kN> kBias{1, -2, 3, -4, 5, -6, 7, -8, 9, -10};

// A baked model: the compiler packs the weights; the blob is a constant of the program image.
constexpr auto kPacked = [] {
  std::array<std::uint8_t, gemm_packed_size(kN, kK)> p{};
  const ref::requant_multiplier m = ref::quantize_multiplier(0.0123);
  pack_gemm_weights<std::uint8_t>(kN, kK, kWeights.data(), kBias.data(), 3, &m, false, p.data());
  return p;
}();

// Weights at 32 + 12 * np rounded up to 64; then np * kp bytes, 32 of slack, the size rounded up to 64.
static_assert(gemm_weights_offset(16) == 256 && gemm_weights_offset(8) == 128 && gemm_weights_offset(40) == 512);
static_assert(gemm_packed_size(kN, kK) == 448, "gemm_packed_size(10, 7): 16 channels x 8 k from 256, 32 of slack");
static_assert(gemm_packed_size(8, 4) == 192);
static_assert(gemm_packed_size(1024, 1024) == 12352 + 1024 * 1024 + 64);
static_assert(gemm_packed_view{kPacked.data()}.valid(), "pack_gemm_weights runs in constexpr");
static_assert(gemm_packed_view{kPacked.data()}.n() == kN && gemm_packed_view{kPacked.data()}.k() == kK);
static_assert(gemm_packed_view{kPacked.data()}.weight(9, 6) == kWeights[9 * kK + 6]);
static_assert((gemm_packed_view{kPacked.data()}.flags() & gemm_pairs_fit_s16) == 0,
              "full-range weights must not select vpmaddubsw");

TEST_CASE("pack_gemm_weights: layout, zero-point folding, padding") {
  const gemm_packed_view v{kPacked.data()};
  CHECK(v.x_zp() == 3);
  CHECK(v.np() == 16);
  CHECK(v.kp() == 8);
  for (std::size_t j = 0; j < v.np(); ++j) {
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < v.kp(); ++i) {
      const int want = j < kN && i < kK ? kWeights[j * kK + i] : 0;
      CHECK(v.weight(j, i) == want);
      // the documented byte address: one block of 2 panels, [i / 4][j / 8][j % 8][i % 4]
      CHECK(static_cast<std::int8_t>(v.weights()[((i / 4) * 2 + j / 8) * 32 + (j % 8) * 4 + i % 4]) == want);
      sum += want;
    }
    CHECK(v.bias_at(j) == (j < kN ? kBias[j] - 3 * sum : 0));
    CHECK(v.multiplier_at(j).multiplier >= (1 << 30));
    CHECK(v.multiplier_at(j).shift >= 32);
    CHECK(v.multiplier_at(j).shift <= 62);
  }
}

TEST_CASE("pack_gemm_weights: blocks of 8 panels, the last one shorter") {
  // n = 150: 19 panels, blocks of 8, 8 and 3; k = 13: 4 groups (kp = 16)
  constexpr std::size_t n = 150, k = 13, kp = 16;
  std::vector<std::int8_t> w(n * k);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::int8_t>(static_cast<int>(i * 37 % 255) - 127);
  const ref::requant_multiplier m = ref::quantize_multiplier(0.01);
  std::vector<std::uint8_t> p(gemm_packed_size(n, k));
  pack_gemm_weights<std::uint8_t>(n, k, w.data(), nullptr, 0, &m, false, p.data());
  const gemm_packed_view v{p.data()};
  CHECK(v.block_size(0) == 8);
  CHECK(v.block_size(15) == 8);
  CHECK(v.block_size(16) == 3);
  CHECK(v.block_size(18) == 3);
  CHECK(v.group_stride(3) == 256);
  CHECK(v.group_stride(17) == 96);
  CHECK(gemm_packed_view::block_end(9) == 16);
  CHECK(gemm_packed_view::block_end(9, 12) == 12);
  CHECK(gemm_packed_view::block_end(16, 19) == 19);
  for (std::size_t j = 0; j < 152; ++j) {
    for (std::size_t i = 0; i < kp; ++i) {
      const int want = j < n && i < k ? w[j * k + i] : 0;
      // block j / 64 at 64 * kp bytes each; in it group i / 4 of bp panels x 32 bytes, panel (j / 8) % 8
      const std::size_t bp = j < 128 ? 8 : 3;
      const std::size_t at = j / 64 * 64 * kp + i / 4 * bp * 32 + j / 8 % 8 * 32 + j % 8 * 4 + i % 4;
      CHECK(static_cast<std::int8_t>(v.weights()[at]) == want);
      CHECK(v.weight(j, i) == want);
      CHECK(v.group(j / 8, i / 4) == v.weights() + at - j % 8 * 4 - i % 4);
    }
  }
}

TEST_CASE("pack_gemm_weights: s8 inputs fold zero point + 128; per-channel multipliers; routes") {
  std::mt19937 rng(5);
  for (std::size_t n : {1, 8, 9, 33}) {
    for (std::size_t k : {1, 4, 5, 70}) {
      std::vector<std::int8_t> w(n * k);
      for (auto& v : w) v = static_cast<std::int8_t>(static_cast<int>(rng() % 129) - 64);  // 7-bit
      std::vector<std::int32_t> bias(n);
      for (auto& b : bias) b = static_cast<std::int32_t>(rng() % 2001) - 1000;
      std::vector<ref::requant_multiplier> m(n);
      for (std::size_t j = 0; j < n; ++j) m[j] = ref::quantize_multiplier(0.001 * (j + 1));
      std::vector<std::uint8_t> p(gemm_packed_size(n, k));
      pack_gemm_weights<std::int8_t>(n, k, w.data(), bias.data(), -5, m.data(), true, p.data());
      const gemm_packed_view v{p.data()};
      CHECK(v.flags() == (gemm_pairs_fit_s16 | gemm_input_s8 | gemm_short_requant));  // scales 0.001 .. 0.033
      for (std::size_t j = 0; j < n; ++j) {
        std::int64_t sum = 0;
        for (std::size_t i = 0; i < k; ++i) sum += w[j * k + i];
        CHECK(v.bias_at(j) == bias[j] - (-5 + 128) * sum);
        CHECK(v.multiplier_at(j).multiplier == m[j].multiplier);
        CHECK(v.multiplier_at(j).shift == m[j].shift);
      }
      pack_gemm_weights<std::int8_t>(n, k, w.data(), bias.data(), -5, m.data(), true, p.data(), gemm_route::widen_i16);
      CHECK(v.flags() == (gemm_input_s8 | gemm_short_requant));
      // gemm_short_requant: every channel's shift - 32 within [1, requant_short_max_shr]. One channel at a scale
      // of 0.2 (shift 33: in) or 0.25 (shift 32: out), or at 2^-23 (shift 53: in) or 2^-23.5 (shift 54: out), decides.
      const std::size_t j = n / 2;
      for (const auto& [scale, in] : {std::pair{0.2, true}, std::pair{0.25, false}, std::pair{std::exp2(-23.0), true},
                                      std::pair{std::exp2(-23.5), false}}) {
        std::vector<ref::requant_multiplier> mj = m;
        mj[j] = ref::quantize_multiplier(scale);
        pack_gemm_weights<std::uint8_t>(n, k, w.data(), bias.data(), 7, mj.data(), true, p.data());
        CHECK(((v.flags() & gemm_short_requant) != 0) == in);
      }
    }
  }
}

}  // namespace
}  // namespace statiq::kernels
