// quantile(values, q): the q-quantile of a batch of values, numpy's default ("linear") definition, in
// linear time; the quantile observer's per-batch statistic.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <span>

namespace statiq {

namespace detail {

// The order statistics k and k + 1 (0-based, k + 1 clamped to n - 1) of `values`.
inline void order_pair(std::span<float> values, std::size_t k, double& lo, double& hi) {
  const std::size_t n = values.size();
  const std::size_t k1 = k + 1 < n ? k + 1 : k;
  // Near either end (outlier_prob 1e-4 on a 12544-value tensor asks for the 2nd value) a bounded partial sort of
  // k + 2 values costs about one comparison per value, several times less than a full selection.
  constexpr std::size_t small = 64;
  float buf[small];
  if (k1 < small) {
    std::partial_sort_copy(values.begin(), values.end(), buf, buf + k1 + 1);
    lo = buf[k];
    hi = buf[k1];
    return;
  }
  if (n - 1 - k < small) {
    const std::size_t m = n - k;  // values k..n-1 in descending order
    std::partial_sort_copy(values.begin(), values.end(), buf, buf + m, std::greater<float>());
    lo = buf[m - 1];
    hi = buf[m - 1 - (k1 - k)];
    return;
  }
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  lo = values[k];
  // After nth_element everything past k is >= v[k]: the next order statistic is their minimum.
  hi = k1 == k ? lo : *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(k) + 1, values.end());
}

}  // namespace detail

// The q-quantile (q in [0, 1]) of `values`: with the values sorted as v[0..n), position h = (n - 1) q and
// result v[floor(h)] + (h - floor(h)) (v[floor(h) + 1] - v[floor(h)]), as numpy.quantile. May reorder
// `values`. `values` must be non-empty and hold no NaN.
inline float quantile(std::span<float> values, double q) {
  const std::size_t n = values.size();
  q = std::clamp(q, 0.0, 1.0);
  const double h = static_cast<double>(n - 1) * q;
  const std::size_t k = std::min(static_cast<std::size_t>(std::floor(h)), n - 1);
  const double frac = h - static_cast<double>(k);
  double lo = 0, hi = 0;
  detail::order_pair(values, k, lo, hi);
  return static_cast<float>(lo + frac * (hi - lo));
}

}  // namespace statiq
