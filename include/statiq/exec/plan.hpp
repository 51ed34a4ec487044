// The static memory plan of a graph: which buffer each node writes, buffer lifetimes, arena offsets and the
// arena size, all computed at compile time from the graph type.
//
// Buffers: the Input node aliases the caller's input when its layout is already channels-last; Flatten and
// Reshape alias their input; element-wise layers (Relu, Clip, BatchNorm, Softmax) write over their input when
// nothing later reads it; a Relu/Clip that is the only reader of a Conv2d/Dense is fused into that layer's
// output clamp; in int8 models a 2x2, stride-2 MaxPool that is the only reader of a convolution (or of its fused
// clamp) is fused too, the convolution writing the pooled tensor; the last node (or the buffer it aliases) is the
// caller's output. Every other node gets an
// arena buffer, alive from the step that writes it to the last step that reads it. Offsets are assigned largest
// buffer first at the lowest offset free for the buffer's whole lifetime (64-byte aligned).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>

#include "statiq/graph/activation.hpp"
#include "statiq/graph/conv2d.hpp"
#include "statiq/graph/dense.hpp"
#include "statiq/graph/graph.hpp"

namespace statiq {

inline constexpr std::size_t arena_alignment = 64;

namespace detail {

enum class storage_kind : unsigned char { arena, caller_input, caller_output };

template <std::size_t N>
struct memory_plan {
  std::array<std::size_t, N> storage{};    // node whose buffer this node's output lives in (itself if it owns one)
  std::array<bool, N> fused{};             // a clamp folded into its producer: not executed
  std::array<std::size_t, N> fused_clamp{};  // for a producer: the clamp node fused into it, or N
  std::array<std::size_t, N> fused_pool{};   // for a convolution: the 2x2 max pool fused into it, or N
  std::array<bool, N> pooled_away{};         // a convolution (or its fused clamp) whose output a fused pool replaced
  std::array<storage_kind, N> kind{};      // for buffer owners
  std::array<std::size_t, N> bytes{};      // for buffer owners: aligned size in bytes
  std::array<std::size_t, N> first{};      // for buffer owners: first and last step the buffer is live
  std::array<std::size_t, N> last{};
  std::array<std::size_t, N> offset{};     // for arena buffer owners
  std::array<std::size_t, N> scratch_bytes{};   // scratch a node uses while it runs (e.g. a converted input)
  std::array<std::size_t, N> scratch_offset{};
  std::size_t arena_bytes = 0;             // the arena the offsets need
  std::size_t live_bound = 0;              // the largest total of buffers live at one step (a lower bound)
  std::size_t naive_bytes = 0;             // one arena buffer per node that owns one, no reuse
  bool copy_out = false;                   // the last node lives in the arena/input: copy it to the caller
};

constexpr std::size_t align_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }

template <class G, std::size_t... I>
constexpr std::array<std::size_t, G::num_nodes> node_sizes(std::index_sequence<I...>) {
  return {G::template shape_t<I>::size...};
}

template <class G, std::size_t... I>
constexpr std::array<std::array<bool, G::num_nodes>, G::num_nodes> read_matrix(std::index_sequence<I...>) {
  std::array<std::array<bool, G::num_nodes>, G::num_nodes> r{};  // r[i][k]: node i reads node k
  ((
       [&] {
         for (auto j : G::template inputs_v<I>) r[I][j] = true;
       }()),
   ...);
  return r;
}

template <class L>
inline constexpr bool accepts_fused_clamp_v = false;
template <std::size_t C, class... A>
inline constexpr bool accepts_fused_clamp_v<Conv2d<C, A...>> = true;
template <std::size_t N>
inline constexpr bool accepts_fused_clamp_v<Dense<N>> = true;

template <class G, std::size_t... I>
constexpr auto node_flags(std::index_sequence<I...>) {
  struct flags {
    std::array<bool, G::num_nodes> alias, in_place, clamp, takes_clamp;
  } f{{is_alias_v<typename G::template layer_t<I>>...},
      {is_elementwise_v<typename G::template layer_t<I>>...},
      {is_clamp_v<typename G::template layer_t<I>>...},
      {accepts_fused_clamp_v<typename G::template layer_t<I>>...}};
  return f;
}

// What a plan needs beyond the graph: the bytes per element of each node's output tensor, the scratch
// bytes per sample each node needs while it runs, and whether the Input node's tensor holds what the caller's
// buffer holds (so that a channels-last input can be read in place). Float models: 4 bytes everywhere, no
// scratch; an input of raw u8 pixels is widened into an arena buffer.
template <class G>
struct float_tensors {
  static constexpr auto elem_bytes = [] {
    std::array<std::size_t, G::num_nodes> e{};
    for (auto& b : e) b = sizeof(float);
    return e;
  }();
  static constexpr std::array<std::size_t, G::num_nodes> scratch{};
  static constexpr bool input_as_given = std::is_same_v<input_element_t<G>, float>;
};

template <class G, std::size_t Batch, bool Fuse = true, class T = float_tensors<G>>
constexpr memory_plan<G::num_nodes> make_plan() {
  constexpr std::size_t N = G::num_nodes;
  constexpr auto seq = std::make_index_sequence<N>{};
  constexpr auto size = node_sizes<G>(seq);
  constexpr auto r = read_matrix<G>(seq);
  constexpr auto f = node_flags<G>(seq);
  memory_plan<N> p{};
  auto readers = [&](std::size_t k) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < N; ++i) n += r[i][k] ? 1 : 0;
    return n;
  };
  auto source = [&](std::size_t i) {
    std::size_t src = N;
    for (std::size_t k = 0; k < N; ++k)
      if (r[i][k]) src = k;
    return src;
  };
  for (std::size_t i = 0; i < N; ++i) p.fused_clamp[i] = p.fused_pool[i] = N;

  // Fusion: Conv2d/Dense -> Relu/Clip where the clamp is the producer's only reader (same element type).
  for (std::size_t i = 1; i < N && Fuse; ++i) {
    if (!f.clamp[i]) continue;
    const std::size_t src = source(i);
    if (src < N && f.takes_clamp[src] && readers(src) == 1 && p.fused_clamp[src] == N &&
        T::elem_bytes[src] == T::elem_bytes[i]) {
      p.fused[i] = true;
      p.fused_clamp[src] = i;
    }
  }

  // Fusion of a 2x2 max pool into the convolution before it (int8 kernels: conv2d_q_max_pool2): conv -> pool or
  // conv -> fused clamp -> pool, each the only reader of the one before.
  if constexpr (requires { T::pool_fusable; }) {
    for (std::size_t j = 1; j < N && Fuse; ++j) {
      if (!T::pool_fusable[j]) continue;
      std::size_t src = source(j), clamp = N;
      if (src < N && p.fused[src]) {
        clamp = src;
        src = source(src);
      }
      if (src >= N || !T::pool_producer[src] || readers(src) != 1 || (clamp < N && readers(clamp) != 1) ||
          p.fused_pool[src] != N || T::elem_bytes[src] != T::elem_bytes[j])
        continue;
      p.fused[j] = true;
      p.fused_pool[src] = j;
      p.pooled_away[src] = true;
      if (clamp < N) p.pooled_away[clamp] = true;
    }
  }

  // Storage assignment in node order.
  for (std::size_t i = 0; i < N; ++i) {
    p.storage[i] = i;
    if (i == 0) {
      constexpr bool input_in_arena = [] {
        if constexpr (requires { T::input_in_arena; }) {
          return T::input_in_arena;
        } else {
          return false;
        }
      }();
      constexpr bool input_as_given = [] {
        if constexpr (requires { T::input_as_given; }) {
          return T::input_as_given;
        } else {
          return T::elem_bytes[0] == sizeof(float);
        }
      }();
      p.kind[0] = G::input_layer::layout == Layout::nhwc && input_as_given && !input_in_arena
                      ? storage_kind::caller_input
                      : storage_kind::arena;
      continue;
    }
    const std::size_t src = source(i);
    const bool same_type = T::elem_bytes[src] == T::elem_bytes[i];
    if ((f.alias[i] || p.fused[i]) && same_type) {
      p.storage[i] = p.storage[src];
      continue;
    }
    if (f.in_place[i] && same_type && i != N - 1) {  // the last node writes into the caller's output instead
      const std::size_t s = p.storage[src];
      bool dead_after = p.kind[s] == storage_kind::arena;
      for (std::size_t k = i + 1; k < N && dead_after; ++k)
        for (std::size_t m = 0; m < i; ++m)
          if (r[k][m] && p.storage[m] == s) dead_after = false;
      if (dead_after) {
        p.storage[i] = s;
        continue;
      }
    }
    p.kind[i] = i == N - 1 && T::elem_bytes[i] == sizeof(float) ? storage_kind::caller_output : storage_kind::arena;
  }
  // A last node that aliases or is fused into an earlier buffer: that buffer becomes the caller's output
  // when nothing outside the chain reads it (and it holds floats, as the caller's output does).
  if (const std::size_t s = p.storage[N - 1];
      s != N - 1 && p.kind[s] == storage_kind::arena && T::elem_bytes[N - 1] == sizeof(float)) {
    bool only_chain = true;
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t k = 0; k < N; ++k)
        if (r[i][k] && p.storage[k] == s && p.storage[i] != s) only_chain = false;
    if (only_chain) p.kind[s] = storage_kind::caller_output;
  }
  p.copy_out = p.kind[p.storage[N - 1]] != storage_kind::caller_output;

  // Buffers: one per storage owner (index i < N) and one per node with scratch (index N + i).
  constexpr std::size_t B = 2 * N;
  std::array<std::size_t, B> first{}, last{}, bytes{}, offset{};
  std::array<bool, B> in_arena{};
  for (std::size_t i = 0; i < N; ++i) {
    if (p.storage[i] == i) {
      first[i] = last[i] = i;
      const std::size_t n = size[p.fused_pool[i] < N ? p.fused_pool[i] : i];  // a fused pool's output is smaller
      bytes[i] = align_up(n * Batch * T::elem_bytes[i], arena_alignment);
      in_arena[i] = p.kind[i] == storage_kind::arena;
    }
    if (T::scratch[i] != 0 && !p.fused[i]) {
      first[N + i] = last[N + i] = i;
      bytes[N + i] = align_up(T::scratch[i] * Batch, arena_alignment);
      in_arena[N + i] = true;
    }
  }
  // Lifetimes of buffer owners: from the writing step to the last step that writes or reads the buffer.
  for (std::size_t i = 0; i < N; ++i) {
    const std::size_t s = p.storage[i];
    last[s] = std::max(last[s], i);
    for (std::size_t k = 0; k < N; ++k)
      if (r[i][k]) last[p.storage[k]] = std::max(last[p.storage[k]], i);
  }
  if (p.copy_out) last[p.storage[N - 1]] = N;  // read by the final copy

  // Offsets: largest first, lowest free offset among buffers whose lifetimes overlap.
  std::array<std::size_t, B> order{};
  std::size_t count = 0;
  for (std::size_t b = 0; b < B; ++b)
    if (in_arena[b]) order[count++] = b;
  for (std::size_t a = 0; a < count; ++a)  // insertion sort: by size descending, then by first use
    for (std::size_t b = a; b > 0; --b) {
      const auto x = order[b - 1], y = order[b];
      if (bytes[y] > bytes[x] || (bytes[y] == bytes[x] && first[y] < first[x])) {
        order[b - 1] = y;
        order[b] = x;
      } else {
        break;
      }
    }
  for (std::size_t a = 0; a < count; ++a) {
    const std::size_t s = order[a];
    std::size_t off = 0;
    for (bool moved = true; moved;) {
      moved = false;
      for (std::size_t b = 0; b < a; ++b) {
        const std::size_t t = order[b];
        const bool overlap_time = !(last[t] < first[s] || last[s] < first[t]);
        const bool overlap_mem = off < offset[t] + bytes[t] && offset[t] < off + bytes[s];
        if (overlap_time && overlap_mem) {
          off = offset[t] + bytes[t];
          moved = true;
        }
      }
    }
    offset[s] = off;
    p.arena_bytes = std::max(p.arena_bytes, off + bytes[s]);
    p.naive_bytes += bytes[s];
  }
  for (std::size_t t = 0; t <= N; ++t) {
    std::size_t live = 0;
    for (std::size_t a = 0; a < count; ++a)
      if (first[order[a]] <= t && t <= last[order[a]]) live += bytes[order[a]];
    p.live_bound = std::max(p.live_bound, live);
  }
  for (std::size_t i = 0; i < N; ++i) {
    p.first[i] = first[i];
    p.last[i] = last[i];
    p.bytes[i] = bytes[i];
    p.offset[i] = offset[i];
    p.scratch_bytes[i] = bytes[N + i];
    p.scratch_offset[i] = offset[N + i];
  }
  return p;
}

// What a model type plans with: its graph and its tensor element types. Float models (Graph, Owned) use
// float_tensors; quantized models specialise this through their own member types.
template <class M>
struct plan_traits {
  using graph = graph_of_t<M>;
  using tensors = float_tensors<graph>;
  using key = graph;  // the type an arena is keyed by: models with the same key share arenas
};
template <class M>
  requires requires { typename std::remove_cvref_t<M>::plan_key; }
struct plan_traits<M> {
  using key = typename std::remove_cvref_t<M>::plan_key;
  using graph = typename key::graph;
  using tensors = typename key::tensors;
};
template <class K>
  requires requires { typename K::tensors; }
struct plan_traits<K> {  // a plan key itself
  using key = K;
  using graph = typename K::graph;
  using tensors = typename K::tensors;
};

}  // namespace detail

// The type arenas are keyed by: the graph for float models; quantized models have their own.
template <class M>
using plan_key_t = typename detail::plan_traits<std::remove_cvref_t<M>>::key;

// The compile-time memory plan of model type M, run Batch samples at a time. Fuse = false keeps every layer's
// own output observable (used when collecting statistics).
template <class M, std::size_t Batch = 1, bool Fuse = true>
inline constexpr auto plan_v = detail::make_plan<typename detail::plan_traits<std::remove_cvref_t<M>>::graph, Batch,
                                                 Fuse, typename detail::plan_traits<std::remove_cvref_t<M>>::tensors>();

// Bytes of scratch memory (the arena) model type M needs, a compile-time constant.
template <class M, std::size_t Batch = 1>
inline constexpr std::size_t arena_bytes_v = plan_v<M, Batch>.arena_bytes;

// The lower bound the arena is measured against: the largest total of arena buffers (tensors and scratch)
// live at one step of the plan. No placement of these buffers needs fewer bytes than this.
template <class M, std::size_t Batch = 1>
inline constexpr std::size_t arena_lower_bound_v = plan_v<M, Batch>.live_bound;

// Bytes of parameters (weights, biases, normalisation statistics) model type M binds.
template <class M>
inline constexpr std::size_t weight_bytes_v = [] {
  if constexpr (requires { std::remove_cvref_t<M>::weight_bytes; }) {
    return std::remove_cvref_t<M>::weight_bytes;  // quantized models count their packed data
  } else {
    return graph_of_t<M>::weight_count * sizeof(float);
  }
}();

// The arena: a static, aligned byte buffer whose size is arena_bytes_v<G, Batch>. No heap.
template <class G, std::size_t Batch, bool Fuse = true>
struct arena {
  static_assert(Batch >= 1, "statiq::arena_for<Model, Batch>: Batch must be at least 1");
  using model_type = G;
  static constexpr std::size_t batch = Batch;
  static constexpr bool fuse = Fuse;
  static constexpr std::size_t size = plan_v<G, Batch, Fuse>.arena_bytes;
  alignas(arena_alignment) std::byte bytes[size == 0 ? 1 : size];
};

// arena_for<decltype(model)>: the arena for a model type (cv-qualifiers and references ignored).
template <class M, std::size_t Batch = 1>
using arena_for = arena<plan_key_t<M>, Batch>;

// Fails to compile, naming both numbers, when model type M's arena exceeds Budget bytes.
template <class M, std::size_t Budget, std::size_t Batch = 1>
constexpr bool arena_fits() {
  STATIQ_REQUIRE(((arena_bytes_v<M, Batch> <= Budget)), "statiq::arena_fits<Model, Budget>: the model's arena exceeds the RAM budget "
                "(see arena_exceeds_budget<needed bytes, budget bytes>): raise Budget, run a smaller Batch, or shrink the model",
                diagnostic::arena_exceeds_budget<arena_bytes_v<M, Batch>, Budget>);
  return true;
}

// Fails to compile, naming both numbers, when model type M's parameters (weight_bytes_v) exceed Budget bytes.
template <class M, std::size_t Budget>
constexpr bool weights_fit() {
  STATIQ_REQUIRE(((weight_bytes_v<M> <= Budget)), "statiq::weights_fit<Model, Budget>: the model's parameters exceed the "
                "flash budget (see weights_exceed_budget<model bytes, budget bytes>): raise Budget, quantize the model, "
                "or shrink it", diagnostic::weights_exceed_budget<weight_bytes_v<M>, Budget>);
  return true;
}

}  // namespace statiq
