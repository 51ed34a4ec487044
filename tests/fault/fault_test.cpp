// statiq::fault: the bit flipper's statistics (binomial counts, uniform positions, one stream across spans),
// determinism per seed, rates 0 and 1; the injector's exposure (every written tensor, once), weight restore,
// rate 0 equal to run(), and protection reducing the damage of the same faults; the operator_output site
// (unfused plan: exposure, rate 0 equal to run() in float and INT8, its arena, the clamps bounding the output).
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <statiq/calibrate/calibrate.hpp>
#include <statiq/fault/bit_flipper.hpp>
#include <statiq/fault/injector.hpp>
#include <statiq/statiq.hpp>
#include <statiq/transform/protect.hpp>

namespace {

using namespace statiq;

std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::size_t popcount(const std::vector<std::byte>& v) {
  std::size_t n = 0;
  for (auto b : v) n += static_cast<std::size_t>(std::popcount(static_cast<unsigned char>(b)));
  return n;
}

using G = Graph<Input<Shape<6, 6, 2>>, Conv2d<4, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>, Flatten,
                Dense<16>, Relu, Dense<3>>;

struct model_params {
  std::vector<float> cw = random_floats(4 * 9 * 2, 1, 0.4f), cb = random_floats(4, 2, 0.1f);
  std::vector<float> dw = random_floats(16 * 36, 3, 0.3f), db = random_floats(16, 4, 0.1f);
  std::vector<float> ow = random_floats(3 * 16, 5, 0.5f), ob = random_floats(3, 6, 0.1f);
  G model() const {
    return G{std::span<const float, 72>(cw.data(), 72), std::span<const float, 4>(cb.data(), 4),
             std::span<const float, 576>(dw.data(), 576), std::span<const float, 16>(db.data(), 16),
             std::span<const float, 48>(ow.data(), 48), std::span<const float, 3>(ob.data(), 3)};
  }
};

}  // namespace

TEST_CASE("bit_flipper: flip counts follow the binomial law, positions are uniform") {
  // n bits at rate p: mean n p, standard deviation sqrt(n p (1 - p)). The seeds are fixed, so the bound of
  // 6 standard deviations is a check of the law, not a test that can flake.
  for (double rate : {1e-3, 1e-5}) {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      fault::bit_flipper f(rate, seed);
      std::vector<std::byte> mem(1 << 20);
      const std::size_t passes = rate < 1e-4 ? 50 : 1;
      std::size_t flipped = 0;
      std::array<std::size_t, 8> per_bit{};
      for (std::size_t k = 0; k < passes; ++k)
        flipped += f.flip(mem, [&](std::size_t, std::byte mask) { ++per_bit[std::countr_zero(static_cast<unsigned>(mask))]; });
      const double n = static_cast<double>(mem.size()) * 8.0 * static_cast<double>(passes);
      const double mean = n * rate, sd = std::sqrt(n * rate * (1 - rate));
      CAPTURE(rate);
      CAPTURE(seed);
      CHECK(f.bits_seen() == static_cast<std::uint64_t>(n));
      CHECK(f.flipped() == flipped);
      CHECK(std::abs(static_cast<double>(flipped) - mean) < 6 * sd);
      for (std::size_t b = 0; b < 8; ++b)  // each bit position of a byte: binomial(flipped, 1/8)
        CHECK(std::abs(static_cast<double>(per_bit[b]) - mean / 8) < 6 * std::sqrt(mean / 8) + 1);
      if (passes == 1) CHECK(popcount(mem) == flipped);  // one pass: distinct positions
    }
  }
}

TEST_CASE("bit_flipper: one stream across spans, the same seed gives the same flips, rates 0 and 1") {
  std::vector<std::byte> a(4096), b(4096), c(4096);
  fault::bit_flipper fa(0.01, 42), fb(0.01, 42), fc(0.01, 43);
  fa.flip(a);
  // The same stream shown in three pieces flips the same bits.
  fb.flip(std::span(b).first(1000));
  fb.flip(std::span(b).subspan(1000, 1));
  fb.flip(std::span(b).subspan(1001));
  fc.flip(c);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(popcount(a) > 0);

  std::vector<std::byte> zero(4096);
  fault::bit_flipper none(0.0, 1);
  CHECK(none.flip(zero) == 0);
  CHECK(popcount(zero) == 0);
  fault::bit_flipper all(1.0, 1);
  CHECK(all.flip(zero) == 4096 * 8);
  CHECK(popcount(zero) == 4096 * 8);

  CHECK_THROWS_AS(fault::bit_flipper(-0.1, 1), std::invalid_argument);
  CHECK_THROWS_AS(fault::bit_flipper(1.5, 1), std::invalid_argument);
  CHECK_THROWS_AS(fault::bit_flipper(std::nan(""), 1), std::invalid_argument);
}

TEST_CASE("injector: rate 0 is run(); weights are restored; the same seed gives the same outputs") {
  const model_params p;
  const G m = p.model();
  const auto x = random_floats(72, 7, 1.0f);
  static arena_for<G> a;
  std::vector<float> clean(3), y(3);
  REQUIRE(run(m, std::span<const float>(x), std::span<float>(clean), a) == status::ok);

  fault::injector zero(m, {});
  REQUIRE(zero.run(std::span<const float>(x), std::span<float>(y), a) == status::ok);
  CHECK(y == clean);

  fault::injector f1(m, {.weight_rate = 1e-3, .activation_rate = 1e-3, .seed = 9});
  fault::injector f2(m, {.weight_rate = 1e-3, .activation_rate = 1e-3, .seed = 9});
  const auto owned = to_owned(m);
  bool any_differs = false;
  for (int k = 0; k < 50; ++k) {
    std::vector<float> y1(3), y2(3);
    REQUIRE(f1.run(std::span<const float>(x), std::span<float>(y1), a) == status::ok);
    REQUIRE(f2.run(std::span<const float>(x), std::span<float>(y2), a) == status::ok);
    CHECK(std::memcmp(y1.data(), y2.data(), sizeof(float) * 3) == 0);  // NaN-safe equality
    any_differs = any_differs || std::memcmp(y1.data(), clean.data(), sizeof(float) * 3) != 0;
    CHECK(f1.model().weights == owned.weights);  // restored after every run
  }
  CHECK(any_differs);
  CHECK(f1.weight_faults().flipped() > 0);
  CHECK(f1.weight_faults().bits_seen() == 50u * G::weight_count * 32u);
  // Activations: every tensor a node writes, once (the fused Relus and the Flatten alias write nothing):
  // the input copy 72, conv 144, pool 36, dense 16, logits 3 floats.
  CHECK(f1.activation_faults().bits_seen() == 50u * (72u + 144u + 36u + 16u + 3u) * 32u);
}

TEST_CASE("injector: an INT8 model takes faults in its int8 tensors and all of its parameter memory") {
  const model_params p;
  const G m = p.model();
  const auto calib = random_floats(30 * 72, 8, 1.0f);
  calibration_options o;
  o.progress = false;
  o.mode = preset::mixed;
  const auto stats = calibrate(m, sample_view_for<G>(calib), o);
  const auto ranges = ranges_of(stats);
  const auto q = m | quantize(ranges);
  using Q = std::remove_cvref_t<decltype(q)>;
  static arena_for<Q> a;
  const auto x = random_floats(72, 9, 1.0f);
  std::vector<float> clean(3), y(3);
  REQUIRE(run(q, std::span<const float>(x), std::span<float>(clean), a) == status::ok);
  fault::injector zero(q, {.seed = 3});
  REQUIRE(zero.run(std::span<const float>(x), std::span<float>(y), a) == status::ok);
  CHECK(y == clean);

  fault::injector f(q, {.weight_rate = 1e-3, .activation_rate = 1e-3, .seed = 3});
  for (int k = 0; k < 20; ++k) REQUIRE(f.run(std::span<const float>(x), std::span<float>(y), a) == status::ok);
  CHECK(f.model().bytes == q.bytes);
  CHECK(f.model().lo == q.lo);
  CHECK(f.model().hi == q.hi);
  CHECK(f.model().floats == q.floats);
  // Weight faults hit the bias' and weight regions of each packed GEMM blob (pack.hpp), not its header,
  // multipliers or shifts: conv n 4 k 18, dense n 16 k 36, dense n 3 k 16.
  const auto blob_values = [](std::size_t n, std::size_t k) {
    return 4 * kernels::gemm_padded_n(n) + kernels::gemm_padded_n(n) * kernels::gemm_padded_k(k);
  };
  const std::uint64_t param_bits = 8u * (blob_values(4, 18) + blob_values(16, 36) + blob_values(3, 16));
  CHECK(param_bits == 8u * (32 + 160 + 64 + 576 + 32 + 128));
  CHECK(f.weight_faults().bits_seen() == 20u * param_bits);
  // u8 tensors: input 72, pool 36, dense 16, logits 3 bytes. The 2x2 max pool is fused into the int8 conv, which
  // writes the pooled tensor: its own 144-byte output never exists in memory, so it takes no upsets.
  static_assert(plan_v<Q>.fused_pool[1] == 3);
  CHECK(f.activation_faults().bits_seen() == 20u * (72u + 36u + 16u + 3u) * 8u);
}

TEST_CASE("injector: the same faults do less damage to the protected model") {
  const model_params p;
  const G m = p.model();
  const auto calib = random_floats(50 * 72, 10, 1.0f);
  calibration_options o;
  o.progress = false;
  const auto stats = calibrate(m, sample_view_for<G>(calib), o);
  const auto pm = m | protect(stats);
  static arena_for<G> a;
  static arena_for<decltype(pm)> pa;
  // Over 300 inputs with the same seed for both, count outputs off by more than 1 from the clean output
  // (or not finite). Deterministic: fixed inputs and seeds.
  std::size_t bad_plain = 0, bad_protected = 0;
  fault::injector fp(m, {.weight_rate = 1e-4, .activation_rate = 1e-4, .seed = 5});
  fault::injector fq(pm, {.weight_rate = 1e-4, .activation_rate = 1e-4, .seed = 5});
  for (std::size_t i = 0; i < 300; ++i) {
    const std::span<const float> x(calib.data() + (i % 50) * 72, 72);
    std::vector<float> clean(3), y1(3), y2(3);
    REQUIRE(run(m, x, std::span<float>(clean), a) == status::ok);
    REQUIRE(fp.run(x, std::span<float>(y1), a) == status::ok);
    REQUIRE(fq.run(x, std::span<float>(y2), pa) == status::ok);
    for (std::size_t k = 0; k < 3; ++k) {
      bad_plain += !(std::abs(y1[k] - clean[k]) <= 1.0f);
      bad_protected += !(std::abs(y2[k] - clean[k]) <= 1.0f);
    }
  }
  MESSAGE("outputs off by more than 1: unprotected " << bad_plain << ", protected " << bad_protected);
  CHECK(bad_plain > 0);
  CHECK(bad_protected < bad_plain);
}

TEST_CASE("injector, site operator_output: rate 0 is run(), its own arena, the same seed gives the same outputs") {
  const model_params p;
  const G m = p.model();
  const auto x = random_floats(72, 7, 1.0f);
  static arena_for<G> a;
  static fault::arena_for<G, 1, fault::site::operator_output> ua;
  static_assert(std::is_same_v<fault::arena_for<G>, arena_for<G>>);
  static_assert(std::is_same_v<fault::arena_for<G, 1, fault::site::operator_output>, observe_arena_for<G>>);
  std::vector<float> clean(3), y(3);
  REQUIRE(run(m, std::span<const float>(x), std::span<float>(clean), a) == status::ok);

  const fault::options at_ops{.weight_rate = 1e-3, .activation_rate = 1e-3, .seed = 9,
                              .where = fault::site::operator_output};
  fault::injector zero(m, {.where = fault::site::operator_output});
  REQUIRE(zero.run(std::span<const float>(x), std::span<float>(y), ua) == status::ok);
  CHECK(y == clean);
  // The fused arena for the operator_output site, and the unfused one for the memory site, are refused
  // before any bit flips.
  fault::injector wrong(m, at_ops);
  CHECK(wrong.run(std::span<const float>(x), std::span<float>(y), a) == status::arena_plan_mismatch);
  CHECK(wrong.activation_faults().bits_seen() == 0);
  CHECK(wrong.weight_faults().bits_seen() == 0);
  fault::injector memory(m, {.activation_rate = 1e-3});
  CHECK(memory.run(std::span<const float>(x), std::span<float>(y), ua) == status::arena_plan_mismatch);
  CHECK(std::string(to_string(status::arena_plan_mismatch)).find("arena") != std::string::npos);

  fault::injector f1(m, at_ops), f2(m, at_ops);
  CHECK(f1.where() == fault::site::operator_output);
  const auto owned = to_owned(m);
  bool any_differs = false;
  for (int k = 0; k < 50; ++k) {
    std::vector<float> y1(3), y2(3);
    REQUIRE(f1.run(std::span<const float>(x), std::span<float>(y1), ua) == status::ok);
    REQUIRE(f2.run(std::span<const float>(x), std::span<float>(y2), ua) == status::ok);
    CHECK(std::memcmp(y1.data(), y2.data(), sizeof(float) * 3) == 0);  // NaN-safe equality
    any_differs = any_differs || std::memcmp(y1.data(), clean.data(), sizeof(float) * 3) != 0;
    CHECK(f1.model().weights == owned.weights);
  }
  CHECK(any_differs);
  // Weight faults: the same parameter memory as at the memory site.
  CHECK(f1.weight_faults().bits_seen() == 50u * G::weight_count * 32u);
  // Operator outputs: conv 144 (before its Relu), pool 36, dense 16 (before its Relu), logits 3 floats; not
  // the input, the Relus or the Flatten alias.
  CHECK(f1.activation_faults().bits_seen() == 50u * (144u + 36u + 16u + 3u) * 32u);
}

TEST_CASE("injector, site operator_output: INT8 models, protected or not, at rate 0 compute what run() does") {
  const model_params p;
  const G m = p.model();
  const auto calib = random_floats(30 * 72, 8, 1.0f);
  calibration_options o;
  o.progress = false;
  o.mode = preset::mixed;
  const auto stats = calibrate(m, sample_view_for<G>(calib), o);
  const auto ranges = ranges_of(stats);
  const auto q = m | quantize(ranges);
  const auto qp = m | (protect(stats) | quantize(ranges));
  const auto check = [&](const auto& model) {
    using Q = std::remove_cvref_t<decltype(model)>;
    static arena_for<Q> a;
    static fault::arena_for<Q, 1, fault::site::operator_output> ua;
    fault::injector zero(model, {.seed = 3, .where = fault::site::operator_output});
    fault::injector f(model, {.weight_rate = 1e-3, .activation_rate = 1e-3, .seed = 3,
                              .where = fault::site::operator_output});
    for (std::size_t i = 0; i < 30; ++i) {
      const std::span<const float> x(calib.data() + i * 72, 72);
      std::vector<float> clean(3), y(3);
      REQUIRE(run(model, x, std::span<float>(clean), a) == status::ok);
      REQUIRE(zero.run(x, std::span<float>(y), ua) == status::ok);
      CHECK(y == clean);
      REQUIRE(f.run(x, std::span<float>(y), ua) == status::ok);
    }
    CHECK(f.model().bytes == model.bytes);
    // u8 operator outputs (requantized, before the clamp node): conv 144, pool 36, dense 16, logits 3 bytes.
    CHECK(f.activation_faults().bits_seen() == 30u * (144u + 36u + 16u + 3u) * 8u);
    CHECK(f.activation_faults().flipped() > 0);
  };
  check(q);
  check(qp);
}

TEST_CASE("injector, site operator_output: the protected model's clamps bound what the faults do") {
  // A model that ends in an activation, so that protect() bounds its output: Protected<Relu> last.
  using G2 = Graph<Input<Shape<6, 6, 2>>, Conv2d<4, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>, Flatten,
                   Dense<16>, Relu, Dense<3>, Relu>;
  const model_params p;
  const G2 m{std::span<const float, 72>(p.cw.data(), 72), std::span<const float, 4>(p.cb.data(), 4),
             std::span<const float, 576>(p.dw.data(), 576), std::span<const float, 16>(p.db.data(), 16),
             std::span<const float, 48>(p.ow.data(), 48), std::span<const float, 3>(p.ob.data(), 3)};
  const auto calib = random_floats(50 * 72, 10, 1.0f);
  calibration_options o;
  o.progress = false;
  const auto stats = calibrate(m, sample_view_for<G2>(calib), o);
  const auto pm = m | protect(stats);
  using PM = std::remove_cvref_t<decltype(pm)>;
  const clamp_range last = statiq::detail::clamp_bounds<graph_of_t<PM>, 8>(pm);
  REQUIRE(std::isfinite(last.hi));
  static fault::arena_for<G2, 1, fault::site::operator_output> ua;
  static fault::arena_for<PM, 1, fault::site::operator_output> pua;
  static fault::arena_for<PM> pa;
  // Activation faults at 1e-3 per bit (about 6 flips per inference), 300 inferences, fixed seeds: outputs
  // outside the protected bounds [lo, hi] of the last activation, or not finite.
  const fault::options ops{.activation_rate = 1e-3, .seed = 5, .where = fault::site::operator_output};
  fault::injector plain(m, ops);
  fault::injector prot(pm, ops);
  fault::injector prot_memory(pm, {.activation_rate = 1e-3, .seed = 5});
  std::size_t out_plain = 0, out_prot = 0, out_prot_memory = 0;
  const auto outside = [&](float v) { return !(v >= last.lo && v <= last.hi); };  // NaN: outside
  for (std::size_t i = 0; i < 300; ++i) {
    const std::span<const float> x(calib.data() + (i % 50) * 72, 72);
    std::vector<float> y1(3), y2(3), y3(3);
    REQUIRE(plain.run(x, std::span<float>(y1), ua) == status::ok);
    REQUIRE(prot.run(x, std::span<float>(y2), pua) == status::ok);
    REQUIRE(prot_memory.run(x, std::span<float>(y3), pa) == status::ok);
    for (std::size_t k = 0; k < 3; ++k) {
      out_plain += outside(y1[k]);
      out_prot += outside(y2[k]);
      out_prot_memory += outside(y3[k]);
    }
  }
  MESSAGE("outputs outside [" << last.lo << ", " << last.hi << "]: unprotected " << out_plain << ", protected "
                              << out_prot << ", protected with faults in memory " << out_prot_memory);
  CHECK(out_plain > 0);
  CHECK(out_prot == 0);  // every fault lands before a clamp, the last one included
  // At the memory site the last clamp is fused into the Dense and the stored output takes flips after it.
  CHECK(out_prot_memory > 0);

  // A NaN an upset made is out of every range: the Protected clamp sets it to its lower bound.
  std::vector<float> nan_in{std::nanf(""), -1e30f, 0.5f, 1e30f}, nan_out(4);
  kernels::ref::supervise_range_f32(4, nan_in.data(), 0.0f, 2.0f, nan_out.data());
  CHECK(nan_out == std::vector<float>{0.0f, 0.0f, 0.5f, 2.0f});
}
