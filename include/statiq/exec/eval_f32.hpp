// Float evaluation of one graph node: maps a layer and its inferred shapes onto a kernel call.
#pragma once

#include <cstddef>
#include <limits>

#include "statiq/graph/activation.hpp"
#include "statiq/graph/add.hpp"
#include "statiq/graph/batch_norm.hpp"
#include "statiq/graph/concat.hpp"
#include "statiq/graph/conv2d.hpp"
#include "statiq/graph/dense.hpp"
#include "statiq/graph/graph.hpp"
#include "statiq/graph/pool.hpp"
#include "statiq/graph/protected.hpp"
#include "statiq/graph/reshape.hpp"
#include "statiq/graph/softmax.hpp"
#include "statiq/kernels/conv2d.hpp"
#include "statiq/kernels/dense.hpp"
#include "statiq/kernels/pool.hpp"
#include "statiq/kernels/ref/conv2d.hpp"
#include "statiq/kernels/ref/dense.hpp"
#include "statiq/kernels/ref/elementwise_f32.hpp"
#include "statiq/kernels/ref/pool_f32.hpp"

namespace statiq::detail {

template <class G, std::size_t I>
struct node_io {
  static constexpr std::size_t n_in = G::template inputs_v<I>.size();
  float* in[n_in == 0 ? 1 : n_in]{};
  float* out = nullptr;
  std::size_t batch = 0;
  float lo = -std::numeric_limits<float>::infinity();  // fused output clamp
  float hi = std::numeric_limits<float>::infinity();
};

template <class L>
struct layer_tag {};

// The sliding-window geometry conv2d_dims and pool2d_dims share, from the shapes and a layer's attributes.
template <class In, class Out, class L, class D>
constexpr void fill_window(D& d) {
  d.in_h = static_cast<int>(In::dims[0]);
  d.in_w = static_cast<int>(In::dims[1]);
  d.out_h = static_cast<int>(Out::dims[0]);
  d.out_w = static_cast<int>(Out::dims[1]);
  d.k_h = static_cast<int>(L::kernel::h);
  d.k_w = static_cast<int>(L::kernel::w);
  d.stride_h = static_cast<int>(L::stride::h);
  d.stride_w = static_cast<int>(L::stride::w);
  d.pad_top = static_cast<int>(L::pads::top);
  d.pad_left = static_cast<int>(L::pads::left);
  d.pad_bottom = static_cast<int>(L::pads::bottom);
  d.pad_right = static_cast<int>(L::pads::right);
  d.dil_h = static_cast<int>(L::dilation::h);
  d.dil_w = static_cast<int>(L::dilation::w);
}

template <class In, class Out, class L>
constexpr kernels::conv2d_dims conv_dims() {
  kernels::conv2d_dims d{};
  fill_window<In, Out, L>(d);
  d.in_c = static_cast<int>(In::dims[2]);
  d.out_c = static_cast<int>(Out::dims[2]);
  d.groups = static_cast<int>(L::groups);
  return d;
}

template <class In, class Out, class L>
constexpr kernels::pool2d_dims pool_dims() {
  kernels::pool2d_dims d{};
  fill_window<In, Out, L>(d);
  d.channels = static_cast<int>(In::dims[2]);
  return d;
}

template <class G, std::size_t I, std::size_t C, class... A, class M>
void eval_node(layer_tag<Conv2d<C, A...>>, const M& g, const node_io<G, I>& io) noexcept {
  using In = typename G::template shape_t<G::template inputs_v<I>[0]>;
  using Out = typename G::template shape_t<I>;
  constexpr auto d = conv_dims<In, Out, Conv2d<C, A...>>();
  const float* w = g.param(G::first_param[I]);
  const float* b = g.param(G::first_param[I] + 1);
  constexpr bool depthwise = d.groups > 1 && d.groups == d.in_c && d.groups == d.out_c;
  for (std::size_t s = 0; s < io.batch; ++s) {
    if constexpr (depthwise) {
      kernels::depthwise_conv2d_f32(d, io.in[0] + s * In::size, w, b, io.out + s * Out::size, io.lo, io.hi);
    } else {
      kernels::conv2d_f32(d, io.in[0] + s * In::size, w, b, io.out + s * Out::size, io.lo, io.hi);
    }
  }
}

template <class G, std::size_t I, std::size_t N, class M>
void eval_node(layer_tag<Dense<N>>, const M& g, const node_io<G, I>& io) noexcept {
  using In = typename G::template shape_t<G::template inputs_v<I>[0]>;
  kernels::dense_f32(io.batch, N, In::size, io.in[0], g.param(G::first_param[I]), g.param(G::first_param[I] + 1),
                     io.out, io.lo, io.hi);
}

template <class G, std::size_t I, class E, class M>
void eval_node(layer_tag<BatchNorm<E>>, const M& g, const node_io<G, I>& io) noexcept {
  using S = typename G::template shape_t<I>;
  constexpr std::size_t c = channels_v<S>;
  const std::size_t p = G::first_param[I];
  kernels::ref::batch_norm_f32(io.batch * S::size / c, c, io.in[0], g.param(p), g.param(p + 1), g.param(p + 2),
                               g.param(p + 3), BatchNorm<E>::epsilon, io.out);
}

template <class G, std::size_t I, class L>
  requires is_clamp_v<L>
void eval_node(layer_tag<L>, const auto& g, const node_io<G, I>& io) noexcept {
  using S = typename G::template shape_t<I>;
  const clamp_range r = clamp_bounds<G, I>(g);  // Protected<Act>: run-time bounds
  if constexpr (is_protected_v<L>) {
    kernels::ref::supervise_range_f32(io.batch * S::size, io.in[0], r.lo, r.hi, io.out);
  } else {
    kernels::ref::clamp_f32(io.batch * S::size, io.in[0], r.lo, r.hi, io.out);
  }
}

template <class G, std::size_t I, class... A>
void eval_node(layer_tag<MaxPool<A...>>, const auto&, const node_io<G, I>& io) noexcept {
  using In = typename G::template shape_t<G::template inputs_v<I>[0]>;
  using Out = typename G::template shape_t<I>;
  constexpr auto d = pool_dims<In, Out, MaxPool<A...>>();
  for (std::size_t s = 0; s < io.batch; ++s)
    kernels::max_pool2d(d, io.in[0] + s * In::size, io.out + s * Out::size);
}

template <class G, std::size_t I, class... A>
void eval_node(layer_tag<AvgPool<A...>>, const auto&, const node_io<G, I>& io) noexcept {
  using In = typename G::template shape_t<G::template inputs_v<I>[0]>;
  using Out = typename G::template shape_t<I>;
  constexpr auto d = pool_dims<In, Out, AvgPool<A...>>();
  for (std::size_t s = 0; s < io.batch; ++s)
    kernels::avg_pool2d_f32(d, AvgPool<A...>::count_include_pad, io.in[0] + s * In::size, io.out + s * Out::size);
}

template <class G, std::size_t I>
void eval_node(layer_tag<GlobalAvgPool>, const auto&, const node_io<G, I>& io) noexcept {
  using In = typename G::template shape_t<G::template inputs_v<I>[0]>;
  constexpr std::size_t c = channels_v<In>;
  for (std::size_t s = 0; s < io.batch; ++s)
    kernels::global_avg_pool_f32(In::size / c, c, io.in[0] + s * In::size, io.out + s * c);
}

template <class G, std::size_t I>
void eval_node(layer_tag<Add>, const auto&, const node_io<G, I>& io) noexcept {
  using S = typename G::template shape_t<I>;
  kernels::ref::add_f32(io.batch * S::size, io.in[0], io.in[1], io.out);
}

template <class G, std::size_t I>
void eval_node(layer_tag<Concat>, const auto&, const node_io<G, I>& io) noexcept {
  using Out = typename G::template shape_t<I>;
  constexpr auto ins = G::template inputs_v<I>;
  constexpr std::size_t out_c = channels_v<Out>;
  constexpr std::size_t rows = Out::size / out_c;
  std::size_t col = 0;
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    ((kernels::ref::copy_columns_f32(io.batch * rows, channels_v<typename G::template shape_t<ins[K]>>, io.in[K],
                                     out_c, col, io.out),
      col += channels_v<typename G::template shape_t<ins[K]>>),
     ...);
  }(std::make_index_sequence<ins.size()>{});
}

template <class G, std::size_t I>
void eval_node(layer_tag<Softmax>, const auto&, const node_io<G, I>& io) noexcept {
  using S = typename G::template shape_t<I>;
  constexpr std::size_t c = channels_v<S>;
  kernels::ref::softmax_f32(io.batch * S::size / c, c, io.in[0], io.out);
}

template <class G, std::size_t I, class M>
void eval_f32(const M& g, const node_io<G, I>& io) noexcept {
  eval_node<G, I>(layer_tag<typename G::template layer_t<I>>{}, g, io);
}

}  // namespace statiq::detail

#include "statiq/exec/eval_transform_layers.hpp"  // Preprocess, ValuePadded: found by ADL on layer_tag
