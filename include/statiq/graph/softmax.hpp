// Softmax over the last (channel) axis, per position.
#pragma once

#include "statiq/graph/layer.hpp"

namespace statiq {

struct Softmax {
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 0;
  template <std::size_t Node, class In>
  struct infer {
    using output = In;
    static constexpr std::array<std::size_t, 0> param_sizes{};
  };
};

template <>
inline constexpr bool is_elementwise_v<Softmax> = true;

}  // namespace statiq
