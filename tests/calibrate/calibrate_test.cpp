// statiq::calibrate on small hand-written models and synthetic data: each observer's building block against
// the plain references of reference.hpp, and every kind of bad input (empty set, NaN/Inf with the sample and
// node named, constant and all-zero activations, options out of range).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <statiq/calibrate/calibrate.hpp>
#include <statiq/statiq.hpp>
#include <string>
#include <vector>

#include "reference.hpp"

namespace {

using namespace statiq;
namespace ref = statiq_test::ref;

constexpr observer all_observers[] = {observer::min_max, observer::quantile, observer::kl_divergence, observer::mse};
constexpr preset all_presets[] = {preset::performance, preset::mixed};

// A range the quantizer can use: finite, 0 inside, positive width.
void check_usable(const tensor_range& r) {
  CHECK(std::isfinite(r.lo));
  CHECK(std::isfinite(r.hi));
  CHECK(r.lo <= 0.0f);
  CHECK(r.hi >= 0.0f);
  CHECK(r.hi - r.lo >= min_range_width);
}

// Deterministic, heavy-tailed synthetic counts (a Laplace-like bulk plus sparse outliers) on one side.
std::vector<std::uint64_t> synthetic_counts(std::size_t n, std::size_t occupied, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint64_t> c(n, 0);
  for (std::size_t j = 0; j < occupied; ++j) {
    const double bulk = 5000.0 * std::exp(-8.0 * static_cast<double>(j) / static_cast<double>(occupied));
    c[j] = static_cast<std::uint64_t>(bulk * std::uniform_real_distribution<double>(0.5, 1.5)(rng));
    if (rng() % 7 == 0) c[j] = 0;  // empty bins inside the data, as real histograms have
  }
  c[occupied - 1] = 1;  // the maximum
  return c;
}

}  // namespace

TEST_CASE("quantile equals numpy's linear quantile computed by sorting") {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{100}, std::size_t{1000},
                        std::size_t{12544}}) {
    std::vector<float> v(n);
    for (auto& x : v) x = normal(rng);
    if (n > 10) v[3] = v[4] = v[5];  // ties
    for (double q : {0.0, 1e-4, 0.01, 0.25, 0.5, 0.99, 1.0 - 1e-4, 1.0}) {
      std::vector<float> work = v;
      CAPTURE(n);
      CAPTURE(q);
      CHECK(quantile(work, q) == ref::quantile(v, q));
    }
  }
}

TEST_CASE("aggregators: min, max, mean, median (even and odd counts)") {
  const std::vector<float> odd{3.0f, -1.0f, 7.0f, 2.0f, 2.5f};
  const std::vector<float> even{4.0f, 1.0f, 3.0f, 10.0f};
  CHECK(aggregate(odd, aggregator::min) == -1.0f);
  CHECK(aggregate(odd, aggregator::max) == 7.0f);
  CHECK(aggregate(odd, aggregator::mean) == doctest::Approx(2.7));
  CHECK(aggregate(odd, aggregator::median) == 2.5f);
  CHECK(aggregate(even, aggregator::median) == 3.5f);
  CHECK(aggregate(even, aggregator::median) == ref::median(even));
}

TEST_CASE("value_histogram: growing by merging bins equals binning everything at the final width") {
  std::mt19937 rng(11);
  std::vector<float> all;
  value_histogram h(512);
  // Batches whose magnitude grows by several powers of two, with exact zeros and negative values.
  for (int batch = 0; batch < 12; ++batch) {
    std::vector<float> v(997);
    std::normal_distribution<float> normal(0.0f, std::ldexp(0.3f, batch));
    for (auto& x : v) x = (rng() % 5 == 0) ? 0.0f : normal(rng);
    float amax = 0;
    for (float x : v) amax = std::fmax(amax, std::fabs(x));
    h.add(v, amax);
    all.insert(all.end(), v.begin(), v.end());
  }
  const ref::histogram want = ref::bin_all(all, 512);
  CHECK(h.exponent == want.exponent);
  CHECK(h.positive == want.positive);
  CHECK(h.negative == want.negative);
  CHECK(h.zeros == want.zeros);
  CHECK(h.total() == all.size());
}

TEST_CASE("KL search equals the direct TensorRT computation on synthetic histograms") {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    const auto c = synthetic_counts(1024, 700 + 100 * seed, seed);
    for (std::size_t levels : {std::size_t{128}, std::size_t{256}}) {
      const kl_threshold got = kl_one_sided(c, levels);
      double best = std::numeric_limits<double>::infinity();
      for (std::size_t i = levels; i <= ref::occupied(c); ++i) best = std::min(best, ref::kl(c, 0, i, levels));
      CAPTURE(seed);
      CAPTURE(levels);
      CHECK(got.divergence == doctest::Approx(ref::kl(c, 0, got.bins, levels)).epsilon(1e-9));
      CHECK(ref::kl(c, 0, got.bins, levels) <= best * (1 + 1e-9));
    }
    // Centred: a signed histogram, windows [-i, i) around zero, 255 levels.
    const auto neg = synthetic_counts(512, 200 + 50 * seed, seed + 10);
    const auto pos = synthetic_counts(512, 450, seed + 20);
    std::vector<std::uint64_t> s(1024);
    for (std::size_t k = 0; k < 512; ++k) {
      s[511 - k] = neg[k];
      s[512 + k] = pos[k];
    }
    const kl_threshold got = kl_centred(s, 255);
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t i = 128; i <= 450; ++i) best = std::min(best, ref::kl(s, 512 - i, 512 + i, 255));
    CHECK(got.divergence == doctest::Approx(ref::kl(s, 512 - got.bins, 512 + got.bins, 255)).epsilon(1e-9));
    CHECK(ref::kl(s, 512 - got.bins, 512 + got.bins, 255) <= best * (1 + 1e-9));
  }
}

TEST_CASE("KL keeps the whole range of uniform data (quantizing it loses nothing) and clips a lone outlier") {
  std::vector<std::uint64_t> uniform(4096, 0);
  for (std::size_t j = 0; j < 3000; ++j) uniform[j] = 1000;
  const kl_threshold u = kl_one_sided(uniform, 128);
  CHECK(u.bins == 3000);
  CHECK(u.divergence == doctest::Approx(0.0).epsilon(1e-12));
  std::vector<std::uint64_t> outlier(4096, 0);
  for (std::size_t j = 0; j < 1000; ++j) outlier[j] = 100000 / (j + 1);
  outlier[4000] = 1;
  CHECK(kl_one_sided(outlier, 128).bins < 2000);
}

TEST_CASE("MSE search equals the bin-by-bin expected error, one-sided and two-sided") {
  for (std::uint32_t seed : {4u, 5u}) {
    const auto pos = synthetic_counts(512, 300 + 40 * seed, seed);
    const auto neg = synthetic_counts(512, 150 + 40 * seed, seed + 30);
    const std::vector<std::uint64_t> none(512, 0);
    const std::uint64_t zeros = pos[0] / 3;
    for (double steps : {127.0, 255.0}) {
      const mse_choice got = mse_one_sided(pos, zeros, steps);
      double best = std::numeric_limits<double>::infinity();
      for (std::size_t k = 1; k <= ref::occupied(pos); ++k) best = std::min(best, ref::mse(pos, none, zeros, steps, 0, k));
      CAPTURE(seed);
      CAPTURE(steps);
      CHECK(got.error == doctest::Approx(ref::mse(pos, none, zeros, steps, 0, got.hi_bins)).epsilon(1e-9));
      CHECK(got.error <= best * (1 + 1e-9));
    }
    const mse_choice got = mse_two_sided(pos, neg, zeros, 255.0);
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t a = 0; a <= ref::occupied(neg); ++a)
      for (std::size_t b = a == 0 ? 1 : 0; b <= ref::occupied(pos); ++b)
        best = std::min(best, ref::mse(pos, neg, zeros, 255.0, a, b));
    CHECK(got.error == doctest::Approx(ref::mse(pos, neg, zeros, 255.0, got.lo_bins, got.hi_bins)).epsilon(1e-9));
    CHECK(got.error <= best * (1 + 1e-9));
  }
}

namespace {

// 2x2x1 input -> 1x1 conv (weight 1, bias 0): node 1 equals the input.
using passthrough_graph = Graph<Input<Shape<2, 2, 1>>, Conv2d<1, Kernel<1>>>;
constexpr float one[] = {1.0f};
constexpr float zero[] = {0.0f};
constexpr passthrough_graph passthrough{one, zero};

std::vector<float> ramp(std::size_t samples) {
  std::vector<float> x(samples * 4);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 13) - 6.0f;
  return x;
}

}  // namespace

TEST_CASE("bad input: an empty set or a buffer that is not whole samples") {
  const std::vector<float> none;
  CHECK_THROWS_WITH_AS(calibrate(passthrough, sample_view<Shape<2, 2, 1>>(none)), doctest::Contains("empty"),
                       calibration_error);
  const std::vector<float> five(5, 1.0f);
  CHECK_THROWS_WITH_AS(calibrate(passthrough, sample_view<Shape<2, 2, 1>>(five)),
                       doctest::Contains("not a whole number of samples"), calibration_error);
}

TEST_CASE("bad input: NaN or Inf in the data names the sample and node 0") {
  for (std::size_t batch : {std::size_t{1}, std::size_t{4}}) {
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                      -std::numeric_limits<float>::infinity()}) {
      std::vector<float> x = ramp(20);
      x[4 * 5 + 2] = bad;  // sample 5
      calibration_options o;
      o.stat_batch_size = batch;
      try {
        calibrate(passthrough, sample_view<Shape<2, 2, 1>>(x), o);
        FAIL("calibrate accepted a non-finite input");
      } catch (const calibration_error& e) {
        CAPTURE(e.what());
        CHECK(e.sample() == 5);
        CHECK(e.node() == 0);
        CHECK(std::string(e.what()).find("sample 5") != std::string::npos);
        CHECK(std::string(e.what()).find("node 0") != std::string::npos);
        CHECK(std::string(e.what()).find(bad != bad ? "NaN" : bad > 0 ? "+Inf" : "-Inf") != std::string::npos);
      }
    }
  }
  // Beyond stat_subset_size the data is not used, so not checked.
  std::vector<float> x = ramp(20);
  x[4 * 15] = std::numeric_limits<float>::quiet_NaN();
  calibration_options o;
  o.stat_subset_size = 10;
  const auto s = calibrate(passthrough, sample_view<Shape<2, 2, 1>>(x), o);
  CHECK(s.samples == 10);
  CHECK(s[0].count == 40);
}

TEST_CASE("bad input: a model that overflows names the node where Inf appears") {
  using G = Graph<Input<Shape<2>>, Dense<1>, Relu>;
  static constexpr float w[] = {3e38f, 3e38f};
  static constexpr float b[] = {0.0f};
  const G model{w, b};
  const std::vector<float> x{0.0f, 0.0f, 0.5f, 0.25f, 10.0f, 10.0f};  // sample 2 overflows
  try {
    calibrate(model, sample_view<Shape<2>>(x));
    FAIL("calibrate accepted an overflowing model");
  } catch (const calibration_error& e) {
    CAPTURE(e.what());
    CHECK(e.sample() == 2);
    CHECK(e.node() == 1);
    CHECK(std::string(e.what()).find("node 1 (output Shape<1>)") != std::string::npos);
  }
}

TEST_CASE("constant activations: a constant tensor keeps its value exactly, an all-zero one gets the fallback") {
  // Dense with zero weights: node 1 is the bias, the same for every sample; node 2 (ReLU) of a negative bias is 0.
  using G = Graph<Input<Shape<3>>, Dense<2>, Relu>;
  static constexpr float w[6] = {};
  for (float c : {-0.5f, 0.75f}) {
    const float b[2] = {c, c};
    const G model{w, b};
    std::vector<float> x(3 * 50);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) * 0.1f;
    for (observer m : all_observers) {
      for (preset p : all_presets) {
        calibration_options o;
        o.method = m;
        o.mode = p;
        const auto s = calibrate(model, sample_view<Shape<3>>(x), o);
        CAPTURE(static_cast<int>(m));
        CAPTURE(static_cast<int>(p));
        CAPTURE(c);
        CHECK(s[1].min == c);
        CHECK(s[1].max == c);
        CHECK(s[1].std == 0.0);
        CHECK(!s[1].range.fallback);
        check_usable(s[1].range);
        // c is exactly an end of its range, so exactly representable.
        CHECK((c < 0 ? -s[1].range.lo : s[1].range.hi) == doctest::Approx(std::fabs(c)));
        check_usable(s[2].range);
        if (c < 0) {
          CHECK(s[2].max == 0.0f);
          CHECK(s[2].range.fallback);
          CHECK(s[2].range.lo == 0.0f);
          CHECK(s[2].range.hi == 1.0f);
          CHECK(s[2].histogram.zeros == s[2].count);
        }
        for (const auto& r : s.ranges()) check_usable(r);
      }
    }
  }
}

TEST_CASE("options out of range are errors") {
  const std::vector<float> x = ramp(4);
  const auto with = [&](auto set) {
    calibration_options o;
    set(o);
    return [o, &x] { calibrate(passthrough, sample_view<Shape<2, 2, 1>>(x), o); };
  };
  CHECK_THROWS_AS(with([](auto& o) { o.stat_batch_size = 0; })(), calibration_error);
  CHECK_THROWS_AS(with([](auto& o) { o.stat_subset_size = 0; })(), calibration_error);
  CHECK_THROWS_AS(with([](auto& o) { o.outlier_prob = 0.5; })(), calibration_error);
  CHECK_THROWS_AS(with([](auto& o) { o.outlier_prob = std::nan(""); })(), calibration_error);
  CHECK_THROWS_AS(with([](auto& o) { o.histogram_bins = 100; })(), calibration_error);
  CHECK_NOTHROW(with([](auto& o) { o.histogram_bins = 256; })());
}

TEST_CASE("choose_range re-chooses from collected statistics; a quantile range needs collected quantiles") {
  const std::vector<float> x = ramp(30);
  calibration_options o;
  o.method = observer::mse;
  const auto s = calibrate(passthrough, sample_view<Shape<2, 2, 1>>(x), o);
  CHECK(choose_range(s[1], o).hi == s[1].range.hi);
  o.method = observer::min_max;
  o.mode = preset::mixed;
  o.min_aggregator = aggregator::min;
  o.max_aggregator = aggregator::max;
  CHECK(choose_range(s[1], o).lo == -6.0f);
  CHECK(choose_range(s[1], o).hi == 6.0f);
  o.method = observer::quantile;
  CHECK_THROWS_AS(choose_range(s[1], o), calibration_error);
}

TEST_CASE("statistics batches: count, the short last batch, and the subset") {
  const std::vector<float> x = ramp(23);
  calibration_options o;
  o.stat_batch_size = 5;
  o.method = observer::quantile;
  const auto s = calibrate(passthrough, sample_view<Shape<2, 2, 1>>(x), o);
  CHECK(s.samples == 23);
  CHECK(s.batches == 5);
  for (const auto& n : s.nodes) {
    CHECK(n.batch_min.size() == 5);
    CHECK(n.batch_abs_quantile.size() == 5);
    CHECK(n.count == 23 * 4);
  }
  // The last batch holds samples 20..22: its values are x[80..92).
  CHECK(s[1].batch_max[4] == *std::max_element(x.begin() + 80, x.end()));
}
