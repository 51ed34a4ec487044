// Concat: concatenation along the channel (last) axis; all other extents must agree. Wire it with
// At<Concat, i, j, ...>; inputs are laid out in the order given.
#pragma once

#include "statiq/graph/layer.hpp"

namespace statiq {

namespace detail {
template <class First, class... Rest>
struct concat_shape;
template <std::size_t... D, class... Rest>
struct concat_shape<Shape<D...>, Rest...> {
  static constexpr std::array<std::size_t, sizeof...(D)> first{D...};
  static constexpr std::size_t rank = sizeof...(D);
  static constexpr bool ranks_agree = ((Rest::rank == rank) && ...);
  template <class S>
  static constexpr bool outer_agree() {
    if constexpr (S::rank != rank) {
      return false;
    } else {
      for (std::size_t i = 0; i + 1 < rank; ++i)
        if (S::dims[i] != first[i]) return false;
      return true;
    }
  }
  static constexpr bool agree = ranks_agree && (outer_agree<Rest>() && ...);
  static constexpr std::size_t channels = first[rank - 1] + (std::size_t{0} + ... + Rest::dims[Rest::rank - 1]);
  template <std::size_t... I>
  static auto make(std::index_sequence<I...>) -> Shape<(I + 1 < rank ? first[I] : channels)...>;
  using type = decltype(make(std::make_index_sequence<rank>{}));
};
}  // namespace detail

struct Concat {
  static constexpr std::size_t arity = 0;  // variadic: two or more inputs
  static constexpr std::size_t min_arity = 2;
  static constexpr std::size_t num_params = 0;
  template <std::size_t Node, class... In>
  struct infer {
    STATIQ_REQUIRE(((sizeof...(In) >= 2)), "statiq::Concat needs at least two inputs: At<Concat, i, j, ...>", diagnostic::input_count_mismatch<Node, Concat, 2, sizeof...(In)>);
    STATIQ_REQUIRE((detail::concat_shape<In...>::agree), "statiq::Concat: inputs must agree in every extent but the channels (last axis)", diagnostic::shape_mismatch<Node, Concat, In...>);
    using output = typename detail::concat_shape<In...>::type;
    static constexpr std::array<std::size_t, 0> param_sizes{};
  };
};

}  // namespace statiq
