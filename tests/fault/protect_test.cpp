// protect(stats): the graph it makes, its bounds (the calibrated min and max of each activation), fusion and
// zero-cost folding into INT8 requantization clamps, the pipeline laws with quantize, bake, and bad statistics.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <statiq/calibrate/calibrate.hpp>
#include <statiq/io/bake.hpp>
#include <statiq/io/type_name.hpp>
#include <statiq/statiq.hpp>
#include <statiq/transform/protect.hpp>

namespace {

using namespace statiq;

using G = Graph<Input<Shape<6, 6, 2>>, Conv2d<4, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>, Flatten,
                Dense<8>, Relu6, Dense<3>>;
// A clamp that no Conv2d/Dense precedes: it runs on its own (not fused).
using H = Graph<Input<Shape<8>>, Relu, Dense<4>, At<Add, 2, 2>, Clip<std::ratio<-1>, std::ratio<2>>, Dense<2>>;

std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

struct g_params {
  std::vector<float> cw = random_floats(4 * 9 * 2, 1, 0.4f), cb = random_floats(4, 2, 0.1f);
  std::vector<float> dw = random_floats(8 * 36, 3, 0.3f), db = random_floats(8, 4, 0.1f);
  std::vector<float> ow = random_floats(3 * 8, 5, 0.5f), ob = random_floats(3, 6, 0.1f);
  Owned<G> model() const {
    return to_owned(G{std::span<const float, 72>(cw.data(), 72), std::span<const float, 4>(cb.data(), 4),
                      std::span<const float, 288>(dw.data(), 288), std::span<const float, 8>(db.data(), 8),
                      std::span<const float, 24>(ow.data(), 24), std::span<const float, 3>(ob.data(), 3)});
  }
};

calibration_options quiet_options() {
  calibration_options o;
  o.progress = false;
  o.mode = preset::mixed;
  return o;
}

template <class M>
std::vector<float> run_all(const M& m, const std::vector<float>& x) {
  using MG = graph_of_t<M>;
  static arena_for<M> a;
  std::vector<float> y(x.size() / MG::input_shape::size * MG::output_shape::size);
  REQUIRE(run(m, std::span<const float>(x), std::span<float>(y), a) == status::ok);
  return y;
}

template <class A, class B>
bool same_quantized(const A& a, const B& b) {
  if constexpr (!std::is_same_v<A, B>) {
    return false;
  } else {
    for (std::size_t i = 0; i < a.q.size(); ++i)
      if (a.q[i].scale != b.q[i].scale || a.q[i].zero_point != b.q[i].zero_point) return false;
    return a.lo == b.lo && a.hi == b.hi && a.bytes == b.bytes && a.ints == b.ints && a.floats == b.floats;
  }
}

}  // namespace

// The graph protect makes: every clamp activation becomes Protected<Act>, nothing else changes.
static_assert(std::is_same_v<protect_graph_t<G>,
                             Graph<Input<Shape<6, 6, 2>>, Conv2d<4, Kernel<3>, Pads<1>>, Protected<Relu>,
                                   MaxPool<Kernel<2>, Stride<2>>, Flatten, Dense<8>, Protected<Relu6>, Dense<3>>>);
static_assert(std::is_same_v<protect_graph_t<protect_graph_t<G>>, protect_graph_t<G>>);
// A Protected activation still fuses into its producer: the same plan, the same arena.
static_assert(plan_v<protect_graph_t<G>>.fused[2] && plan_v<protect_graph_t<G>>.fused[6]);
static_assert(arena_bytes_v<protect_graph_t<G>> == arena_bytes_v<G>);
static_assert(!plan_v<protect_graph_t<H>>.fused[1] && !plan_v<protect_graph_t<H>>.fused[4]);

TEST_CASE("protect: each activation's bounds are its calibrated min and max, clipped to the activation's range") {
  const g_params p;
  const auto m = p.model();
  const auto calib = random_floats(40 * 72, 11, 1.0f);
  const auto stats = calibrate(m, sample_view_for<decltype(m)>(calib), quiet_options());
  const auto pm = m | protect(stats);
  static_assert(std::is_same_v<graph_of_t<decltype(pm)>, protect_graph_t<G>>);
  CHECK(pm.param<2, 0>()[0] == std::max(stats[2].min, 0.0f));
  CHECK(pm.param<2, 0>()[1] == stats[2].max);
  CHECK(pm.param<6, 0>()[0] == std::max(stats[6].min, 0.0f));
  CHECK(pm.param<6, 0>()[1] == std::min(stats[6].max, 6.0f));
  CHECK(stats[2].max > 0.0f);
  // The other parameters are carried unchanged.
  CHECK(std::equal(p.dw.begin(), p.dw.end(), pm.param<5, 0>().begin()));
  CHECK(std::equal(p.ob.begin(), p.ob.end(), pm.param<7, 1>().begin()));

  SUBCASE("on the calibration data the protected model computes exactly what the model does") {
    CHECK(run_all(pm, calib) == run_all(m, calib));
  }
  SUBCASE("outside the calibrated range it clamps: activations stay within the bounds") {
    const auto big = random_floats(20 * 72, 12, 4.0f);
    CHECK(run_all(pm, big) != run_all(m, big));
    static observe_arena_for<decltype(pm)> oa;
    std::vector<float> y(20 * 3);
    float lo2 = 1e30f, hi2 = -1e30f, lo6 = 1e30f, hi6 = -1e30f;
    REQUIRE(run_observed(pm, std::span<const float>(big), std::span<float>(y), oa,
                         [&](std::size_t node, std::span<const float> v) {
                           for (float x : v) {
                             if (node == 2) lo2 = std::min(lo2, x), hi2 = std::max(hi2, x);
                             if (node == 6) lo6 = std::min(lo6, x), hi6 = std::max(hi6, x);
                           }
                         }) == status::ok);
    CHECK(lo2 >= pm.param<2, 0>()[0]);
    CHECK(hi2 == pm.param<2, 0>()[1]);  // inputs 4x wider than calibration reach the bound
    CHECK(lo6 >= pm.param<6, 0>()[0]);
    CHECK(hi6 <= pm.param<6, 0>()[1]);
    // The fused run (bounds in the kernels) equals the unfused one (a clamp pass of its own).
    CHECK(run_all(pm, big) == y);
  }
}

TEST_CASE("protect: a clamp that runs on its own (not fused) applies its bounds") {
  const auto w1 = random_floats(4 * 8, 21, 0.5f), b1 = random_floats(4, 22, 0.1f);
  const auto w2 = random_floats(2 * 4, 23, 0.5f), b2 = random_floats(2, 24, 0.1f);
  const H h{std::span<const float, 32>(w1.data(), 32), std::span<const float, 4>(b1.data(), 4),
            std::span<const float, 8>(w2.data(), 8), std::span<const float, 2>(b2.data(), 2)};
  const auto calib = random_floats(30 * 8, 25, 1.0f);
  const auto stats = calibrate(h, sample_view_for<H>(calib), quiet_options());
  const auto ph = h | protect(stats);
  CHECK(ph.param<1, 0>()[1] == stats[1].max);
  CHECK(ph.param<4, 0>()[0] == std::max(stats[4].min, -1.0f));
  CHECK(ph.param<4, 0>()[1] == std::min(stats[4].max, 2.0f));
  CHECK(run_all(ph, calib) == run_all(h, calib));
  // One input far outside: Relu's output is cut to the calibrated max before Dense reads it.
  std::vector<float> x(8, 0.0f);
  x[3] = 1000.0f;
  const float c = ph.param<1, 0>()[1];
  std::vector<float> xc(8, 0.0f);
  xc[3] = c;
  CHECK(run_all(ph, x) == run_all(h, xc));
}

TEST_CASE("protect | quantize: the bounds fold into the requantization clamps; both spellings agree") {
  const g_params p;
  const auto m = p.model();
  const auto calib = random_floats(40 * 72, 31, 1.0f);
  const auto stats = calibrate(m, sample_view_for<decltype(m)>(calib), quiet_options());
  // Ranges wider than anything calibrated: the quantized grid reaches past the protection bounds.
  auto ranges = ranges_of(stats);
  for (auto& r : ranges) r.hi *= 4.0f, r.lo *= 4.0f;
  const auto q = m | quantize(ranges);
  const auto pq = m | protect(stats) | quantize(ranges);
  const auto pq2 = (m | protect(stats)) | quantize(ranges);
  const auto pq3 = m | (protect(stats) | quantize(ranges));
  CHECK(same_quantized(pq, pq2));
  CHECK(same_quantized(pq, pq3));
  const auto pm = m | protect(stats);
  // The Conv2d (node 1) requantizes into the Protected Relu's bounds, the Dense (node 5) into Relu6's.
  CHECK(q.hi[1] == 255);
  CHECK(pq.hi[1] == detail::quantize_value<std::uint8_t>(pm.param<2, 0>()[1], pq.q[1]));
  CHECK(pq.hi[1] < 255);
  CHECK(pq.lo[1] == q.lo[1]);  // ReLU's min observed is 0: the same low bound as ReLU's own
  CHECK(pq.hi[5] == detail::quantize_value<std::uint8_t>(pm.param<6, 0>()[1], pq.q[5]));
  CHECK(pq.hi[5] <= q.hi[5]);  // Relu6 may already bind (its calibrated max can be 6)
  // Nothing else differs: the same weights, scales and zero points.
  CHECK(pq.bytes == q.bytes);
  CHECK(pq.q[1].scale == q.q[1].scale);
  // With the calibrated ranges themselves the bounds fold to [qmin, qmax]: the same model exactly.
  const auto own = ranges_of(stats);
  const auto qa = m | quantize(own);
  const auto pqa = m | protect(stats) | quantize(own);
  CHECK(qa.lo == pqa.lo);
  CHECK(qa.hi == pqa.hi);
  CHECK(run_all(qa, calib) == run_all(pqa, calib));
  // The s8 (performance) grid takes the same folding.
  const auto pqs = m | protect(stats) | quantize<std::int8_t>(ranges);
  CHECK(pqs.hi[1] == detail::quantize_value<std::int8_t>(pm.param<2, 0>()[1], pqs.q[1]));
}

TEST_CASE("protect | quantize: a Protected clamp of its own runs as an int8 clamp to its folded bounds") {
  const auto w1 = random_floats(4 * 8, 41, 0.5f), b1 = random_floats(4, 42, 0.1f);
  const auto w2 = random_floats(2 * 4, 43, 0.5f), b2 = random_floats(2, 44, 0.1f);
  const H h{std::span<const float, 32>(w1.data(), 32), std::span<const float, 4>(b1.data(), 4),
            std::span<const float, 8>(w2.data(), 8), std::span<const float, 2>(b2.data(), 2)};
  const auto calib = random_floats(30 * 8, 45, 1.0f);
  const auto stats = calibrate(h, sample_view_for<H>(calib), quiet_options());
  auto ranges = ranges_of(stats);
  for (auto& r : ranges) r.hi *= 4.0f, r.lo *= 4.0f;
  const auto pq = h | protect(stats) | quantize(ranges);
  using PQ = std::remove_cvref_t<decltype(pq)>;
  REQUIRE(PQ::quantized[1]);
  const auto ph = h | protect(stats);
  CHECK(pq.hi[1] == detail::quantize_value<std::uint8_t>(ph.param<1, 0>()[1], pq.q[1]));
  // An input far above the bound comes out of the int8 clamp at the bound.
  static observe_arena_for<PQ> oa;
  std::vector<float> x(8, 0.0f), y(2);
  x[0] = 1000.0f;
  std::uint8_t at_node1 = 0;
  REQUIRE(run_observed(pq, std::span<const float>(x), std::span<float>(y), oa,
                       [&](std::size_t node, auto v, auto&&... quant) {
                         if constexpr (sizeof...(quant) == 1) {
                           if (node == 1) at_node1 = static_cast<std::uint8_t>(v[0]);
                         }
                       }) == status::ok);
  CHECK(at_node1 == pq.hi[1]);
}

TEST_CASE("protect: a protected INT8 model bakes (its type names the Protected activations)") {
  const g_params p;
  const auto m = p.model();
  const auto calib = random_floats(20 * 72, 51, 1.0f);
  const auto stats = calibrate(m, sample_view_for<decltype(m)>(calib), quiet_options());
  const auto pq = m | protect(stats) | quantize(ranges_of(stats));
  const auto dir = std::filesystem::temp_directory_path() /
                   ("statiq_protect_test_" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  io::bake(pq, dir / "protected.hpp", "protected_model");
  std::ifstream f(dir / "protected.hpp");
  std::stringstream text;
  text << f.rdbuf();
  CHECK(text.str().find("statiq::Protected<statiq::Relu>") != std::string::npos);
  CHECK(text.str().find("namespace protected_model") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("protect: statistics that calibrate() did not fill are rejected, naming the node") {
  const g_params p;
  const auto m = p.model();
  const calibration_stats<G> empty{};
  try {
    (void)(m | protect(empty));
    FAIL("protect accepted empty statistics");
  } catch (const protect_error& e) {
    CHECK(std::string(e.what()).find("node 2") != std::string::npos);
  }
  const auto calib = random_floats(10 * 72, 61, 1.0f);
  auto stats = calibrate(m, sample_view_for<decltype(m)>(calib), quiet_options());
  stats[6].max = std::numeric_limits<float>::quiet_NaN();
  try {
    (void)(m | protect(stats));
    FAIL("protect accepted a NaN maximum");
  } catch (const protect_error& e) {
    CHECK(std::string(e.what()).find("node 6") != std::string::npos);
    CHECK(std::string(e.what()).find("not a finite interval") != std::string::npos);
  }
}
