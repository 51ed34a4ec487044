// Identity: a node whose output is its input (a view, no data movement); what a transform leaves where it
// removed a layer, so that the graph keeps its node count and every At<> index stays valid.
#pragma once

#include "statiq/graph/layer.hpp"

namespace statiq {

struct Identity {
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 0;
  template <std::size_t Node, class In>
  struct infer {
    using output = In;
    static constexpr std::array<std::size_t, 0> param_sizes{};
  };
};

template <>
inline constexpr bool is_alias_v<Identity> = true;

}  // namespace statiq
