// MSE-optimal range: the clipping range of the 8-bit grid minimising the expected squared error on the
// whole-set histogram.
//
// The error model is the usual decomposition (Banner et al., "ACIQ: Analytical Clipping for Integer
// Quantization", 2018): a value inside [lo, hi] costs the rounding noise of a uniform quantizer, step^2 / 12;
// a value outside costs its clipping distance squared, integrated exactly over its bin with the values of a bin
// spread evenly across it (E[(x - T)^2] over [jw, (j+1)w) is w^2 (d^2 + d + 1/3) with d = j - T/w). Exact
// zeros are kept apart: every grid represents 0 exactly, so they cost nothing (a ReLU output is mostly zeros and
// would otherwise pull the range down).
//
// Grids: `performance` T in whole bins of the |x| histogram, step T / 127 (s8, zero point 0); `mixed` on a
// tensor that is never negative, [0, T] with step T / 255 (u8); `mixed` on a signed tensor, [-a w, b w] over
// every pair (a, b) of bin edges, step (a + b) w / 255. Every candidate is evaluated in O(1) from suffix sums,
// so the 2-D search is exhaustive (no local minimum).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "statiq/calibrate/histogram.hpp"
#include "statiq/calibrate/options.hpp"
#include "statiq/calibrate/tensor_range.hpp"

namespace statiq {

struct mse_choice {
  std::size_t lo_bins = 0;  // the range is [-lo_bins w, hi_bins w]
  std::size_t hi_bins = 0;
  double error = 0;         // expected squared error per value, in units of bin width squared
};

namespace detail {

// For a one-sided count array c (zeros already removed from c[0]): beyond[k] = sum_{j >= k} c_j and
// clip[k] = sum_{j >= k} c_j ((j-k)^2 + (j-k) + 1/3), the clipping error at threshold k bins, in w^2. Built
// from the top by clip[k-1] = clip[k] + 2 dist[k] + 2 beyond[k] + c_{k-1} / 3 with dist[k] = sum c_j (j - k):
// every term is non-negative, so nothing cancels.
struct clip_sums {
  std::vector<double> beyond, clip;
  explicit clip_sums(std::span<const double> c) : beyond(c.size() + 1, 0.0), clip(c.size() + 1, 0.0) {
    double dist = 0;
    for (std::size_t k = c.size(); k > 0; --k) {
      clip[k - 1] = clip[k] + 2 * dist + 2 * beyond[k] + c[k - 1] / 3;
      dist += beyond[k];  // dist[k-1] = dist[k] + beyond[k]
      beyond[k - 1] = beyond[k] + c[k - 1];
    }
  }
};

inline std::vector<double> without_zeros(std::span<const std::uint64_t> h, std::uint64_t zeros) {
  std::vector<double> c(h.begin(), h.end());
  if (!c.empty()) c[0] -= static_cast<double>(zeros);
  return c;
}

}  // namespace detail

// One-sided search: h counts |x| (or x >= 0) from bin 0, `zeros` of its bin-0 values are exact zeros; the
// grid has `steps` steps over [0, T] (127: s8 symmetric, 255: u8). T = k bins, k in [1, last occupied bin + 1].
inline mse_choice mse_one_sided(std::span<const std::uint64_t> h, std::uint64_t zeros, double steps) {
  std::size_t n = h.size();
  while (n > 0 && h[n - 1] == 0) --n;
  const std::vector<double> c = detail::without_zeros(h.first(n), zeros);
  const detail::clip_sums cs(c);
  const double nonzero = cs.beyond[0];
  const double noise = 1.0 / (12.0 * steps * steps);
  mse_choice best{0, n, std::numeric_limits<double>::infinity()};
  for (std::size_t k = 1; k <= n; ++k) {
    const double kk = static_cast<double>(k);
    const double e = (nonzero - cs.beyond[k]) * kk * kk * noise + cs.clip[k];
    if (e <= best.error) best = {0, k, e};  // <=: the widest of equal errors
  }
  const double total = nonzero + static_cast<double>(zeros);
  if (total > 0 && n > 0) best.error /= total;
  if (n == 0) best.error = 0;
  return best;
}

// Two-sided search over [-a w, b w], a in [0, occupied negative bins], b in [0, occupied positive bins],
// a + b >= 1, with `steps` steps across the range.
inline mse_choice mse_two_sided(std::span<const std::uint64_t> positive, std::span<const std::uint64_t> negative,
                                std::uint64_t zeros, double steps) {
  std::size_t np = positive.size(), nn = negative.size();
  while (np > 0 && positive[np - 1] == 0) --np;
  while (nn > 0 && negative[nn - 1] == 0) --nn;
  const std::vector<double> cp = detail::without_zeros(positive.first(np), zeros);
  const std::vector<double> cn(negative.begin(), negative.begin() + static_cast<std::ptrdiff_t>(nn));
  const detail::clip_sums sp(cp), sn(cn);
  const double nonzero = sp.beyond[0] + sn.beyond[0];
  const double noise = 1.0 / (12.0 * steps * steps);
  mse_choice best{nn, np, std::numeric_limits<double>::infinity()};
  for (std::size_t a = 0; a <= nn; ++a) {
    const double inside_neg = nonzero - sn.beyond[a];
    const double clip_neg = sn.clip[a];
    for (std::size_t b = a == 0 ? 1 : 0; b <= np; ++b) {
      const double width = static_cast<double>(a + b);
      const double e = (inside_neg - sp.beyond[b]) * width * width * noise + clip_neg + sp.clip[b];
      if (e < best.error) best = {a, b, e};
    }
  }
  const double total = nonzero + static_cast<double>(zeros);
  best.error = total > 0 ? best.error / total : 0.0;
  return best;
}

// The range MSE calibration picks for a tensor with histogram `h` and observed [min, max].
inline tensor_range mse_range(const value_histogram& h, preset mode, float min, float max) {
  const double w = h.bin_width();
  if (mode == preset::performance) {
    const auto c = mse_one_sided(h.abs_counts(), h.zeros, 127.0);
    const double t = std::min<double>(static_cast<double>(c.hi_bins) * w, std::max(-min, max));
    return make_tensor_range(-t, t, mode, min < 0);
  }
  if (min >= 0) {
    const auto c = mse_one_sided(h.positive, h.zeros, 255.0);
    return make_tensor_range(0.0, std::min<double>(static_cast<double>(c.hi_bins) * w, max), mode, false);
  }
  const auto c = mse_two_sided(h.positive, h.negative, h.zeros, 255.0);
  return make_tensor_range(std::max<double>(-static_cast<double>(c.lo_bins) * w, min),
                           std::min<double>(static_cast<double>(c.hi_bins) * w, max), mode, true);
}

}  // namespace statiq
