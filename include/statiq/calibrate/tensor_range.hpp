// tensor_range: the real range a tensor's 8-bit grid covers, as calibration chose it, and the rules every
// observer's result goes through (zero inside, positive width, the documented zero-range fallback).
#pragma once

#include <algorithm>
#include <cmath>

#include "statiq/calibrate/options.hpp"

namespace statiq {

struct tensor_range {
  float lo = 0.0f;  // always lo <= 0 <= hi and hi > lo
  float hi = 1.0f;
  // True when the observed range had no width (a tensor that is 0 everywhere on the calibration data):
  // the range is then the fallback [0, 1] (see make_tensor_range).
  bool fallback = false;
};

// Below this width a range is treated as empty: its scale (width / 255) would be so small that the
// requantization multipliers of the layers around it lose all precision.
inline constexpr float min_range_width = 1e-30f;

// Turns an observer's [lo, hi] into the range the quantizer gets:
//  - the range is widened to hold 0, which every quantized grid must represent exactly (zero padding, ReLU);
//  - performance (symmetric, zero point 0): [-T, T] with T = max(|lo|, |hi|), or [0, T] when the tensor never
//    took a negative value (`has_negative` false) - the same s8 grid, the report just says what was seen;
//  - a range narrower than min_range_width (the tensor was 0 everywhere) becomes [0, 1] with `fallback` set:
//    0 is exact on any grid and a unit range keeps the neighbouring layers' scales well conditioned. A constant
//    non-zero tensor c is not a fallback: its range [min(c, 0), max(c, 0)] holds c exactly at one end.
inline tensor_range make_tensor_range(double lo, double hi, preset mode, bool has_negative) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  if (mode == preset::performance) {
    const double t = std::max(-lo, hi);
    lo = has_negative ? -t : 0.0;
    hi = t;
  }
  tensor_range r{static_cast<float>(lo), static_cast<float>(hi), false};
  if (!(r.hi - r.lo >= min_range_width)) r = tensor_range{0.0f, 1.0f, true};
  return r;
}

}  // namespace statiq
