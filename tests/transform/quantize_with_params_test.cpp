// quantize_with_params: the quantization of a quantized source model (ONNX QDQ) taken as given: the same model
// as quantize_with_ranges when given its choices, the given scales kept exactly, and evaluable in constexpr.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include <statiq/statiq.hpp>
#include <statiq/transform/quantize.hpp>

namespace {

using namespace statiq;

using cnn = Graph<Input<Shape<6, 6, 2>>, Conv2d<4, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>, Flatten,
                  Dense<3>>;

std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Symmetric per-channel scales absmax / 127, as quantize_with_ranges chooses them (full-range weights).
std::vector<float> absmax_scales(const std::vector<float>& w, std::size_t channels) {
  const std::size_t per = w.size() / channels;
  std::vector<float> s(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    double m = 0;
    for (std::size_t k = 0; k < per; ++k) m = std::max(m, std::fabs(double(w[c * per + k])));
    s[c] = static_cast<float>(m / 127.0);
  }
  return s;
}

// A Dense layer whose weights are exact multiples of given per-channel scales (w = k * s, |k| <= 50): the int8
// grid of a QDQ source, which an absmax choice (max |k| / 127) would not reproduce.
using dense = Graph<Input<Shape<8>>, Dense<4>>;
constexpr std::array<float, 4> dense_w_scale{0.02f, 0.0125f, 0.04f, 0.005f};
constexpr std::array<int, 32> dense_w_int{3,  -7, 12, 50, -1, 0,  9,   -20, 44, -5,  6,  2,  -33, 8,  1,   -9,
                                          17, 4,  -2, 11, 25, -6, -50, 7,   0,  13, -4, 19, 22,  -8, -15, 5};
constexpr std::array<int, 4> dense_b_int{100, -250, 7, 0};
constexpr tensor_quant dense_in_q{0.05f, 128}, dense_out_q{0.0625f, 100};
constexpr auto dense_w = [] {
  std::array<float, 32> w{};
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(dense_w_int[i]) * dense_w_scale[i / 8];
  return w;
}();
constexpr auto dense_b = [] {
  std::array<float, 4> b{};
  for (std::size_t c = 0; c < b.size(); ++c)
    b[c] = static_cast<float>(dense_b_int[c]) * (dense_in_q.scale * dense_w_scale[c]);
  return b;
}();
constexpr dense dense_model{dense_w, dense_b};
constexpr std::array<tensor_quant, 2> dense_q{dense_in_q, dense_out_q};

}  // namespace

TEST_CASE("quantize_with_params given quantize_with_ranges's own choices builds the same model") {
  const auto w1 = random_floats(4 * 3 * 3 * 2, 1, -0.5f, 0.5f), b1 = random_floats(4, 2, -0.2f, 0.2f);
  const auto w2 = random_floats(3 * 36, 3, -0.3f, 0.3f), b2 = random_floats(3, 4, -0.1f, 0.1f);
  const cnn model{std::span<const float, 72>(w1.data(), 72), std::span<const float, 4>(b1.data(), 4),
                  std::span<const float, 108>(w2.data(), 108), std::span<const float, 3>(b2.data(), 3)};
  const std::vector<value_range> ranges{{-2.0f, 2.5f}, {0.0f, 3.0f}, {0.0f, 3.0f}, {0.0f, 3.0f}, {0.0f, 3.0f}, {-4.0f, 5.0f}};
  const auto by_ranges = quantize_with_ranges<std::uint8_t>(model, ranges, {true, saturation_fix::off});

  std::array<tensor_quant, cnn::num_nodes> outputs{};
  for (std::size_t i = 0; i < outputs.size(); ++i) outputs[i] = by_ranges.q[i];
  std::array<float, weight_scale_count_v<cnn>> scales{};
  static_assert(weight_scale_count_v<cnn> == 4 + 3);
  const auto s1 = absmax_scales(w1, 4), s2 = absmax_scales(w2, 3);
  std::copy(s1.begin(), s1.end(), scales.begin());
  std::copy(s2.begin(), s2.end(), scales.begin() + 4);
  const auto given = quantize_with_params<std::uint8_t>(model, outputs, scales);
  static_assert(std::is_same_v<decltype(given), decltype(by_ranges)>);
  for (std::size_t i = 0; i < cnn::num_nodes; ++i) {
    CHECK(given.q[i].scale == by_ranges.q[i].scale);
    CHECK(given.q[i].zero_point == by_ranges.q[i].zero_point);
    CHECK(given.lo[i] == by_ranges.lo[i]);
    CHECK(given.hi[i] == by_ranges.hi[i]);
  }
  // Float scales against the double ones quantize_with_ranges keeps: the same int8 model up to the last bit of a
  // multiplier, so outputs within 1 LSB.
  const auto x = random_floats(8 * 72, 9, -2.0f, 2.5f);
  std::vector<float> ya(8 * 3), yb(8 * 3);
  static arena_for<decltype(given)> arena;
  REQUIRE(run(given, std::span<const float>(x), std::span<float>(ya), arena) == status::ok);
  REQUIRE(run(by_ranges, std::span<const float>(x), std::span<float>(yb), arena) == status::ok);
  const float lsb = by_ranges.q[cnn::num_nodes - 1].scale;
  for (std::size_t i = 0; i < ya.size(); ++i) CHECK(std::fabs(ya[i] - yb[i]) <= lsb * 1.01f);

  // Scales of 0 mean "choose from the weights": the same absmax choice.
  scales.fill(0.0f);
  const auto chosen = quantize_with_params<std::uint8_t>(model, outputs, scales);
  CHECK(chosen.bytes == by_ranges.bytes);
}

TEST_CASE("quantize_with_params keeps the given scales, zero points and int8 weight grid") {
  constexpr auto q = quantize_with_params<std::uint8_t>(dense_model, dense_q, dense_w_scale);  // in constexpr
  static_assert(q.q[0].scale == 0.05f && q.q[0].zero_point == 128);
  static_assert(q.q[1].scale == 0.0625f && q.q[1].zero_point == 100);
  static_assert(decltype(q)::quantized[1]);

  // Reference: ONNX's QDQ semantics in integers: y = clamp(round((sum (x_q - zp) * k + b_q) * s_in * s_w / s_out) + zp).
  const auto x = random_floats(16 * 8, 5, -6.0f, 6.0f);
  std::vector<float> y(16 * 4);
  static arena_for<decltype(q)> arena;
  REQUIRE(run(q, std::span<const float>(x), std::span<float>(y), arena) == status::ok);
  int worst = 0;
  for (std::size_t s = 0; s < 16; ++s)
    for (std::size_t c = 0; c < 4; ++c) {
      std::int64_t acc = dense_b_int[c];
      for (std::size_t k = 0; k < 8; ++k) {
        const long xq = std::clamp(std::lrint(x[s * 8 + k] / dense_in_q.scale) + dense_in_q.zero_point, 0L, 255L);
        acc += (xq - dense_in_q.zero_point) * dense_w_int[c * 8 + k];
      }
      const double real = double(acc) * dense_in_q.scale * dense_w_scale[c] / dense_out_q.scale;
      const long want = std::clamp(std::lround(real) + dense_out_q.zero_point, 0L, 255L);
      const long got = std::lround(y[s * 4 + c] / dense_out_q.scale) + dense_out_q.zero_point;
      worst = std::max(worst, static_cast<int>(std::labs(got - want)));
    }
  CHECK(worst <= 1);

  // The same weights with absmax scales (max |k| / 127 per channel) land on another grid: the given one matters.
  const auto absmax = quantize_with_params<std::uint8_t>(dense_model, dense_q, std::array<float, 4>{});
  CHECK(absmax.bytes != q.bytes);
}
