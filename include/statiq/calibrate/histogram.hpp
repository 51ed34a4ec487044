// value_histogram: a fixed-size histogram of a tensor's values over the whole calibration set, for the
// KL-divergence and MSE observers; its memory is set by the bin count, never by the number of samples.
//
// The bins cover (-2^e, 2^e) with the same number of bins on each side of zero, bin width 2^e / bins_per_side
// (a power of two). e is the smallest exponent with max |x| < 2^e, so the data fill between half and all of
// each side's bins. When a later batch exceeds 2^e, e grows and adjacent bins merge in pairs: one pass over the
// data, and the result is exactly the histogram of all values with the final bin width (floor(floor(a/w)/2) is
// floor(a/2w), and scaling by a power of two is exact), which a test recomputes from scratch.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace statiq {

struct value_histogram {
  // positive[k]: values x >= 0 with x / bin_width() in [k, k + 1); negative[k]: values x < 0 with -x / bin_width()
  // in [k, k + 1). Both have bins_per_side entries.
  std::vector<std::uint64_t> positive;
  std::vector<std::uint64_t> negative;
  std::uint64_t zeros = 0;  // values exactly 0 (also counted in positive[0]): exactly representable on any grid
  int exponent = 0;         // every binned value has |x| < 2^exponent
  bool any_nonzero = false; // false: no value but 0 seen yet, exponent not yet set

  value_histogram() = default;
  explicit value_histogram(std::size_t bins_per_side) : positive(bins_per_side, 0), negative(bins_per_side, 0) {}

  std::size_t bins_per_side() const noexcept { return positive.size(); }
  // The histogram covers (-limit(), limit()).
  double limit() const noexcept { return any_nonzero ? std::ldexp(1.0, exponent) : 0.0; }
  double bin_width() const noexcept { return limit() / static_cast<double>(bins_per_side()); }
  std::uint64_t total() const noexcept {
    std::uint64_t n = 0;
    for (auto c : positive) n += c;
    for (auto c : negative) n += c;
    return n;
  }
  // Counts of |x|: positive[k] + negative[k].
  std::vector<std::uint64_t> abs_counts() const {
    std::vector<std::uint64_t> a(bins_per_side());
    for (std::size_t k = 0; k < a.size(); ++k) a[k] = positive[k] + negative[k];
    return a;
  }
  // Counts from -limit() to limit(): negative bins reversed, then positive bins (2 x bins_per_side entries).
  std::vector<std::uint64_t> signed_counts() const {
    const std::size_t b = bins_per_side();
    std::vector<std::uint64_t> s(2 * b);
    for (std::size_t k = 0; k < b; ++k) {
      s[b - 1 - k] = negative[k];
      s[b + k] = positive[k];
    }
    return s;
  }

  // Adds finite values whose largest magnitude is `amax` (the caller has it from its min/max pass).
  void add(std::span<const float> values, float amax) {
    if (amax > 0) grow_to(amax);
    const std::size_t b = bins_per_side();
    // |x| * 2^(log2(bins) - exponent) is exact in double: the bin index is an exact floor.
    const double to_bin = any_nonzero ? static_cast<double>(b) / limit() : 0.0;
    for (float x : values) {
      const double a = std::fabs(static_cast<double>(x));
      std::size_t k = static_cast<std::size_t>(a * to_bin);
      if (k >= b) k = b - 1;  // unreachable for |x| < limit(); a guard against a caller's wrong amax
      if (x < 0) {
        ++negative[k];
      } else {
        ++positive[k];
        zeros += x == 0;
      }
    }
  }

 private:
  // Smallest power of two strictly above amax (frexp: amax = m 2^e with m in [0.5, 1)).
  static int exponent_above(float amax) {
    int e = 0;
    std::frexp(static_cast<double>(amax), &e);
    return e;
  }
  void grow_to(float amax) {
    const int e = exponent_above(amax);
    if (!any_nonzero) {
      any_nonzero = true;  // only zeros so far: they stay in bin 0 at any width
      exponent = e;
      return;
    }
    for (; exponent < e; ++exponent) {
      merge_pairs(positive);
      merge_pairs(negative);
    }
  }
  static void merge_pairs(std::vector<std::uint64_t>& c) {
    const std::size_t n = c.size();
    for (std::size_t k = 0; k < n / 2; ++k) c[k] = c[2 * k] + c[2 * k + 1];
    for (std::size_t k = n / 2; k < n; ++k) c[k] = 0;
  }
};

}  // namespace statiq
