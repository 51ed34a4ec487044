// Element types of tensors and their quantization parameters (one scheme: ONNX QLinear* / TFLite int8).
#pragma once

#include <cstdint>
#include <type_traits>

namespace statiq {

// Element type names as statiq spells them (embed_preprocess(input<u8>), Input<S, layout, u8>).
using f32 = float;
using u8 = std::uint8_t;
using s8 = std::int8_t;

// What a model's input buffer may hold: floats, or raw 8-bit pixels (after embed_preprocess(input<u8>)).
template <class T>
concept input_element = std::is_same_v<T, float> || std::is_same_v<T, std::uint8_t>;

// Quantized activations are u8 (asymmetric, POT's `mixed` preset) or s8 (symmetric, `performance`).
template <class T>
concept quantized_element = std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::int8_t>;

template <quantized_element T>
inline constexpr std::int32_t qmin_v = std::is_same_v<T, std::uint8_t> ? 0 : -128;
template <quantized_element T>
inline constexpr std::int32_t qmax_v = std::is_same_v<T, std::uint8_t> ? 255 : 127;

// A quantized tensor's real value is scale * (q - zero_point).
struct tensor_quant {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

}  // namespace statiq
