// Preprocess<Reverse>: y[c] = (x[Reverse ? C-1-c : c] - mean[c]) / scale[c] per channel, Model Optimizer's order
// (reverse, subtract, divide); params mean [C], scale [C]. embed_preprocess inserts it where no fold is possible.
#pragma once

#include "statiq/graph/layer.hpp"

namespace statiq {

template <bool Reverse = false>
struct Preprocess {
  static constexpr bool reverse = Reverse;
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 2;  // mean [C], scale [C], in the channel order the model reads

  template <std::size_t Node, class In>
  struct infer {
    static constexpr std::size_t c = channels_v<In>;
    STATIQ_REQUIRE((!Reverse || c == 3), "statiq::Preprocess<true>: channel reversal needs exactly 3 channels",
                   diagnostic::shape_mismatch<Node, Preprocess, In>);
    using output = In;
    static constexpr std::array<std::size_t, 2> param_sizes{c, c};
  };
};

// Without reversal each value maps to itself: it may run in place.
template <>
inline constexpr bool is_elementwise_v<Preprocess<false>> = true;

}  // namespace statiq
