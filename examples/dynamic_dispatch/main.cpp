// Dynamic dispatch example: a quantized fully connected layer run on the best target of this CPU.
#include <statiq/kernels/dynamic.hpp>  // declarations only; statiq_kernels.cpp holds the kernels
#include <statiq/kernels/pack.hpp>
#include <statiq/kernels/ref/gemm.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <random>
#include <type_traits>
#include <vector>

namespace {
constexpr std::size_t N = 10, K = 64;  // 64 inputs -> 10 outputs

constexpr std::array<std::int8_t, N * K> weights = [] {
  std::array<std::int8_t, N * K> w{};
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::int8_t>(static_cast<int>(i * 37 % 255) - 127);
  return w;
}();
constexpr std::array<std::int32_t, N> bias{100, -200, 300, -400, 500, -600, 700, -800, 900, -1000};
constexpr std::int32_t x_zp = 128;
constexpr auto mult = statiq::kernels::ref::quantize_multiplier(1.0 / 2048);

// Packed at compile time: the blob is a constant of the program image.
alignas(64) constexpr auto packed = [] {
  std::array<std::uint8_t, statiq::kernels::gemm_packed_size(N, K)> p{};
  statiq::kernels::pack_gemm_weights<std::uint8_t>(N, K, weights.data(), bias.data(), x_zp, &mult, false, p.data());
  return p;
}();
// The dispatched GEMM against the reference over a sweep of shapes (GEMV, tiles and their tails, odd channel
// counts, k % 4 != 0), full-range weights, u8 and s8 activations; the number of mismatching outputs.
template <class T>
std::size_t sweep(std::mt19937& rng) {
  std::size_t bad = 0;
  std::uniform_int_distribution<int> byte(0, 255), bias_d(-3000, 3000);
  for (std::size_t m : {1, 2, 5, 8, 9, 17})
    for (std::size_t n : {3, 10, 37, 48, 70})
      for (std::size_t k : {5, 64, 83, 130}) {
        std::vector<T> xs(m * k);
        std::vector<std::int8_t> ws(n * k);
        std::vector<std::int32_t> bs(n);
        std::vector<statiq::kernels::ref::requant_multiplier> ms(n);
        for (auto& v : xs) v = static_cast<T>(byte(rng));
        for (auto& v : ws) v = static_cast<std::int8_t>(byte(rng));
        for (std::size_t j = 0; j < n; ++j) {
          bs[j] = bias_d(rng);
          ms[j] = statiq::kernels::ref::quantize_multiplier(1.0 / (512 + 97 * j));
        }
        const std::int32_t xzp = std::is_same_v<T, std::uint8_t> ? 121 : -7, yzp = 3, lo = -100, hi = 120;
        std::vector<std::uint8_t> pk(statiq::kernels::gemm_packed_size(n, k));
        statiq::kernels::pack_gemm_weights<T>(n, k, ws.data(), bs.data(), xzp, ms.data(), true, pk.data());
        std::vector<T> got(m * n), ref(m * n);
        const std::int32_t lo_t = std::is_same_v<T, std::uint8_t> ? 0 : lo, hi_t = std::is_same_v<T, std::uint8_t> ? 250 : hi;
        if constexpr (std::is_same_v<T, std::uint8_t>)
          statiq::kernels::dynamic::matmul_u8s8_to_u8(pk.data(), m, xs.data(), k, yzp, lo_t, hi_t, got.data(), n);
        else
          statiq::kernels::dynamic::matmul_s8s8_to_s8(pk.data(), m, xs.data(), k, yzp, lo_t, hi_t, got.data(), n);
        statiq::kernels::ref::gemm_requantize(m, n, k, xs.data(), xzp, ws.data(), bs.data(), ms.data(), true, yzp,
                                              lo_t, hi_t, ref.data());
        for (std::size_t i = 0; i < got.size(); ++i) bad += got[i] != ref[i];
      }
  return bad;
}
}  // namespace

int main() {
  std::array<std::uint8_t, K> x{};
  for (std::size_t i = 0; i < K; ++i) x[i] = static_cast<std::uint8_t>(i * 4);
  std::array<std::uint8_t, N> y{}, want{};
  statiq::kernels::dynamic::matmul_u8s8_to_u8(packed.data(), 1, x.data(), K, /*y_zp=*/0, 0, 255, y.data(), N);
  statiq::kernels::ref::gemm_requantize(1, N, K, x.data(), x_zp, weights.data(), bias.data(), &mult, false, 0, 0,
                                        255, want.data());
  std::printf("target %s, int8 GEMM %s:", statiq::kernels::dynamic::target_name(),
              statiq::kernels::dynamic::int8_gemm_path());
  for (auto v : y) std::printf(" %d", v);
  std::printf("\n");
  // A batch of 6 rows takes the GEMM's tiles rather than the GEMV.
  constexpr std::size_t M = 6;
  std::array<std::uint8_t, M * K> xb{};
  for (std::size_t i = 0; i < xb.size(); ++i) xb[i] = static_cast<std::uint8_t>(i * 29 % 256);
  std::array<std::uint8_t, M * N> yb{}, wantb{};
  statiq::kernels::dynamic::matmul_u8s8_to_u8(packed.data(), M, xb.data(), K, 0, 0, 255, yb.data(), N);
  statiq::kernels::ref::gemm_requantize(M, N, K, xb.data(), x_zp, weights.data(), bias.data(), &mult, false, 0, 0,
                                        255, wantb.data());
  std::mt19937 rng(5);
  const std::size_t bad = sweep<std::uint8_t>(rng) + sweep<std::int8_t>(rng);
  std::printf("sweep of 240 shapes, u8 and s8: %zu outputs differ from the reference\n", bad);
  return y == want && yb == wantb && bad == 0 ? 0 : 1;
}
