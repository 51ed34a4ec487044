// run(model, input, output, arena): float inference over the static memory plan; noexcept, no allocation.
#pragma once

#include <cstddef>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>

#include "statiq/exec/eval_f32.hpp"
#include "statiq/exec/eval_q.hpp"
#include "statiq/exec/plan.hpp"

namespace statiq {

enum class status {
  ok,
  input_size_mismatch,   // input.size() is not a positive multiple of the model's per-sample input size
  output_size_mismatch,  // output.size() is not (samples in input) x the model's per-sample output size
  arena_plan_mismatch,   // the arena is planned fused where an unfused one is needed, or the other way round
                         // (fault::injector: see fault::arena_for)
};

constexpr const char* to_string(status s) noexcept {
  switch (s) {
    case status::ok: return "ok";
    case status::input_size_mismatch: return "input size is not a positive multiple of the model's input size";
    case status::output_size_mismatch: return "output size does not equal samples x the model's output size";
    case status::arena_plan_mismatch:
      return "the arena's memory plan (fused or unfused) is not the one this run needs";
  }
  return "unknown status";
}

namespace detail {

struct no_observer {
  void operator()(std::size_t, std::span<const float>) const noexcept {}
};

// Whether node i may run in int8 (static masks: does; dynamic: can) and whether it may run in float.
template <class M>
constexpr bool node_quantized(std::size_t i) {
  if constexpr (requires { M::quantized; }) {
    return M::quantized[i];
  } else {
    return false;
  }
}
template <class M>
constexpr bool node_maybe_float(std::size_t i) {
  if constexpr (requires { M::dynamic; }) {
    return M::dynamic || !M::quantized[i];
  } else {
    return true;
  }
}
template <class M>
inline constexpr bool is_dynamic_v = [] {
  if constexpr (requires { M::dynamic; }) {
    return M::dynamic;
  } else {
    return false;
  }
}();

template <class M>
struct element_of {
  using type = float;
};
template <class M>
  requires requires { typename M::element_type; }
struct element_of<M> {
  using type = typename M::element_type;
};

template <class M, std::size_t Batch, bool Fuse, class Observer>
struct executor {
  using G = graph_of_t<M>;
  using Q = typename element_of<M>::type;  // the element type of quantized tensors (float: none)
  static constexpr auto plan = plan_v<M, Batch, Fuse>;
  static constexpr std::size_t N = G::num_nodes;

  using InE = input_element_t<G>;  // what the caller's buffer holds: float, or std::uint8_t raw pixels

  const M& g;
  const Observer& observe;
  const InE* in;
  float* out;
  std::byte* arena;
  std::size_t batch;

  std::byte* tensor(std::size_t node) const noexcept {
    const std::size_t s = plan.storage[node];
    switch (plan.kind[s]) {
      case storage_kind::caller_input: return reinterpret_cast<std::byte*>(const_cast<InE*>(in));  // never written
      case storage_kind::caller_output: return reinterpret_cast<std::byte*>(out);
      case storage_kind::arena: break;
    }
    return arena + plan.offset[s];
  }
  float* ftensor(std::size_t node) const noexcept { return reinterpret_cast<float*>(tensor(node)); }

  // Whether node I runs in int8 in this model (a run-time flag for dynamic models, a constant otherwise).
  template <std::size_t I>
  bool q_at() const noexcept {
    if constexpr (is_dynamic_v<M>) {
      return g.enabled[I];
    } else {
      return node_quantized<M>(I);
    }
  }

  template <std::size_t I>
  void step() const noexcept {
    compute<I>();
    // A convolution whose fused max pool replaced its output (and that output's fused clamp) has no tensor to show.
    if constexpr (!std::is_same_v<Observer, no_observer> && !plan.pooled_away[I]) {
      constexpr std::size_t n = G::template shape_t<I>::size;
      if constexpr (node_quantized<M>(I) &&
                    std::is_invocable_v<const Observer&, std::size_t, std::span<const Q>, tensor_quant>) {
        if (q_at<I>()) {
          observe(I, std::span<const Q>(reinterpret_cast<const Q*>(tensor(I)), batch * n), g.q[I]);
          return;
        }
      }
      if (!q_at<I>()) observe(I, std::span<const float>(ftensor(I), batch * n));
    }
  }

  // Converts n values of node k's tensor to the other precision into `dst`: quantize when `to_q`.
  void convert(std::size_t k, bool to_q, std::size_t n, std::byte* dst) const noexcept {
    if constexpr (requires { M::quantized; }) {
      if (to_q)
        quantize_f32(n, ftensor(k), g.q[k], reinterpret_cast<Q*>(dst));
      else
        dequantize_f32(n, reinterpret_cast<const Q*>(tensor(k)), g.q[k], reinterpret_cast<float*>(dst));
    }
  }

  template <std::size_t I>
  void compute() const noexcept {
    using L = typename G::template layer_t<I>;
    const bool qi = q_at<I>();
    if constexpr (I == 0 && std::is_same_v<InE, std::uint8_t>) {
      // Raw u8 pixels: node 0's tensor as they are in a u8 model (read in place when channels-last); else
      // widened to float, or moved to s8 (q - 128: scale 1, zero point -128), in the pass that transposes NCHW.
      if (plan.kind[0] == storage_kind::caller_input) return;
      if constexpr (node_quantized<M>(0)) {
        if (qi) {
          load_u8_input(reinterpret_cast<Q*>(tensor(0)));
          return;
        }
      }
      load_u8_input(ftensor(0));
    } else if constexpr (I == 0) {
      using S = typename G::input_shape;
      constexpr std::size_t per = S::size;
      if constexpr (node_quantized<M>(0)) {
        if (qi) {
          // The caller's float input, quantized (and transposed to channels-last) into node 0's buffer.
          float* tmp = reinterpret_cast<float*>(arena + plan.scratch_offset[0]);
          for (std::size_t b = 0; b < batch; ++b) {
            const float* src = in + b * per;
            if constexpr (G::input_layer::layout == Layout::nchw) {
              kernels::ref::nchw_to_nhwc_f32(S::dims[0], S::dims[1], S::dims[2], src, tmp);
              src = tmp;
            }
            quantize_f32(per, src, g.q[0], reinterpret_cast<Q*>(tensor(0)) + b * per);
          }
          return;
        }
      }
      if constexpr (G::input_layer::layout == Layout::nchw) {
        for (std::size_t b = 0; b < batch; ++b)
          kernels::ref::nchw_to_nhwc_f32(S::dims[0], S::dims[1], S::dims[2], in + b * per, ftensor(0) + b * per);
      } else if constexpr (is_dynamic_v<M>) {
        if (plan.kind[0] == storage_kind::arena) std::memcpy(tensor(0), in, batch * per * sizeof(float));
      }
    } else {
      constexpr auto ins = G::template inputs_v<I>;
      constexpr bool shares = plan.storage[I] == plan.storage[ins[0]] && (plan.fused[I] || is_alias_v<L>);
      if constexpr (!shares) {
        // Inputs in this node's precision; the others converted into its scratch.
        std::byte* inputs[ins.size()];
        std::byte* scratch = arena + plan.scratch_offset[I];
        [&]<std::size_t... K>(std::index_sequence<K...>) {
          (
              [&] {
                constexpr std::size_t k = ins[K];
                if (q_at<k>() == qi) {
                  inputs[K] = tensor(k);
                } else {
                  constexpr std::size_t n = G::template shape_t<k>::size;
                  inputs[K] = scratch;
                  convert(k, qi, batch * n, scratch);
                  scratch += batch * n * (qi ? sizeof(Q) : sizeof(float));
                }
              }(),
              ...);
        }(std::make_index_sequence<ins.size()>{});
        if constexpr (is_alias_v<L> || plan.fused[I]) {
          // Same values, other precision: the conversion above was the work.
          std::memcpy(tensor(I), inputs[0], batch * G::template shape_t<I>::size * (qi ? sizeof(Q) : sizeof(float)));
        } else {
          if constexpr (node_quantized<M>(I)) {
            if (qi) {
              eval_quantized_node<M, I, (plan.fused_pool[I] < N)>(g, *this, inputs, tensor(I));
              return;
            }
          }
          if constexpr (node_maybe_float<M>(I)) {
            constexpr std::size_t clamp_node = plan.fused_clamp[I];
            node_io<G, I> io{};
            for (std::size_t k = 0; k < ins.size(); ++k) io.in[k] = reinterpret_cast<float*>(inputs[k]);
            io.out = ftensor(I);
            io.batch = batch;
            if constexpr (clamp_node < N) {  // Relu/Clip: constants; Protected<Act>: the model's bounds
              const clamp_range r = clamp_bounds<G, clamp_node>(g);
              io.lo = r.lo;
              io.hi = r.hi;
            }
            eval_f32<G, I>(g, io);
          }
        }
      }
    }
  }

  // The caller's u8 samples into node 0's tensor (channels-last) as float, u8 or s8.
  template <class To>
  void load_u8_input(To* dst) const noexcept {
    using S = typename G::input_shape;
    constexpr std::size_t per = S::size;
    constexpr auto cvt = [](std::uint8_t v) noexcept -> To {
      if constexpr (std::is_same_v<To, std::int8_t>) {
        return static_cast<To>(std::int32_t{v} - 128);
      } else {
        return static_cast<To>(v);
      }
    };
    for (std::size_t b = 0; b < batch; ++b) {
      const std::uint8_t* src = in + b * per;
      To* out_b = dst + b * per;
      if constexpr (G::input_layer::layout == Layout::nchw) {
        constexpr std::size_t c = S::dims[2], hw = per / c;
        for (std::size_t p = 0; p < hw; ++p)
          for (std::size_t j = 0; j < c; ++j) out_b[p * c + j] = cvt(src[j * hw + p]);
      } else {
        for (std::size_t k = 0; k < per; ++k) out_b[k] = cvt(src[k]);
      }
    }
  }

  template <std::size_t... I>
  void all(std::index_sequence<I...>) const noexcept {
    (step<I>(), ...);
    constexpr std::size_t n = G::output_shape::size;
    [[maybe_unused]] const bool q_last = q_at<N - 1>();
    if constexpr (plan.copy_out) {
      if constexpr (node_quantized<M>(N - 1)) {
        if (q_last) {
          dequantize_f32(batch * n, reinterpret_cast<const Q*>(tensor(N - 1)), g.q[N - 1], out);
          return;
        }
      }
      std::memcpy(out, tensor(N - 1), batch * n * sizeof(float));
    } else if constexpr (is_dynamic_v<M> && node_quantized<M>(N - 1)) {
      if (q_last) {  // int8 values at the front of the caller's float buffer: widen in place, last first
        const Q* src = reinterpret_cast<const Q*>(out);
        for (std::size_t i = batch * n; i-- > 0;)
          out[i] = static_cast<float>(std::int32_t{src[i]} - g.q[N - 1].zero_point) * g.q[N - 1].scale;
      }
    }
  }
};

}  // namespace detail

namespace diagnostic {
// run(model, input, ...): the model's Input layer `InputLayer` takes elements of another type than the span's
// `Given`.
template <class InputLayer, class Given>
struct input_element_mismatch;
}  // namespace diagnostic

namespace detail {
template <class M, class E>
constexpr bool check_input_element() {
  using G = graph_of_t<M>;
  STATIQ_REQUIRE((std::is_same_v<E, input_element_t<G>>),
                 "statiq::run(model, input, output, arena): the input span's element type must be the model's input "
                 "element type: std::span<const std::uint8_t> for a model made with embed_preprocess(input<u8>), "
                 "std::span<const float> otherwise (see input_element_mismatch<Input, given element>)",
                 diagnostic::input_element_mismatch<typename G::input_layer, E>);
  return std::is_same_v<E, input_element_t<G>>;
}

template <class M, std::size_t Batch, bool Fuse, class Observer, class E>
status run_impl(const M& m, std::span<const E> input, std::span<float> output,
                arena<plan_key_t<M>, Batch, Fuse>& scratch, const Observer& observe) noexcept {
  using G = graph_of_t<M>;
  if constexpr (!check_input_element<M, E>()) {
    return status::input_size_mismatch;  // not reached: the element type check above fails to compile
  } else {
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
}
}  // namespace detail

// Runs `model` on input.size() / input_size samples, Batch at a time through `arena`. The input is in the
// layout the model's Input node declares; the output is channels-last.
template <model_type M, std::size_t Batch>
status run(const M& m, std::span<const float> input, std::span<float> output,
           arena<plan_key_t<M>, Batch>& scratch) noexcept {
  return detail::run_impl(m, input, output, scratch, detail::no_observer{});
}
// The same for a model that takes raw 8-bit pixels (embed_preprocess(..., input<u8>)).
template <model_type M, std::size_t Batch>
status run(const M& m, std::span<const std::uint8_t> input, std::span<float> output,
           arena<plan_key_t<M>, Batch>& scratch) noexcept {
  return detail::run_impl(m, input, output, scratch, detail::no_observer{});
}

// Static-extent overload: sizes are checked at compile time.
template <model_type M, input_element E, std::size_t Batch, std::size_t NI, std::size_t NO>
  requires(NI != std::dynamic_extent && NO != std::dynamic_extent)
status run(const M& m, std::span<const E, NI> input, std::span<float, NO> output,
           arena<plan_key_t<M>, Batch>& scratch) noexcept {
  using G = graph_of_t<M>;
  static_assert(NI % G::input_shape::size == 0 && NI > 0,
                "statiq::run: the input span's extent must be a positive multiple of the model's input size");
  static_assert(NO == NI / G::input_shape::size * G::output_shape::size,
                "statiq::run: the output span's extent must be (samples in input) x the model's output size");
  return run(m, std::span<const E>(input), std::span<float>(output), scratch);
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
template <model_type M, std::size_t Batch, class Observer>
  requires std::invocable<const Observer&, std::size_t, std::span<const float>>
status run_observed(const M& m, std::span<const std::uint8_t> input, std::span<float> output,
                    arena<plan_key_t<M>, Batch, false>& scratch, const Observer& observe) noexcept {
  return detail::run_impl(m, input, output, scratch, observe);
}

}  // namespace statiq
