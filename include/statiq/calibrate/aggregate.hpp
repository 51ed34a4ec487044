// aggregate(values, how): one number from per-batch statistics (POT's min, max, mean and median aggregators).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "statiq/calibrate/options.hpp"

namespace statiq {

// `values` must be non-empty. The mean is accumulated in double; the median of an even count is the mean of
// the two middle values (numpy.median).
inline float aggregate(std::span<const float> values, aggregator how) {
  switch (how) {
    case aggregator::min: return *std::min_element(values.begin(), values.end());
    case aggregator::max: return *std::max_element(values.begin(), values.end());
    case aggregator::mean: {
      double s = 0;
      for (float v : values) s += v;
      return static_cast<float>(s / static_cast<double>(values.size()));
    }
    case aggregator::median: {
      std::vector<float> v(values.begin(), values.end());
      const std::size_t m = v.size() / 2;
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m), v.end());
      const double upper = v[m];
      if (v.size() % 2 == 1) return static_cast<float>(upper);
      const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m));
      return static_cast<float>((lower + upper) / 2);
    }
  }
  return values[0];
}

}  // namespace statiq
