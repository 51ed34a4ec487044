// Relu, Clip<Lo, Hi> and Relu6: element-wise activations (bounds as std::ratio: exact, and clang 14 has no
// floating-point template arguments).
#pragma once

#include <limits>
#include <ratio>

#include "statiq/graph/layer.hpp"

namespace statiq {

struct Relu : detail::shape_preserving {
  static constexpr float lo = 0.0f;
  static constexpr float hi = std::numeric_limits<float>::infinity();
};

template <class Lo, class Hi>
struct Clip : detail::shape_preserving {
  static_assert(detail::is_ratio_v<Lo> && detail::is_ratio_v<Hi>,
                "statiq::Clip<Lo, Hi>: bounds are std::ratio values, e.g. Clip<std::ratio<0>, std::ratio<6>>");
  static_assert(std::ratio_less_equal_v<Lo, Hi>, "statiq::Clip<Lo, Hi>: Lo must not exceed Hi");
  static constexpr float lo = detail::ratio_value_v<Lo>;
  static constexpr float hi = detail::ratio_value_v<Hi>;
};

using Relu6 = Clip<std::ratio<0>, std::ratio<6>>;

template <>
inline constexpr bool is_elementwise_v<Relu> = true;
template <class Lo, class Hi>
inline constexpr bool is_elementwise_v<Clip<Lo, Hi>> = true;

template <class L>
inline constexpr bool is_clamp_v = false;
template <>
inline constexpr bool is_clamp_v<Relu> = true;
template <class Lo, class Hi>
inline constexpr bool is_clamp_v<Clip<Lo, Hi>> = true;

}  // namespace statiq
