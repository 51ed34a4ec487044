// BatchNorm<Epsilon>: inference-mode batch normalisation over the channel axis; params gamma, beta, mean, var.
// Foldable into a preceding Conv2d or Dense (transform/fold_batch_norm.hpp); executed as a per-channel
// affine map otherwise. Epsilon is a std::ratio because clang 14 has no floating-point template arguments.
#pragma once

#include <ratio>

#include "statiq/graph/layer.hpp"

namespace statiq {

template <class Epsilon = std::ratio<1, 100000>>
struct BatchNorm {
  static_assert(detail::is_ratio_v<Epsilon> && (Epsilon::num > 0),
                "statiq::BatchNorm<Epsilon>: Epsilon must be a positive std::ratio, e.g. std::ratio<1, 100000>");
  static constexpr float epsilon = detail::ratio_value_v<Epsilon>;
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 4;  // gamma, beta, running mean, running variance: [C] each

  template <std::size_t Node, class In>
  struct infer {
    using output = In;
    static constexpr std::size_t c = channels_v<In>;
    static constexpr std::array<std::size_t, 4> param_sizes{c, c, c, c};
  };
};

template <class E>
inline constexpr bool is_elementwise_v<BatchNorm<E>> = true;

}  // namespace statiq
