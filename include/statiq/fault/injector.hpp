// fault::injector: runs a model (float or quantized) under soft errors: bit flips in its weights and in the
// tensors its nodes write, each bit independently at a chosen rate, reproducibly from a seed.
//
//   statiq::fault::injector inj(model, {.weight_rate = 1e-6, .activation_rate = 1e-6, .seed = 1});
//   inj.run(input, output, arena);   // one inference under faults; the same calls as statiq::run
//
// What one run() models: one inference window. At its start the parameter memory (a private copy of the
// model's weight and bias values, see parameter_memory below) takes upsets at weight_rate per bit; then the
// tensors the fault site (options::where) names take upsets at activation_rate per bit right after the node
// wrote them, so the next node reads the corrupted values; at the end the weights are restored (the flipped
// bits flipped back), as if the next inference read a fresh copy. Weight faults are the same at both sites.
//
// site::memory (the default): faults in the memory a deployed model uses. The model runs with its usual fused
// plan (statiq::arena_for), and every tensor a node writes takes upsets: the input's copy, each layer's
// output wherever the plan put it, the caller's output included. Tensors that alias another (Flatten,
// Reshape, Identity) and clamps fused into their producer write nothing and take no extra upsets; an int8
// convolution with a fused 2x2 max pool writes only the pooled tensor, which takes the upsets. With a
// Protected activation fused into its producer, the clamp runs before the value is stored, so a corrupted
// activation reaches the next layer unclamped and only that layer's own clamp bounds the damage.
//
// site::operator_output: faults in the datapath, as the Ranger paper (and TensorFI) injects them: the raw
// result of every operator that computes (Conv2d, Dense, pooling, Add, Concat, BatchNorm, Softmax, ...) takes
// upsets as it leaves the operator, before the activation that follows reads it. The model runs with the
// unfused plan (fault::arena_for<M, Batch, site::operator_output>, the layout of observe_arena_for), so a
// Conv2d/Dense writes its output unclamped and the Relu / Clip / Protected node after it clamps the corrupted
// values. Clamp nodes (the activations, modelled as the checking point), the Input and aliases take no upsets.
// INT8 models: an operator's output is its requantized tensor (u8/s8, already saturated to the requantization
// clamp, which includes the following activation's bounds as in the fused plan); a flip there lands before the
// separate clamp node, which clamps it again to the activation's bounds in quantized units. Unfused and fused
// plans give the same fault-free outputs, float and INT8.
//
// run() returns status::arena_plan_mismatch, flipping nothing, when the arena is not the one the site needs.
//
// Determinism: the weights and the activations each have their own flip stream (bit_flipper), seeded from
// `seed`; the same model, options and sequence of run() calls give the same flips and outputs. rate 0 gives
// exactly statiq::run's output, at either site.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "statiq/exec/plan.hpp"
#include "statiq/exec/quantized.hpp"
#include "statiq/exec/run.hpp"
#include "statiq/fault/bit_flipper.hpp"
#include "statiq/graph/graph.hpp"
#include "statiq/graph/protected.hpp"
#include "statiq/kernels/conv2d_pack.hpp"
#include "statiq/kernels/pack.hpp"

namespace statiq::fault {

// Where activation faults strike (see the top of this file).
enum class site : unsigned char {
  memory,           // every tensor a node writes, in the fused memory plan (statiq::arena_for)
  operator_output,  // every operator's raw output, before its activation (the unfused plan)
};

constexpr const char* to_string(site s) noexcept {
  switch (s) {
    case site::memory: return "memory";
    case site::operator_output: return "operator_output";
  }
  return "unknown site";
}

struct options {
  double weight_rate = 0.0;      // probability per bit of the parameter memory, per run()
  double activation_rate = 0.0;  // probability per bit of each tensor the site exposes
  std::uint64_t seed = 0;
  site where = site::memory;
};

// The arena injector::run takes for site S: the model's usual fused one for site::memory, the unfused one
// (every operator's own output materialized, as observe_arena_for) for site::operator_output.
template <class M, std::size_t Batch = 1, site S = site::memory>
using arena_for = arena<plan_key_t<M>, Batch, S == site::memory>;

namespace detail {

// The model an injector corrupts: its own copy, parameters by value (a Graph binds them by pointer).
template <class M>
struct working_model {
  using type = M;
};
template <class... N>
struct working_model<Graph<N...>> {
  using type = Owned<Graph<N...>>;
};

// The parameter memory that takes weight faults: every weight and bias value (float models: each layer's
// parameter arrays; INT8 nodes: the s8 weights and the s32 biases inside the packed blobs, depthwise weights
// and biases; float nodes of a quantized model: their float parameters). Left out: the Protected bounds and the
// quantization metadata (blob headers, requantization multipliers and shifts, scales, zero points, clamps),
// a few hundred bytes whose corruption makes the kernels index out of range (a crash, not a wrong answer).
template <class G>
std::vector<std::span<std::byte>> parameter_memory(Owned<G>& m) {
  std::vector<std::span<std::byte>> out;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          if constexpr (!is_protected_v<typename G::template layer_t<I>>)
            for (std::size_t k = 0; k < G::params_per_node[I]; ++k) {
              const std::size_t p = G::first_param[I] + k;
              out.push_back(std::as_writable_bytes(std::span<float>(m.param(p), G::param_sizes[p])));
            }
        }(),
        ...);
  }(std::make_index_sequence<G::num_nodes>{});
  return out;
}
template <class G, class T, class Mask>
std::vector<std::span<std::byte>> parameter_memory(Quantized<G, T, Mask>& m) {
  using Q = Quantized<G, T, Mask>;
  std::vector<std::span<std::byte>> out;
  const auto bytes = [&](auto* p, std::size_t n) {
    if (n != 0) out.push_back(std::as_writable_bytes(std::span(p, n)));
  };
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using L = typename G::template layer_t<I>;
          if constexpr (!is_protected_v<L>)
            if (!Q::quantized[I] || Q::dynamic) bytes(m.floats.data() + Q::offsets.floats[I], Q::offsets.n_floats_of[I]);
          if constexpr (statiq::detail::is_conv_v<L> || statiq::detail::is_dense_v<L>) {
            if (!Q::quantized[I]) return;
            std::uint8_t* blob = m.bytes.data() + Q::offsets.bytes[I];
            if constexpr (statiq::detail::is_depthwise<G, I>()) {
              bytes(blob, Q::offsets.n_bytes_of[I]);  // s8 weights only (aligned size: padding included)
              bytes(m.ints.data() + Q::offsets.ints[I], Q::offsets.n_ints_of[I]);
            } else {
              std::size_t n = 0, k = 0, groups = 1;
              if constexpr (statiq::detail::is_dense_v<L>) {
                n = L::units;
                k = G::template shape_t<G::template inputs_v<I>[0]>::size;
              } else {
                constexpr auto d = statiq::detail::node_conv_dims<G, I>();
                groups = static_cast<std::size_t>(d.groups);
                n = static_cast<std::size_t>(d.out_c) / groups;
                k = kernels::conv2d_q_gemm_k(d);
              }
              const std::size_t np = kernels::gemm_padded_n(n), kp = kernels::gemm_padded_k(k);
              for (std::size_t g = 0; g < groups; ++g) {  // per GEMM blob (pack.hpp): bias' and weights
                std::uint8_t* b = blob + g * kernels::gemm_packed_size(n, k);
                bytes(b + kernels::gemm_header_bytes, 4 * np);
                bytes(b + kernels::gemm_weights_offset(np), np * kp);
              }
            }
          }
        }(),
        ...);
  }(std::make_index_sequence<G::num_nodes>{});
  return out;
}

// site::memory: whether node I's tensor is written to memory in the fused plan (not an alias of its input, not a
// clamp fused into its producer, not a convolution whose fused max pool writes the pooled tensor instead; that
// max pool's tensor is).
template <class M, std::size_t... I>
constexpr auto writes_tensor(std::index_sequence<I...>) {
  using G = graph_of_t<M>;
  constexpr auto plan = plan_v<M>;
  return std::array<bool, sizeof...(I)>{
      (I == 0 || (is_max_pool_v<typename G::template layer_t<I>> && plan.fused[I]) ||
       !(plan.fused[I] || plan.pooled_away[I] || is_alias_v<typename G::template layer_t<I>>))...};
}

// site::operator_output: whether node I is an operator that computes (not the Input, an alias or a clamp).
template <class M, std::size_t... I>
constexpr auto computes_output(std::index_sequence<I...>) {
  using G = graph_of_t<M>;
  return std::array<bool, sizeof...(I)>{
      (I != 0 && !is_alias_v<typename G::template layer_t<I>> && !is_clamp_v<typename G::template layer_t<I>>)...};
}

}  // namespace detail

template <model_type M>
class injector {
 public:
  using model_t = typename detail::working_model<std::remove_cvref_t<M>>::type;
  using graph = graph_of_t<M>;

  // Copies `model` (the copy's weights take the faults; `model` is never written).
  injector(const M& model, const options& o)
      : model_(std::make_unique<model_t>(copy_of(model))),
        weights_(o.weight_rate, o.seed * 2 + 0x5eed),
        activations_(o.activation_rate, o.seed * 2 + 1 + 0x5eed),
        memory_(detail::parameter_memory(*model_)),
        where_(o.where) {}

  // One inference (input.size() / input size samples) under faults; returns what statiq::run returns, or
  // status::arena_plan_mismatch when `scratch` is not fault::arena_for<M, Batch, site> for this injector's site.
  template <class E, std::size_t Batch, bool Fuse>
  status run(std::span<const E> input, std::span<float> output, arena<plan_key_t<M>, Batch, Fuse>& scratch) {
    if (Fuse != (where_ == site::memory)) return status::arena_plan_mismatch;
    // The input is copied: the Input node's tensor may be the caller's buffer, which must not be written.
    auto& copy = input_buffer<E>();
    copy.assign(input.begin(), input.end());
    undo_.clear();
    for (std::span<std::byte> mem : memory_)
      weights_.flip(mem, [&](std::size_t at, std::byte mask) { undo_.push_back({mem.data() + at, mask}); });
    static constexpr auto writes = [] {
      constexpr auto nodes = std::make_index_sequence<graph::num_nodes>{};
      if constexpr (Fuse) {
        return detail::writes_tensor<model_t>(nodes);
      } else {
        return detail::computes_output<model_t>(nodes);
      }
    }();
    const auto observe = [this](std::size_t node, auto values, auto&&...) {
      if (!writes[node]) return;
      const auto bytes = std::as_bytes(values);  // the arena, the caller's output or the input copy: writable
      activations_.flip(std::span<std::byte>(const_cast<std::byte*>(bytes.data()), bytes.size()));
    };
    const status s = statiq::detail::run_impl(*model_, std::span<const E>(copy), output, scratch, observe);
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) *it->at ^= it->mask;
    return s;
  }

  const model_t& model() const noexcept { return *model_; }  // the working copy: clean between run() calls
  const bit_flipper& weight_faults() const noexcept { return weights_; }
  const bit_flipper& activation_faults() const noexcept { return activations_; }
  site where() const noexcept { return where_; }

 private:
  struct flipped {
    std::byte* at;
    std::byte mask;
  };
  template <class E>
  std::vector<E>& input_buffer() {
    static_assert(std::is_same_v<E, float> || std::is_same_v<E, std::uint8_t>,
                  "statiq::fault::injector::run: the input holds floats or raw u8 pixels, as for statiq::run");
    if constexpr (std::is_same_v<E, float>) {
      return input_f32_;
    } else {
      return input_u8_;
    }
  }
  static model_t copy_of(const M& m) {
    if constexpr (is_graph_v<std::remove_cvref_t<M>>) {
      return to_owned(m);
    } else {
      return m;
    }
  }

  std::unique_ptr<model_t> model_;
  bit_flipper weights_;
  bit_flipper activations_;
  std::vector<std::span<std::byte>> memory_;  // in *model_
  site where_;
  std::vector<flipped> undo_;
  std::vector<float> input_f32_;
  std::vector<std::uint8_t> input_u8_;
};

}  // namespace statiq::fault
