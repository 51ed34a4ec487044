// What every layer type provides: arity, parameter count and compile-time shape inference.
//
// Minimal complete definition of a layer L:
//   static constexpr std::size_t arity;        // number of input tensors
//   static constexpr std::size_t num_params;   // number of parameter arrays it binds, in order
//   template <std::size_t Node, class... In> struct infer {
//     using output = Shape<...>;                // output shape, or a static_assert naming Node and In...
//     static constexpr std::array<std::size_t, num_params> param_sizes;  // floats per parameter array
//   };
#pragma once

#include <array>
#include <cstddef>

#include "statiq/core/diagnostics.hpp"
#include "statiq/core/shape.hpp"
#include "statiq/graph/attributes.hpp"

namespace statiq {

template <class L>
concept layer = requires {
  { L::arity } -> std::convertible_to<std::size_t>;
  { L::num_params } -> std::convertible_to<std::size_t>;
};

// A layer whose output is its input unchanged in shape and value order (element-wise, in place allowed).
template <class L>
inline constexpr bool is_elementwise_v = false;

// A layer whose output aliases its input's storage (no data movement at all).
template <class L>
inline constexpr bool is_alias_v = false;

namespace detail {
// A one-input layer without parameters whose output has its input's shape (activations, Softmax, Identity).
struct shape_preserving {
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 0;
  template <std::size_t Node, class In>
  struct infer {
    using output = In;
    static constexpr std::array<std::size_t, 0> param_sizes{};
  };
};
}  // namespace detail

}  // namespace statiq
