// embed_preprocess: run(model | embed_preprocess(p), raw) equals run(model, p(raw)) for every option, folded
// into padded and unpadded convolutions, a Dense, and through an inserted Preprocess layer.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include <statiq/statiq.hpp>
#include <statiq/transform/embed_preprocess.hpp>
#include <statiq/transform/fold_batch_norm.hpp>

#include "../data/torch_ref/plain_cnn.hpp"

namespace {

using namespace statiq;

struct lcg {
  std::uint32_t s;
  float next(float lo, float hi) {
    s = s * 1664525u + 1013904223u;
    return lo + (hi - lo) * static_cast<float>(s >> 8) / static_cast<float>(1u << 24);
  }
};

template <class G>
Owned<G> random_model(std::uint32_t seed) {
  Owned<G> m{};
  lcg r{seed};
  for (auto& w : m.weights) w = r.next(-0.5f, 0.5f);
  return m;
}

std::vector<float> random_pixels(std::size_t n, std::uint32_t seed) {
  lcg r{seed};
  std::vector<float> v(n);
  for (auto& x : v) x = std::floor(r.next(0.0f, 256.0f));  // raw 8-bit pixel values, held as float
  return v;
}

template <class M, std::size_t Batch = 1>
std::vector<float> run_all(const M& m, std::span<const float> input) {
  using G = graph_of_t<M>;
  static arena_for<M, Batch> arena;
  std::vector<float> out(input.size() / G::input_shape::size * G::output_shape::size);
  REQUIRE(run(m, input, std::span<float>(out), arena) == status::ok);
  return out;
}

// The preprocessing as the caller would run it: raw (caller layout and channel order) -> the model's input.
template <class S>
std::vector<float> preprocess_by_hand(const std::vector<float>& raw, Layout caller, Layout model, bool reverse,
                                      std::span<const float> mean_c, std::span<const float> scale_c) {
  constexpr std::size_t c = channels_v<S>;
  constexpr std::size_t hw = S::size / c;
  std::vector<float> out(raw.size());
  for (std::size_t s = 0; s < raw.size() / S::size; ++s)
    for (std::size_t p = 0; p < hw; ++p)
      for (std::size_t j = 0; j < c; ++j) {
        const std::size_t from = reverse ? c - 1 - j : j;
        const float x = raw[s * S::size + (caller == Layout::nchw ? from * hw + p : p * c + from)];
        const float y = (x - mean_c[j]) / scale_c[j];
        out[s * S::size + (model == Layout::nchw ? j * hw + p : p * c + j)] = y;
      }
  return out;
}

// Both runs agree within float rounding, measured against the output's magnitude.
void check_close(const std::vector<float>& got, const std::vector<float>& want, float rel = 4e-6f) {
  REQUIRE(got.size() == want.size());
  float scale = 1.0f;
  for (float w : want) scale = std::max(scale, std::fabs(w));
  float worst = 0.0f;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
  CHECK(worst <= rel * scale);
}

template <class G, class Recipe>
void check_equivalent(const Recipe& recipe, Layout caller, bool reverse, std::span<const float> mean_c,
                      std::span<const float> scale_c, std::uint32_t seed) {
  const auto model = random_model<G>(seed);
  const auto embedded = model | recipe;
  const auto raw = random_pixels(3 * G::input_shape::size, seed + 1);
  const auto prepared = preprocess_by_hand<typename G::input_shape>(raw, caller, G::input_layer::layout, reverse,
                                                                    mean_c, scale_c);
  const auto want = run_all(model, prepared);
  check_close(run_all(embedded, raw), want);
  check_close(run_all<decltype(embedded), 2>(embedded, raw), want);  // two samples per pass, then one
}

constexpr std::array<float, 3> mean3{123.675f, 116.28f, 103.53f};
constexpr std::array<float, 3> scale3{58.395f, 57.12f, 57.375f};

using padded3 = Graph<Input<Shape<7, 6, 3>>, Conv2d<4, Kernel<3>, Pads<1>>, Relu, Conv2d<2, Kernel<1>>>;
using asym3 = Graph<Input<Shape<9, 8, 3>>, Conv2d<5, Kernel<3, 2>, Stride<2, 1>, Pads<2, 0, 1, 1>, Dilation<1, 2>>>;
using unpadded3 = Graph<Input<Shape<6, 6, 3>>, Conv2d<4, Kernel<3>, Stride<2>>, Relu, GlobalAvgPool, Flatten,
                        Dense<3>>;
using padded1 = Graph<Input<Shape<8, 8, 1>>, Conv2d<3, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>>;
using unpadded1 = Graph<Input<Shape<5, 5, 1>>, Conv2d<2, Kernel<2>>>;
using dense3 = Graph<Input<Shape<3>>, Dense<4>, Relu, Dense<2>>;
using depthwise3 = Graph<Input<Shape<5, 5, 3>>, Conv2d<6, Kernel<3>, Pads<1>, Groups<3>>>;
// Two readers of the input, so nothing folds: a Preprocess node goes in and every At<> index shifts.
using two_readers3 = Graph<Input<Shape<6, 6, 3>>, Conv2d<4, Kernel<3>, Pads<1>>, At<Conv2d<4, Kernel<1>>, 0>,
                           At<Add, 1, 2>, Relu, GlobalAvgPool, Flatten, Dense<5>>;
using pool_first1 = Graph<Input<Shape<6, 6, 1>>, MaxPool<Kernel<2>, Stride<2>>, Conv2d<2, Kernel<3>, Pads<1>>>;
using mlp3 = Graph<Input<Shape<4, 3, 3>>, Flatten, Dense<5>, Relu, Dense<2>>;
using reshaped3 = Graph<Input<Shape<4, 4, 3>>, Reshape<Shape<4, 3, 4>>, Conv2d<2, Kernel<3>, Pads<1>>>;
using nchw_model3 = Graph<Input<Shape<6, 5, 3>, Layout::nchw>, Conv2d<4, Kernel<3>, Pads<1>>>;

}  // namespace

TEST_CASE("embed_preprocess folds mean, scale and reversal into a zero-padded 3-channel conv, NCHW and NHWC input") {
  const auto p = embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels, layout<"nchw">);
  using E = decltype(std::declval<const Owned<padded3>&>() | p);
  using EG = graph_of_t<E>;
  static_assert(std::is_same_v<EG, Graph<Input<Shape<7, 6, 3>, Layout::nchw>,
                                         ValuePadded<Conv2d<4, Kernel<3>, Pads<1>>>, Relu, Conv2d<2, Kernel<1>>>>);
  check_equivalent<padded3>(p, Layout::nchw, true, mean3, scale3, 11);
  check_equivalent<padded3>(embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels), Layout::nhwc, true,
                            mean3, scale3, 12);
  check_equivalent<asym3>(embed_preprocess(reverse_channels, scale{scale3}, mean{mean3}, layout<"NHWC">),
                          Layout::nhwc, true, mean3, scale3, 13);
  check_equivalent<asym3>(embed_preprocess(mean{mean3}, layout<"nchw">), Layout::nchw, false, mean3,
                          std::array<float, 3>{1, 1, 1}, 14);
}

TEST_CASE("embed_preprocess folds into an unpadded conv without a pad value, one value for all channels") {
  constexpr std::array<float, 3> m1{127.5f, 127.5f, 127.5f};
  const auto p = embed_preprocess(mean{127.5f}, scale{scale3}, reverse_channels, layout<"nchw">);
  using EG = graph_of_t<decltype(std::declval<const Owned<unpadded3>&>() | p)>;
  static_assert(std::is_same_v<EG::layer_t<1>, unpadded3::layer_t<1>>);
  check_equivalent<unpadded3>(p, Layout::nchw, true, m1, scale3, 21);
  check_equivalent<unpadded3>(embed_preprocess(scale{255}), Layout::nhwc, false, std::array<float, 3>{},
                              std::array<float, 3>{255, 255, 255}, 22);
}

TEST_CASE("embed_preprocess on 1-channel inputs, padded and unpadded, both layouts") {
  constexpr std::array<float, 1> m{0.2860f * 255}, s{0.3530f * 255};
  const auto p = embed_preprocess(mean{m[0]}, scale{s[0]}, layout<"nchw">);
  static_assert(std::is_same_v<graph_of_t<decltype(std::declval<const Owned<padded1>&>() | p)>::layer_t<1>,
                               ValuePadded<padded1::layer_t<1>>>);
  check_equivalent<padded1>(p, Layout::nchw, false, m, s, 31);
  check_equivalent<padded1>(embed_preprocess(mean{m[0]}, scale{s[0]}, layout<"nhwc">), Layout::nhwc, false, m, s, 32);
  check_equivalent<unpadded1>(p, Layout::nchw, false, m, s, 33);
  check_equivalent<unpadded1>(embed_preprocess(mean{m[0]}, scale{s[0]}), Layout::nhwc, false, m, s, 34);
}

TEST_CASE("embed_preprocess folds into a first Dense (\"nc\" layout)") {
  const auto p = embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels, layout<"nc">);
  static_assert(graph_of_t<decltype(std::declval<const Owned<dense3>&>() | p)>::num_nodes == dense3::num_nodes);
  check_equivalent<dense3>(p, Layout::nhwc, true, mean3, scale3, 41);
}

TEST_CASE("embed_preprocess folds through a Flatten into a Dense, not through a Reshape into a conv") {
  const auto p = embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels, layout<"nchw">);
  static_assert(std::is_same_v<graph_of_t<decltype(std::declval<const Owned<mlp3>&>() | p)>,
                               Graph<Input<Shape<4, 3, 3>, Layout::nchw>, Flatten, Dense<5>, Relu, Dense<2>>>);
  check_equivalent<mlp3>(p, Layout::nchw, true, mean3, scale3, 45);
  // A Reshape that regroups the channels: nothing to fold into, so a Preprocess layer.
  using RG = graph_of_t<decltype(std::declval<const Owned<reshaped3>&>() | p)>;
  static_assert(std::is_same_v<RG::layer_t<1>, Preprocess<true>>);
  check_equivalent<reshaped3>(p, Layout::nchw, true, mean3, scale3, 46);
}

TEST_CASE("embed_preprocess inserts a Preprocess layer where it cannot fold, and At<> indices follow") {
  const auto p = embed_preprocess(mean{mean3}, scale{scale3}, reverse_channels, layout<"nchw">);
  using EG = graph_of_t<decltype(std::declval<const Owned<two_readers3>&>() | p)>;
  static_assert(std::is_same_v<EG, Graph<Input<Shape<6, 6, 3>, Layout::nchw>, Preprocess<true>,
                                         Conv2d<4, Kernel<3>, Pads<1>>, At<Conv2d<4, Kernel<1>>, 1>, At<Add, 2, 3>,
                                         Relu, GlobalAvgPool, Flatten, Dense<5>>>);
  check_equivalent<two_readers3>(p, Layout::nchw, true, mean3, scale3, 51);
  check_equivalent<two_readers3>(embed_preprocess(mean{mean3}, scale{scale3}), Layout::nhwc, false, mean3, scale3, 52);
  // Reversal cannot permute the input channels of a grouped conv: a Preprocess layer; without it, it folds.
  using DG = graph_of_t<decltype(std::declval<const Owned<depthwise3>&>() | p)>;
  static_assert(std::is_same_v<DG::layer_t<1>, Preprocess<true>>);
  check_equivalent<depthwise3>(p, Layout::nchw, true, mean3, scale3, 53);
  const auto q = embed_preprocess(mean{mean3}, scale{scale3}, layout<"nchw">);
  using DQ = graph_of_t<decltype(std::declval<const Owned<depthwise3>&>() | q)>;
  static_assert(std::is_same_v<DQ::layer_t<1>, ValuePadded<depthwise3::layer_t<1>>>);
  check_equivalent<depthwise3>(q, Layout::nchw, false, mean3, scale3, 54);
  constexpr std::array<float, 1> m{100.0f}, s{50.0f};
  check_equivalent<pool_first1>(embed_preprocess(mean{m[0]}, scale{s[0]}, layout<"nchw">), Layout::nchw, false, m, s,
                                55);
}

TEST_CASE("embed_preprocess with a layout only changes the Input, and results are bitwise equal") {
  const auto model = random_model<padded3>(61);
  const auto e = model | embed_preprocess(layout<"nchw">);
  static_assert(std::is_same_v<graph_of_t<decltype(e)>::input_layer, Input<Shape<7, 6, 3>, Layout::nchw>>);
  CHECK(e.weights == model.weights);
  const auto raw = random_pixels(padded3::input_shape::size, 62);
  const auto nhwc = preprocess_by_hand<padded3::input_shape>(raw, Layout::nchw, Layout::nhwc, false,
                                                             std::array<float, 3>{}, std::array<float, 3>{1, 1, 1});
  CHECK(run_all(e, raw) == run_all(model, nhwc));
  // A model whose own input is NCHW, fed NHWC.
  check_equivalent<nchw_model3>(embed_preprocess(mean{mean3}, scale{scale3}, layout<"nhwc">), Layout::nhwc, false,
                                mean3, scale3, 63);
}

TEST_CASE("embed_preprocess applied twice folds twice: the second pads with the raw value of the first pad") {
  const auto model = random_model<padded3>(71);
  constexpr std::array<float, 3> m2{2.0f, -1.0f, 0.5f}, s2{0.5f, 2.0f, 4.0f};
  const auto twice = model | embed_preprocess(mean{mean3}, scale{scale3}) |
                     embed_preprocess(mean{m2}, scale{s2}, reverse_channels);
  static_assert(std::is_same_v<graph_of_t<decltype(twice)>::layer_t<1>, ValuePadded<padded3::layer_t<1>>>);
  const auto raw = random_pixels(3 * padded3::input_shape::size, 72);
  const auto first = preprocess_by_hand<padded3::input_shape>(raw, Layout::nhwc, Layout::nhwc, true, m2, s2);
  const auto second = preprocess_by_hand<padded3::input_shape>(first, Layout::nhwc, Layout::nhwc, false, mean3, scale3);
  check_close(run_all(twice, raw), run_all(model, second));
}

TEST_CASE("plain_cnn: raw pixels through fold_batch_norm | embed_preprocess match PyTorch on the normalised input") {
  namespace pc = statiq_test::torch_ref::plain_cnn;
  using plain_cnn = Graph<Input<Shape<12, 12, 1>>, Conv2d<8, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>,
                          Conv2d<16, Kernel<3>, Pads<1>>, BatchNorm<>, Relu, GlobalAvgPool, Flatten, Dense<10>>;
  constexpr plain_cnn m{pc::p0, pc::p1, pc::p2, pc::p3, pc::p4, pc::p5, pc::p6, pc::p7, pc::p8, pc::p9};
  constexpr float mu = 0.2860f * 255, sd = 0.3530f * 255;
  std::vector<float> raw(std::size(pc::input));
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = pc::input[i] * sd + mu;  // so that p(raw) == input
  const auto deployed = m | (fold_batch_norm | embed_preprocess(mean{mu}, scale{sd}));
  const auto out = run_all(deployed, raw);
  for (std::size_t i = 0; i < out.size(); ++i)
    CHECK(std::fabs(out[i] - pc::expected[i]) <= 1e-4f * (1.0f + std::fabs(pc::expected[i])));
}
