// Arithmetic that transforms need in constant expressions (std::sqrt is not constexpr in C++20).
#pragma once

namespace statiq::detail {

// A square root usable in constant expressions (Newton's method in double, from above).
constexpr double sqrt_constexpr(double x) {
  if (!(x > 0.0)) return 0.0;
  double r = x > 1.0 ? x : 1.0;
  for (int i = 0; i < 2000; ++i) {
    const double next = 0.5 * (r + x / r);
    if (!(next < r)) break;
    r = next;
  }
  return r;
}

}  // namespace statiq::detail
