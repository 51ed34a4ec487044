// Protected<Act>: an activation whose output is also clamped to run-time bounds [lo, hi] (Ranger / POT's
// RangeSupervision: the range the activation took on the calibration set), so a fault upstream cannot push a
// value outside what the layer ever produced.
//
//   y = clamp(Act(x), lo, hi) = clamp(x, max(lo, Act::lo), min(hi, Act::hi))   (Act: Relu, Clip<Lo, Hi>, Relu6)
//
// One parameter array of 2 floats {lo, hi} (lo <= hi), so the bounds are data: calibration decides them and a
// baked model carries them. A Protected node is a clamp like Relu and Clip: the memory plan fuses it into a
// Conv2d/Dense it is the only reader of (the float kernels clamp to run-time bounds), and the quantizer folds
// its bounds into the producer's requantization clamp, where it costs nothing at run time. Run as a node of its
// own (the unfused plan), it also sets a NaN to lo: a NaN lies in no range (Relu and Clip pass it through).
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include "statiq/core/diagnostics.hpp"
#include "statiq/graph/activation.hpp"
#include "statiq/graph/layer.hpp"

namespace statiq {

namespace diagnostic {
// Protected<Act> was given `Act`, which is not a clamp activation (Relu, Clip<Lo, Hi>, Relu6).
template <class Act>
struct protected_needs_a_clamp_activation;
}  // namespace diagnostic

template <class L>
inline constexpr bool is_protected_v = false;

template <class Act>
struct Protected {
  STATIQ_REQUIRE((is_clamp_v<Act> && !is_protected_v<Act>),
                 "statiq::Protected<Act>: Act must be a clamp activation (Relu, Clip<Lo, Hi>, Relu6); statiq::protect "
                 "wraps exactly those",
                 diagnostic::protected_needs_a_clamp_activation<Act>);
  using activation = Act;
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 1;  // {lo, hi}
  template <std::size_t Node, class In>
  struct infer {
    using output = In;
    static constexpr std::array<std::size_t, 1> param_sizes{2};
  };
};

template <class Act>
inline constexpr bool is_elementwise_v<Protected<Act>> = true;
template <class Act>
inline constexpr bool is_clamp_v<Protected<Act>> = true;

template <class Act>
inline constexpr bool is_protected_v<Protected<Act>> = true;

// The activation a clamp layer applies: Act for Protected<Act>, the layer itself for Relu and Clip.
template <class L>
struct base_activation {
  using type = L;
};
template <class Act>
struct base_activation<Protected<Act>> {
  using type = Act;
};
template <class L>
using base_activation_t = typename base_activation<L>::type;

struct clamp_range {
  float lo;
  float hi;
};

namespace detail {

// The bounds clamp node K of model m applies: compile-time constants for Relu and Clip; for Protected<Act>
// its parameters intersected with Act's own bounds.
template <class G, std::size_t K, class M>
constexpr clamp_range clamp_bounds(const M& m) {
  using L = typename G::template layer_t<K>;
  static_assert(is_clamp_v<L>, "statiq: clamp_bounds<G, K> needs a clamp node K");
  if constexpr (is_protected_v<L>) {
    using A = typename L::activation;
    const float* p = m.param(G::first_param[K]);
    return {p[0] > A::lo ? p[0] : A::lo, p[1] < A::hi ? p[1] : A::hi};
  } else {
    return {L::lo, L::hi};
  }
}

}  // namespace detail

}  // namespace statiq
