// Add: element-wise sum of two tensors of the same shape (residual connections). Wire it with At<Add, i, j>.
#pragma once

#include "statiq/graph/layer.hpp"

namespace statiq {

struct Add {
  static constexpr std::size_t arity = 2;
  static constexpr std::size_t num_params = 0;
  template <std::size_t Node, class A, class B>
  struct infer {
    STATIQ_REQUIRE((std::is_same_v<A, B>), "statiq::Add needs two inputs of the same shape", diagnostic::shape_mismatch<Node, Add, A, B>);
    using output = A;
    static constexpr std::array<std::size_t, 0> param_sizes{};
  };
};

}  // namespace statiq
