// statiq::calibrate on real activations: 300 Fashion-MNIST training images through the reference CNN
// (imported from tests/data/fmnist/fmnist_cnn.onnx by statiq-import at build time). Every statistic and
// every observer is checked against reference.hpp's plain re-implementations run on the same activations,
// collected here independently with run_observed.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <span>
#include <statiq/calibrate/calibrate.hpp>
#include <vector>

#include "fmnist_cnn.hpp"  // namespace fmnist (generated)
#include "idx_images.hpp"
#include "reference.hpp"

namespace {

using namespace statiq;
namespace ref = statiq_test::ref;
using M = std::remove_cvref_t<decltype(fmnist::model)>;
using G = graph_of_t<M>;
constexpr std::size_t N = G::num_nodes;
constexpr std::size_t n_samples = 300;

const std::vector<float>& images() {
  static const std::vector<float> x = statiq_test::read_idx_images(STATIQ_FMNIST_TRAIN_IMAGES, 1000);
  return x;
}

sample_view_for<M> calibration_set() { return sample_view_for<M>(std::span<const float>(images())); }

// Every node's output for the first 300 images, sample after sample (channels-last).
const std::array<std::vector<float>, N>& activations() {
  static const std::array<std::vector<float>, N> acts = [] {
    std::array<std::vector<float>, N> a;
    auto arena = std::make_unique<observe_arena_for<M, 1>>();
    std::vector<float> out(n_samples * G::output_shape::size);
    run_observed(fmnist::model, std::span<const float>(images()).first(n_samples * G::input_shape::size),
                 std::span<float>(out), *arena,
                 [&](std::size_t node, std::span<const float> v) { a[node].insert(a[node].end(), v.begin(), v.end()); });
    return a;
  }();
  return acts;
}

// Node i's values for samples [first, first + count).
std::vector<float> batch_values(std::size_t node, std::size_t first, std::size_t count) {
  const auto& a = activations()[node];
  const std::size_t per = a.size() / n_samples;
  return std::vector<float>(a.begin() + static_cast<std::ptrdiff_t>(first * per),
                            a.begin() + static_cast<std::ptrdiff_t>((first + count) * per));
}

float reduce(const std::vector<float>& v, aggregator how) {
  switch (how) {
    case aggregator::min: return *std::min_element(v.begin(), v.end());
    case aggregator::max: return *std::max_element(v.begin(), v.end());
    case aggregator::mean: return static_cast<float>(ref::mean(v));
    case aggregator::median: return ref::median(v);
  }
  return 0;
}

constexpr aggregator all_aggregators[] = {aggregator::min, aggregator::max, aggregator::mean, aggregator::median};

template <class F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("fmnist: min, max, mean, std and the whole-set histogram of every node equal a direct computation") {
  calibration_stats<G> s;
  const double t = seconds([&] { s = calibrate(fmnist::model, calibration_set()); });
  std::printf("fmnist: calibrate() on %zu samples, default options: %.3f s\n", s.samples, t);
  REQUIRE(s.samples == n_samples);
  for (std::size_t i = 0; i < N; ++i) {
    const auto& v = activations()[i];
    CAPTURE(i);
    CHECK(s[i].count == v.size());
    CHECK(s[i].min == *std::min_element(v.begin(), v.end()));
    CHECK(s[i].max == *std::max_element(v.begin(), v.end()));
    const double mean = ref::mean(v);
    long double ss = 0;
    for (float x : v) ss += (x - mean) * (x - mean);
    const double sd = std::sqrt(static_cast<double>(ss / v.size()));
    CHECK(s[i].mean == doctest::Approx(mean).epsilon(1e-9).scale(sd));
    CHECK(s[i].std == doctest::Approx(sd).epsilon(1e-9));
    const ref::histogram h = ref::bin_all(v, s[i].histogram.bins_per_side());
    CHECK(s[i].histogram.bins_per_side() == 4096);
    CHECK(s[i].histogram.exponent == h.exponent);
    CHECK(s[i].histogram.positive == h.positive);
    CHECK(s[i].histogram.negative == h.negative);
    CHECK(s[i].histogram.zeros == h.zeros);
    // At least options.histogram_bins (2048) bins cover [0, max |x|].
    CHECK(std::max(-s[i].min, s[i].max) >= s[i].histogram.limit() / 2);
  }
}

TEST_CASE("fmnist: min_max per batch, every aggregator, both presets") {
  for (std::size_t batch : {std::size_t{1}, std::size_t{7}}) {
    calibration_options o;
    o.stat_batch_size = batch;
    const auto s = calibrate(fmnist::model, calibration_set(), o);
    const std::size_t batches = (n_samples + batch - 1) / batch;
    REQUIRE(s.batches == batches);
    for (std::size_t i = 0; i < N; ++i) {
      std::vector<float> lo, hi, amax;
      for (std::size_t b = 0; b < batches; ++b) {
        const auto v = batch_values(i, b * batch, std::min(batch, n_samples - b * batch));
        lo.push_back(*std::min_element(v.begin(), v.end()));
        hi.push_back(*std::max_element(v.begin(), v.end()));
        amax.push_back(std::max(-lo.back(), hi.back()));
      }
      CAPTURE(i);
      CAPTURE(batch);
      CHECK(s[i].batch_min == lo);
      CHECK(s[i].batch_max == hi);
      for (aggregator a : all_aggregators) {
        for (aggregator b : all_aggregators) {
          calibration_options m = o;
          m.mode = preset::mixed;
          m.min_aggregator = a;
          m.max_aggregator = b;
          const tensor_range r = choose_range(s[i], m);
          CHECK(r.lo == doctest::Approx(std::min(reduce(lo, a), 0.0f)).epsilon(1e-6));
          CHECK(r.hi == doctest::Approx(std::max(reduce(hi, b), 0.0f)).epsilon(1e-6));
        }
        calibration_options p = o;
        p.max_aggregator = a;
        const tensor_range r = choose_range(s[i], p);
        CHECK(r.hi == doctest::Approx(reduce(amax, a)).epsilon(1e-6));
        CHECK(r.lo == (s[i].min < 0 ? -r.hi : 0.0f));
      }
    }
  }
}

TEST_CASE("fmnist: quantile per batch against sorting, both presets") {
  for (std::size_t batch : {std::size_t{1}, std::size_t{7}}) {
    for (double p : {1e-4, 1e-2}) {
      calibration_options o;
      o.method = observer::quantile;
      o.stat_batch_size = batch;
      o.outlier_prob = p;
      calibration_stats<G> s;
      const double t = seconds([&] { s = calibrate(fmnist::model, calibration_set(), o); });
      std::printf("fmnist: calibrate() quantile %g, batch %zu: %.3f s\n", p, batch, t);
      for (std::size_t i = 0; i < N; ++i) {
        std::vector<float> lo, hi, ab;
        for (std::size_t b = 0; b * batch < n_samples; ++b) {
          auto v = batch_values(i, b * batch, std::min(batch, n_samples - b * batch));
          lo.push_back(ref::quantile(v, p));
          hi.push_back(ref::quantile(v, 1 - p));
          for (auto& x : v) x = std::fabs(x);
          ab.push_back(ref::quantile(v, 1 - p));
        }
        CAPTURE(i);
        CAPTURE(batch);
        CAPTURE(p);
        CHECK(s[i].batch_low_quantile == lo);
        CHECK(s[i].batch_high_quantile == hi);
        CHECK(s[i].batch_abs_quantile == ab);
        // POT's quantile preset: the mean over batches.
        CHECK(s[i].range.hi == doctest::Approx(ref::mean(ab)).epsilon(1e-6));
        o.mode = preset::mixed;
        const tensor_range r = choose_range(s[i], o);
        o.mode = preset::performance;
        CHECK(r.lo == doctest::Approx(std::min(ref::mean(lo), 0.0)).epsilon(1e-6));
        CHECK(r.hi == doctest::Approx(std::max(ref::mean(hi), 0.0)).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("fmnist: KL-divergence thresholds are the minimum of TensorRT's divergence computed directly") {
  // Conv outputs (signed, before ReLU), ReLU outputs, the hidden Dense layer's output and the logits.
  for (std::size_t i : {std::size_t{1}, std::size_t{2}, std::size_t{8}, std::size_t{9}}) {
    for (preset mode : {preset::performance, preset::mixed}) {
      calibration_options o;
      o.method = observer::kl_divergence;
      o.mode = mode;
      const auto s = calibrate(fmnist::model, calibration_set(), o);
      const ref::histogram h = ref::bin_all(activations()[i], 4096);
      const double w = std::ldexp(1.0, h.exponent) / 4096;
      const float amax = std::max(-s[i].min, s[i].max);
      CAPTURE(i);
      CAPTURE(static_cast<int>(mode));
      double best = std::numeric_limits<double>::infinity();
      double got = 0;
      float want_lo = 0, want_hi = 0;
      if (mode == preset::performance || s[i].min >= 0) {
        std::vector<std::uint64_t> c(4096);
        for (std::size_t k = 0; k < c.size(); ++k) c[k] = h.positive[k] + h.negative[k];
        c[0] -= h.zeros;  // exact zeros are left out of the search (kl_divergence.hpp)
        const std::size_t levels = mode == preset::performance ? 128 : 256;
        for (std::size_t b = levels; b <= ref::occupied(c); ++b) best = std::min(best, ref::kl(c, 0, b, levels));
        const kl_threshold k = kl_one_sided(c, levels);
        got = ref::kl(c, 0, k.bins, levels);
        want_hi = static_cast<float>(std::min<double>(k.bins * w, amax));
        want_lo = mode == preset::performance && s[i].min < 0 ? -want_hi : 0.0f;
      } else {
        std::vector<std::uint64_t> c(8192);
        for (std::size_t k = 0; k < 4096; ++k) {
          c[4095 - k] = h.negative[k];
          c[4096 + k] = h.positive[k];
        }
        c[4096] -= h.zeros;
        const std::size_t reach = std::max(ref::occupied(h.positive), ref::occupied(h.negative));
        for (std::size_t b = 128; b <= reach; ++b) best = std::min(best, ref::kl(c, 4096 - b, 4096 + b, 255));
        const kl_threshold k = kl_centred(c, 255);
        got = ref::kl(c, 4096 - k.bins, 4096 + k.bins, 255);
        want_lo = static_cast<float>(std::max<double>(-(k.bins * w), s[i].min));
        want_hi = static_cast<float>(std::min<double>(k.bins * w, s[i].max));
      }
      std::printf("fmnist: KL node %zu %s: [%g, %g] of [%g, %g], divergence %.6g\n", i,
                  mode == preset::performance ? "performance" : "mixed", s[i].range.lo, s[i].range.hi, s[i].min,
                  s[i].max, got);
      CHECK(std::isfinite(best));
      CHECK(got <= best * (1 + 1e-9) + 1e-15);
      CHECK(s[i].range.lo == want_lo);
      CHECK(s[i].range.hi == want_hi);
    }
  }
}

TEST_CASE("fmnist: MSE ranges are the minimum of the bin-by-bin expected error") {
  SUBCASE("performance and non-negative mixed: one-sided over every node") {
    for (preset mode : {preset::performance, preset::mixed}) {
      calibration_options o;
      o.method = observer::mse;
      o.mode = mode;
      const auto s = calibrate(fmnist::model, calibration_set(), o);
      for (std::size_t i = 0; i < N; ++i) {
        if (mode == preset::mixed && s[i].min < 0) continue;
        const ref::histogram h = ref::bin_all(activations()[i], 4096);
        const double w = std::ldexp(1.0, h.exponent) / 4096;
        std::vector<std::uint64_t> c(4096);
        for (std::size_t k = 0; k < c.size(); ++k) c[k] = h.positive[k] + h.negative[k];
        const std::vector<std::uint64_t> none(4096, 0);
        const double steps = mode == preset::performance ? 127.0 : 255.0;
        double best = std::numeric_limits<double>::infinity();
        for (std::size_t k = 1; k <= ref::occupied(c); ++k) best = std::min(best, ref::mse(c, none, h.zeros, steps, 0, k));
        const mse_choice m = mse_one_sided(c, h.zeros, steps);
        CAPTURE(i);
        CAPTURE(static_cast<int>(mode));
        CHECK(ref::mse(c, none, h.zeros, steps, 0, m.hi_bins) <= best * (1 + 1e-9));
        const float amax = std::max(-s[i].min, s[i].max);
        CHECK(s[i].range.hi == static_cast<float>(std::min<double>(m.hi_bins * w, amax)));
      }
    }
  }
  SUBCASE("mixed on signed tensors: the exhaustive two-sided search (256-bin histograms to keep the check fast)") {
    calibration_options o;
    o.method = observer::mse;
    o.mode = preset::mixed;
    o.histogram_bins = 256;
    const auto s = calibrate(fmnist::model, calibration_set(), o);
    for (std::size_t i : {std::size_t{1}, std::size_t{8}}) {
      REQUIRE(s[i].min < 0);
      const ref::histogram h = ref::bin_all(activations()[i], 512);
      const double w = std::ldexp(1.0, h.exponent) / 512;
      double best = std::numeric_limits<double>::infinity();
      for (std::size_t a = 0; a <= ref::occupied(h.negative); ++a)
        for (std::size_t b = a == 0 ? 1 : 0; b <= ref::occupied(h.positive); ++b)
          best = std::min(best, ref::mse(h.positive, h.negative, h.zeros, 255.0, a, b));
      const mse_choice m = mse_two_sided(h.positive, h.negative, h.zeros, 255.0);
      CAPTURE(i);
      CHECK(ref::mse(h.positive, h.negative, h.zeros, 255.0, m.lo_bins, m.hi_bins) <= best * (1 + 1e-9));
      CHECK(s[i].range.lo == static_cast<float>(std::max<double>(-(m.lo_bins * w), s[i].min)));
      CHECK(s[i].range.hi == static_cast<float>(std::min<double>(m.hi_bins * w, s[i].max)));
      std::printf("fmnist: MSE node %zu mixed: [%g, %g] of [%g, %g]\n", i, s[i].range.lo, s[i].range.hi, s[i].min,
                  s[i].max);
    }
  }
}

TEST_CASE("fmnist: calibration time for 300 samples, each observer and preset (reported, not asserted)") {
  for (observer m : {observer::min_max, observer::quantile, observer::kl_divergence, observer::mse}) {
    for (preset p : {preset::performance, preset::mixed}) {
      calibration_options o;
      o.method = m;
      o.mode = p;
      calibration_stats<G> s;
      const double t = seconds([&] { s = calibrate(fmnist::model, calibration_set(), o); });
      std::printf("fmnist: calibrate() %-13s %-11s 300 samples: %.3f s\n",
                  m == observer::min_max ? "min_max" : m == observer::quantile ? "quantile"
                                                     : m == observer::kl_divergence ? "kl_divergence" : "mse",
                  p == preset::performance ? "performance" : "mixed", t);
      for (const auto& r : s.ranges()) {
        CHECK(r.lo <= 0.0f);
        CHECK(r.hi > r.lo);
      }
    }
  }
}
