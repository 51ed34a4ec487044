// Quantized<G, T, Mask>: graph G executed in 8 bits where Mask says so, in float elsewhere (mixed precision);
// int8 weights pre-packed for the kernels, s32 biases, Q31 multipliers and zero points held by value.
//
// The type says what the structure decides (graph, element type, which nodes are quantized, and from that
// every buffer size); the members hold what the data decided (scales, zero points, packed weights). No
// float weights are kept for quantized nodes. One element type per model: u8 (POT's `mixed` preset,
// asymmetric activations) or s8 (`performance`, symmetric).
//
// Per node, for a quantized node i:
//   q[i]            scale and zero point of its output tensor
//   lo[i], hi[i]    clamp of its output in quantized units (type range, fused ReLU/Clip)
//   Conv2d          a GEMM blob from kernels::pack_conv2d_q (input zero point and bias folded in), or, for a
//                   depthwise conv (groups == in_c == out_c), s8 weights [C][kh][kw], s32 bias and Q31
//                   multipliers for kernels::depthwise_conv2d_q
//   Dense           a GEMM blob from kernels::pack_gemm_weights
//   Add             kernels::qadd_params
//   Concat          a copy where an input shares the output's scale and zero point (unify_concat_ranges),
//                   a rescale otherwise
// Float nodes keep their parameters in `floats`, in the graph's parameter order. Where a node reads a tensor
// of the other precision, the executor converts it into the node's scratch (planned, in the arena).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "statiq/core/dtype.hpp"
#include "statiq/exec/eval_f32.hpp"
#include "statiq/exec/plan.hpp"
#include "statiq/kernels/conv2d_pack.hpp"
#include "statiq/kernels/pack.hpp"
#include "statiq/kernels/ref/add_q.hpp"
#include "statiq/kernels/ref/conv2d_q.hpp"

namespace statiq {

namespace detail {

template <class L>
inline constexpr bool is_conv_v = false;
template <std::size_t C, class... A>
inline constexpr bool is_conv_v<Conv2d<C, A...>> = true;
template <class L>
inline constexpr bool is_dense_v = false;
template <std::size_t N>
inline constexpr bool is_dense_v<Dense<N>> = true;

template <class G, std::size_t I>
constexpr bool is_depthwise() {
  using L = typename G::template layer_t<I>;
  if constexpr (is_conv_v<L>) {
    using In = typename G::template shape_t<G::template inputs_v<I>[0]>;
    return L::groups == channels_v<In> && L::groups == L::out_channels && L::groups > 1;
  } else {
    return false;
  }
}

template <class G, std::size_t I>
constexpr kernels::conv2d_dims node_conv_dims() {
  using L = typename G::template layer_t<I>;
  return conv_dims<typename G::template shape_t<G::template inputs_v<I>[0]>, typename G::template shape_t<I>, L>();
}

// Where a quantized model keeps each node's data: offsets into its typed arrays, computed from the type.
template <class G, class Mask>
struct quantized_layout;
template <class G, bool... Q>
struct quantized_layout<G, std::integer_sequence<bool, Q...>> {
  static constexpr std::size_t N = G::num_nodes;
  static_assert(sizeof...(Q) == N, "statiq::Quantized<G, T, Mask>: Mask needs one flag per graph node");
  static constexpr std::array<bool, N> quantized{Q...};

  struct counts {
    std::array<std::size_t, N> bytes{}, ints{}, mults{}, adds{}, floats{};  // offsets per node
    std::size_t n_bytes = 0, n_ints = 0, n_mults = 0, n_adds = 0, n_floats = 0;
  };
  template <std::size_t I>
  static constexpr void count_node(counts& c) {
    using L = typename G::template layer_t<I>;
    c.bytes[I] = c.n_bytes;
    c.ints[I] = c.n_ints;
    c.mults[I] = c.n_mults;
    c.adds[I] = c.n_adds;
    c.floats[I] = c.n_floats;
    if (!quantized[I]) {
      for (std::size_t p = 0; p < L::num_params; ++p) c.n_floats += G::param_sizes[G::first_param[I] + p];
      return;
    }
    if constexpr (is_conv_v<L>) {
      constexpr auto d = node_conv_dims<G, I>();
      if constexpr (is_depthwise<G, I>()) {
        c.n_bytes += static_cast<std::size_t>(d.out_c) * d.k_h * d.k_w;
        c.n_ints += static_cast<std::size_t>(d.out_c);
        c.n_mults += static_cast<std::size_t>(d.out_c);
      } else {
        c.n_bytes += kernels::conv2d_q_packed_size(d);
      }
    } else if constexpr (is_dense_v<L>) {
      using In = typename G::template shape_t<G::template inputs_v<I>[0]>;
      c.n_bytes += kernels::gemm_packed_size(L::units, In::size);
    } else if constexpr (std::is_same_v<L, Add>) {
      c.n_adds += 1;
    }
    c.n_bytes = align_up(c.n_bytes, 64);  // each blob starts on a cache line
  }
  template <std::size_t... I>
  static constexpr counts count_all(std::index_sequence<I...>) {
    counts c{};
    (count_node<I>(c), ...);
    return c;
  }
  static constexpr counts layout = count_all(std::make_index_sequence<N>{});
};

// A node's own output dtype follows its input for layers that only move data.
template <class L>
inline constexpr bool is_data_movement_v =
    is_alias_v<L> || std::is_same_v<L, Concat> || is_clamp_v<L>;

template <class G, class T, class Mask>
struct quantized_key {
  using graph = G;
  using element = T;
  using layout_t = quantized_layout<G, Mask>;
  static constexpr std::size_t N = G::num_nodes;

  template <std::size_t... I>
  static constexpr std::array<std::size_t, N> scratch_of(std::index_sequence<I...>) {
    constexpr auto size = node_sizes<G>(std::make_index_sequence<N>{});
    std::array<std::size_t, N> s{};
    if (layout_t::quantized[0] && G::input_layer::layout == Layout::nchw) s[0] = size[0] * sizeof(float);
    (
        [&] {
          for (auto k : G::template inputs_v<I>)
            if (layout_t::quantized[k] != layout_t::quantized[I])
              s[I] += size[k] * (layout_t::quantized[I] ? sizeof(T) : sizeof(float));
        }(),
        ...);
    return s;
  }
  struct tensors {
    static constexpr auto elem_bytes = [] {
      std::array<std::size_t, N> e{};
      for (std::size_t i = 0; i < N; ++i) e[i] = layout_t::quantized[i] ? sizeof(T) : sizeof(float);
      return e;
    }();
    static constexpr std::array<std::size_t, N> scratch = scratch_of(std::make_index_sequence<N>{});
  };
};

}  // namespace detail

template <class G, quantized_element T, class Mask>
struct Quantized {
  using graph_type = G;
  using element_type = T;
  using plan_key = detail::quantized_key<G, T, Mask>;
  using layout_type = detail::quantized_layout<G, Mask>;
  static constexpr std::size_t num_nodes = G::num_nodes;
  static constexpr auto quantized = layout_type::quantized;
  static constexpr auto offsets = layout_type::layout;

  std::array<tensor_quant, num_nodes> q{};
  std::array<std::int32_t, num_nodes> lo{}, hi{};
  std::array<std::uint8_t, offsets.n_bytes> bytes{};
  std::array<std::int32_t, offsets.n_ints> ints{};
  std::array<kernels::ref::requant_multiplier, offsets.n_mults> mults{};
  std::array<kernels::qadd_params, offsets.n_adds> adds{};
  std::array<float, offsets.n_floats> floats{};

  // Float parameter p of graph G (only for nodes kept in float): what float evaluation reads.
  constexpr const float* param(std::size_t p) const {
    std::size_t node = 0;
    for (std::size_t i = 0; i < num_nodes; ++i)
      if (G::params_per_node[i] != 0 && G::first_param[i] <= p) node = i;
    std::size_t off = offsets.floats[node];
    for (std::size_t k = G::first_param[node]; k < p; ++k) off += G::param_sizes[k];
    return floats.data() + off;
  }

  // Bytes of parameters the model holds (weights, biases, multipliers, zero points): the image size of a
  // baked model's data.
  static constexpr std::size_t weight_bytes = offsets.n_bytes + 4 * offsets.n_ints + sizeof(kernels::ref::requant_multiplier) * offsets.n_mults +
                                              sizeof(kernels::qadd_params) * offsets.n_adds + 4 * offsets.n_floats +
                                              num_nodes * (sizeof(tensor_quant) + 8);
};

template <class M>
inline constexpr bool is_quantized_model_v = false;
template <class G, class T, class Mask>
inline constexpr bool is_quantized_model_v<Quantized<G, T, Mask>> = true;

}  // namespace statiq
