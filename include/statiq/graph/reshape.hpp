// Flatten and Reshape<Shape<...>>: views of the channels-last buffer under a new shape (no data movement).
#pragma once

#include "statiq/graph/layer.hpp"

namespace statiq {

// Flatten: Shape<H, W, C> -> Shape<H * W * C>, in channels-last (h, w, c) order.
struct Flatten {
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 0;
  template <std::size_t Node, class In>
  struct infer {
    using output = Shape<In::size>;
    static constexpr std::array<std::size_t, 0> param_sizes{};
  };
};

template <class To>
struct Reshape {
  static_assert(is_shape_v<To>, "statiq::Reshape<S>: S must be a statiq::Shape<...>");
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 0;
  template <std::size_t Node, class In>
  struct infer {
    STATIQ_REQUIRE((In::size == To::size), "statiq::Reshape<S>: S must hold as many elements as the input", diagnostic::shape_mismatch<Node, Reshape, In, To>);
    using output = To;
    static constexpr std::array<std::size_t, 0> param_sizes{};
  };
};

template <>
inline constexpr bool is_alias_v<Flatten> = true;
template <class To>
inline constexpr bool is_alias_v<Reshape<To>> = true;

}  // namespace statiq
