// Runs one imported ONNX node test model on its test_data_set_0 input; used by the generated conformance shards.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include <statiq/statiq.hpp>

namespace conformance {

// Runs `model` on a batch of per-sample inputs in ONNX order and returns the output in ONNX order
// (a channels-last 4-D output is transposed back to NCHW). Returns false when statiq::run fails.
using runner = bool (*)(const std::vector<float>& in, std::vector<float>& out);

// How the source's integer tensors map to the model's float edges (the generated header's edge constants).
struct edges {
  bool input_quantized = false;   // input_0 holds u8/s8 q: fed as (q - zero_point) * scale
  statiq::tensor_quant input{};
  bool output_quantized = false;  // output_0 holds u8/s8 q: compared as round(y / scale) + zero_point, within 1 LSB
  statiq::tensor_quant output{};
  bool output_integer = false;    // output_0 is int32 (ConvInteger/MatMulInteger): compared exactly
  float output_lsb = 0;           // an int8 model's output step: float outputs may differ by one (0: a float model)
};

// The output step of an int8 model whose last node is quantized (0 otherwise).
template <class M>
constexpr float output_lsb(const M& m) {
  if constexpr (statiq::is_quantized_model_v<M>) {
    constexpr std::size_t last = M::num_nodes - 1;
    if (M::quantized[last]) return m.q[last].scale;
  }
  (void)m;
  return 0.0f;
}

struct entry {
  const char* name;
  runner run;
  edges io;
};

template <class M, std::size_t R>
bool run(const M& model, const std::array<std::size_t, R>& out_shape, bool channels_last, const std::vector<float>& in,
         std::vector<float>& out) {
  using G = statiq::graph_of_t<std::remove_cvref_t<M>>;
  constexpr std::size_t in_per = G::input_shape::size, out_per = G::output_shape::size;
  if (in.empty() || in.size() % in_per != 0) return false;
  const std::size_t samples = in.size() / in_per;
  std::vector<float> y(samples * out_per);
  auto arena = std::make_unique<statiq::arena_for<M>>();
  if (statiq::run(model, std::span<const float>(in), std::span<float>(y), *arena) != statiq::status::ok) return false;
  if constexpr (R == 3) {
    if (channels_last) {  // statiq's (H, W, C) back to ONNX's (C, H, W)
      const std::size_t C = out_shape[0], H = out_shape[1], W = out_shape[2];
      out.assign(y.size(), 0.0f);
      for (std::size_t s = 0; s < samples; ++s)
        for (std::size_t c = 0; c < C; ++c)
          for (std::size_t h = 0; h < H; ++h)
            for (std::size_t w = 0; w < W; ++w)
              out[s * out_per + (c * H + h) * W + w] = y[s * out_per + (h * W + w) * C + c];
      return true;
    }
  }
  (void)out_shape;
  (void)channels_last;
  out = std::move(y);
  return true;
}

}  // namespace conformance
