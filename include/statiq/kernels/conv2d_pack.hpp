// Packs int8 convolution weights (OHWI) for conv2d_q: one GEMM blob per group, input zero point folded in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

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

// Behind the groups' blobs, for groups == 1: the input zero point times the sum of each kernel row's and each
// kernel column's weights, per output channel (s32, little-endian, modulo 2^32; the zero point as the kernel
// multiplies it: + 128 for s8 inputs). Kernel row kh's word for channel c is word kh * np + c, kernel column kw's
// (k_h + kw) * np + c (np: out_c padded to the GEMM's panels). The implicit convolution's border pixels leave out
// their taps in the padding and add these back for them (conv_detail::ImplicitBorderRows, ImplicitConvBorders).
constexpr std::size_t conv2d_q_border_sums_bytes(const conv2d_dims& d) {
  return d.groups == 1 ? 4 * static_cast<std::size_t>(d.k_h + d.k_w) * gemm_padded_n(static_cast<std::size_t>(d.out_c))
                       : 0;
}

// Bytes of the packed blob: size static arrays with it.
constexpr std::size_t conv2d_q_packed_size(const conv2d_dims& d) {
  return static_cast<std::size_t>(d.groups) * conv2d_q_group_bytes(d) + conv2d_q_border_sums_bytes(d);
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
  if (d.groups != 1) return;
  const std::uint32_t zp = static_cast<std::uint32_t>(q.x_zero_point + (std::is_same_v<TIn, std::int8_t> ? 128 : 0));
  const std::size_t np = gemm_padded_n(cout_g), k_h = static_cast<std::size_t>(d.k_h);
  const std::size_t k_w = static_cast<std::size_t>(d.k_w), in_c = static_cast<std::size_t>(d.in_c);
  std::uint8_t* sums = out + conv2d_q_group_bytes(d);
  for (std::size_t i = 0; i < conv2d_q_border_sums_bytes(d); ++i) sums[i] = 0;
  for (std::size_t c = 0; c < cout_g; ++c) {
    for (std::size_t kh = 0; kh < k_h; ++kh) {
      for (std::size_t kw = 0; kw < k_w; ++kw) {
        std::uint32_t s = 0;
        for (std::size_t ci = 0; ci < in_c; ++ci)
          s += static_cast<std::uint32_t>(static_cast<std::int32_t>(w[c * k + (kh * k_w + kw) * in_c + ci]));
        s *= zp;
        std::uint8_t* row = sums + 4 * (kh * np + c);
        std::uint8_t* col = sums + 4 * ((k_h + kw) * np + c);
        detail::store_u32(row, detail::load_u32(row) + s);
        detail::store_u32(col, detail::load_u32(col) + s);
      }
    }
  }
}

}  // namespace statiq::kernels
