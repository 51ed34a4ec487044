// run(model, input, output, arena): float inference over the static memory plan; noexcept, no allocation.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
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

template <class G, std::size_t Batch>
struct executor {
  static constexpr auto plan = plan_v<G, Batch>;
  static constexpr std::size_t N = G::num_nodes;

  const G& g;
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

// Runs `model` on input.size() / input_size samples, Batch at a time through `arena`. The input is in the
// layout the model's Input node declares; the output is channels-last.
template <graph_type G, std::size_t Batch>
status run(const G& m, std::span<const float> input, std::span<float> output, arena<G, Batch>& scratch) noexcept {
  constexpr std::size_t in_per = G::input_shape::size;
  constexpr std::size_t out_per = G::output_shape::size;
  if (input.empty() || input.size() % in_per != 0) return status::input_size_mismatch;
  const std::size_t samples = input.size() / in_per;
  if (output.size() != samples * out_per) return status::output_size_mismatch;
  for (std::size_t s = 0; s < samples; s += Batch) {
    const std::size_t b = samples - s < Batch ? samples - s : Batch;
    detail::executor<G, Batch>{m, input.data() + s * in_per, output.data() + s * out_per, scratch.bytes, b}.all(
        std::make_index_sequence<G::num_nodes>{});
  }
  return status::ok;
}

// Static-extent overload: sizes are checked at compile time.
template <graph_type G, std::size_t Batch, std::size_t NI, std::size_t NO>
  requires(NI != std::dynamic_extent && NO != std::dynamic_extent)
status run(const G& m, std::span<const float, NI> input, std::span<float, NO> output,
           arena<G, Batch>& scratch) noexcept {
  static_assert(NI % G::input_shape::size == 0 && NI > 0,
                "statiq::run: the input span's extent must be a positive multiple of the model's input size");
  static_assert(NO == NI / G::input_shape::size * G::output_shape::size,
                "statiq::run: the output span's extent must be (samples in input) x the model's output size");
  return run(m, std::span<const float>(input), std::span<float>(output), scratch);
}

}  // namespace statiq
