// Graph<Nodes...>: a model as a type. Node 0 is the Input; each later node is a layer that reads the
// previous node, or At<Layer, i, j, ...> reading nodes i, j, ... (a DAG: residual blocks, concatenation).
// Shapes are inferred at compile time; parameters (weights) bind as embedded constexpr arrays or as
// std::span<const float, N> over run-time buffers: the same Graph type either way.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

#include "statiq/graph/input.hpp"
#include "statiq/graph/layer.hpp"

namespace statiq {

// At<Layer, i, j, ...>: Layer applied to the outputs of nodes i, j, ... (absolute indices; node 0 is the Input).
template <class L, std::size_t... Inputs>
struct At {
  static_assert(sizeof...(Inputs) >= 1, "statiq::At<Layer, i, ...> needs at least one input node index");
};

namespace detail {

template <class... T>
struct type_list {};

template <std::size_t I, class List>
struct list_at;
template <std::size_t I, class... T>
struct list_at<I, type_list<T...>> {
  using type = std::tuple_element_t<I, std::tuple<T...>>;
};
template <std::size_t I, class List>
using list_at_t = typename list_at<I, List>::type;

// A graph element normalised to (layer, input indices).
template <std::size_t Idx, class E>
struct node_of {
  using layer = E;
  using inputs = std::index_sequence<Idx - 1>;
};
template <class E>
struct node_of<0, E> {
  using layer = E;
  using inputs = std::index_sequence<>;
};
template <std::size_t Idx, class L, std::size_t... I>
struct node_of<Idx, At<L, I...>> {
  using layer = L;
  using inputs = std::index_sequence<I...>;
};

template <class Seq>
struct seq_array;
template <std::size_t... I>
struct seq_array<std::index_sequence<I...>> {
  static constexpr std::array<std::size_t, sizeof...(I)> value{I...};
  static constexpr std::size_t size = sizeof...(I);
};

template <std::size_t Idx, class Node, class Shapes, class Seq = typename Node::inputs>
struct node_infer;
template <std::size_t Idx, class Node, class... S, std::size_t... I>
struct node_infer<Idx, Node, detail::type_list<S...>, std::index_sequence<I...>> {
  using L = typename Node::layer;
  static_assert(!is_input_v<L> || Idx == 0, "statiq::Graph: an Input may only be node 0");
  static_assert(Idx != 0 || is_input_v<L>, "statiq::Graph<Input<Shape<...>>, ...>: node 0 must be an Input");
  static_assert(layer<L>, "statiq::Graph: every node must be a layer (Conv2d, Dense, Relu, ...) or At<Layer, i...>");
  static constexpr std::size_t first_bad_input = [] {
    for (std::size_t i : {I..., Idx}) if (i >= Idx) return i;
    return Idx;
  }();
  STATIQ_REQUIRE(((I < Idx) && ...),
                 "statiq::Graph: At<Layer, i, ...> may only read earlier nodes (i < the node's own index)",
                 diagnostic::input_not_an_earlier_node<Idx, first_bad_input>);
  static constexpr std::size_t expected = is_input_v<L> ? 0 : (L::arity == 0 ? sizeof...(I) : L::arity);
  STATIQ_REQUIRE((expected == sizeof...(I)), "statiq::Graph: a layer is wired to the wrong number of inputs (Add needs At<Add, i, j>)", diagnostic::input_count_mismatch<Idx, L, expected, sizeof...(I)>);
  // Clamp indices so that a wiring error above does not cascade into unreadable follow-up errors.
  using infer = typename L::template infer<Idx, list_at_t<(I < Idx ? I : 0), type_list<S...>>...>;
  using output = typename infer::output;
};

template <class Shapes, std::size_t Idx, class... Rest>
struct infer_shapes;
template <class... S, std::size_t Idx>
struct infer_shapes<type_list<S...>, Idx> {
  using type = type_list<S...>;
};
template <class... S, std::size_t Idx, class E, class... Rest>
struct infer_shapes<type_list<S...>, Idx, E, Rest...> {
  using out = typename node_infer<Idx, node_of<Idx, E>, type_list<S...>>::output;
  using type = typename infer_shapes<type_list<S..., out>, Idx + 1, Rest...>::type;
};

// Floats in a parameter source: a float array or a std::span<const float, N> of static extent.
template <class A>
struct param_extent {
  static constexpr bool valid = false;
  static constexpr std::size_t value = 0;
};
template <std::size_t N>
struct param_extent<float[N]> {
  static constexpr bool valid = true;
  static constexpr std::size_t value = N;
};
template <std::size_t N>
struct param_extent<const float[N]> : param_extent<float[N]> {};
template <std::size_t N>
struct param_extent<std::span<const float, N>> {
  static constexpr bool valid = N != std::dynamic_extent;
  static constexpr std::size_t value = N;
};
template <std::size_t N>
struct param_extent<std::array<float, N>> : param_extent<float[N]> {};

template <class A>
constexpr const float* param_data(const A& a) {
  if constexpr (std::is_array_v<A>) {
    return a;
  } else {
    return a.data();
  }
}

}  // namespace detail

template <class... Nodes>
class Graph {
 public:
  using graph_type = Graph;
  static constexpr std::size_t num_nodes = sizeof...(Nodes);
  static_assert(num_nodes >= 2, "statiq::Graph<Input<...>, layers...> needs an Input and at least one layer");

  using shapes = typename detail::infer_shapes<detail::type_list<>, 0, Nodes...>::type;
  template <std::size_t I>
  using node = detail::node_of<I, std::tuple_element_t<I, std::tuple<Nodes...>>>;
  template <std::size_t I>
  using layer_t = typename node<I>::layer;
  template <std::size_t I>
  using shape_t = detail::list_at_t<I, shapes>;
  template <std::size_t I>
  static constexpr auto inputs_v = detail::seq_array<typename node<I>::inputs>::value;

  using input_layer = layer_t<0>;
  using input_shape = shape_t<0>;
  using output_shape = shape_t<num_nodes - 1>;

 private:
  template <std::size_t... I>
  static constexpr auto node_param_counts(std::index_sequence<I...>) {
    return std::array<std::size_t, num_nodes>{layer_t<I>::num_params...};
  }
  template <std::size_t I>
  static constexpr auto node_param_sizes() {
    return detail::node_infer<I, node<I>, shapes>::infer::param_sizes;
  }
  template <std::size_t... I>
  static constexpr auto all_param_sizes(std::index_sequence<I...>) {
    constexpr std::size_t total = (std::size_t{0} + ... + layer_t<I>::num_params);
    std::array<std::size_t, total> out{};
    std::size_t k = 0;
    ((
         [&] {
           for (auto s : node_param_sizes<I>()) out[k++] = s;
         }()),
     ...);
    return out;
  }

 public:
  // Floats each node's parameter arrays hold, in node order, and where each node's first one is.
  static constexpr std::array<std::size_t, num_nodes> params_per_node =
      node_param_counts(std::make_index_sequence<num_nodes>{});
  static constexpr auto param_sizes = all_param_sizes(std::make_index_sequence<num_nodes>{});
  static constexpr std::size_t num_params = param_sizes.size();
  static constexpr std::array<std::size_t, num_nodes> first_param = [] {
    std::array<std::size_t, num_nodes> f{};
    std::size_t k = 0;
    for (std::size_t i = 0; i < num_nodes; ++i) {
      f[i] = k;
      k += params_per_node[i];
    }
    return f;
  }();
  static constexpr std::size_t weight_count = [] {
    std::size_t n = 0;
    for (auto s : param_sizes) n += s;
    return n;
  }();

  constexpr Graph() requires(num_params == 0) = default;

  // Binds parameter arrays in node order: float[N], std::array<float, N> or std::span<const float, N>.
  template <class... A>
    requires(sizeof...(A) >= 1 && !(sizeof...(A) == 1 && (std::is_same_v<std::remove_cvref_t<A>, Graph> && ...)))
  constexpr Graph(const A&... args) : params_{detail::param_data(args)...} {
    STATIQ_REQUIRE((sizeof...(A) == num_params), "statiq::Graph{params...}: give one parameter array per layer parameter, in node order "
                  "(Conv2d and Dense: weights, bias; BatchNorm: gamma, beta, mean, var)", diagnostic::parameter_count_mismatch<num_params, sizeof...(A)>);
    static_assert((detail::param_extent<A>::valid && ...),
                  "statiq::Graph{params...}: each parameter is a float array, std::array<float, N> or "
                  "std::span<const float, N> with a static extent N (std::span<const float> has none)");
    check_sizes<A...>(std::make_index_sequence<sizeof...(A)>{});
  }

  constexpr const float* param(std::size_t i) const { return params_[i]; }
  template <std::size_t Node, std::size_t K>
  constexpr std::span<const float, param_sizes[first_param[Node] + K]> param() const {
    return std::span<const float, param_sizes[first_param[Node] + K]>(params_[first_param[Node] + K],
                                                                      param_sizes[first_param[Node] + K]);
  }

 private:
  // Node owning parameter p, for diagnostics.
  static constexpr std::size_t owner_of(std::size_t p) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < num_nodes; ++i)
      if (params_per_node[i] != 0 && first_param[i] <= p) n = i;
    return n;
  }
  template <class... A, std::size_t... P>
  static constexpr void check_sizes(std::index_sequence<P...>) {
    if constexpr (sizeof...(A) == num_params) {
      (check_one<P, A>(), ...);
    }
  }
  template <std::size_t P, class A>
  static constexpr void check_one() {
    constexpr std::size_t node_index = owner_of(P);
    constexpr std::size_t expected = param_sizes[P];
    constexpr std::size_t got = detail::param_extent<A>::value;
    STATIQ_REQUIRE((expected == got || !detail::param_extent<A>::valid), "statiq::Graph{params...}: a parameter array has the wrong number of floats for its layer "
        "(see weight_count_mismatch<node, layer, input shape, parameter, expected, given>)", diagnostic::weight_count_mismatch<node_index, layer_t<node_index>,
                                                              shape_t<inputs_v<node_index>[0]>,
                                                              P - first_param[node_index], expected, got>);
  }

  std::array<const float*, num_params> params_{};
};

template <class T>
inline constexpr bool is_graph_v = false;
template <class... N>
inline constexpr bool is_graph_v<Graph<N...>> = true;

// Owned<G>: graph G with its parameters held by value (one float array, parameters in node order), so a
// transform can return a new model, in constexpr where the input model is constexpr.
template <class G>
struct Owned {
  static_assert(is_graph_v<G>, "statiq::Owned<G>: G must be a statiq::Graph<...>");
  using graph_type = G;
  static constexpr std::array<std::size_t, G::num_params> offsets = [] {
    std::array<std::size_t, G::num_params> o{};
    std::size_t k = 0;
    for (std::size_t i = 0; i < G::num_params; ++i) {
      o[i] = k;
      k += G::param_sizes[i];
    }
    return o;
  }();
  std::array<float, G::weight_count> weights{};

  constexpr const float* param(std::size_t i) const { return weights.data() + offsets[i]; }
  constexpr float* param(std::size_t i) { return weights.data() + offsets[i]; }
  template <std::size_t Node, std::size_t K>
  constexpr std::span<const float, G::param_sizes[G::first_param[Node] + K]> param() const {
    return std::span<const float, G::param_sizes[G::first_param[Node] + K]>(param(G::first_param[Node] + K),
                                                                            G::param_sizes[G::first_param[Node] + K]);
  }
  template <std::size_t Node, std::size_t K>
  constexpr std::span<float, G::param_sizes[G::first_param[Node] + K]> param() {
    return std::span<float, G::param_sizes[G::first_param[Node] + K]>(param(G::first_param[Node] + K),
                                                                      G::param_sizes[G::first_param[Node] + K]);
  }
};

// Copies any model's parameters into an Owned model of the same graph.
template <class M>
constexpr Owned<typename M::graph_type> to_owned(const M& m) {
  using G = typename M::graph_type;
  Owned<G> o{};
  for (std::size_t p = 0; p < G::num_params; ++p)
    for (std::size_t i = 0; i < G::param_sizes[p]; ++i) o.weights[o.offsets[p] + i] = m.param(p)[i];
  return o;
}

// A model: a Graph (parameters bound by reference) or an Owned graph (parameters by value).
template <class M>
concept model_type = requires(const std::remove_cvref_t<M>& m) {
  typename std::remove_cvref_t<M>::graph_type;
  requires is_graph_v<typename std::remove_cvref_t<M>::graph_type>;
  { m.param(std::size_t{0}) } -> std::convertible_to<const float*>;
};

template <class M>
using graph_of_t = typename std::remove_cvref_t<M>::graph_type;

}  // namespace statiq
