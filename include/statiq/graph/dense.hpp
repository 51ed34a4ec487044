// Dense<n>: fully connected layer (ONNX Gemm/MatMul with bias) on a rank-1 input; weights [n][k], bias [n].
#pragma once

#include "statiq/graph/layer.hpp"

namespace statiq {

template <std::size_t N>
struct Dense {
  static_assert(N > 0, "statiq::Dense<n>: n must be positive");
  static constexpr std::size_t units = N;
  static constexpr std::size_t out_channels = N;
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 2;  // weights [n][k], bias [n]

  template <std::size_t Node, class In>
  struct infer {
    STATIQ_REQUIRE((In::rank == 1), "statiq::Dense<n> needs a rank-1 input: insert statiq::Flatten before it", diagnostic::shape_mismatch<Node, Dense, In>);
    using output = Shape<N>;
    static constexpr std::array<std::size_t, 2> param_sizes{N * In::size, N};
  };
};

}  // namespace statiq
