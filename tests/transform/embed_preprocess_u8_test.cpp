// embed_preprocess(..., input<u8>) on float models: run(model | embed_preprocess(p, input<u8>), raw u8 pixels)
// equals run(model, p(raw)) within float rounding, and equals the float-input recipe bit for bit, for padded and
// unpadded first layers, 1- and 3-channel inputs, both layouts, a first Dense and an inserted Preprocess layer.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include <statiq/statiq.hpp>
#include <statiq/transform/embed_preprocess.hpp>

namespace {

using namespace statiq;

struct lcg {
  std::uint32_t s;
  std::uint32_t next() { return s = s * 1664525u + 1013904223u; }
  float uniform(float lo, float hi) {
    return lo + (hi - lo) * static_cast<float>(next() >> 8) / static_cast<float>(1u << 24);
  }
};

template <class G>
Owned<G> random_model(std::uint32_t seed) {
  Owned<G> m{};
  lcg r{seed};
  for (auto& w : m.weights) w = r.uniform(-0.5f, 0.5f);
  return m;
}

std::vector<std::uint8_t> random_pixels(std::size_t n, std::uint32_t seed) {
  lcg r{seed};
  std::vector<std::uint8_t> v(n);
  for (auto& x : v) x = static_cast<std::uint8_t>(r.next() >> 24);
  return v;
}

template <class M, std::size_t Batch = 1, class E>
std::vector<float> run_all(const M& m, const std::vector<E>& input) {
  using G = graph_of_t<M>;
  static arena_for<M, Batch> arena;
  std::vector<float> out(input.size() / G::input_shape::size * G::output_shape::size);
  REQUIRE(run(m, std::span<const E>(input), std::span<float>(out), arena) == status::ok);
  return out;
}

// raw (caller layout and channel order) -> the model's input, as the caller would compute it.
template <class S>
std::vector<float> preprocess_by_hand(const std::vector<std::uint8_t>& raw, Layout caller, Layout model, bool reverse,
                                      std::span<const float> mean_c, std::span<const float> scale_c) {
  constexpr std::size_t c = channels_v<S>;
  constexpr std::size_t hw = S::size / c;
  std::vector<float> out(raw.size());
  for (std::size_t s = 0; s < raw.size() / S::size; ++s)
    for (std::size_t p = 0; p < hw; ++p)
      for (std::size_t j = 0; j < c; ++j) {
        const std::size_t from = reverse ? c - 1 - j : j;
        const float x = raw[s * S::size + (caller == Layout::nchw ? from * hw + p : p * c + from)];
        out[s * S::size + (model == Layout::nchw ? j * hw + p : p * c + j)] = (x - mean_c[j]) / scale_c[j];
      }
  return out;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, float rel = 4e-6f) {
  REQUIRE(got.size() == want.size());
  float scale = 1.0f;
  for (float w : want) scale = std::max(scale, std::fabs(w));
  float worst = 0.0f;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
  CHECK(worst <= rel * scale);
}

// The u8 recipe against the float-input model on preprocessed input, and against the same recipe taking the
// pixels as floats (bitwise: the same folded model, only the input's element type differs).
template <class G, class RecipeU8, class RecipeF32>
void check_equivalent(const RecipeU8& u8_recipe, const RecipeF32& f32_recipe, Layout caller, bool reverse,
                      std::span<const float> mean_c, std::span<const float> scale_c, std::uint32_t seed) {
  const auto model = random_model<G>(seed);
  const auto from_u8 = model | u8_recipe;
  const auto from_f32 = model | f32_recipe;
  using E = std::remove_cvref_t<decltype(from_u8)>;
  static_assert(std::is_same_v<input_element_t<graph_of_t<E>>, std::uint8_t>);
  // Raw pixels are widened into an arena buffer of node 0 (never read in place as floats).
  static_assert(plan_v<E>.kind[0] == detail::storage_kind::arena);
  static_assert(arena_bytes_v<E> >= G::input_shape::size * sizeof(float));
  const auto raw = random_pixels(3 * G::input_shape::size, seed + 1);
  const std::vector<float> raw_f(raw.begin(), raw.end());
  const auto prepared = preprocess_by_hand<typename G::input_shape>(raw, caller, G::input_layer::layout, reverse,
                                                                    mean_c, scale_c);
  const auto want = run_all(model, prepared);
  const auto got = run_all(from_u8, raw);
  check_close(got, want);
  CHECK(got == run_all(from_f32, raw_f));
  check_close(run_all<E, 2>(from_u8, raw), want);  // two samples per pass, then one
}

constexpr std::array<float, 3> mean3{123.675f, 116.28f, 103.53f};
constexpr std::array<float, 3> scale3{58.395f, 57.12f, 57.375f};
constexpr std::array<float, 1> mean1{0.2860f * 255}, scale1{0.3530f * 255};

using padded3 = Graph<Input<Shape<7, 6, 3>>, Conv2d<4, Kernel<3>, Pads<1>>, Relu, Conv2d<2, Kernel<1>>>;
using unpadded3 = Graph<Input<Shape<6, 6, 3>>, Conv2d<4, Kernel<3>, Stride<2>>, Relu, GlobalAvgPool, Flatten,
                        Dense<3>>;
using padded1 = Graph<Input<Shape<8, 8, 1>>, Conv2d<3, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>>;
using unpadded1 = Graph<Input<Shape<5, 5, 1>>, Conv2d<2, Kernel<2>>>;
using mlp3 = Graph<Input<Shape<4, 3, 3>>, Flatten, Dense<5>, Relu, Dense<2>>;
using two_readers3 = Graph<Input<Shape<6, 6, 3>>, Conv2d<4, Kernel<3>, Pads<1>>, At<Conv2d<4, Kernel<1>>, 0>,
                           At<Add, 1, 2>, Relu, GlobalAvgPool, Flatten, Dense<5>>;

}  // namespace

TEST_CASE("input<u8>: padded and unpadded 3-channel convs, reversal, NCHW and NHWC callers") {
  check_equivalent<padded3>(embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels, layout<"nchw">, input<u8>),
                            embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels, layout<"nchw">),
                            Layout::nchw, true, mean3, scale3, 11);
  check_equivalent<padded3>(embed_preprocess(input<u8>, mean{mean3}, scale{scale3}),
                            embed_preprocess(mean{mean3}, scale{scale3}), Layout::nhwc, false, mean3, scale3, 12);
  check_equivalent<unpadded3>(embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels, input<u8>),
                              embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels), Layout::nhwc, true, mean3,
                              scale3, 13);
  check_equivalent<unpadded3>(embed_preprocess(mean{mean3}, scale{scale3}, layout<"nchw">, input<u8>),
                              embed_preprocess(mean{mean3}, scale{scale3}, layout<"nchw">), Layout::nchw, false, mean3,
                              scale3, 14);
}

TEST_CASE("input<u8>: 1-channel inputs (Fashion-MNIST's normalisation), padded and unpadded, both layouts") {
  for (auto l : {Layout::nchw, Layout::nhwc}) {
    if (l == Layout::nchw) {
      check_equivalent<padded1>(embed_preprocess(mean{mean1[0]}, scale{scale1[0]}, layout<"nchw">, input<u8>),
                                embed_preprocess(mean{mean1[0]}, scale{scale1[0]}, layout<"nchw">), l, false, mean1,
                                scale1, 21);
      check_equivalent<unpadded1>(embed_preprocess(mean{mean1[0]}, scale{scale1[0]}, layout<"nchw">, input<u8>),
                                  embed_preprocess(mean{mean1[0]}, scale{scale1[0]}, layout<"nchw">), l, false, mean1,
                                  scale1, 22);
    } else {
      check_equivalent<padded1>(embed_preprocess(mean{mean1[0]}, scale{scale1[0]}, input<u8>),
                                embed_preprocess(mean{mean1[0]}, scale{scale1[0]}), l, false, mean1, scale1, 23);
      check_equivalent<unpadded1>(embed_preprocess(mean{mean1[0]}, scale{scale1[0]}, input<u8>),
                                  embed_preprocess(mean{mean1[0]}, scale{scale1[0]}), l, false, mean1, scale1, 24);
    }
  }
}

TEST_CASE("input<u8>: through a Flatten into a Dense, and into an inserted Preprocess layer") {
  check_equivalent<mlp3>(embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels, layout<"nchw">, input<u8>),
                         embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels, layout<"nchw">), Layout::nchw,
                         true, mean3, scale3, 31);
  using EG = graph_of_t<decltype(std::declval<const Owned<two_readers3>&>() | embed_preprocess(mean{mean3}, input<u8>))>;
  static_assert(std::is_same_v<EG::layer_t<1>, Preprocess<false>>);
  check_equivalent<two_readers3>(embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels, input<u8>),
                                 embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels), Layout::nhwc, true,
                                 mean3, scale3, 32);
}

TEST_CASE("input<u8> alone changes only the Input's element type; input<f32> keeps the model's own") {
  const auto model = random_model<padded3>(41);
  const auto e = model | embed_preprocess(input<u8>);
  static_assert(std::is_same_v<graph_of_t<decltype(e)>::input_layer, Input<Shape<7, 6, 3>, Layout::nhwc, u8>>);
  CHECK(e.weights == model.weights);
  const auto back = e | embed_preprocess(input<f32>);
  static_assert(std::is_same_v<graph_of_t<decltype(back)>, padded3>);
  const auto raw = random_pixels(padded3::input_shape::size, 42);
  const std::vector<float> raw_f(raw.begin(), raw.end());
  CHECK(run_all(e, raw) == run_all(model, raw_f));
  // The static-extent overload takes u8 spans too.
  static arena_for<decltype(e)> arena;
  std::array<float, padded3::output_shape::size> out{};
  REQUIRE(run(e, std::span<const std::uint8_t, padded3::input_shape::size>(raw.data(), padded3::input_shape::size),
              std::span<float, out.size()>(out), arena) == status::ok);
  CHECK(std::vector<float>(out.begin(), out.end()) == run_all(model, raw_f));
  // A size that is not a whole number of samples is reported, as for floats.
  std::vector<float> out2(out.size());
  CHECK(run(e, std::span<const std::uint8_t>(raw.data(), raw.size() - 1), std::span<float>(out2), arena) ==
        status::input_size_mismatch);
}
