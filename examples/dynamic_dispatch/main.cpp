// Dynamic dispatch example: a quantized fully connected layer run on the best target of this CPU.
#include <statiq/kernels/dynamic.hpp>  // declarations only; statiq_kernels.cpp holds the kernels
#include <statiq/kernels/pack.hpp>
#include <statiq/kernels/ref/gemm.hpp>

#include <array>
#include <cstdint>
#include <cstdio>

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
}  // namespace

int main() {
  std::array<std::uint8_t, K> x{};
  for (std::size_t i = 0; i < K; ++i) x[i] = static_cast<std::uint8_t>(i * 4);
  std::array<std::uint8_t, N> y{}, want{};
  statiq::kernels::dynamic::matmul_u8s8_to_u8(packed.data(), 1, x.data(), K, /*y_zp=*/0, 0, 255, y.data(), N);
  statiq::kernels::ref::gemm_requantize(1, N, K, x.data(), x_zp, weights.data(), bias.data(), &mult, false, 0, 0,
                                        255, want.data());
  std::printf("target %s:", statiq::kernels::dynamic::target_name());
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
  return y == want && yb == wantb ? 0 : 1;
}
