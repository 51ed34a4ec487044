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
//   ValuePadded     the Conv2d's GEMM blob (64-byte aligned), then for the border pixels s8 weights in bytes,
//                   s32 bias [out_c] and Q16 pad values [in_c] in ints, multipliers [out_c]
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

// A max pool conv2d_q_max_pool2 can take: 2x2 windows, stride 2, no padding, no dilation.
template <class L>
inline constexpr bool is_pool2_v = false;
template <class... A>
inline constexpr bool is_pool2_v<MaxPool<A...>> = [] {
  using P = MaxPool<A...>;
  return P::kernel::h == 2 && P::kernel::w == 2 && P::stride::h == 2 && P::stride::w == 2 && P::pads::top == 0 &&
         P::pads::left == 0 && P::pads::bottom == 0 && P::pads::right == 0 && P::dilation::h == 1 &&
         P::dilation::w == 1 && !P::ceil_mode;
}();

template <class L>
inline constexpr bool has_int8_kernel_v = is_conv_v<L> || is_value_padded_v<L> || is_dense_v<L> || std::is_same_v<L, Add> ||
                                          is_max_pool_v<L> || is_avg_pool_v<L> || std::is_same_v<L, GlobalAvgPool> ||
                                          std::is_same_v<L, Concat> || is_clamp_v<L> || is_alias_v<L> ||
                                          is_input_v<L>;
// Layers whose output is quantized exactly like their input (same scale and zero point).
template <class L>
inline constexpr bool keeps_input_quant_v = is_alias_v<L> || is_max_pool_v<L> || is_avg_pool_v<L> ||
                                            std::is_same_v<L, GlobalAvgPool> || is_clamp_v<L>;

template <class G, std::size_t I>
constexpr bool reads_node(std::size_t k) {
  for (auto j : G::template inputs_v<I>)
    if (j == k) return true;
  return false;
}

// Which nodes run in int8, given the compute nodes a caller wants in float: a node with an int8 kernel is
// quantized unless it is kept; layers that only move data follow their inputs; the Input is quantized when
// something quantized reads it.
// Whether node I has an int8 kernel for its layer and shapes (a convolution's reduction must fit conv2d_q).
template <class G, std::size_t I>
constexpr bool has_int8_kernel_at() {
  using L = typename G::template layer_t<I>;
  if constexpr (is_conv_v<L> || is_value_padded_v<L>) {
    return is_depthwise<G, I>() || kernels::conv2d_q_gemm_k(node_conv_dims<G, I>()) <= kernels::conv2d_q_max_k;
  } else {
    return has_int8_kernel_v<L>;
  }
}

template <class G, std::size_t... I>
constexpr std::array<bool, G::num_nodes> derive_mask(const std::array<bool, G::num_nodes>& keep_float,
                                                     std::index_sequence<I...>) {
  constexpr std::size_t N = G::num_nodes;
  constexpr std::array<bool, N> kernel{has_int8_kernel_at<G, I>()...};
  constexpr std::array<bool, N> follows{(keeps_input_quant_v<typename G::template layer_t<I>> ||
                                         std::is_same_v<typename G::template layer_t<I>, Concat>)...};
  std::array<bool, N> q{};
  q[0] = !keep_float[0];
  for (int pass = 0; pass < 2; ++pass) {
    (
        [&] {
          if constexpr (I > 0) {
            bool v = kernel[I] && !keep_float[I];
            if (v && follows[I])
              for (auto k : G::template inputs_v<I>) v = v && q[k];
            q[I] = v;
          }
        }(),
        ...);
    bool any_reader = false;
    ((any_reader = any_reader || (I > 0 && q[I] && reads_node<G, I>(0))), ...);
    q[0] = !keep_float[0] && any_reader;
  }
  return q;
}
template <class G>
constexpr std::array<bool, G::num_nodes> derive_mask(const std::array<bool, G::num_nodes>& keep_float) {
  return derive_mask<G>(keep_float, std::make_index_sequence<G::num_nodes>{});
}

// Where a quantized model keeps each node's data: offsets and sizes in its typed arrays. int8 data for the
// nodes in `quantized`; float parameters for the others, or for every node when `all_floats` (a model whose
// precision is chosen at run time keeps both).
template <class G>
struct quantized_counts {
  static constexpr std::size_t N = G::num_nodes;
  std::array<std::size_t, N> bytes{}, ints{}, mults{}, adds{}, floats{};          // offsets per node
  std::array<std::size_t, N> n_bytes_of{}, n_ints_of{}, n_mults_of{}, n_adds_of{}, n_floats_of{};  // sizes
  std::size_t n_bytes = 0, n_ints = 0, n_mults = 0, n_adds = 0, n_floats = 0;
};

template <class G, std::size_t I>
constexpr void count_node(quantized_counts<G>& c, bool quantized, bool floats_too) {
  using L = typename G::template layer_t<I>;
  c.bytes[I] = c.n_bytes;
  c.ints[I] = c.n_ints;
  c.mults[I] = c.n_mults;
  c.adds[I] = c.n_adds;
  c.floats[I] = c.n_floats;
  if (!quantized || floats_too)
    for (std::size_t p = 0; p < L::num_params; ++p) c.n_floats += G::param_sizes[G::first_param[I] + p];
  if (quantized) {
    if constexpr (is_conv_v<L>) {
      constexpr auto d = node_conv_dims<G, I>();
      if constexpr (is_depthwise<G, I>()) {
        c.n_bytes += static_cast<std::size_t>(d.out_c) * d.k_h * d.k_w;
        c.n_ints += static_cast<std::size_t>(d.out_c);
        c.n_mults += static_cast<std::size_t>(d.out_c);
      } else {
        c.n_bytes += kernels::conv2d_q_packed_size(d);
      }
    } else if constexpr (is_value_padded_v<L>) {
      // The packed GEMM blob, then the s8 weights, s32 bias, multipliers and Q16 pad values the border
      // pixels are recomputed with.
      constexpr auto d = node_conv_dims<G, I>();
      c.n_bytes += align_up(kernels::conv2d_q_packed_size(d), 64) +
                   static_cast<std::size_t>(d.out_c) * d.k_h * d.k_w * (d.in_c / d.groups);
      c.n_ints += static_cast<std::size_t>(d.out_c) + static_cast<std::size_t>(d.in_c);
      c.n_mults += static_cast<std::size_t>(d.out_c);
    } else if constexpr (is_dense_v<L>) {
      using In = typename G::template shape_t<G::template inputs_v<I>[0]>;
      c.n_bytes += kernels::gemm_packed_size(L::units, In::size);
    } else if constexpr (std::is_same_v<L, Add>) {
      c.n_adds += 1;
    }
    c.n_bytes = align_up(c.n_bytes, 64);  // each blob starts on a cache line
  }
  c.n_bytes_of[I] = c.n_bytes - c.bytes[I];
  c.n_ints_of[I] = c.n_ints - c.ints[I];
  c.n_mults_of[I] = c.n_mults - c.mults[I];
  c.n_adds_of[I] = c.n_adds - c.adds[I];
  c.n_floats_of[I] = c.n_floats - c.floats[I];
}

template <class G, std::size_t... I>
constexpr quantized_counts<G> layout_for(const std::array<bool, G::num_nodes>& quantized, bool all_floats,
                                         std::index_sequence<I...>) {
  quantized_counts<G> c{};
  (count_node<G, I>(c, quantized[I], all_floats), ...);
  return c;
}
template <class G>
constexpr quantized_counts<G> layout_for(const std::array<bool, G::num_nodes>& quantized, bool all_floats) {
  return layout_for<G>(quantized, all_floats, std::make_index_sequence<G::num_nodes>{});
}

}  // namespace detail

// The precision of every node is chosen at run time (accuracy-aware search): the model keeps int8 data for
// every node that has an int8 kernel and float parameters for all nodes; every buffer is float-sized.
struct dynamic_mask {};

namespace detail {

template <class G, class Mask>
struct quantized_layout;
template <class G, bool... Q>
struct quantized_layout<G, std::integer_sequence<bool, Q...>> {
  static constexpr std::size_t N = G::num_nodes;
  static_assert(sizeof...(Q) == N, "statiq::Quantized<G, T, Mask>: Mask needs one flag per graph node");
  static constexpr bool dynamic = false;
  static constexpr std::array<bool, N> quantized{Q...};
  static constexpr quantized_counts<G> layout = layout_for<G>(quantized, false);
};
template <class G>
struct quantized_layout<G, dynamic_mask> {
  static constexpr std::size_t N = G::num_nodes;
  static constexpr bool dynamic = true;
  static constexpr std::array<bool, N> quantized = derive_mask<G>(std::array<bool, N>{});  // what can be int8
  static constexpr quantized_counts<G> layout = layout_for<G>(quantized, true);
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
    if (layout_t::quantized[0] && G::input_layer::layout == Layout::nchw && std::is_same_v<input_element_t<G>, float>)
      s[0] = size[0] * sizeof(float);
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
      for (std::size_t i = 0; i < N; ++i)
        e[i] = layout_t::quantized[i] && !layout_t::dynamic ? sizeof(T) : sizeof(float);
      return e;
    }();
    static constexpr std::array<std::size_t, N> scratch = [] {
      auto s = scratch_of(std::make_index_sequence<N>{});
      if (layout_t::dynamic) {  // any input may need converting: room for all of them as floats
        constexpr auto size = node_sizes<G>(std::make_index_sequence<N>{});
        for (std::size_t i = 0; i < N; ++i) s[i] = 0;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
          ((
               [&] {
                 for (auto k : G::template inputs_v<I>) s[I] += size[k] * sizeof(float);
               }()),
           ...);
        }(std::make_index_sequence<N>{});
        if (layout_t::quantized[0]) s[0] = size[0] * sizeof(float);
      }
      return s;
    }();
    // Nodes the plan may fuse (static int8 models): a 2x2, stride-2, unpadded MaxPool into the convolution
    // that produces its input (conv2d_q_max_pool2), when that convolution runs the int8 GEMM kernel.
    static constexpr std::array<bool, N> pool_fusable = [] {
      std::array<bool, N> r{};
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((r[I] = !layout_t::dynamic && layout_t::quantized[I] && is_pool2_v<typename G::template layer_t<I>>), ...);
      }(std::make_index_sequence<N>{});
      return r;
    }();
    static constexpr std::array<bool, N> pool_producer = [] {
      std::array<bool, N> r{};
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&] {
              if constexpr (is_conv_v<typename G::template layer_t<I>> && !is_depthwise<G, I>())
                r[I] = !layout_t::dynamic && layout_t::quantized[I] && kernels::conv2d_q_pool2_fits(node_conv_dims<G, I>());
            }(),
            ...);
      }(std::make_index_sequence<N>{});
      return r;
    }();
    // A dynamic model may quantize its input: the Input node needs a buffer of its own.
    static constexpr bool input_in_arena = layout_t::dynamic && layout_t::quantized[0];
    // Raw u8 pixels are node 0's int8 tensor as they are (scale 1, zero point 0) in a u8 model.
    static constexpr bool input_as_given = layout_t::quantized[0] && !layout_t::dynamic
                                               ? std::is_same_v<input_element_t<G>, T>
                                               : std::is_same_v<input_element_t<G>, float>;
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
  static constexpr bool dynamic = layout_type::dynamic;
  // Static masks: which nodes run in int8. Dynamic: which nodes can; `enabled` says which do.
  static constexpr auto quantized = layout_type::quantized;
  static constexpr auto offsets = layout_type::layout;

  std::array<tensor_quant, num_nodes> q{};
  std::array<std::int32_t, num_nodes> lo{}, hi{};
  alignas(kernels::gemm_blob_alignment) std::array<std::uint8_t, offsets.n_bytes> bytes{};  // blobs 64-aligned
  std::array<std::int32_t, offsets.n_ints> ints{};
  std::array<kernels::ref::requant_multiplier, offsets.n_mults> mults{};
  std::array<kernels::qadd_params, offsets.n_adds> adds{};
  std::array<float, offsets.n_floats> floats{};
  std::array<bool, num_nodes> enabled = quantized;  // dynamic models: the run-time precision of each node

  // Dynamic models: run the compute nodes in `keep_float` in float, everything else that can in int8.
  constexpr void set_float_nodes(const std::array<bool, num_nodes>& keep_float) {
    enabled = detail::derive_mask<G>(keep_float);
  }
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
