// Quantized models: the int8 executor, mixed precision, and quantize_with_ranges on the PyTorch-checked CNNs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <random>
#include <fstream>
#include <string>
#include <span>
#include <statiq/statiq.hpp>
#include <statiq/io/bake.hpp>
#include <statiq/transform/accuracy_aware.hpp>
#include <statiq/transform/bias_correction.hpp>
#include <statiq/transform/channel_alignment.hpp>
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

TEST_CASE("an int8 convolution writes its 2x2 max pool directly, equal to the unfused plan") {
  namespace c = tr::plain_cnn;
  constexpr plain f{c::p0, c::p1, c::p2, c::p3, c::p4, c::p5, c::p6, c::p7, c::p8, c::p9};
  const auto ranges = observe_ranges(f, c::input);
  const auto qu = quantize_with_ranges<std::uint8_t>(f, ranges);
  const auto qs = quantize_with_ranges<std::int8_t>(f, ranges);
  using Q = decltype(qu);
  // Conv (1) -> Relu (2, fused into the conv) -> MaxPool 2x2/2 (3): the conv writes the pooled 6x6x8 tensor.
  constexpr auto p = plan_v<Q>;
  static_assert(p.fused_pool[1] == 3 && p.fused[3] && p.pooled_away[1] && p.pooled_away[2] && !p.pooled_away[3]);
  static_assert(p.storage[3] == 1 && p.bytes[1] == detail::align_up(6 * 6 * 8, arena_alignment));
  static_assert(p.fused_pool[4] == Q::num_nodes);  // conv 4's output goes to the float BatchNorm
  static_assert(plan_v<Q, 1, false>.fused_pool[1] == Q::num_nodes && !plan_v<Q, 1, false>.fused[3]);
  static_assert(arena_bytes_v<Q> <= plan_v<Q, 1, false>.arena_bytes);
  static_assert(plan_v<plain>.fused_pool[1] == plain::num_nodes);  // float models: no float kernel pools
  // The fused plan and the unfused one (run_observed) give the same bits, batch 1 and 4, u8 and s8.
  auto same_as_unfused = [](const auto& q) {
    using M = std::remove_cvref_t<decltype(q)>;
    constexpr std::size_t ni = 4 * plain::input_shape::size, no = 4 * plain::output_shape::size;
    std::vector<float> in(ni), a(no), b(no), a1(no);
    std::mt19937 g(7);
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    for (auto& v : in) v = u(g);
    static arena_for<M, 4> fused4;
    static arena_for<M> fused1;
    static observe_arena_for<M, 4> unfused;
    REQUIRE(run(q, std::span<const float>(in), std::span<float>(a), fused4) == status::ok);
    REQUIRE(run(q, std::span<const float>(in), std::span<float>(a1), fused1) == status::ok);
    REQUIRE(run_observed(q, std::span<const float>(in), std::span<float>(b), unfused,
                         [](std::size_t, std::span<const float>) {}) == status::ok);
    CHECK(a == b);
    CHECK(a1 == b);
  };
  same_as_unfused(qu);
  same_as_unfused(qs);
}

TEST_CASE("a max pool the int8 convolution cannot take stays a node of its own") {
  using G = Graph<Input<Shape<8, 8, 2>>, Conv2d<4, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<3>, Stride<2>>,
                  Conv2d<4, Kernel<3>, Pads<1>>, MaxPool<Kernel<2>, Stride<2>, Pads<1>>, Flatten, Dense<3>>;
  using Q = decltype(quantize_with_ranges<std::uint8_t>(std::declval<const Owned<G>&>(), std::vector<value_range>{}));
  constexpr auto p = plan_v<Q>;
  static_assert(p.fused_pool[1] == G::num_nodes && !p.fused[3] && !p.pooled_away[1]);  // 3x3 window
  static_assert(p.fused_pool[4] == G::num_nodes && !p.fused[5]);                         // padded
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

namespace {
// The metric the accuracy-aware tests maximise: minus the largest output error against the float model.
template <class F>
struct closeness_to_float {
  const F& f;
  std::span<const float> input;
  std::vector<float> reference;
  closeness_to_float(const F& model, std::span<const float> in) : f(model), input(in) { reference = outputs(f); }
  template <class M>
  std::vector<float> outputs(const M& m) const {
    static arena_for<M> arena;
    std::vector<float> y(input.size() / graph_of_t<F>::input_shape::size * graph_of_t<F>::output_shape::size);
    REQUIRE(run(m, input, std::span<float>(y), arena) == status::ok);
    return y;
  }
  template <class M>
  double operator()(const M& m) const {
    const auto y = outputs(m);
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(y[i] - reference[i])));
    return -worst;
  }
};
}  // namespace

TEST_CASE("a dynamic-precision model runs like the static ones for every choice of float nodes") {
  namespace c = tr::residual_cnn;
  constexpr residual f{c::p0, c::p1, c::p2, c::p3, c::p4, c::p5, c::p6, c::p7, c::p8, c::p9, c::p10, c::p11};
  auto ranges = observe_ranges(f, c::input);
  unify_concat_ranges<residual>(ranges);
  auto qd = quantize_with_ranges<std::uint8_t, dynamic_mask>(f, ranges);
  const auto qs = quantize_with_ranges<std::uint8_t>(f, ranges);
  const auto qi = quantize_with_ranges<std::uint8_t, ignore<6, 14>>(f, ranges);
  closeness_to_float<residual> metric(f, c::input);
  const auto ys = metric.outputs(qs), yd = metric.outputs(qd);
  CHECK(ys == yd);  // all quantized: bit-identical to the static model
  std::array<bool, residual::num_nodes> keep{};
  keep[6] = keep[14] = true;
  qd.set_float_nodes(keep);
  CHECK(!qd.enabled[6]);
  CHECK(!qd.enabled[7]);
  CHECK(qd.enabled[5]);
  CHECK(metric.outputs(qd) == metric.outputs(qi));  // same as the ignored-scope model
  keep.fill(true);
  qd.set_float_nodes(keep);
  CHECK(metric.outputs(qd) == metric.reference);  // everything float: exactly the float model
}

TEST_CASE("accuracy_aware returns the harmful layer to float first and meets the budget") {
  namespace c = tr::residual_cnn;
  constexpr residual f{c::p0, c::p1, c::p2, c::p3, c::p4, c::p5, c::p6, c::p7, c::p8, c::p9, c::p10, c::p11};
  auto ranges = observe_ranges(f, c::input);
  unify_concat_ranges<residual>(ranges);
  ranges[8].lo *= 50;  // a badly calibrated 1x1 branch
  ranges[8].hi *= 50;
  closeness_to_float<residual> metric(f, c::input);
  const double all_int8 = -metric(quantize_with_ranges<std::uint8_t>(f, ranges));
  accuracy_aware_options opt;
  opt.maximal_drop = all_int8 / 3;  // needs at least one layer back in float
  const auto r = accuracy_aware<std::uint8_t>(f, ranges, metric, opt);
  CHECK(r.float_metric == 0.0);
  CHECK(r.int8_metric == doctest::Approx(-all_int8));
  CHECK(r.float_only_bound == 0.0);
  REQUIRE(!r.ranking.empty());
  CHECK(r.ranking.front().node == 8);
  REQUIRE(!r.reverted.empty());
  CHECK(r.reverted.front().node == 8);
  CHECK(r.met);
  CHECK(r.float_metric - r.final_metric <= opt.maximal_drop);
  CHECK(!r.model.enabled[8]);
  MESSAGE("accuracy-aware: reverted " << r.reverted.size() << " layer(s), drop " << all_int8 << " -> "
                                      << r.float_metric - r.final_metric);
}

TEST_CASE("bake writes the chosen precision into the type and leaves nothing behind on failure") {
  namespace c = tr::residual_cnn;
  constexpr residual f{c::p0, c::p1, c::p2, c::p3, c::p4, c::p5, c::p6, c::p7, c::p8, c::p9, c::p10, c::p11};
  auto ranges = observe_ranges(f, c::input);
  auto qd = quantize_with_ranges<std::uint8_t, dynamic_mask>(f, ranges);
  std::array<bool, residual::num_nodes> keep{};
  keep[14] = true;  // the last Dense in float
  qd.set_float_nodes(keep);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("statiq_bake_test_" + std::to_string(std::random_device{}()));  // unique per run
  std::filesystem::create_directories(dir);
  io::bake(qd, dir / "residual_int8.hpp", "residual_int8");
  std::ifstream in(dir / "residual_int8.hpp");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("std::integer_sequence<bool, true, true, true, true, true, true, true, true, true, true, true, "
                  "true, true, true, false>") != std::string::npos);
  CHECK(text.find("namespace residual_int8") != std::string::npos);
  CHECK(text.find("statiq::kernels::baked_with_layout<" + std::to_string(kernels::gemm_layout_version) + ">::ok") !=
        std::string::npos);
  // Float data is only the last Dense's 8x10 weights and 10 biases.
  const auto floats_at = text.find("// floats:");
  REQUIRE(floats_at != std::string::npos);
  const auto floats_text = text.substr(floats_at);
  std::size_t literals = 0;  // each float literal ends in a digit and 'f'
  for (std::size_t i = 1; i < floats_text.size(); ++i)
    literals += floats_text[i] == 'f' && std::isdigit(static_cast<unsigned char>(floats_text[i - 1]));
  CHECK(literals == 90);
  CHECK_THROWS_AS(io::bake(qd, dir / "no_such_dir" / "x.hpp", "x"), io::bake_error);
  CHECK(!std::filesystem::exists(dir / "no_such_dir" / "x.hpp.tmp"));
  CHECK_THROWS_AS(io::bake(qd, dir / "y.hpp", "not a name"), io::bake_error);
  CHECK(!std::filesystem::exists(dir / "y.hpp"));
  std::filesystem::remove_all(dir);
}

namespace {
// Sum over output channels of (mean over the data of float - int8)^2: the systematic shift bias correction removes.
template <class F, class Q>
double squared_mean_shift(const F& f, const Q& q, std::span<const float> input) {
  closeness_to_float<F> m(f, input);
  const auto yq = m.outputs(q);
  constexpr std::size_t c = graph_of_t<F>::output_shape::size;
  std::vector<double> mean(c);
  for (std::size_t i = 0; i < yq.size(); ++i) mean[i % c] += m.reference[i] - yq[i];
  double s = 0;
  for (double v : mean) s += (v * c / static_cast<double>(yq.size())) * (v * c / static_cast<double>(yq.size()));
  return s;
}
}  // namespace

TEST_CASE("fast and full bias correction shrink the systematic output shift of per-tensor weights") {
  namespace c = tr::residual_cnn;
  constexpr residual f{c::p0, c::p1, c::p2, c::p3, c::p4, c::p5, c::p6, c::p7, c::p8, c::p9, c::p10, c::p11};
  auto ranges = observe_ranges(f, c::input);
  unify_concat_ranges<residual>(ranges);
  quantize_options coarse;
  coarse.per_channel = false;  // one weight scale per layer: larger, biased weight errors
  coarse.weights_7bit = saturation_fix::on;
  const auto plain_q = quantize_with_ranges<std::int8_t>(f, ranges, coarse);
  const auto fast = fast_bias_correction<std::int8_t>(f, ranges, c::input, coarse);
  const auto full = bias_correction<std::int8_t>(f, ranges, c::input, coarse);
  const double before = squared_mean_shift(f, plain_q, c::input);
  const double after_fast = squared_mean_shift(f, quantize_with_ranges<std::int8_t>(fast, ranges, coarse), c::input);
  const double after_full = squared_mean_shift(f, quantize_with_ranges<std::int8_t>(full, ranges, coarse), c::input);
  MESSAGE("squared mean output shift: " << before << " -> fast " << after_fast << ", full " << after_full);
  CHECK(after_fast < before);
  CHECK(after_full < before);
  // Only biases move.
  CHECK(fast.param(0)[5] == f.param(0)[5]);
  CHECK(fast.param(1)[0] != f.param(1)[0]);
}

TEST_CASE("cross-layer range equalization keeps the float function and rescues per-tensor weights") {
  namespace c = tr::residual_cnn;
  using chain = Graph<Input<Shape<8, 8, 3>>, Conv2d<8, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>,
                      Conv2d<8, Kernel<3>, Pads<1>>, Relu, GlobalAvgPool, Flatten, Dense<10>>;
  // Weights from the residual CNN's conv_a, conv_r1 and dense; channel 0 of the first conv made 30x larger
  // and the second conv's input channel 0 30x smaller: the same function, badly balanced ranges.
  std::vector<float> w1(c::p0, c::p0 + 216), b1(c::p1, c::p1 + 8), w2(c::p2, c::p2 + 576), b2(c::p3, c::p3 + 8);
  for (int k = 0; k < 27; ++k) w1[k] *= 30.0f;
  b1[0] *= 30.0f;
  for (int i = 0; i < 576; i += 8) w2[i] /= 30.0f;
  const chain f{std::span<const float, 216>(w1.data(), 216), std::span<const float, 8>(b1.data(), 8),
                std::span<const float, 576>(w2.data(), 576), std::span<const float, 8>(b2.data(), 8),
                std::span<const float, 80>(c::p10, 80), std::span<const float, 10>(c::p11, 10)};
  const auto eq = equalize_cross_layer_ranges(f);
  closeness_to_float<chain> same(f, c::input);
  CHECK(-same(eq) <= 1e-5 * 2);  // the float function is unchanged up to rounding
  // Per output channel ranges of the first conv now match the second's per input channel ranges.
  for (int ch = 0; ch < 8; ++ch) {
    float r1 = 0, r2 = 0;
    for (int k = 0; k < 27; ++k) r1 = std::max(r1, std::fabs(eq.param(0)[ch * 27 + k]));
    for (int i = ch; i < 576; i += 8) r2 = std::max(r2, std::fabs(eq.param(2)[i]));
    CHECK(r1 == doctest::Approx(r2).epsilon(1e-2));  // chains converge over sweeps
  }
  quantize_options per_tensor;
  per_tensor.per_channel = false;
  const auto r_plain = observe_ranges(f, c::input);
  const auto r_eq = observe_ranges(eq, c::input);
  const double err_plain = -same(quantize_with_ranges<std::uint8_t>(f, r_plain, per_tensor));
  const double err_eq = -same(quantize_with_ranges<std::uint8_t>(eq, r_eq, per_tensor));
  MESSAGE("per-tensor int8 max output error: unbalanced " << err_plain << ", equalized " << err_eq);
  CHECK(err_eq < err_plain / 2);
}

TEST_CASE("quantize is a pipeline step: fold_batch_norm | quantize equals the two calls") {
  namespace c = tr::plain_cnn;
  constexpr plain f{c::p0, c::p1, c::p2, c::p3, c::p4, c::p5, c::p6, c::p7, c::p8, c::p9};
  const auto folded = fold_batch_norm(f);
  const auto ranges = observe_ranges(folded, c::input);
  const auto piped = f | (fold_batch_norm | quantize(ranges));
  const auto called = quantize_with_ranges<std::uint8_t>(folded, ranges);
  static_assert(std::is_same_v<decltype(piped), decltype(called)>);
  // With the BatchNorm folded, every node of the plain CNN runs in int8.
  static_assert(std::all_of(decltype(piped)::quantized.begin(), decltype(piped)::quantized.end(), [](bool b) { return b; }));
  CHECK(piped.bytes == called.bytes);
  CHECK(piped.q[9].scale == called.q[9].scale);
}

namespace {
// The compiler quantizes: a constexpr float model and constexpr ranges give a constexpr INT8 model.
constexpr std::array<value_range, 10> fixed_ranges{{{-3, 3}, {-4, 4}, {0, 4}, {0, 4}, {-6, 6}, {-3, 3}, {0, 3}, {0, 2},
                                                    {0, 2}, {-5, 5}}};
constexpr plain constexpr_plain{tr::plain_cnn::p0, tr::plain_cnn::p1, tr::plain_cnn::p2, tr::plain_cnn::p3,
                                tr::plain_cnn::p4, tr::plain_cnn::p5, tr::plain_cnn::p6, tr::plain_cnn::p7,
                                tr::plain_cnn::p8, tr::plain_cnn::p9};
constexpr auto compile_time_q = quantize_with_ranges<std::uint8_t>(constexpr_plain, fixed_ranges);
static_assert(compile_time_q.q[1].scale > 0.0f && compile_time_q.bytes.size() > 0);
static_assert(kernels::detail::load_u32(compile_time_q.bytes.data()) == kernels::gemm_packed_magic);
}  // namespace

TEST_CASE("a widened output scale reaches the layers that keep their input's quantization") {
  // Node 1's range is so narrow that s_in * s_w / s_out would pass 0.5: its output scale is widened, and the
  // Relu fused into it and the MaxPool after it (both keep their input's quantization) must carry the widened
  // scale, or node 4 would read node 3's bytes at the wrong scale.
  std::array<value_range, 10> narrow = fixed_ranges;
  narrow[1] = narrow[2] = narrow[3] = {0.0f, 1e-4f};
  quantize_report report;
  const auto q = quantize_with_ranges<std::uint8_t>(constexpr_plain, narrow, {}, &report);
  CHECK(report.widened_outputs >= 1);
  CHECK(q.q[1].scale > 1e-4f / 255);
  for (std::size_t i : {2, 3}) {
    CAPTURE(i);
    CHECK(q.q[i].scale == q.q[1].scale);
    CHECK(q.q[i].zero_point == q.q[1].zero_point);
  }
}

TEST_CASE("quantization in constexpr gives the same bytes as at run time") {
  const auto run_time_q = quantize_with_ranges<std::uint8_t>(constexpr_plain, fixed_ranges);
  CHECK(run_time_q.bytes == compile_time_q.bytes);
  CHECK(run_time_q.floats == compile_time_q.floats);
}
