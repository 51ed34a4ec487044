// Quantized models: the int8 executor, mixed precision, and quantize_with_ranges on the PyTorch-checked CNNs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <statiq/statiq.hpp>
#include <statiq/transform/error_report.hpp>
#include <statiq/transform/quantize.hpp>
#include <vector>

#include "../data/torch_ref/plain_cnn.hpp"
#include "../data/torch_ref/residual_cnn.hpp"

namespace {
using namespace statiq;
namespace tr = statiq_test::torch_ref;

using plain = Graph<Input<Shape<12, 12, 1>>, Conv2d<8, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>,
                    Conv2d<16, Kernel<3>, Pads<1>>, BatchNorm<>, Relu, GlobalAvgPool, Flatten, Dense<10>>;
using residual = Graph<Input<Shape<8, 8, 3>>, Conv2d<8, Kernel<3>, Pads<1>>, Relu, Conv2d<8, Kernel<3>, Pads<1>>, Relu,
                       Conv2d<8, Kernel<3>, Pads<1>>, At<Add, 5, 2>, Relu, Conv2d<4, Kernel<1>>,
                       At<Conv2d<4, Kernel<3>, Pads<1>>, 7>, At<Concat, 8, 9>, Relu, GlobalAvgPool, Flatten, Dense<10>>;

// Min/max of every node's output over `input` (a minimal calibration).
template <class M>
std::vector<value_range> observe_ranges(const M& m, std::span<const float> input) {
  std::vector<value_range> r(graph_of_t<M>::num_nodes, value_range{1e30f, -1e30f});
  static observe_arena_for<M, 4> arena;
  std::vector<float> out(input.size() / graph_of_t<M>::input_shape::size * graph_of_t<M>::output_shape::size);
  auto obs = [&](std::size_t node, std::span<const float> v) {
    for (float x : v) {
      r[node].lo = std::min(r[node].lo, x);
      r[node].hi = std::max(r[node].hi, x);
    }
  };
  REQUIRE(run_observed(m, input, std::span<float>(out), arena, obs) == status::ok);
  return r;
}

template <class Q, class F, std::size_t NI>
void check_close_to_float(const Q& q, const F& f, const float (&input)[NI], float tolerance) {
  arena_for<F> fa;
  arena_for<Q> qa;
  constexpr std::size_t no = NI / graph_of_t<F>::input_shape::size * graph_of_t<F>::output_shape::size;
  std::vector<float> yf(no), yq(no);
  REQUIRE(run(f, std::span<const float>(input), std::span<float>(yf), fa) == status::ok);
  REQUIRE(run(q, std::span<const float>(input), std::span<float>(yq), qa) == status::ok);
  float span = 0, worst = 0;
  for (std::size_t i = 0; i < no; ++i) {
    span = std::max(span, std::fabs(yf[i]));
    worst = std::max(worst, std::fabs(yf[i] - yq[i]));
  }
  MESSAGE("int8 vs float: max |error| " << worst << " on outputs up to " << span);
  CHECK(worst <= tolerance * span);
}
}  // namespace

TEST_CASE("plain CNN: u8 (mixed) and s8 (performance) quantization stay within a few percent of float") {
  namespace c = tr::plain_cnn;
  constexpr plain f{c::p0, c::p1, c::p2, c::p3, c::p4, c::p5, c::p6, c::p7, c::p8, c::p9};
  const auto ranges = observe_ranges(f, c::input);
  const auto qu = quantize_with_ranges<std::uint8_t>(f, ranges);
  const auto qs = quantize_with_ranges<std::int8_t>(f, ranges);
  // BatchNorm has no int8 kernel: it stays float between two quantized regions (mixed precision).
  static_assert(decltype(qu)::quantized[4] && !decltype(qu)::quantized[5] && decltype(qu)::quantized[9]);
  CHECK(plan_v<decltype(qu)>.scratch_bytes[5] > 0);  // BatchNorm dequantizes its input
  CHECK(arena_bytes_v<decltype(qu)> < arena_bytes_v<plain>);
  check_close_to_float(qu, f, c::input, 0.05f);
  check_close_to_float(qs, f, c::input, 0.05f);
}

TEST_CASE("residual CNN (int8 Add and Concat) stays within a few percent of float") {
  namespace c = tr::residual_cnn;
  constexpr residual f{c::p0, c::p1, c::p2, c::p3, c::p4, c::p5, c::p6, c::p7, c::p8, c::p9, c::p10, c::p11};
  auto ranges = observe_ranges(f, c::input);
  unify_concat_ranges<residual>(ranges);
  const auto q = quantize_with_ranges<std::uint8_t>(f, ranges);
  static_assert(std::all_of(decltype(q)::quantized.begin(), decltype(q)::quantized.end(), [](bool b) { return b; }));
  check_close_to_float(q, f, c::input, 0.05f);
}

TEST_CASE("ignored scope keeps the named nodes in float") {
  namespace c = tr::residual_cnn;
  constexpr residual f{c::p0, c::p1, c::p2, c::p3, c::p4, c::p5, c::p6, c::p7, c::p8, c::p9, c::p10, c::p11};
  auto ranges = observe_ranges(f, c::input);
  const auto q = quantize_with_ranges<std::uint8_t, ignore<6, 14>>(f, ranges);
  using Q = decltype(q);
  static_assert(!Q::quantized[6] && !Q::quantized[7] && !Q::quantized[14] && Q::quantized[5] && Q::quantized[8]);
  check_close_to_float(q, f, c::input, 0.05f);
}

TEST_CASE("the layer error report ranks a badly quantized layer first") {
  namespace c = tr::residual_cnn;
  constexpr residual f{c::p0, c::p1, c::p2, c::p3, c::p4, c::p5, c::p6, c::p7, c::p8, c::p9, c::p10, c::p11};
  auto ranges = observe_ranges(f, c::input);
  unify_concat_ranges<residual>(ranges);
  const auto good = quantize_with_ranges<std::uint8_t>(f, ranges);
  const auto report = layer_error_report(f, good, c::input);
  REQUIRE(report.size() == residual::num_nodes - 2);  // nodes 1 and 3 carry fused ReLUs: 2 and 4 report them
  CHECK(std::is_sorted(report.begin(), report.end(), [](auto& a, auto& b) { return a.sqnr_db < b.sqnr_db; }));
  for (const auto& e : report) {
    CHECK(e.quantized);
    if (e.node > 0) CHECK(e.sqnr_db > 20.0);  // 8 bits on these small layers: well above 20 dB
  }
  // Give node 8 (the 1x1 conv branch) a range 50x too wide: its step is 50x coarser and it must come first.
  ranges[8].lo *= 50;
  ranges[8].hi *= 50;
  const auto bad = quantize_with_ranges<std::uint8_t>(f, ranges);
  const auto worse = layer_error_report(f, bad, c::input);
  CHECK(worse.front().node == 8);
  CHECK(worse.front().sqnr_db < report.back().sqnr_db);
}
