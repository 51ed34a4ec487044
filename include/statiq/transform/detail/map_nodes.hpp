// Rewriting a graph type node by node: replace layers 1:1 (At<> wiring kept), insert a node after the Input
// (At<> indices shifted), and carry the parameters of nodes a rewrite leaves unchanged.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "statiq/graph/graph.hpp"

namespace statiq::detail {

// A graph element (a layer, or At<layer, i...>) with its layer replaced by L, its wiring kept.
template <class E, class L>
struct rewire {
  using type = L;
};
template <class Old, std::size_t... J, class L>
struct rewire<At<Old, J...>, L> {
  using type = At<L, J...>;
};

// map_nodes_t<G, Policy>: Graph whose node I is Policy::template layer<I>, wired as G's node I.
template <class G, class Policy, class Seq = std::make_index_sequence<G::num_nodes>>
struct map_nodes;
template <class... N, class Policy, std::size_t... I>
struct map_nodes<Graph<N...>, Policy, std::index_sequence<I...>> {
  using type = Graph<typename rewire<N, typename Policy::template layer<I>>::type...>;
};
template <class G, class Policy>
using map_nodes_t = typename map_nodes<G, Policy>::type;

// A graph element moved one node later: At<> indices shift by one, readers of the Input read the new node 1.
template <class E>
struct shift_one {
  using type = E;
};
template <class L, std::size_t... J>
struct shift_one<At<L, J...>> {
  using type = At<L, (J + 1)...>;
};

// insert_after_input_t<G, InputLayer, L>: G with node 0 replaced by InputLayer and L inserted as node 1.
template <class G, class InputLayer, class L>
struct insert_after_input;
template <class N0, class... N, class InputLayer, class L>
struct insert_after_input<Graph<N0, N...>, InputLayer, L> {
  using type = Graph<InputLayer, L, typename shift_one<N>::type...>;
};
template <class G, class InputLayer, class L>
using insert_after_input_t = typename insert_after_input<G, InputLayer, L>::type;

// How many nodes of G read node K.
template <class G>
constexpr std::size_t readers_of(std::size_t k) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    std::size_t n = 0;
    ((
         [&] {
           for (auto j : G::template inputs_v<I>) n += j == k ? 1 : 0;
         }()),
     ...);
    return n;
  }(std::make_index_sequence<G::num_nodes>{});
}

// The first node of G that reads node K (G::num_nodes if none).
template <class G>
constexpr std::size_t first_reader_of(std::size_t k) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    std::size_t r = G::num_nodes;
    ((
         [&] {
           for (auto j : G::template inputs_v<I>)
             if (j == k && r == G::num_nodes) r = I;
         }()),
     ...);
    return r;
  }(std::make_index_sequence<G::num_nodes>{});
}

// Does node I of From and node I + Shift of To hold the same layer with the same parameter sizes?
template <class From, class To, std::size_t Shift, std::size_t I>
constexpr bool same_node() {
  if constexpr (I + Shift >= To::num_nodes) {
    return false;
  } else if constexpr (!std::is_same_v<typename From::template layer_t<I>, typename To::template layer_t<I + Shift>>) {
    return false;
  } else {
    for (std::size_t k = 0; k < From::params_per_node[I]; ++k)
      if (From::param_sizes[From::first_param[I] + k] != To::param_sizes[To::first_param[I + Shift] + k]) return false;
    return true;
  }
}

// Copies the parameters of every node (1..) that is unchanged from model `src` (graph From) to `dst`, where
// From's node I is To's node I + Shift (Shift = 1 after insert_after_input_t).
template <std::size_t Shift = 0, class M, class To>
constexpr void carry_unchanged(const M& src, Owned<To>& dst) {
  using From = graph_of_t<M>;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((
         [&] {
           if constexpr (same_node<From, To, Shift, I>()) {
             for (std::size_t k = 0; k < From::params_per_node[I]; ++k) {
               const std::size_t p = From::first_param[I] + k;
               const float* s = src.param(p);
               float* d = dst.param(To::first_param[I + Shift] + k);
               for (std::size_t e = 0; e < From::param_sizes[p]; ++e) d[e] = s[e];
             }
           }
         }()),
     ...);
  }(std::make_index_sequence<From::num_nodes>{});
}

}  // namespace statiq::detail
