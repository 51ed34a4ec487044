// fold_batch_norm: each BatchNorm reading a Conv2d (or ValuePadded Conv2d) or Dense that nothing else reads is folded into that layer's
// weights and bias; every other BatchNorm stays. The graph keeps its nodes (At<> indices stay valid): where the
// BatchNorm directly follows its producer, the folded layer takes the BatchNorm's node and the producer's node
// becomes an Identity (a view, not run), so a Relu after the BatchNorm still fuses into the layer's output;
// otherwise the BatchNorm's node becomes the Identity.
//   w'[o] = w[o] * gamma[o] / sqrt(var[o] + eps),  b'[o] = (b[o] - mean[o]) * gamma[o] / sqrt(var[o] + eps) + beta[o]
// Computed in double, rounded once to float; in constexpr for a constexpr model.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "statiq/graph/batch_norm.hpp"
#include "statiq/graph/conv2d.hpp"
#include "statiq/graph/dense.hpp"
#include "statiq/graph/graph.hpp"
#include "statiq/graph/identity.hpp"
#include "statiq/graph/value_padded.hpp"
#include "statiq/transform/detail/constexpr_math.hpp"
#include "statiq/transform/detail/map_nodes.hpp"
#include "statiq/transform/pipeline.hpp"

namespace statiq {

namespace detail {

template <class L>
inline constexpr bool is_batch_norm_v = false;
template <class E>
inline constexpr bool is_batch_norm_v<BatchNorm<E>> = true;

template <class L>
inline constexpr double bn_epsilon_v = 0.0;
template <class E>
inline constexpr double bn_epsilon_v<BatchNorm<E>> = static_cast<double>(E::num) / static_cast<double>(E::den);

// Layers whose output channel o is an affine function of weights block o and bias[o].
template <class L>
inline constexpr bool folds_affine_v = false;
template <std::size_t C, class... A>
inline constexpr bool folds_affine_v<Conv2d<C, A...>> = true;
template <std::size_t N>
inline constexpr bool folds_affine_v<Dense<N>> = true;
template <class Conv>
inline constexpr bool folds_affine_v<ValuePadded<Conv>> = true;  // its pad value (input side) is unchanged

// Node I of G is a BatchNorm that folds into its input node.
template <class G, std::size_t I>
constexpr bool bn_folds() {
  if constexpr (I == 0) {
    return false;
  } else if constexpr (!is_batch_norm_v<typename G::template layer_t<I>>) {
    return false;
  } else {
    constexpr std::size_t src = G::template inputs_v<I>[0];
    return folds_affine_v<typename G::template layer_t<src>> && readers_of<G>(src) == 1;
  }
}

// The folded layer moves into the BatchNorm's node I (its producer is node I - 1).
template <class G, std::size_t I>
constexpr bool bn_takes_layer() {
  if constexpr (!bn_folds<G, I>()) return false;
  else return G::template inputs_v<I>[0] == I - 1;
}

// Node I of G is a producer whose layer moves into the next node.
template <class G, std::size_t I>
constexpr bool layer_moves_on() {
  if constexpr (I + 1 >= G::num_nodes) return false;
  else return bn_takes_layer<G, I + 1>();
}

template <class G>
struct fold_batch_norm_policy {
  template <std::size_t I>
  static auto pick() {
    if constexpr (bn_takes_layer<G, I>()) return std::type_identity<typename G::template layer_t<I - 1>>{};
    else if constexpr (bn_folds<G, I>() || layer_moves_on<G, I>()) return std::type_identity<Identity>{};
    else return std::type_identity<typename G::template layer_t<I>>{};
  }
  template <std::size_t I>
  using layer = typename decltype(pick<I>())::type;
};

}  // namespace detail

// The graph fold_batch_norm makes of graph G.
template <class G>
using fold_batch_norm_graph_t = detail::map_nodes_t<G, detail::fold_batch_norm_policy<G>>;

struct fold_batch_norm_t : transform_closure<fold_batch_norm_t> {
  template <model_type M>
  constexpr Owned<fold_batch_norm_graph_t<graph_of_t<M>>> operator()(const M& m) const {
    using G = graph_of_t<M>;
    using G2 = fold_batch_norm_graph_t<G>;
    Owned<G2> out{};
    detail::carry_unchanged(m, out);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((
           [&] {
             if constexpr (detail::bn_folds<G, I>()) {
               constexpr std::size_t src = G::template inputs_v<I>[0];
               constexpr std::size_t c = channels_v<typename G::template shape_t<I>>;
               constexpr std::size_t wsize = G::param_sizes[G::first_param[src]];
               constexpr std::size_t per_channel = wsize / c;
               constexpr double eps = detail::bn_epsilon_v<typename G::template layer_t<I>>;
               const float* w = m.param(G::first_param[src]);
               const float* b = m.param(G::first_param[src] + 1);
               const float* gamma = m.param(G::first_param[I]);
               const float* beta = m.param(G::first_param[I] + 1);
               const float* mean = m.param(G::first_param[I] + 2);
               const float* var = m.param(G::first_param[I] + 3);
               constexpr std::size_t dst = detail::bn_takes_layer<G, I>() ? I : src;
               float* w2 = out.param(G2::first_param[dst]);
               float* b2 = out.param(G2::first_param[dst] + 1);
               for (std::size_t o = 0; o < c; ++o) {
                 const double k = static_cast<double>(gamma[o]) /
                                  detail::sqrt_constexpr(static_cast<double>(var[o]) + eps);
                 for (std::size_t e = 0; e < per_channel; ++e)
                   w2[o * per_channel + e] = static_cast<float>(static_cast<double>(w[o * per_channel + e]) * k);
                 b2[o] = static_cast<float>((static_cast<double>(b[o]) - static_cast<double>(mean[o])) * k +
                                            static_cast<double>(beta[o]));
               }
               // Parameters past weights and bias (a ValuePadded conv's pad value) move with the layer.
               for (std::size_t k = 2; k < G::params_per_node[src]; ++k)
                 for (std::size_t e = 0; e < G::param_sizes[G::first_param[src] + k]; ++e)
                   out.param(G2::first_param[dst] + k)[e] = m.param(G::first_param[src] + k)[e];
             }
           }()),
       ...);
    }(std::make_index_sequence<G::num_nodes>{});
    return out;
  }
};
inline constexpr fold_batch_norm_t fold_batch_norm{};

}  // namespace statiq
