// Graph construction: compile-time shape inference, attributes, parameter binding and run()'s contract.
#include <doctest/doctest.h>

#include <array>
#include <string>
#include <cmath>
#include <statiq/statiq.hpp>
#include <vector>

namespace {
using namespace statiq;

// Shape inference follows ONNX's output-size formula, attribute order does not matter.
using conv_a = Conv2d<6, Kernel<3, 2>, Stride<2, 1>, Pads<1, 0, 2, 1>, Dilation<2, 1>>;
using conv_b = Conv2d<6, Dilation<2, 1>, Pads<1, 0, 2, 1>, Stride<2, 1>, Kernel<3, 2>>;
using g_a = Graph<Input<Shape<11, 9, 3>>, conv_a>;
using g_b = Graph<Input<Shape<11, 9, 3>>, conv_b>;
// out_h = (11 + 1 + 2 - 2*(3-1) - 1) / 2 + 1 = 5; out_w = (9 + 0 + 1 - 1*(2-1) - 1) / 1 + 1 = 9
static_assert(std::is_same_v<g_a::output_shape, Shape<5, 9, 6>>);
static_assert(std::is_same_v<g_b::output_shape, Shape<5, 9, 6>>);
static_assert(g_a::param_sizes == std::array<std::size_t, 2>{6 * 3 * 2 * 3, 6});

// Pooling: ceil mode adds the partial window, but never one that starts in the right padding.
static_assert(std::is_same_v<Graph<Input<Shape<7, 7, 2>>, MaxPool<Kernel<2>, Stride<2>>>::output_shape, Shape<3, 3, 2>>);
static_assert(std::is_same_v<Graph<Input<Shape<7, 7, 2>>, MaxPool<Kernel<2>, Stride<2>, CeilMode<true>>>::output_shape,
                             Shape<4, 4, 2>>);
static_assert(detail::window_out(5, 1, 1, 2, 2, 1, true) == 3);  // ONNX: the 4th window would start in the pad
static_assert(std::is_same_v<Graph<Input<Shape<5, 6, 7>>, GlobalAvgPool, Flatten>::output_shape, Shape<7>>);
static_assert(std::is_same_v<Graph<Input<Shape<2, 3, 4>>, Reshape<Shape<6, 4>>>::output_shape, Shape<6, 4>>);

// Concat joins channels in the order given; Add keeps the shape.
using dag = Graph<Input<Shape<4, 4, 2>>, Conv2d<3, Kernel<1>>, At<Conv2d<5, Kernel<3>, Pads<1>>, 0>, At<Concat, 2, 1, 0>,
                  At<Add, 3, 3>>;
static_assert(std::is_same_v<dag::shape_t<3>, Shape<4, 4, 10>>);
static_assert(dag::inputs_v<3> == std::array<std::size_t, 3>{2, 1, 0});
static_assert(dag::num_params == 4);

// Clip's bounds are exact ratios.
static_assert(Clip<std::ratio<-3, 2>, std::ratio<9, 4>>::lo == -1.5f);
static_assert(Relu6::hi == 6.0f);
static_assert(BatchNorm<std::ratio<1, 1000>>::epsilon == 0.001f);

// A whole model is a constexpr object when its weights are.
constexpr float w[2 * 4] = {1, 0, 0, 0, 0, 1, 1, 0};
constexpr float b[2] = {0.5f, -1};
constexpr Graph<Input<Shape<4>>, Dense<2>, Relu> tiny{w, b};
static_assert(tiny.param(0)[5] == 1.0f);
static_assert(tiny.param<1, 1>().size() == 2);
}  // namespace

TEST_CASE("run: a tiny dense model, its fused ReLU and the batch loop") {
  arena_for<decltype(tiny)> arena;
  const std::vector<float> in = {1, 2, 3, 4, -5, 0.25f, 0.5f, 9};
  std::vector<float> out(4);
  REQUIRE(run(tiny, std::span<const float>(in), std::span<float>(out), arena) == status::ok);
  CHECK(out == std::vector<float>{1.5f, 4.0f, 0.0f, 0.0f});  // relu(-4.5), relu(0.75 - 1)
}

TEST_CASE("run: wrong buffer sizes are reported, not read past") {
  arena_for<decltype(tiny)> arena;
  std::vector<float> in(7), out(4);
  CHECK(run(tiny, std::span<const float>(in), std::span<float>(out), arena) == status::input_size_mismatch);
  CHECK(run(tiny, std::span<const float>(), std::span<float>(out), arena) == status::input_size_mismatch);
  in.resize(8);
  out.resize(3);
  CHECK(run(tiny, std::span<const float>(in), std::span<float>(out), arena) == status::output_size_mismatch);
  CHECK(std::string(to_string(status::output_size_mismatch)).find("output") != std::string::npos);
}

TEST_CASE("run: static extents are checked at compile time") {
  arena_for<decltype(tiny), 2> arena;
  std::array<float, 12> in{};
  std::array<float, 6> out{};
  in[0] = 2.0f;
  CHECK(run(tiny, std::span<const float, 12>(in), std::span<float, 6>(out), arena) == status::ok);
  CHECK(out[0] == 2.5f);
}

TEST_CASE("an NCHW input layout gives the same result as the same data in NHWC") {
  static constexpr float cw[3 * 2 * 2 * 2] = {0.5f, -1, 2, 0.25f, 1, 1, -0.5f, 3, 0, 1, 2, -2, 1, 0, 0, 1, -1, -1, 0.5f, 0.5f, 2, 0, 0, 4};
  static constexpr float cb[3] = {0.1f, 0.2f, -0.3f};
  constexpr Graph<Input<Shape<3, 4, 2>, Layout::nhwc>, Conv2d<3, Kernel<2>, Pads<1>>> nhwc{cw, cb};
  constexpr Graph<Input<Shape<3, 4, 2>, Layout::nchw>, Conv2d<3, Kernel<2>, Pads<1>>> nchw{cw, cb};
  std::vector<float> x_nhwc(24), x_nchw(24);
  for (int h = 0; h < 3; ++h)
    for (int w = 0; w < 4; ++w)
      for (int c = 0; c < 2; ++c) {
        const float v = static_cast<float>(h * 10 + w) * (c ? -1.0f : 1.0f) + 0.5f * static_cast<float>(c);
        x_nhwc[(h * 4 + w) * 2 + c] = v;
        x_nchw[(c * 3 + h) * 4 + w] = v;
      }
  arena_for<decltype(nhwc)> a1;
  arena_for<decltype(nchw)> a2;
  std::vector<float> y1(4 * 5 * 3), y2(4 * 5 * 3);
  REQUIRE(run(nhwc, std::span<const float>(x_nhwc), std::span<float>(y1), a1) == status::ok);
  REQUIRE(run(nchw, std::span<const float>(x_nchw), std::span<float>(y2), a2) == status::ok);
  CHECK(y1 == y2);
  CHECK(arena_bytes_v<decltype(nhwc)> == 0);  // input read in place, output written to the caller
  CHECK(arena_bytes_v<decltype(nchw)> == 3 * 4 * 2 * sizeof(float) + 32);  // transposed copy, 64-byte aligned
}

TEST_CASE("Owned models hold their parameters by value, also in constexpr, and run like bound ones") {
  static constexpr auto owned = to_owned(tiny);
  static_assert(owned.param(0)[6] == 1.0f && owned.param<1, 1>()[1] == -1.0f);
  static_assert(std::is_same_v<arena_for<decltype(owned)>, arena_for<decltype(tiny)>>);
  auto edited = owned;
  edited.param<1, 1>()[0] = 10.0f;  // a transform writes its own copy
  arena_for<decltype(tiny)> arena;
  const std::vector<float> in = {1, 2, 3, 4};
  std::vector<float> a(2), b(2);
  REQUIRE(run(owned, std::span<const float>(in), std::span<float>(a), arena) == status::ok);
  REQUIRE(run(edited, std::span<const float>(in), std::span<float>(b), arena) == status::ok);
  CHECK(a == std::vector<float>{1.5f, 4.0f});
  CHECK(b == std::vector<float>{11.0f, 4.0f});
}

TEST_CASE("run_observed reports every node's own output, before any activation fusion") {
  static constexpr float w[2 * 2] = {1, 0, 0, -1};
  static constexpr float b[2] = {0, 0};
  constexpr Graph<Input<Shape<2>>, Dense<2>, Relu, Softmax> m{w, b};
  observe_arena_for<decltype(m), 2> arena;
  const std::vector<float> in = {3, 4, -1, -2};
  std::vector<float> out(4);
  std::vector<std::vector<float>> seen(m.num_nodes);
  auto observer = [&](std::size_t node, std::span<const float> v) { seen[node].assign(v.begin(), v.end()); };
  REQUIRE(run_observed(m, std::span<const float>(in), std::span<float>(out), arena, observer) == status::ok);
  CHECK(seen[0] == in);
  CHECK(seen[1] == std::vector<float>{3, -4, -1, 2});  // the Dense output itself, negatives included
  CHECK(seen[2] == std::vector<float>{3, 0, 0, 2});
  CHECK(seen[3] == out);
  CHECK(!plan_v<decltype(m), 2, false>.fused[2]);
  CHECK(plan_v<decltype(m), 2, true>.fused[2]);
}
