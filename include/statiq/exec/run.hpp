// run(model, input, output, arena): float inference over the static memory plan; noexcept, no allocation.
#pragma once

#include <cstddef>
#include <concepts>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>

#include "statiq/exec/eval_f32.hpp"
#include "statiq/exec/plan.hpp"

namespace statiq {

enum class status {
  ok,
  input_size_mismatch,   // input.size() is not a positive multiple of the model's per-sample input size
  output_size_mismatch,  // output.size() is not (samples in input) x the model's per-sample output size
};

constexpr const char* to_string(status s) noexcept {
  switch (s) {
    case status::ok: return "ok";
    case status::input_size_mismatch: return "input size is not a positive multiple of the model's input size";
    case status::output_size_mismatch: return "output size does not equal samples x the model's output size";
  }
  return "unknown status";
}

namespace detail {

struct no_observer {
  void operator()(std::size_t, std::span<const float>) const noexcept {}
};

template <class M, std::size_t Batch, bool Fuse, class Observer>
struct executor {
  using G = graph_of_t<M>;
  static constexpr auto plan = plan_v<M, Batch, Fuse>;
  static constexpr std::size_t N = G::num_nodes;

  const M& g;
  const Observer& observe;
  const float* in;
  float* out;
  std::byte* arena;
  std::size_t batch;

  float* tensor(std::size_t node) const noexcept {
    const std::size_t s = plan.storage[node];
    switch (plan.kind[s]) {
      case storage_kind::caller_input: return const_cast<float*>(in);  // read only: nothing writes over it
      case storage_kind::caller_output: return out;
      case storage_kind::arena: break;
    }
    return reinterpret_cast<float*>(arena + plan.offset[s]);
  }

  template <std::size_t I>
  void step() const noexcept {
    compute<I>();
    if constexpr (!std::is_same_v<Observer, no_observer>) {
      observe(I, std::span<const float>(tensor(I), batch * G::template shape_t<I>::size));
    }
  }

  template <std::size_t I>
  void compute() const noexcept {
    if constexpr (I == 0) {
      if constexpr (G::input_layer::layout == Layout::nchw) {
        using S = typename G::input_shape;
        constexpr std::size_t per = S::size;
        for (std::size_t b = 0; b < batch; ++b)
          kernels::ref::nchw_to_nhwc_f32(S::dims[0], S::dims[1], S::dims[2], in + b * per, tensor(0) + b * per);
      }
    } else if constexpr (!plan.fused[I] && !is_alias_v<typename G::template layer_t<I>>) {
      constexpr auto ins = G::template inputs_v<I>;
      constexpr std::size_t clamp_node = plan.fused_clamp[I];
      node_io<G, I> io{};
      for (std::size_t k = 0; k < ins.size(); ++k) io.in[k] = tensor(ins[k]);
      io.out = tensor(I);
      io.batch = batch;
      if constexpr (clamp_node < N) {
        using C = typename G::template layer_t<clamp_node>;
        io.lo = C::lo;
        io.hi = C::hi;
      }
      eval_f32<G, I>(g, io);
    }
  }

  template <std::size_t... I>
  void all(std::index_sequence<I...>) const noexcept {
    (step<I>(), ...);
    if constexpr (plan.copy_out) {
      std::memcpy(out, tensor(N - 1), batch * G::output_shape::size * sizeof(float));
    }
  }
};

}  // namespace detail

namespace detail {
template <class M, std::size_t Batch, bool Fuse, class Observer>
status run_impl(const M& m, std::span<const float> input, std::span<float> output,
                arena<plan_key_t<M>, Batch, Fuse>& scratch, const Observer& observe) noexcept {
  using G = graph_of_t<M>;
  constexpr std::size_t in_per = G::input_shape::size;
  constexpr std::size_t out_per = G::output_shape::size;
  if (input.empty() || input.size() % in_per != 0) return status::input_size_mismatch;
  const std::size_t samples = input.size() / in_per;
  if (output.size() != samples * out_per) return status::output_size_mismatch;
  for (std::size_t s = 0; s < samples; s += Batch) {
    const std::size_t b = samples - s < Batch ? samples - s : Batch;
    executor<M, Batch, Fuse, Observer>{m, observe, input.data() + s * in_per, output.data() + s * out_per,
                                       scratch.bytes, b}
        .all(std::make_index_sequence<G::num_nodes>{});
  }
  return status::ok;
}
}  // namespace detail

// Runs `model` on input.size() / input_size samples, Batch at a time through `arena`. The input is in the
// layout the model's Input node declares; the output is channels-last.
template <model_type M, std::size_t Batch>
status run(const M& m, std::span<const float> input, std::span<float> output,
           arena<plan_key_t<M>, Batch>& scratch) noexcept {
  return detail::run_impl(m, input, output, scratch, detail::no_observer{});
}

// Static-extent overload: sizes are checked at compile time.
template <model_type M, std::size_t Batch, std::size_t NI, std::size_t NO>
  requires(NI != std::dynamic_extent && NO != std::dynamic_extent)
status run(const M& m, std::span<const float, NI> input, std::span<float, NO> output,
           arena<plan_key_t<M>, Batch>& scratch) noexcept {
  using G = graph_of_t<M>;
  static_assert(NI % G::input_shape::size == 0 && NI > 0,
                "statiq::run: the input span's extent must be a positive multiple of the model's input size");
  static_assert(NO == NI / G::input_shape::size * G::output_shape::size,
                "statiq::run: the output span's extent must be (samples in input) x the model's output size");
  return run(m, std::span<const float>(input), std::span<float>(output), scratch);
}

// An arena for run_observed: no layer is fused into another, so every node's own output is observable.
template <class M, std::size_t Batch = 1>
using observe_arena_for = arena<plan_key_t<M>, Batch, false>;

// Runs `model` like run() and calls observe(node, values) after every node with that node's output for the
// samples of the current pass (batch x the node's per-sample size, channels-last). Statistics collection
// (calibration) is built on this.
template <model_type M, std::size_t Batch, class Observer>
  requires std::invocable<const Observer&, std::size_t, std::span<const float>>
status run_observed(const M& m, std::span<const float> input, std::span<float> output,
                    arena<plan_key_t<M>, Batch, false>& scratch, const Observer& observe) noexcept {
  return detail::run_impl(m, input, output, scratch, observe);
}

}  // namespace statiq
