// Independent, deliberately plain re-implementations of the calibration observers for the tests: sort-based
// quantiles, direct binning, TensorRT's KL search written out bin by bin as its pseudo-code reads, and the
// expected squared error summed bin by bin from the integral. None shares code with include/statiq/calibrate.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace statiq_test::ref {

// numpy.quantile(v, q), default linear interpolation, by a full sort.
inline float quantile(std::vector<float> v, double q) {
  std::sort(v.begin(), v.end());
  const double h = static_cast<double>(v.size() - 1) * q;
  const std::size_t k = static_cast<std::size_t>(std::floor(h));
  const double lo = v[k];
  const double hi = v[std::min(k + 1, v.size() - 1)];
  return static_cast<float>(lo + (h - static_cast<double>(k)) * (hi - lo));
}

inline double mean(std::span<const float> v) {
  long double s = 0;
  for (float x : v) s += x;
  return static_cast<double>(s / static_cast<long double>(v.size()));
}

inline float median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : static_cast<float>((static_cast<double>(v[m - 1]) + v[m]) / 2);
}

struct histogram {
  int exponent = 0;
  std::vector<std::uint64_t> positive, negative;
  std::uint64_t zeros = 0;
};

// All values binned at once with the final width: bins of 2^e / bins_per_side, e the smallest exponent with
// max |x| < 2^e.
inline histogram bin_all(std::span<const float> values, std::size_t bins_per_side) {
  double amax = 0;
  for (float x : values) amax = std::max(amax, std::fabs(static_cast<double>(x)));
  histogram h;
  h.positive.assign(bins_per_side, 0);
  h.negative.assign(bins_per_side, 0);
  int e = 0;
  while (std::ldexp(1.0, e) <= amax) ++e;
  while (e > -149 && std::ldexp(1.0, e - 1) > amax) --e;
  h.exponent = e;
  const double w = std::ldexp(1.0, e) / static_cast<double>(bins_per_side);
  for (float x : values) {
    const std::size_t k = static_cast<std::size_t>(std::floor(std::fabs(static_cast<double>(x)) / w));
    (x < 0 ? h.negative : h.positive).at(k) += 1;
    h.zeros += x == 0;
  }
  return h;
}

// KL(P || Q) for the window [b0, b1) of h into `levels` levels, TensorRT's pseudo-code step by step.
inline double kl(std::span<const std::uint64_t> h, std::size_t b0, std::size_t b1, std::size_t levels) {
  const std::size_t len = b1 - b0;
  std::vector<double> p(len), q(len, 0.0);
  for (std::size_t t = 0; t < len; ++t) p[t] = static_cast<double>(h[b0 + t]);
  for (std::size_t j = 0; j < b0; ++j) p[0] += static_cast<double>(h[j]);
  for (std::size_t j = b1; j < h.size(); ++j) p[len - 1] += static_cast<double>(h[j]);
  // Quantize into levels (bin t -> level floor(t levels / len)), then expand over each level's non-empty bins.
  std::vector<double> level_sum(levels, 0.0), level_nonzero(levels, 0.0);
  for (std::size_t t = 0; t < len; ++t) {
    const std::size_t l = t * levels / len;
    level_sum[l] += static_cast<double>(h[b0 + t]);
    level_nonzero[l] += h[b0 + t] != 0;
  }
  for (std::size_t t = 0; t < len; ++t) {
    const std::size_t l = t * levels / len;
    if (h[b0 + t] != 0) q[t] = level_sum[l] / level_nonzero[l];
  }
  double sp = 0, sq = 0;
  for (std::size_t t = 0; t < len; ++t) {
    sp += p[t];
    sq += q[t];
  }
  if (sq == 0) return std::numeric_limits<double>::infinity();
  double d = 0;
  for (std::size_t t = 0; t < len; ++t) {
    if (p[t] == 0) continue;
    if (q[t] == 0) return std::numeric_limits<double>::infinity();
    d += (p[t] / sp) * std::log((p[t] / sp) / (q[t] / sq));
  }
  return d;
}

inline std::size_t occupied(std::span<const std::uint64_t> h) {
  std::size_t n = 0;
  for (std::size_t j = 0; j < h.size(); ++j)
    if (h[j] != 0) n = j + 1;
  return n;
}

// Expected squared error per value (in bin widths squared) of the grid [-a, b] (bin units) with `steps` steps
// over the positive and negative |x| counts, exact zeros free, each bin's values spread evenly over the bin.
inline double mse(std::span<const std::uint64_t> pos, std::span<const std::uint64_t> neg, std::uint64_t zeros,
                  double steps, std::size_t a, std::size_t b) {
  const double step = static_cast<double>(a + b) / steps;
  double err = 0, n = 0;
  const auto side = [&](std::span<const std::uint64_t> c, std::size_t edge, bool positive) {
    for (std::size_t j = 0; j < c.size(); ++j) {
      double cnt = static_cast<double>(c[j]);
      if (positive && j == 0) cnt -= static_cast<double>(zeros);
      n += cnt;
      if (j + 1 <= edge) {
        err += cnt * step * step / 12.0;
      } else {
        const double lo = static_cast<double>(j) - static_cast<double>(edge);
        const double hi = lo + 1.0;
        err += cnt * (hi * hi * hi - lo * lo * lo) / 3.0;  // integral of (x - edge)^2 over the bin, width 1
      }
    }
  };
  side(pos, b, true);
  side(neg, a, false);
  n += static_cast<double>(zeros);
  return n > 0 ? err / n : 0.0;
}

}  // namespace statiq_test::ref
