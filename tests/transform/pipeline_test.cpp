// The laws of transform pipelines: associativity, identity, recipes in constexpr, and `|` left to other types.
#include <doctest/doctest.h>

#include <ratio>
#include <type_traits>
#include <vector>

#include <statiq/statiq.hpp>
#include <statiq/transform/embed_preprocess.hpp>
#include <statiq/transform/fold_batch_norm.hpp>
#include <statiq/transform/pipeline.hpp>

namespace {

using namespace statiq;

using eps = std::ratio<1, 1000>;
constexpr float cw[2 * 3 * 3 * 3] = {0.1f, -0.2f, 0.3f,  0.05f, 0.4f,  -0.1f, 0.2f,  0.0f,  -0.3f,
                                     0.1f, 0.1f,  -0.1f, 0.2f,  -0.2f, 0.3f,  -0.3f, 0.25f, 0.15f,
                                     0.3f, -0.1f, 0.2f,  0.1f,  0.0f,  0.05f, -0.4f, 0.2f,  0.1f,
                                     -0.2f, 0.3f, 0.1f,  0.0f,  0.2f,  -0.1f, 0.4f,  0.1f,  -0.3f,
                                     0.2f, 0.2f,  0.1f,  -0.1f, 0.3f,  0.0f,  0.1f,  -0.2f, 0.05f,
                                     0.1f, 0.0f,  -0.2f, 0.3f,  0.1f,  0.2f,  -0.1f, 0.3f,  0.2f};
constexpr float cb[2] = {0.1f, -0.2f};
constexpr float gamma[2] = {1.5f, 0.5f}, beta[2] = {0.1f, 0.2f}, mu[2] = {0.3f, -0.1f}, var[2] = {2.0f, 0.5f};
constexpr float dw[3 * 2] = {1.0f, -1.0f, 0.5f, 0.25f, -0.5f, 2.0f};
constexpr float db[3] = {0.0f, 0.1f, -0.1f};
using G = Graph<Input<Shape<4, 4, 3>>, Conv2d<2, Kernel<3>, Pads<1>>, BatchNorm<eps>, Relu, GlobalAvgPool, Flatten,
                Dense<3>>;
constexpr G model{cw, cb, gamma, beta, mu, var, dw, db};

// A recipe made once, at compile time, and applied to a constexpr model by the compiler.
constexpr auto recipe = fold_batch_norm | embed_preprocess(mean{120.0f, 110.0f, 100.0f}, scale{60.0f},
                                                           reverse_channels, layout<"nchw">);
constexpr auto deployed = model | recipe;
static_assert(std::is_same_v<graph_of_t<decltype(deployed)>,
                             Graph<Input<Shape<4, 4, 3>, Layout::nchw>, Identity,
                                   ValuePadded<Conv2d<2, Kernel<3>, Pads<1>>>, Relu, GlobalAvgPool, Flatten, Dense<3>>>);
static_assert(deployed.param<2, 2>()[2] == 120.0f && deployed.param<2, 2>()[0] == 100.0f);  // pad = mean, reversed
static_assert(plan_v<decltype(deployed)>.fused[3]);  // the Relu still fuses into the folded conv

template <class A, class B>
constexpr bool same_model(const A& a, const B& b) {
  if constexpr (!std::is_same_v<A, B>) return false;
  else return a.weights == b.weights;
}

constexpr auto pre = embed_preprocess(mean{1.0f, 2.0f, 3.0f}, scale{2.0f, 4.0f, 8.0f});

// Associativity: (m | a) | b == m | (a | b), in type and in every parameter.
static_assert(same_model((model | fold_batch_norm) | pre, model | (fold_batch_norm | pre)));
static_assert(same_model((model | pre) | fold_batch_norm, model | (pre | fold_batch_norm)));
static_assert(same_model(((model | fold_batch_norm) | pre) | identity_transform,
                         model | (fold_batch_norm | (pre | identity_transform))));
// Identity: m | identity_transform is m's own graph with its parameters; a | identity and identity | a act as a.
static_assert(same_model(model | identity_transform, to_owned(model)));
static_assert(same_model(model | (fold_batch_norm | identity_transform), model | fold_batch_norm));
static_assert(same_model(model | (identity_transform | fold_batch_norm), model | fold_batch_norm));
// The free-function spelling is the same transform.
static_assert(same_model(fold_batch_norm(model), model | fold_batch_norm));
static_assert(same_model(embed_preprocess(model, mean{1.0f, 2.0f, 3.0f}, scale{2.0f, 4.0f, 8.0f}), model | pre));
static_assert(same_model(recipe(model), deployed));
// Folding the BatchNorm after embedding the preprocessing gives the same graph, and the same model within rounding.
constexpr auto other_order = model | (embed_preprocess(mean{120.0f, 110.0f, 100.0f}, scale{60.0f}, reverse_channels,
                                                       layout<"nchw">) |
                                      fold_batch_norm);
static_assert(std::is_same_v<decltype(other_order), decltype(deployed)>);
static_assert([] {
  for (std::size_t i = 0; i < deployed.weights.size(); ++i) {
    const float d = deployed.weights[i] - other_order.weights[i];
    if (d * d > 1e-10f * (1.0f + deployed.weights[i] * deployed.weights[i])) return false;
  }
  return true;
}());

// `|` is offered only where an operand is a transform, and only with a model or another transform.
template <class A, class B>
concept pipeable = requires(const A& a, const B& b) { a | b; };
static_assert(pipeable<G, fold_batch_norm_t> && pipeable<fold_batch_norm_t, decltype(pre)>);
static_assert(!pipeable<int, fold_batch_norm_t> && !pipeable<std::vector<float>, fold_batch_norm_t>);
static_assert(!pipeable<fold_batch_norm_t, G> && !pipeable<fold_batch_norm_t, int>);
static_assert(pipeable<int, int> && (3 | 4) == 7);
static_assert(transform_closure_type<decltype(recipe)> && !transform_closure_type<G>);

}  // namespace

TEST_CASE("A constexpr recipe applied at compile time equals the same recipe applied at run time") {
  const auto at_run_time = model | (fold_batch_norm | embed_preprocess(mean{120.0f, 110.0f, 100.0f}, scale{60.0f},
                                                                       reverse_channels, layout<"nchw">));
  CHECK(at_run_time.weights == deployed.weights);
  std::vector<float> raw(3 * 16), prepared(3 * 16), a(3), b(3);
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<float>((i * 37) % 256);
  const float m3[3] = {120.0f, 110.0f, 100.0f};
  for (std::size_t p = 0; p < 16; ++p)  // raw: NCHW, caller order reversed; prepared: NHWC, model order
    for (std::size_t c = 0; c < 3; ++c) prepared[p * 3 + c] = (raw[(2 - c) * 16 + p] - m3[c]) / 60.0f;
  static arena_for<decltype(deployed)> arena_a;
  static arena_for<G> arena_b;
  REQUIRE(run(deployed, std::span<const float>(raw), std::span<float>(a), arena_a) == status::ok);
  REQUIRE(run(model, std::span<const float>(prepared), std::span<float>(b), arena_b) == status::ok);
  for (std::size_t i = 0; i < 3; ++i) CHECK(std::fabs(a[i] - b[i]) <= 1e-5f * (1.0f + std::fabs(b[i])));
}
