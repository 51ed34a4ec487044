// Packs s8 GEMM / fully connected weights into the microkernel layout, at compile time or at bake time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "statiq/kernels/ref/requantize.hpp"

namespace statiq::kernels {

// Packed layout (one contiguous little-endian byte blob; align it to 64 bytes, kernels only need 1):
//
//   offset            size        content
//   0                 32          header: u32 magic 'SQG8', u32 n, u32 k, u32 flags, s32 x_zp, 12 zero bytes
//   32                4 * np      s32 bias'[np]   = bias[j] - x_zp * sum_i w[j][i]   (zero-point folded in)
//   32 + 4 * np       4 * np      s32 multiplier[np]   (Q31, per channel; a per-tensor one is repeated)
//   32 + 8 * np       4 * np      s32 shift[np]        (total right shift, 32..62)
//   wo                np * kp     s8 weights, in blocks of 8 panels (below); wo = 32 + 12 * np rounded up to 64
//   wo + np * kp      32 or more  zero slack, the blob's size rounded up to 64
//
// with np = n rounded up to 8 (gemm_nr) and kp = k rounded up to 4 (gemm_kr); padding is zero weights, zero
// bias, and a valid multiplier. A column panel holds 8 output channels; inside it every group of 4
// consecutive k is stored as 8 channels x 4 bytes = 32 bytes, which is one AVX2 register: one
// vpbroadcastd of 4 activation bytes then feeds all 8 channels (vpmaddubsw), and the same 32 bytes widened
// in two halves feed vpmaddwd (exact route) or Highway's ReorderWidenMulAccumulate on every other target.
// Panels come in blocks of 8 (64 channels; the last block holds the bp <= 8 panels left), and a block stores
// its groups one after the other, each group as its bp panels' 32 bytes side by side:
//   block b (panels 8b .. 8b + bp - 1) at 64 * kp * b:   [kp / 4][bp][8][4]
// So a batch-1 product (GEMV), which wants every panel of a block at each group, reads the whole blob as one
// sequential stream (as separate streams per panel, one per 8 channels, it ran at half the L2 bandwidth), two
// neighbouring panels' groups form one 64-byte line (an AVX-512 register of 16 channels x 4 k), and a batched tile
// walks each of its panels with a stride of 32 * bp bytes. The weights start on a 64-byte boundary of the blob, so
// in a 64-byte aligned blob a full block's lines are aligned loads (a 512x784 GEMV with its weights 32 bytes off a
// line: 2.58 against 2.41 us aligned), and a blob's size is a multiple of 64, so blobs laid end to end stay aligned.
// The slack lets a 64-byte load of a block's last panel of an odd count read past the weights' end: the kernels load
// panel pairs whole and never write the lanes of a panel that is not there.
// The layout does not depend on the target, so one baked blob serves static and dynamic dispatch alike.
inline constexpr std::size_t gemm_nr = 8;  // output channels per panel
inline constexpr std::size_t gemm_kr = 4;  // k per group
inline constexpr std::size_t gemm_block_panels = 8;  // panels per block of the weights
inline constexpr std::size_t gemm_header_bytes = 32;
// The blob's layout, counted up at each change (2: blocks of 8 panels; 3: weights on a 64-byte boundary, 32 bytes
// of slack at the end). A header written by io::bake checks it
// through baked_with_layout, so a model baked for another layout fails to compile instead of computing garbage.
inline constexpr std::uint32_t gemm_layout_version = 3;
template <std::uint32_t BakedLayout>
struct baked_with_layout {
  static_assert(BakedLayout == gemm_layout_version,
                "this model header was baked by a statiq whose packed weights have another layout "
                "(statiq::kernels::gemm_layout_version): bake the model again with this statiq");
  static constexpr bool ok = true;
};
inline constexpr std::uint32_t gemm_packed_magic = 0x38475153u;  // "SQG8"

// flags
// Every pair of weights that vpmaddubsw sums (k = 2i, 2i+1 of one channel) has |w_a| + |w_b| <= 128, so
// 255 * (|w_a| + |w_b|) <= 32640 never saturates its s16 result: the u8 x s8 route is exact for any input.
// Always true for 7-bit weights (|w| <= 64, OpenVINO's saturation_fix); full-range weights usually fail it.
inline constexpr std::uint32_t gemm_pairs_fit_s16 = 1u;
inline constexpr std::uint32_t gemm_input_s8 = 2u;  // activations are s8 (kernels flip the sign bit)
// Every channel's shift - 32 lies within [1, ref::requant_short_max_shr]: with an output zero point within
// [-255, 255] the kernels may take the requantization's short exact form.
inline constexpr std::uint32_t gemm_short_requant = 4u;

enum class gemm_route : std::uint8_t {
  automatic,  // use vpmaddubsw where it is exact (gemm_pairs_fit_s16), the widening i16 route otherwise
  widen_i16,  // always the widening route (never sets gemm_pairs_fit_s16)
};

constexpr std::size_t gemm_padded_n(std::size_t n) { return (n + gemm_nr - 1) / gemm_nr * gemm_nr; }
constexpr std::size_t gemm_padded_k(std::size_t k) { return (k + gemm_kr - 1) / gemm_kr * gemm_kr; }

// Panels in the block of panel p, of a blob with np (padded) channels.
constexpr std::size_t gemm_block_size(std::size_t np, std::size_t p) {
  const std::size_t first = p / gemm_block_panels * gemm_block_panels, panels = np / gemm_nr;
  return panels - first < gemm_block_panels ? panels - first : gemm_block_panels;
}
// Bytes from one group of panel p to its next: 32 per panel of p's block.
constexpr std::size_t gemm_group_stride(std::size_t np, std::size_t p) {
  return gemm_block_size(np, p) * (gemm_nr * gemm_kr);
}
// Byte offset of weight (channel j, input i) in the weights of a blob with np channels and kp inputs (padded).
constexpr std::size_t gemm_weight_offset(std::size_t np, std::size_t kp, std::size_t j, std::size_t i) {
  const std::size_t p = j / gemm_nr;
  return p / gemm_block_panels * (gemm_block_panels * gemm_nr * kp) + i / gemm_kr * gemm_group_stride(np, p) +
         p % gemm_block_panels * (gemm_nr * gemm_kr) + j % gemm_nr * gemm_kr + i % gemm_kr;
}

inline constexpr std::size_t gemm_blob_alignment = 64;
inline constexpr std::size_t gemm_slack_bytes = 32;  // a panel's group: what a panel-pair load reads past a block
namespace detail {
constexpr std::size_t gemm_align(std::size_t bytes) {
  return (bytes + gemm_blob_alignment - 1) / gemm_blob_alignment * gemm_blob_alignment;
}
}  // namespace detail
// Byte offset of the weights in a blob with np (padded) channels: past the header, biases, multipliers and shifts,
// on a 64-byte boundary.
constexpr std::size_t gemm_weights_offset(std::size_t np) { return detail::gemm_align(gemm_header_bytes + 12 * np); }
// Bytes of the packed blob for n output channels of k inputs (a multiple of 64): size static arrays with it.
constexpr std::size_t gemm_packed_size(std::size_t n, std::size_t k) {
  const std::size_t np = gemm_padded_n(n);
  return detail::gemm_align(gemm_weights_offset(np) + np * gemm_padded_k(k) + gemm_slack_bytes);
}

namespace detail {
constexpr void store_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}
constexpr std::uint32_t load_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
constexpr std::int32_t load_s32(const std::uint8_t* p) { return static_cast<std::int32_t>(load_u32(p)); }
}  // namespace detail

// Packs w: [n][k] s8 (symmetric, zero point 0) with bias (s32, may be null), the input zero point x_zp and
// the requantization multipliers (n of them, or one when per_channel is false) into out, which holds
// gemm_packed_size(n, k) bytes. TIn is the activation type (std::uint8_t or std::int8_t). Pure and
// constexpr: a baked model packs in the compiler.
template <class TIn = std::uint8_t>
constexpr void pack_gemm_weights(std::size_t n, std::size_t k, const std::int8_t* w, const std::int32_t* bias,
                                 std::int32_t x_zp, const ref::requant_multiplier* mult, bool per_channel,
                                 std::uint8_t* out, gemm_route route = gemm_route::automatic) {
  static_assert(std::is_same_v<TIn, std::uint8_t> || std::is_same_v<TIn, std::int8_t>,
                "pack_gemm_weights<TIn>(...) requires TIn to be std::uint8_t or std::int8_t");
  const std::size_t np = gemm_padded_n(n), kp = gemm_padded_k(k);
  constexpr bool in_s8 = std::is_same_v<TIn, std::int8_t>;
  // s8 inputs run as u8 (x ^ 0x80 = x + 128), so their zero point moves by 128 too.
  const std::int32_t zp = in_s8 ? x_zp + 128 : x_zp;
  bool pairs_fit = route == gemm_route::automatic;
  bool short_rq = true;
  for (std::size_t i = 0, size = gemm_packed_size(n, k); i < size; ++i) out[i] = 0;
  std::uint8_t* bias_p = out + gemm_header_bytes;
  std::uint8_t* mult_p = bias_p + 4 * np;
  std::uint8_t* shift_p = mult_p + 4 * np;
  std::uint8_t* wp = out + gemm_weights_offset(np);
  for (std::size_t j = 0; j < np; ++j) {
    std::int64_t sum = 0;
    // Channel j's groups of gemm_kr inputs, one group stride apart (gemm_weight_offset, stepped: in a constant
    // expression every operation counts against the compiler's limit).
    std::uint8_t* group = wp + gemm_weight_offset(np, kp, j, 0);
    const std::size_t group_stride = gemm_group_stride(np, j / gemm_nr);
    const std::int8_t* wj = j < n ? w + j * k : w;
    for (std::size_t i0 = 0; j < n && i0 < k; i0 += gemm_kr, group += group_stride) {
      for (std::size_t i = i0; i < i0 + gemm_kr && i < k; ++i) {
        const std::int32_t v = wj[i];
        sum += v;
        group[i - i0] = static_cast<std::uint8_t>(static_cast<std::int8_t>(v));
      }
      if (pairs_fit) {
        for (std::size_t i = i0; i < i0 + gemm_kr && i < k; i += 2) {
          const std::int32_t v = wj[i], u = i + 1 < k ? wj[i + 1] : 0;
          if ((v < 0 ? -v : v) + (u < 0 ? -u : u) > 128) pairs_fit = false;
        }
      }
    }
    const std::int64_t b = j < n && bias ? bias[j] : 0;
    // modulo 2^32, like the kernels' wrapping s32 adds
    detail::store_u32(bias_p + 4 * j, static_cast<std::uint32_t>(static_cast<std::uint64_t>(b - zp * sum)));
    const ref::requant_multiplier m = j < n ? mult[per_channel ? j : 0] : ref::requant_multiplier{1 << 30, 62};
    if (j < n && (m.shift - 32 < 1 || m.shift - 32 > ref::requant_short_max_shr)) short_rq = false;
    detail::store_u32(mult_p + 4 * j, static_cast<std::uint32_t>(m.multiplier));
    detail::store_u32(shift_p + 4 * j, static_cast<std::uint32_t>(m.shift));
  }
  detail::store_u32(out + 0, gemm_packed_magic);
  detail::store_u32(out + 4, static_cast<std::uint32_t>(n));
  detail::store_u32(out + 8, static_cast<std::uint32_t>(k));
  detail::store_u32(out + 12, (pairs_fit ? gemm_pairs_fit_s16 : 0u) | (in_s8 ? gemm_input_s8 : 0u) |
                                (short_rq ? gemm_short_requant : 0u));
  detail::store_u32(out + 16, static_cast<std::uint32_t>(x_zp));
}

// Read-only view of a packed blob, for kernels and callers.
struct gemm_packed_view {
  const std::uint8_t* data = nullptr;

  constexpr bool valid() const { return detail::load_u32(data) == gemm_packed_magic; }
  constexpr std::size_t n() const { return detail::load_u32(data + 4); }
  constexpr std::size_t k() const { return detail::load_u32(data + 8); }
  constexpr std::uint32_t flags() const { return detail::load_u32(data + 12); }
  constexpr std::int32_t x_zp() const { return detail::load_s32(data + 16); }
  constexpr std::size_t np() const { return gemm_padded_n(n()); }
  constexpr std::size_t kp() const { return gemm_padded_k(k()); }
  constexpr const std::uint8_t* bias() const { return data + gemm_header_bytes; }
  constexpr const std::uint8_t* multiplier() const { return bias() + 4 * np(); }
  constexpr const std::uint8_t* shift() const { return multiplier() + 4 * np(); }
  constexpr const std::uint8_t* weights() const { return data + gemm_weights_offset(np()); }
  // Panels in the block of panel p, and the bytes from one group of panel p to its next (32 per panel of the
  // block). Panels p and p + 1 of one block lie 32 bytes apart.
  constexpr std::size_t block_size(std::size_t p) const { return gemm_block_size(np(), p); }
  constexpr std::size_t group_stride(std::size_t p) const { return gemm_group_stride(np(), p); }
  // One past the last panel of the block of panel p, or limit where that is less: a kernel's range of panels
  // [p, limit) cut at the block's end.
  static constexpr std::size_t block_end(std::size_t p, std::size_t limit = static_cast<std::size_t>(-1)) {
    const std::size_t e = (p / gemm_block_panels + 1) * gemm_block_panels;
    return limit < e ? limit : e;
  }
  // the 32-byte group g (k = 4g..4g+3) of panel p (channels 8p..8p+7)
  constexpr const std::uint8_t* group(std::size_t p, std::size_t g) const {
    return weights() + gemm_weight_offset(np(), kp(), gemm_nr * p, gemm_kr * g);
  }
  // Reads weight (j, i) from the weights' base and the padded sizes held by value: a kernel gathering many
  // weights into a byte array keeps them in registers (a byte store may alias the blob's header, which weight()
  // would read again after each one).
  struct weight_reader {
    const std::uint8_t* w;
    std::size_t np, kp;
    constexpr std::int8_t operator()(std::size_t j, std::size_t i) const {
      return static_cast<std::int8_t>(w[gemm_weight_offset(np, kp, j, i)]);
    }
  };
  constexpr weight_reader weights_reader() const { return {weights(), np(), kp()}; }
  constexpr std::int8_t weight(std::size_t j, std::size_t i) const { return weights_reader()(j, i); }
  constexpr std::int32_t bias_at(std::size_t j) const { return detail::load_s32(bias() + 4 * j); }
  constexpr ref::requant_multiplier multiplier_at(std::size_t j) const {
    return {detail::load_s32(multiplier() + 4 * j), detail::load_s32(shift() + 4 * j)};
  }
};

}  // namespace statiq::kernels
