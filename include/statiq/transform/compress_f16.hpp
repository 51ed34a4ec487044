// compress_f16: a model's parameters stored as IEEE binary16 (2 bytes each, half the weight bytes), widened back
// to float when loaded with to_owned(); Model Optimizer's --compress_to_fp16 for float models.
//
// Rounding is to nearest, ties to even; a finite value beyond the largest half (65504) saturates to it rather than
// becoming infinite, so a large weight stays large. Everything is constexpr: a firmware image can hold
// `constexpr auto weights = model | compress_f16;` in flash and widen it into RAM at start-up.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "statiq/graph/graph.hpp"
#include "statiq/transform/pipeline.hpp"

namespace statiq {

namespace detail {

// float -> binary16 bits, round to nearest even; NaN -> quiet NaN, infinities kept, finite overflow saturates.
constexpr std::uint16_t f32_to_f16_bits(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) return static_cast<std::uint16_t>(sign | (a > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (a >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7bffu);  // |f| >= 65520 would round to inf
  const std::uint32_t e = a >> 23;
  if (e < 113) {  // below 2^-14: a half subnormal (units of 2^-24) or zero
    if (e < 102) return sign;
    const std::uint32_t m = (a & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126 - e;
    std::uint32_t h = m >> shift;
    const std::uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<std::uint16_t>(sign | h);
  }
  const std::uint32_t r = a - (112u << 23);  // exponent rebiased from 127 to 15
  std::uint32_t h = r >> 13;
  const std::uint32_t rem = r & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // a carry into the exponent is the right result
  return static_cast<std::uint16_t>(sign | h);
}

// binary16 bits -> float (exact).
constexpr float f16_bits_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t e = (h >> 10) & 0x1fu;
  const std::uint32_t m = h & 0x3ffu;
  if (e == 0) {
    const float v = static_cast<float>(m) * 0x1p-24f;
    return sign ? -v : v;
  }
  if (e == 31) return std::bit_cast<float>(sign | 0x7f800000u | (m << 13));
  return std::bit_cast<float>(sign | ((e + 112) << 23) | (m << 13));
}

}  // namespace detail

// Graph G's parameters as binary16, in node order (as Owned<G> holds them as float). Not itself runnable:
// to_owned() widens it into an Owned<G>.
template <class G>
struct F16Weights {
  static_assert(is_graph_v<G>, "statiq::F16Weights<G>: G must be a statiq::Graph<...>");
  using graph_type = G;
  std::array<std::uint16_t, G::weight_count> bits{};
};

// Widens F16Weights<G> into a runnable Owned<G>.
template <class G>
constexpr Owned<G> to_owned(const F16Weights<G>& h) {
  Owned<G> o{};
  for (std::size_t i = 0; i < G::weight_count; ++i) o.weights[i] = detail::f16_bits_to_f32(h.bits[i]);
  return o;
}

struct compress_f16_t : transform_closure<compress_f16_t> {
  template <model_type M>
  constexpr F16Weights<graph_of_t<M>> operator()(const M& m) const {
    using G = graph_of_t<M>;
    F16Weights<G> out{};
    std::size_t k = 0;
    for (std::size_t p = 0; p < G::num_params; ++p)
      for (std::size_t i = 0; i < G::param_sizes[p]; ++i) out.bits[k++] = detail::f32_to_f16_bits(m.param(p)[i]);
    return out;
  }
};
inline constexpr compress_f16_t compress_f16{};

}  // namespace statiq
