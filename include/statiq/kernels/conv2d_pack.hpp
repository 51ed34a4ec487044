// Packs int8 convolution weights (OHWI) for conv2d_q: one GEMM blob per group, input zero point folded in.
#pragma once

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/pack.hpp"
#include "statiq/kernels/ref/conv2d_q.hpp"
#include "statiq/kernels/ref/pool_f32.hpp"  // pool2d_dims

namespace statiq::kernels {

// The longest reduction conv2d_q handles (its im2col tile is 24 KiB): k_h * k_w * in_c / groups.
inline constexpr std::size_t conv2d_q_max_k = 24576;

// The GEMM reduction length of one group: k_h * k_w * in_c / groups (im2col column order kh, kw, ci,
// which is OHWI's order inside one output channel, so every output channel's weights pack as one row).
constexpr std::size_t conv2d_q_gemm_k(const conv2d_dims& d) {
  return static_cast<std::size_t>(d.k_h) * d.k_w * (d.in_c / d.groups);
}
constexpr std::size_t conv2d_q_group_bytes(const conv2d_dims& d) {
  return gemm_packed_size(static_cast<std::size_t>(d.out_c / d.groups), conv2d_q_gemm_k(d));
}
// conv2d_q_max_pool2 (a 2x2, stride-2 max pool fused into the convolution) keeps the 4 patches of a pooling
// window in its im2col tile: k_h * k_w * in_c / groups up to a quarter of conv2d_q_max_k.
inline constexpr std::size_t conv2d_q_pool2_max_k = conv2d_q_max_k / 4;
// Whether conv2d_q_max_pool2 takes convolution d: an output of at least 2x2 pixels and a short enough patch.
constexpr bool conv2d_q_pool2_fits(const conv2d_dims& d) {
  return d.out_h >= 2 && d.out_w >= 2 && conv2d_q_gemm_k(d) <= conv2d_q_pool2_max_k;
}

// The 2x2, stride-2 max pool (floor mode) conv2d_q_max_pool2 fuses after convolution d; its output is
// out_h x out_w x channels.
constexpr pool2d_dims conv2d_q_pool2_dims(const conv2d_dims& d) {
  pool2d_dims p;
  p.in_h = d.out_h;
  p.in_w = d.out_w;
  p.channels = d.out_c;
  p.k_h = p.k_w = p.stride_h = p.stride_w = 2;
  p.out_h = d.out_h / 2;
  p.out_w = d.out_w / 2;
  return p;
}

// Bytes of the packed blob: size static arrays with it.
constexpr std::size_t conv2d_q_packed_size(const conv2d_dims& d) {
  return static_cast<std::size_t>(d.groups) * conv2d_q_group_bytes(d);
}

// Packs w (OHWI s8), bias (s32, may be null), q.x_zero_point and q's multipliers into out
// (conv2d_q_packed_size(d) bytes). TIn is the activation type. Pure and constexpr.
template <class TIn>
constexpr void pack_conv2d_q(const conv2d_dims& d, const qconv_params& q, const std::int8_t* w,
                             const std::int32_t* bias, std::uint8_t* out, gemm_route route = gemm_route::automatic) {
  const std::size_t cout_g = static_cast<std::size_t>(d.out_c / d.groups);
  const std::size_t k = conv2d_q_gemm_k(d);
  for (int g = 0; g < d.groups; ++g) {
    pack_gemm_weights<TIn>(cout_g, k, w + g * cout_g * k, bias ? bias + g * cout_g : nullptr, q.x_zero_point,
                           q.per_channel ? q.multiplier + g * cout_g : q.multiplier, q.per_channel,
                           out + g * conv2d_q_group_bytes(d), route);
  }
}

}  // namespace statiq::kernels
