// fold_batch_norm: against PyTorch and the unfolded statiq run, in constexpr, and the shape of the folded graph.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include <statiq/statiq.hpp>
#include <statiq/transform/fold_batch_norm.hpp>

#include "../data/torch_ref/plain_cnn.hpp"

namespace {

using namespace statiq;
namespace tr = statiq_test::torch_ref;

template <class G>
constexpr std::size_t count_batch_norms() {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return (std::size_t{0} + ... + (detail::is_batch_norm_v<typename G::template layer_t<I>> ? 1 : 0));
  }(std::make_index_sequence<G::num_nodes>{});
}

template <class M>
std::vector<float> run_all(const M& m, std::span<const float> input) {
  static arena_for<M> arena;
  std::vector<float> out(input.size() / graph_of_t<M>::input_shape::size * graph_of_t<M>::output_shape::size);
  REQUIRE(run(m, input, std::span<float>(out), arena) == status::ok);
  return out;
}

namespace pc = tr::plain_cnn;
using plain_cnn = Graph<Input<Shape<12, 12, 1>>,                          // 0
                        Conv2d<8, Kernel<3>, Pads<1>>, Relu,               // 1, 2
                        MaxPool<Kernel<2>, Stride<2>>,                     // 3
                        Conv2d<16, Kernel<3>, Pads<1>>, BatchNorm<>, Relu,  // 4, 5, 6
                        GlobalAvgPool, Flatten, Dense<10>>;                // 7, 8, 9
constexpr plain_cnn plain{pc::p0, pc::p1, pc::p2, pc::p3, pc::p4, pc::p5, pc::p6, pc::p7, pc::p8, pc::p9};

}  // namespace

TEST_CASE("fold_batch_norm: plain_cnn folded matches PyTorch and the unfolded run, with no BatchNorm left") {
  const auto folded = plain | fold_batch_norm;
  using F = graph_of_t<decltype(folded)>;
  static_assert(count_batch_norms<plain_cnn>() == 1);
  static_assert(count_batch_norms<F>() == 0);
  // The folded conv takes the BatchNorm's node 5 and its own node 4 becomes an Identity, so the Relu at 6 fuses.
  static_assert(std::is_same_v<F::layer_t<4>, Identity> && std::is_same_v<F::layer_t<5>, plain_cnn::layer_t<4>>);
  static_assert(plan_v<F>.fused[6] && plan_v<F>.fused[2]);
  static_assert(F::num_nodes == plain_cnn::num_nodes);
  static_assert(F::weight_count == plain_cnn::weight_count - 4 * 16);
  static_assert(arena_bytes_v<F> <= arena_bytes_v<plain_cnn>);

  const auto ref = run_all(plain, pc::input);
  const auto got = run_all(folded, pc::input);
  REQUIRE(got.size() == std::size(pc::expected));
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(std::fabs(got[i] - pc::expected[i]) <= 1e-5f * std::fabs(pc::expected[i]) + 1e-6f);
    CHECK(std::fabs(got[i] - ref[i]) <= 4e-6f * std::fabs(ref[i]) + 1e-6f);
  }
  // The free-function spelling gives the same model.
  const auto again = fold_batch_norm(plain);
  CHECK(again.weights == folded.weights);
}

namespace {
// A small model whose fold the compiler computes: the BatchNorm after the Dense folds; the one reading the
// Input and the one after a Relu stay.
using eps = std::ratio<1, 100000>;
constexpr float g0[2] = {1.0f, 2.0f}, be0[2] = {0.5f, -0.5f}, mu0[2] = {0.25f, 0.0f}, va0[2] = {3.0f, 0.0625f};
constexpr float dw[6] = {1.0f, -2.0f, 0.5f, 4.0f, 1.5f, -1.0f};
constexpr float db[3] = {0.5f, -1.0f, 2.0f};
constexpr float g1[3] = {2.0f, 1.0f, -1.0f}, be1[3] = {0.0f, 1.0f, 2.0f}, mu1[3] = {1.0f, 0.0f, -2.0f},
                va1[3] = {4.0f, 0.25f, 1.0f};
constexpr float g2[3] = {1.0f, 1.0f, 1.0f}, be2[3] = {0.0f, 0.0f, 0.0f}, mu2[3] = {0.0f, 0.0f, 0.0f},
                va2[3] = {1.0f, 1.0f, 1.0f};
using small = Graph<Input<Shape<2>>, BatchNorm<eps>, Dense<3>, BatchNorm<eps>, Relu, BatchNorm<eps>>;
constexpr small small_model{g0, be0, mu0, va0, dw, db, g1, be1, mu1, va1, g2, be2, mu2, va2};
constexpr auto small_folded = small_model | fold_batch_norm;
using SF = graph_of_t<decltype(small_folded)>;
static_assert(std::is_same_v<SF, Graph<Input<Shape<2>>, BatchNorm<eps>, Identity, Dense<3>, Relu, BatchNorm<eps>>>);
constexpr bool near(float a, double b) { return (a - b) * (a - b) <= 1e-12 * (1.0 + b * b); }
// Output channel 0: k = 2 / sqrt(4 + 1e-5); w' = (1, -2) * k; b' = (0.5 - 1) * k + 0.
constexpr double k0 = 2.0 / detail::sqrt_constexpr(4.00001);
static_assert(near(small_folded.param<3, 0>()[0], 1.0 * k0) && near(small_folded.param<3, 0>()[1], -2.0 * k0));
static_assert(near(small_folded.param<3, 1>()[0], -0.5 * k0));
// Channel 2: k = -1 / sqrt(1 + 1e-5); b' = (2 - (-2)) * k + 2.
static_assert(near(small_folded.param<3, 1>()[2], 4.0 * (-1.0 / detail::sqrt_constexpr(1.00001)) + 2.0));
static_assert(small_folded.param<1, 0>()[1] == 2.0f && small_folded.param<5, 3>()[0] == 1.0f);  // carried
static_assert(detail::sqrt_constexpr(2.25) == 1.5 && detail::sqrt_constexpr(1e-10) > 0.0);
}  // namespace

TEST_CASE("fold_batch_norm in constexpr equals the run-time fold, and both runs agree") {
  const auto rt = fold_batch_norm(small_model);
  CHECK(rt.weights == small_folded.weights);
  const float in[4] = {0.3f, -1.2f, 2.0f, 0.7f};
  const auto a = run_all(small_model, in);
  const auto b = run_all(small_folded, in);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(std::fabs(a[i] - b[i]) <= 4e-6f * std::fabs(a[i]) + 1e-6f);
}

TEST_CASE("fold_batch_norm leaves a BatchNorm whose producer has another reader; a later BatchNorm becomes Identity") {
  using G = Graph<Input<Shape<4, 4, 2>>, Conv2d<2, Kernel<1>>, BatchNorm<>, At<Add, 1, 2>>;
  static_assert(std::is_same_v<fold_batch_norm_graph_t<G>, G>);
  // The BatchNorm at 3 reads node 1, not the node before it: the conv keeps its node, the BatchNorm's is an Identity.
  using H = Graph<Input<Shape<4, 4, 2>>, Conv2d<3, Kernel<1>>, At<Conv2d<3, Kernel<1>>, 0>, At<BatchNorm<>, 1>,
                  At<Add, 3, 2>>;
  static_assert(std::is_same_v<fold_batch_norm_graph_t<H>, Graph<Input<Shape<4, 4, 2>>, Conv2d<3, Kernel<1>>,
                                                                 At<Conv2d<3, Kernel<1>>, 0>, At<Identity, 1>,
                                                                 At<Add, 3, 2>>>);
  auto m = Owned<H>{};
  float v = 0.1f;
  for (auto& w : m.weights) w = (v = v * 1.7f > 3.0f ? v * 1.7f - 3.1f : v * 1.7f);
  for (std::size_t c = 0; c < 3; ++c) m.param<3, 3>()[c] = 0.5f + static_cast<float>(c);  // variances > 0
  float in[32];
  for (std::size_t i = 0; i < 32; ++i) in[i] = static_cast<float>(i % 7) - 3.0f;
  const auto a = run_all(m, in);
  const auto b = run_all(m | fold_batch_norm, in);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(std::fabs(a[i] - b[i]) <= 4e-6f * std::fabs(a[i]) + 1e-6f);
}
