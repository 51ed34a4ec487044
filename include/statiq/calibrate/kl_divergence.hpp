// KL-divergence (entropy) calibration, TensorRT's method (Migacz, "8-bit Inference with TensorRT", GTC 2017):
// the clipping threshold whose 8-bit quantized distribution is closest to the observed one.
//
// For a candidate threshold of i bins: the reference P is bins [0, i) with every count beyond the threshold
// added to bin i - 1; the candidate Q merges the same bins into `levels` levels (bin b goes to level
// floor(b levels / i)) and spreads each level's count evenly over its non-empty bins (empty bins stay empty).
// Both are normalised; KL(P || Q) is summed over P's non-empty bins and is infinite where Q is empty there
// (outliers landing on an empty bin). Candidates run from i = levels to the last non-empty bin; the smallest
// divergence wins, the widest on a tie (as NVIDIA's pytorch-quantization); the threshold is i bin widths,
// or the largest observed magnitude where that is smaller (the last bin's edge lies beyond the data).
//
// Exact zeros are taken out of the histogram first: every grid represents 0 exactly, so they say nothing about
// the threshold, and a ReLU output's spike of zeros in bin 0 would otherwise make Q smear it across level 0 and
// pull the threshold far down (on the Fashion-MNIST CNN's first ReLU: 0.75 instead of about 4 of a 7.5 maximum).
// NVIDIA's pytorch-quantization answers the same spike by overwriting bin 0 with bin 1; removing only the
// exact zeros keeps the small positive values of bin 0.
//
// Levels per grid: `performance` (s8, zero point 0): |x| into 128 levels, exactly TensorRT. `mixed` (u8):
// a tensor that is never negative into 256 levels over [0, T]; a signed one on windows [-T, T) centred on 0
// into 255 levels (MXNet's signed variant of the method), the range then clipped to [min, max].
//
// Cost: O(levels) per candidate from prefix sums of counts, of non-empty bins and of c ln c, not O(i).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "statiq/calibrate/histogram.hpp"
#include "statiq/calibrate/options.hpp"
#include "statiq/calibrate/tensor_range.hpp"

namespace statiq {

struct kl_threshold {
  std::size_t bins = 0;   // one-sided: the threshold is bins x bin width; centred: the window is [-bins, bins)
  double divergence = 0;  // KL(P || Q) in nats at that threshold
};

namespace detail {

inline double x_log_x(double c) { return c > 0 ? c * std::log(c) : 0.0; }

// Prefix sums over a count array: counts, non-empty bins, c ln c.
struct kl_prefix {
  std::vector<double> count, nonzero, clogc;
  explicit kl_prefix(std::span<const std::uint64_t> h)
      : count(h.size() + 1, 0.0), nonzero(h.size() + 1, 0.0), clogc(h.size() + 1, 0.0) {
    for (std::size_t b = 0; b < h.size(); ++b) {
      const double c = static_cast<double>(h[b]);
      count[b + 1] = count[b] + c;
      nonzero[b + 1] = nonzero[b] + (h[b] != 0);
      clogc[b + 1] = clogc[b] + x_log_x(c);
    }
  }
};

// KL(P || Q) for the window [b0, b1) of h (b1 - b0 >= levels): counts before b0 go to P's first bin, counts
// from b1 on to its last. KL * total = sum p ln p - sum p ln Q + total ln(window / total), where Q (unnormalised)
// is the level's mean over its non-empty bins and sums to the window's count.
inline double window_kl(std::span<const std::uint64_t> h, const kl_prefix& pre, std::size_t b0, std::size_t b1,
                        std::size_t levels) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const double total = pre.count.back();
  const double window = pre.count[b1] - pre.count[b0];
  if (window <= 0) return inf;
  const double out_lo = pre.count[b0], out_hi = total - pre.count[b1];
  const std::size_t len = b1 - b0;
  double sum = pre.clogc[b1] - pre.clogc[b0];  // sum h ln h over the window
  double first_q = 0, last_q = 0;
  for (std::size_t l = 0; l < levels; ++l) {
    // Level l holds the bins t with floor(t levels / len) == l: t in [ceil(l len / levels), ceil((l+1) len / levels)).
    const std::size_t s = b0 + (l * len + levels - 1) / levels;
    const std::size_t e = b0 + ((l + 1) * len + levels - 1) / levels;
    const double m = pre.count[e] - pre.count[s];
    if (m <= 0) continue;
    const double q = m / (pre.nonzero[e] - pre.nonzero[s]);
    sum -= m * std::log(q);
    if (s == b0) first_q = q;
    if (e == b1) last_q = q;
  }
  // The end bins' outliers: p = h + outliers there.
  if (out_lo > 0) {
    const double h0 = static_cast<double>(h[b0]);
    if (h0 == 0) return inf;
    sum += x_log_x(h0 + out_lo) - x_log_x(h0) - out_lo * std::log(first_q);
  }
  if (out_hi > 0) {
    const double hl = static_cast<double>(h[b1 - 1]);
    if (hl == 0) return inf;
    sum += x_log_x(hl + out_hi) - x_log_x(hl) - out_hi * std::log(last_q);
  }
  sum += total * (std::log(window) - std::log(total));
  return sum / total;
}

inline std::size_t occupied(std::span<const std::uint64_t> h) {
  std::size_t n = h.size();
  while (n > 0 && h[n - 1] == 0) --n;
  return n;
}

}  // namespace detail

// TensorRT's search on a one-sided histogram h (bins from 0): the threshold of i bins, i in [levels, last
// non-empty bin + 1], minimising KL(P || Q). Fewer occupied bins than levels: all of them, divergence 0.
inline kl_threshold kl_one_sided(std::span<const std::uint64_t> h, std::size_t levels) {
  const std::size_t n = detail::occupied(h);
  if (n <= levels) return {n, 0.0};
  const detail::kl_prefix pre(h.first(n));
  kl_threshold best{n, std::numeric_limits<double>::infinity()};
  for (std::size_t i = levels; i <= n; ++i) {
    const double d = detail::window_kl(h.first(n), pre, 0, i, levels);
    if (d <= best.divergence) best = {i, d};  // <=: the widest of equal divergences
  }
  return best;
}

// The same search on a centred histogram s (2B bins, zero at bin B: s[B - 1 - k] is the k-th negative bin):
// windows [B - i, B + i) of 2i bins, i from ceil(levels / 2) to the farther occupied side.
inline kl_threshold kl_centred(std::span<const std::uint64_t> s, std::size_t levels) {
  const std::size_t b = s.size() / 2;
  std::size_t reach = 0;
  for (std::size_t k = 0; k < b; ++k)
    if (s[b + k] != 0 || s[b - 1 - k] != 0) reach = k + 1;
  const std::size_t start = (levels + 1) / 2;
  if (reach <= start) return {reach, 0.0};
  const detail::kl_prefix pre(s);
  kl_threshold best{reach, std::numeric_limits<double>::infinity()};
  for (std::size_t i = start; i <= reach; ++i) {
    const double d = detail::window_kl(s, pre, b - i, b + i, levels);
    if (d <= best.divergence) best = {i, d};
  }
  return best;
}

// The range KL-divergence calibration picks for a tensor with histogram `h` and observed [min, max].
inline tensor_range kl_divergence_range(const value_histogram& h, preset mode, float min, float max) {
  const double w = h.bin_width();
  if (mode == preset::performance) {
    auto c = h.abs_counts();
    c[0] -= h.zeros;
    const auto t = kl_one_sided(c, 128);
    const double th = std::min<double>(static_cast<double>(t.bins) * w, std::max(-min, max));
    return make_tensor_range(-th, th, mode, min < 0);
  }
  if (min >= 0) {
    auto c = h.positive;
    c[0] -= h.zeros;
    const auto t = kl_one_sided(c, 256);
    return make_tensor_range(0.0, std::min<double>(static_cast<double>(t.bins) * w, max), mode, false);
  }
  auto c = h.signed_counts();
  c[h.bins_per_side()] -= h.zeros;  // positive bin 0
  const auto t = kl_centred(c, 255);
  const double th = static_cast<double>(t.bins) * w;
  return make_tensor_range(std::max<double>(-th, min), std::min<double>(th, max), mode, true);
}

}  // namespace statiq
