// Input<Shape<...>, Layout>: the graph's entry node; Shape is per sample and channels-last.
#pragma once

#include "statiq/graph/layer.hpp"

namespace statiq {

template <class S, Layout L = Layout::nhwc>
struct Input {
  static_assert(is_shape_v<S>, "statiq::Input<S, layout>: S must be a statiq::Shape<...>");
  static_assert(L == Layout::nhwc || S::rank == 3,
                "statiq::Input<S, Layout::nchw>: a channels-first input layout needs a rank-3 Shape<H, W, C>");
  using shape = S;
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
template <class S, Layout L>
inline constexpr bool is_input_v<Input<S, L>> = true;

}  // namespace statiq
