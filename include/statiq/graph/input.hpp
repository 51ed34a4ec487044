// Input<Shape<...>, Layout, Element>: the graph's entry node; Shape is per sample and channels-last; Element is
// what the caller's buffer holds (float, or std::uint8_t raw pixels after embed_preprocess(input<u8>)).
#pragma once

#include "statiq/core/dtype.hpp"
#include "statiq/graph/layer.hpp"

namespace statiq {

template <class S, Layout L = Layout::nhwc, class E = float>
struct Input {
  static_assert(is_shape_v<S>, "statiq::Input<S, layout>: S must be a statiq::Shape<...>");
  static_assert(L == Layout::nhwc || S::rank == 3,
                "statiq::Input<S, Layout::nchw>: a channels-first input layout needs a rank-3 Shape<H, W, C>");
  static_assert(input_element<E>,
                "statiq::Input<S, layout, E>: the input element type E is float or std::uint8_t (statiq::u8)");
  using shape = S;
  using element = E;
  static constexpr Layout layout = L;
  static constexpr std::size_t arity = 0;
  static constexpr std::size_t num_params = 0;
  template <std::size_t Node>
  struct infer {
    using output = S;
    static constexpr std::array<std::size_t, 0> param_sizes{};
  };
};

template <class T>
inline constexpr bool is_input_v = false;
template <class S, Layout L, class E>
inline constexpr bool is_input_v<Input<S, L, E>> = true;

// The element type of graph G's input buffer.
template <class G>
using input_element_t = typename G::input_layer::element;

}  // namespace statiq
