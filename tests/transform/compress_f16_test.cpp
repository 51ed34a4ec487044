// compress_f16: the binary16 conversion (against the compiler's _Float16 where it has one), half the weight bytes,
// and a compressed model's logits against PyTorch's.
#include <doctest/doctest.h>

#include <cmath>
#include <bit>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include <statiq/statiq.hpp>
#include <statiq/transform/compress_f16.hpp>
#include <statiq/transform/fold_batch_norm.hpp>

#include "../data/torch_ref/plain_cnn.hpp"

namespace {

using namespace statiq;
using detail::f16_bits_to_f32;
using detail::f32_to_f16_bits;

static_assert(f32_to_f16_bits(1.0f) == 0x3c00 && f32_to_f16_bits(-2.0f) == 0xc000);
static_assert(f32_to_f16_bits(65504.0f) == 0x7bff && f32_to_f16_bits(1e9f) == 0x7bff);  // saturates
static_assert(f32_to_f16_bits(std::numeric_limits<float>::infinity()) == 0x7c00);
static_assert(f32_to_f16_bits(0x1p-24f) == 0x0001 && f32_to_f16_bits(0x1p-25f) == 0x0000);  // tie to even: 0
static_assert(f32_to_f16_bits(0x1.8p-25f) == 0x0001);
static_assert(f32_to_f16_bits(1.0f + 0x1p-11f) == 0x3c00 && f32_to_f16_bits(1.0f + 0x1.8p-10f) == 0x3c02);
static_assert(f16_bits_to_f32(0x7bff) == 65504.0f && f16_bits_to_f32(0x0001) == 0x1p-24f);
static_assert(f16_bits_to_f32(0x3555) == 0.333251953125f);

}  // namespace

TEST_CASE("binary16: every half value survives widening and narrowing; rounding matches the compiler's") {
  std::size_t round_trip_errors = 0, rounding_errors = 0;
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_bits_to_f32(static_cast<std::uint16_t>(h));
    if (!std::isnan(f) && f32_to_f16_bits(f) != h) ++round_trip_errors;
  }
  CHECK(round_trip_errors == 0);
#if defined(__FLT16_MAX__)
  std::uint32_t s = 12345;
  for (int i = 0; i < 1000000; ++i) {
    s = s * 1664525u + 1013904223u;
    float f = std::bit_cast<float>(s);
    if (std::isnan(f) || std::fabs(f) >= 65520.0f) continue;
    if (f32_to_f16_bits(f) != std::bit_cast<std::uint16_t>(static_cast<_Float16>(f))) ++rounding_errors;
  }
#endif
  CHECK(rounding_errors == 0);
}

TEST_CASE("compress_f16 halves the weight bytes; plain_cnn widened again stays close to PyTorch") {
  namespace pc = statiq_test::torch_ref::plain_cnn;
  using plain_cnn = Graph<Input<Shape<12, 12, 1>>, Conv2d<8, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>,
                          Conv2d<16, Kernel<3>, Pads<1>>, BatchNorm<>, Relu, GlobalAvgPool, Flatten, Dense<10>>;
  constexpr plain_cnn m{pc::p0, pc::p1, pc::p2, pc::p3, pc::p4, pc::p5, pc::p6, pc::p7, pc::p8, pc::p9};
  constexpr auto half = m | (fold_batch_norm | compress_f16);  // computed by the compiler
  static_assert(sizeof(half) == graph_of_t<decltype(half)>::weight_count * 2);
  const auto loaded = to_owned(half);
  static arena_for<decltype(loaded)> arena;
  std::vector<float> out(std::size(pc::expected));
  REQUIRE(run(loaded, std::span<const float>(pc::input), std::span<float>(out), arena) == status::ok);
  float worst = 0.0f, top = 0.0f;
  for (std::size_t i = 0; i < out.size(); ++i) {
    worst = std::max(worst, std::fabs(out[i] - pc::expected[i]));
    top = std::max(top, std::fabs(pc::expected[i]));
  }
  MESSAGE("plain_cnn, f16 weights: max |logit - PyTorch| = " << worst << " (logits up to " << top << ")");
  CHECK(worst <= 4e-3f * top);  // 11-bit significands: about 2^-11 relative per weight
  const auto folded = m | fold_batch_norm;  // the run-time path gives the same bits
  for (std::size_t p = 0; p < decltype(half)::graph_type::weight_count; ++p)
    REQUIRE(half.bits[p] == detail::f32_to_f16_bits(folded.weights[p]));
}
