// 2-D convolution NHWC: int8 (u8/s8 activations, s8 OHWI weights packed by pack_conv2d_q) and f32.
// Shape: x [in_h][in_w][in_c], w [out_c][k_h][k_w][in_c / groups], y [out_h][out_w][out_c].
#if defined(STATIQ_KERNELS_CONV2D_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef STATIQ_KERNELS_CONV2D_INL_H_
#undef STATIQ_KERNELS_CONV2D_INL_H_
#else
#define STATIQ_KERNELS_CONV2D_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/highway.h>

#include "statiq/kernels/conv2d_pack.hpp"
#include "statiq/kernels/dense_f32-inl.h"
#include "statiq/kernels/detail/avx2_int8-inl.h"
#include "statiq/kernels/detail/channel_blocks-inl.h"
#include "statiq/kernels/detail/requant_lanes-inl.h"
#include "statiq/kernels/detail/unroll.hpp"
#include "statiq/kernels/gemm_u8s8-inl.h"
#include "statiq/kernels/pool-inl.h"
#include "statiq/kernels/ref/conv2d.hpp"
#include "statiq/kernels/ref/conv2d_q.hpp"
#include "statiq/kernels/ref/conv2d_q_border.hpp"

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

namespace conv_detail {

// Im2col tile bytes (stack): a tile of pixels' patches stays in L1 while the GEMM passes over it.
inline constexpr std::size_t kIm2colBytes = 24 * 1024;

// Copies n values. A plain loop is turned into a memcpy call by GCC (loop idiom), which cost 20% of a
// 9-tap first layer's time in 12-byte calls; fixed-size chunks compile to plain loads and stores.
template <class T>
HWY_INLINE void CopySmall(T* HWY_RESTRICT dst, const T* HWY_RESTRICT src, std::size_t n) {
  auto* d = reinterpret_cast<unsigned char*>(dst);
  const auto* s = reinterpret_cast<const unsigned char*>(src);
  const std::size_t bytes = n * sizeof(T);
  // Whole chunks, then one chunk ending at the last byte (it rewrites some bytes with the same values).
  if (bytes >= 32) {
    std::size_t o = 0;
    for (; o + 32 <= bytes; o += 32) std::memcpy(d + o, s + o, 32);
    if (o < bytes) std::memcpy(d + bytes - 32, s + bytes - 32, 32);
  } else if (bytes >= 16) {
    std::memcpy(d, s, 16);
    std::memcpy(d + bytes - 16, s + bytes - 16, 16);
  } else if (bytes >= 8) {
    std::memcpy(d, s, 8);
    std::memcpy(d + bytes - 8, s + bytes - 8, 8);
  } else if (bytes >= 4) {
    std::memcpy(d, s, 4);
    std::memcpy(d + bytes - 4, s + bytes - 4, 4);
  } else if (bytes >= 2) {
    std::memcpy(d, s, 2);
    std::memcpy(d + bytes - 2, s + bytes - 2, 2);
  } else if (bytes) {
    *d = *s;
  }
}
template <class T>
HWY_INLINE void FillSmall(T* dst, T v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = v;
}

// Patch of output pixel (oh, ow) of group g: k_h * k_w * cin_g values in (kh, kw, ci) order; taps in the
// padding hold `pad` (the input zero point for int8, so they contribute nothing after the packed bias
// compensation; 0 for float). With groups == 1 and dil_w == 1 a row of k_w taps is contiguous in NHWC:
// one copy of k_w * in_c values (first layer, 1 channel: 3 bytes per kernel row).
template <class T>
HWY_INLINE void Patch(const conv2d_dims& d, const T* HWY_RESTRICT x, int g, int oh, int ow, T pad,
                      T* HWY_RESTRICT out) {
  const int cin_g = d.in_c / d.groups;
  const std::size_t row = static_cast<std::size_t>(d.k_w) * cin_g;
  const int ih0 = oh * d.stride_h - d.pad_top, iw0 = ow * d.stride_w - d.pad_left;
  const bool cols_inside = iw0 >= 0 && iw0 + (d.k_w - 1) * d.dil_w < d.in_w;
  if (cols_inside && d.groups == 1 && d.dil_w == 1 && ih0 >= 0 && ih0 + (d.k_h - 1) * d.dil_h < d.in_h) {
    // The whole window inside the input (most pixels): one contiguous copy per kernel row, no checks.
    const T* xr = x + (static_cast<std::ptrdiff_t>(ih0) * d.in_w + iw0) * d.in_c;
    const std::ptrdiff_t step = static_cast<std::ptrdiff_t>(d.dil_h) * d.in_w * d.in_c;
    for (int kh = 0; kh < d.k_h; ++kh, out += row, xr += step) CopySmall(out, xr, row);
    return;
  }
  for (int kh = 0; kh < d.k_h; ++kh, out += row) {
    const int ih = ih0 + kh * d.dil_h;
    if (ih < 0 || ih >= d.in_h) {
      FillSmall(out, pad, row);
      continue;
    }
    const T* xr = x + static_cast<std::ptrdiff_t>(ih) * d.in_w * d.in_c + g * cin_g;
    if (cols_inside && d.groups == 1 && d.dil_w == 1) {
      CopySmall(out, xr + static_cast<std::ptrdiff_t>(iw0) * d.in_c, row);
      continue;
    }
    for (int kw = 0; kw < d.k_w; ++kw) {
      const int iw = iw0 + kw * d.dil_w;
      if (iw < 0 || iw >= d.in_w) FillSmall(out + kw * cin_g, pad, cin_g);
      else CopySmall(out + kw * cin_g, xr + static_cast<std::ptrdiff_t>(iw) * d.in_c, cin_g);
    }
  }
}

}  // namespace conv_detail

namespace conv_detail {

#if HWY_TARGET != HWY_SCALAR
// First layer (groups == 1, in_c <= 4: grey or RGB images): a patch has only k_h * k_w * in_c <= 64 values,
// too short for the GEMM's 4-row x 8-channel tiles to pay off (measured: 68 us for 28x28x1 -> 16 3x3 through
// im2col + GEMM). Here output channels sit in i32 lanes: each pair of patch values (as one broadcast i32
// holding two i16) meets the block's weights interleaved as [oc][2] i16 (ReorderWidenMulAccumulate,
// vpmaddwd: exact), so a 3x3 single-channel pixel costs 5 broadcasts and 10 multiply-adds for 16 channels.
// Weights, bias' (zero point folded) and multipliers are read back from the packed blob once per block of
// 2 vectors of channels; patch values are u8 (s8 inputs flipped by ^0x80, as the packer assumes).
inline constexpr int kFirstLayerMaxK = 64;

// Bias' (zero point folded), multipliers and rounding terms from the blob: lane l takes channel
// first + chan(lane0 + l), for l in [0, lanes).
template <class Chan>
HWY_INLINE void FirstLayerRequantParams(const gemm_packed_view& pk, std::size_t first, std::size_t lane0,
                                        std::size_t lanes, const Chan& chan, detail::RequantLaneParams& rq) {
  for (std::size_t l = 0; l < lanes; ++l) {
    const std::size_t j = first + chan(lane0 + l);
    const ref::requant_multiplier m = pk.multiplier_at(j);
    rq.bias[l] = pk.bias_at(j);
    rq.mult[l] = m.multiplier;
    rq.shr[l] = m.shift - 32;
    const std::int64_t r = std::int64_t{1} << (m.shift - 1);
    if (l % 2 == 0) rq.rnd_even[l / 2] = r; else rq.rnd_odd[l / 2] = r;
  }
}

template <int KH, int KW, int CIN, int kVec, class D32, class TIn, class TOut>
HWY_NOINLINE void FirstLayerBlock(D32 d32, const conv2d_dims& d, const gemm_packed_view& pk, const TIn* HWY_RESTRICT x,
                                  std::int32_t y_zp, std::int32_t lo, std::int32_t hi, TOut* HWY_RESTRICT y, int oc0) {
  constexpr int nvec = kVec;
  const hn::Repartition<std::int16_t, D32> d16;
  const hn::Rebind<TOut, D32> dy;
  const std::size_t N = hn::Lanes(d32);
  const int k = static_cast<int>(pk.k());
  const int pairs = KH > 0 ? (KH * KW * CIN + 1) / 2 : (k + 1) / 2;
  constexpr bool kFlip = std::is_same_v<TIn, std::int8_t>;
  const std::uint8_t pad = static_cast<std::uint8_t>(static_cast<TIn>(pk.x_zp())) ^ (kFlip ? 0x80 : 0);
  // w2[(v * pairs + p) * 2N + 2 * lane + {0,1}] = w[oc0 + v * N + lane][2p + {0,1}]
  HWY_ALIGN std::int16_t w2[2 * (kFirstLayerMaxK / 2) * 2 * HWY_LANES(std::int32_t)];
  detail::RequantLaneParams rq[2];
  for (int v = 0; v < nvec; ++v) {
    for (int p = 0; p < pairs; ++p)
      for (std::size_t l = 0; l < N; ++l)
        for (int h = 0; h < 2; ++h) {
          const int i = 2 * p + h;
          const std::size_t j = static_cast<std::size_t>(oc0) + v * N + l;
          w2[(v * pairs + p) * 2 * N + 2 * l + h] = i < k ? pk.weight(j, static_cast<std::size_t>(i)) : 0;
        }
    FirstLayerRequantParams(pk, static_cast<std::size_t>(oc0), v * N, N, [](std::size_t l) { return l; }, rq[v]);
  }
  const auto vzp = hn::Set(d32, y_zp), vlo = hn::Set(d32, lo), vhi = hn::Set(d32, hi);
  // Pair words are built in registers: storing u16 values and reloading them as u32 defeats store
  // forwarding (measured: 40 -> 16 us for 28x28x1 -> 16 3x3).
  std::uint32_t words[kFirstLayerMaxK / 2 + 1];
  const int kh_n = KH > 0 ? KH : d.k_h, kw_n = KW > 0 ? KW : d.k_w, cin = CIN > 0 ? CIN : d.in_c;
  for (int oh = 0; oh < d.out_h; ++oh) {
    const int ih0 = oh * d.stride_h - d.pad_top;
    for (int ow = 0; ow < d.out_w; ++ow) {
      const int iw0 = ow * d.stride_w - d.pad_left;
      int i = 0;
      std::uint32_t cur = 0;
      const auto put = [&](std::uint32_t v) {
        if (i % 2 == 0) cur = v; else words[i / 2] = cur | (v << 16);
        ++i;
      };
      const bool inside = ih0 >= 0 && ih0 + (kh_n - 1) * d.dil_h < d.in_h && iw0 >= 0 &&
                          iw0 + (kw_n - 1) * d.dil_w < d.in_w;
      STATIQ_UNROLL(16)
      for (int kh = 0; kh < kh_n; ++kh) {
        const int ih = ih0 + kh * d.dil_h;
        const bool row_in = inside || (ih >= 0 && ih < d.in_h);
        STATIQ_UNROLL(16)
        for (int kw = 0; kw < kw_n; ++kw) {
          const int iw = iw0 + kw * d.dil_w;
          if (inside || (row_in && iw >= 0 && iw < d.in_w)) {
            const TIn* xp = x + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw) * cin;
            STATIQ_UNROLL(4)
            for (int c = 0; c < cin; ++c) put(static_cast<std::uint8_t>(xp[c]) ^ (kFlip ? 0x80u : 0u));
          } else {
            STATIQ_UNROLL(4)
            for (int c = 0; c < cin; ++c) put(pad);
          }
        }
      }
      if (i % 2) words[i / 2] = cur;
      auto a0 = hn::Zero(d32), a1 = hn::Zero(d32), b0 = hn::Zero(d32), b1 = hn::Zero(d32);
      STATIQ_UNROLL(32)
      for (int p = 0; p < pairs; ++p) {
        const auto xv = hn::BitCast(d16, hn::Set(d32, static_cast<std::int32_t>(words[p])));
        a0 = hn::ReorderWidenMulAccumulate(d32, xv, hn::Load(d16, w2 + p * 2 * N), a0, a1);
        if (nvec > 1) b0 = hn::ReorderWidenMulAccumulate(d32, xv, hn::Load(d16, w2 + (pairs + p) * 2 * N), b0, b1);
      }
      TOut* yp = y + (static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * d.out_c + oc0;
      const auto ya = detail::RequantizeLanes(d32, hn::Add(hn::RearrangeToOddPlusEven(a0, a1), hn::Load(d32, rq[0].bias)),
                                      rq[0], 0, vzp, vlo, vhi);
      hn::StoreU(hn::DemoteTo(dy, ya), dy, yp);
      if (nvec > 1) {
        const auto yb = detail::RequantizeLanes(d32, hn::Add(hn::RearrangeToOddPlusEven(b0, b1), hn::Load(d32, rq[1].bias)),
                                        rq[1], 0, vzp, vlo, vhi);
        hn::StoreU(hn::DemoteTo(dy, yb), dy, yp + N);
      }
    }
  }
}

// The same first-layer arithmetic with the pairs taken across kernel rows instead of along the patch: pair
// (r, kw, c) holds taps (2r, kw, c) and (2r + 1, kw, c) (a zero weight when 2r + 1 == k_h). For one output row,
// the words of every row pair are built once for all the row's input columns (u16 of row 2r, u16 of row 2r + 1;
// padding holds the input zero point); a pixel then broadcasts its words straight from that buffer, at column
// ow * stride_w + kw * dil_w. This replaces the per-pixel scalar gathering of the patch, which dominated the
// block above: 3x3 single-channel, 16 channels: 140 -> about 60 instructions per pixel. Columns are taken in
// chunks so the words of all row pairs fit kRowWords.
inline constexpr int kRowWords = 2048;

template <int KH, int KW, int CIN>
HWY_INLINE bool FirstLayerRowsFit(const conv2d_dims& d) {
  const int kh = KH > 0 ? KH : d.k_h, kw = KW > 0 ? KW : d.k_w, cin = CIN > 0 ? CIN : d.in_c;
  return ((kh + 1) / 2) * cin * ((kw - 1) * d.dil_w + 1) <= kRowWords;
}

// kValuePad: the padding holds pad_q16[c] (per input channel, quantized units relative to the zero point, Q16)
// instead of the zero point, as ref::conv2d_q_value_padded_border defines it: a border pixel adds
// round_half_away(sum over its padded taps of pad_q16 * w / 2^16) to its accumulator, from a per-tap table built
// once per call (at most kValuePadTaps taps).
inline constexpr int kValuePadTaps = 25;
// kPool: a 2x2, stride-2 max pool fused after the convolution (floor mode: a last odd row or column is not
// computed); the s32 sums of a window are pooled before one requantization. kPoolCols pooled columns per chunk.
inline constexpr int kPoolCols = 32;

// Of the columns [iw_first, iw_first + ncols) of a chunk, those inside the input are [InsideFrom, InsideTo)
// (relative to iw_first; an empty range where none is).
HWY_INLINE int InsideFrom(int iw_first, int ncols) { return iw_first < 0 ? (-iw_first < ncols ? -iw_first : ncols) : 0; }
HWY_INLINE int InsideTo(int iw_first, int ncols, int in_w, int from) {
  return in_w - iw_first < ncols ? (in_w - iw_first > from ? in_w - iw_first : from) : ncols;
}

// kQuad (AVX2, dil_w == 1, every weight of the block within [-64, 64]: what the quantizer's saturation fix gives on
// this target): the patch values are taken four at a time with vpmaddubsw instead of two with vpmaddwd. A kernel
// row's k_w * in_c values lie contiguous in the row buffer (one byte per value, padding holding the zero point), so
// a pixel broadcasts 4 bytes of each row (vpbroadcastd from memory) and meets each lane's 4 weights of that row
// (QuadStep; the values past the row's end, up to the next multiple of 4, meet weight 0). 3x3 single-channel,
// 16 channels: 3 broadcasts and 6 vpmaddubsw + 6 vpmaddwd + 6 vpaddd, against 6 broadcasts and 12 vpmaddwd + 12
// vpaddd. The two vectors hold channels {0-3, 8-11} and {4-7, 12-15} of the block, so one vpackssdw and one byte
// pack store the 16 outputs in order, clamped once on the bytes (PackBytes16); the requantization takes its short
// form where every channel of the block allows it (decided once per call).
// extra_columns: columns a chunk needs beyond one pixel's reach (the pooled kernel: stride_w, for two columns).
HWY_INLINE bool FirstLayerQuadFit(const conv2d_dims& d, int extra_columns = 0) {
  return d.dil_w == 1 && d.k_h * ((d.k_w + extra_columns) * d.in_c + 4) <= 4 * kRowWords;
}

// True if every weight of channels [oc0, oc0 + lanes) lies within [-64, 64] (the kQuad first layer's range).
HWY_INLINE bool FirstLayerQuadWeights(const gemm_packed_view& pk, int oc0, int lanes) {
  const gemm_packed_view::weight_reader wt = pk.weights_reader();
  for (int l = 0; l < lanes; ++l)
    for (std::size_t i = 0; i < pk.k(); ++i) {
      const int w = wt(static_cast<std::size_t>(oc0 + l), i);
      if (w < -64 || w > 64) return false;
    }
  return true;
}

template <int KH, int KW, int CIN, int kVec, bool kValuePad = false, bool kPool = false, bool kQuad = false, class D32,
          class TIn, class TOut>
HWY_NOINLINE void FirstLayerRowsBlock(D32 d32, const conv2d_dims& dims, const gemm_packed_view& pk,
                                      const TIn* HWY_RESTRICT x, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                                      TOut* HWY_RESTRICT y, int oc0, const std::int32_t* pad_q16 = nullptr) {
  const conv2d_dims d = dims;  // a local copy: stores to y cannot alias it
  static_assert(!kQuad || (HWY_TARGET == HWY_AVX2 && kVec == 2), "the kQuad first layer is AVX2 with two vectors of channels (kVec == 2)");
  constexpr int nvec = kVec;
  const hn::Repartition<std::int16_t, D32> d16;
  const hn::Rebind<TOut, D32> dy;
  const std::size_t N = hn::Lanes(d32);
  const int kh_n = KH > 0 ? KH : d.k_h, kw_n = KW > 0 ? KW : d.k_w, cin = CIN > 0 ? CIN : d.in_c;
  const int rpairs = (kh_n + 1) / 2;
  const int pairs = KH > 0 ? ((KH + 1) / 2) * KW * CIN : rpairs * kw_n * cin;
  // kQuad: quads of one kernel row, and of the patch
  const int row_quads = KW > 0 ? (KW * CIN + 3) / 4 : (kw_n * cin + 3) / 4;
  const int quads = kh_n * row_quads;
  const gemm_packed_view::weight_reader wt = pk.weights_reader();
  constexpr bool kFlip = std::is_same_v<TIn, std::int8_t>;
  const std::uint32_t pad = static_cast<std::uint8_t>(static_cast<TIn>(pk.x_zp())) ^ (kFlip ? 0x80u : 0u);
  // The block's channel held by lane l of the nvec * N lanes (kQuad: PackBytes16's order).
  const auto chan = [&](std::size_t l) -> std::size_t {
    if constexpr (kQuad) return l % 4 + 8 * ((l % N) / 4) + 4 * (l / N);
    return l;
  };
  // w2[(v * pairs + p) * 2N + 2 * lane + {0,1}]: pair p = (r, kw, c) of channel oc0 + v * N + lane.
  // kQuad: w4[((v * quads + q) * N + lane) * 4 + j]: value 4q' + j of kernel row r (q = r * row_quads + q').
  constexpr std::size_t kW2 = kQuad ? 1 : 2 * (kFirstLayerMaxK / 2 + kFirstLayerMaxK / 2) * 2 * HWY_LANES(std::int32_t);
  constexpr std::size_t kW4 = kQuad ? 2 * kFirstLayerMaxK * 4 * HWY_LANES(std::int32_t) : 1;
  HWY_ALIGN std::int16_t w2[kW2];
  HWY_ALIGN std::int8_t w4[kW4];
  int off[kFirstLayerMaxK];  // pair p's word offset in the row buffer, for output column 0 of the chunk
  // Columns of one chunk: the buffer holds rpairs rows of `span` columns x cin words (kQuad: kh_n rows of
  // span * cin + 4 bytes).
  const int span_max = kQuad ? (4 * kRowWords / kh_n - 4) / cin : kRowWords / (rpairs * cin);
  const int reach = (kw_n - 1) * d.dil_w + 1;  // columns one pixel spans
  int chunk = (span_max - reach) / d.stride_w + 1;  // output columns per chunk (>= 1: FirstLayerRowsFit)
  if constexpr (kPool) {  // whole windows (2 columns) per chunk, at most kPoolCols of them
    chunk = chunk / 2 < kPoolCols ? chunk / 2 * 2 : 2 * kPoolCols;
  }
  const int span = (chunk - 1) * d.stride_w + reach;
  const int row_bytes = span * cin + 4;  // kQuad: a row of the buffer, with the last quad's overhang
  detail::RequantLaneParams rq[2];
  for (int v = 0; v < nvec; ++v) {
    if constexpr (kQuad) {
      const int row_len = kw_n * cin;
      for (std::size_t l = 0; l < N; ++l) {
        const std::size_t j = static_cast<std::size_t>(oc0) + chan(v * N + l);
        for (int r = 0; r < kh_n; ++r)
          for (int i = 0; i < 4 * row_quads; ++i)
            w4[((v * quads + r * row_quads + i / 4) * N + l) * 4 + i % 4] =
                i < row_len ? wt(j, static_cast<std::size_t>(r * row_len + i)) : std::int8_t{0};
      }
    } else {
      for (int r = 0, p = 0; r < rpairs; ++r)
        for (int kw = 0; kw < kw_n; ++kw)
          for (int c = 0; c < cin; ++c, ++p)
            for (std::size_t l = 0; l < N; ++l) {
              const std::size_t j = static_cast<std::size_t>(oc0) + v * N + l;
              const int k0 = ((2 * r) * kw_n + kw) * cin + c, k1 = ((2 * r + 1) * kw_n + kw) * cin + c;
              w2[(v * pairs + p) * 2 * N + 2 * l] = wt(j, static_cast<std::size_t>(k0));
              w2[(v * pairs + p) * 2 * N + 2 * l + 1] =
                  2 * r + 1 < kh_n ? wt(j, static_cast<std::size_t>(k1)) : std::int16_t{0};
            }
    }
    FirstLayerRequantParams(pk, static_cast<std::size_t>(oc0), v * N, N, chan, rq[v]);
    detail::DeriveRequantLanes(rq[v], N, y_zp);
  }
  if constexpr (!kQuad) {
    for (int r = 0, p = 0; r < rpairs; ++r)
      for (int kw = 0; kw < kw_n; ++kw)
        for (int c = 0; c < cin; ++c, ++p) off[p] = (r * span + kw * d.dil_w) * cin + c;
  }
  // tap_pad[t * nvec * N + lane] = sum over c of pad_q16[c] * w[channel of lane][t][c]
  constexpr int kPadTable = kValuePad ? kValuePadTaps * 2 * HWY_LANES(std::int32_t) : 1;
  std::int64_t tap_pad[kPadTable];
  HWY_ALIGN std::int32_t corr[2 * HWY_LANES(std::int32_t)];
  const std::size_t lanes = nvec * N;
  if constexpr (kValuePad) {
    for (int t = 0; t < kh_n * kw_n; ++t)
      for (std::size_t l = 0; l < lanes; ++l) {
        std::int64_t sum = 0;
        for (int c = 0; c < cin; ++c)
          sum += std::int64_t{pad_q16[c]} * wt(static_cast<std::size_t>(oc0) + chan(l), static_cast<std::size_t>(t * cin + c));
        tap_pad[t * lanes + l] = sum;
      }
  }
  const auto vzp = hn::Set(d32, y_zp), vlo = hn::Set(d32, lo), vhi = hn::Set(d32, hi);
  HWY_ALIGN std::uint32_t words[kRowWords + 8];  // kQuad: 32 spare bytes for the padding's last store
  std::uint8_t* const bytes = reinterpret_cast<std::uint8_t*>(words);  // kQuad's row buffer
  std::uint8_t pad32[32];
  std::memset(pad32, static_cast<int>(pad), sizeof(pad32));
  // kPool: the maxima of the window's first row, per pooled column of the chunk ([column][vector][lane]).
  HWY_ALIGN std::int32_t row_max[kPool ? kPoolCols * 2 * HWY_LANES(std::int32_t) : 1];
  const int rows_out = kPool ? d.out_h / 2 : d.out_h, cols = kPool ? d.out_w / 2 * 2 : d.out_w;
  const int out_w = kPool ? d.out_w / 2 : d.out_w;
  bool short_form = kQuad;
  for (int v = 0; v < nvec; ++v) short_form = short_form && rq[v].fast;
  // kQuad: row ih's columns [iw_first, iw_first + ncols) as ncols * cin bytes at br (the padding holds the zero
  // point), then 4 bytes of overhang for the last quad.
  const auto build_row = [&](std::uint8_t* br, int ih, int iw_first, int ncols) {
    const bool in = ih >= 0 && ih < d.in_h;
    const int j_lo = InsideFrom(iw_first, ncols), j_hi = InsideTo(iw_first, ncols, d.in_w, j_lo);
    const int a = in ? j_lo * cin : ncols * cin, b = in ? j_hi * cin : ncols * cin;
    // The whole row takes the padding first, in 32-byte stores that may write up to 31 bytes past its end (into
    // the next row, written after it, or the buffer's spare bytes); the copy then overwrites [a, b).
    for (int i = 0; i < ncols * cin + 4; i += 32) std::memcpy(br + i, pad32, 32);
    const std::uint8_t* src =
        reinterpret_cast<const std::uint8_t*>(x + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw_first) * cin);
    if (kFlip) {
      for (int i = a; i < b; ++i) br[i] = static_cast<std::uint8_t>(src[i] ^ 0x80u);
    } else if (b > a) {
      CopySmall(br + a, src + a, static_cast<std::size_t>(b - a));
    }
  };
  // kQuad, whole: the buffer holds every input row a pixel reads, padded (img_rows x img_row_bytes), built once;
  // one chunk then covers every column. The first layers of small images (28x28x1: 30 x 34 bytes) take it: per
  // output row the kernel rows are only addressed, not copied again (3 copies of each input row otherwise).
  const int img_rows = (d.out_h - 1) * d.stride_h + (kh_n - 1) * d.dil_h + 1;
  const int img_cols = (d.out_w - 1) * d.stride_w + reach;
  const int img_row_bytes = img_cols * cin + 4;
  const bool whole = kQuad && img_rows * img_row_bytes <= 4 * kRowWords && (!kPool || cols <= 2 * kPoolCols);
  if (whole) {
    chunk = cols;
    for (int i = 0; i < img_rows; ++i) build_row(bytes + i * img_row_bytes, i - d.pad_top, -d.pad_left, img_cols);
  }
  // kQuad: kernel row r of the chunk's first column starts at quad_rows + r * quad_row_step.
  [[maybe_unused]] const int quad_row_step = whole ? d.dil_h * img_row_bytes : row_bytes;
  [[maybe_unused]] const std::uint8_t* quad_rows = bytes;
  const auto run = [&]([[maybe_unused]] auto k_short) HWY_ATTR {
    for (int ro = 0; ro < rows_out; ++ro) {
      for (int ow0 = 0; ow0 < cols; ow0 += chunk) {
        const int ow1 = ow0 + chunk < cols ? ow0 + chunk : cols;
        const int iw_first = ow0 * d.stride_w - d.pad_left;
        const int ncols = (ow1 - 1 - ow0) * d.stride_w + reach;
        // Columns [j_lo, j_hi) of the chunk lie inside the input: their bytes are contiguous in each row.
        const int j_lo = InsideFrom(iw_first, ncols), j_hi = InsideTo(iw_first, ncols, d.in_w, j_lo);
        for (int sub = 0; sub < (kPool ? 2 : 1); ++sub) {
          const int oh = kPool ? 2 * ro + sub : ro;
          const int ih0 = oh * d.stride_h - d.pad_top;
          if constexpr (kQuad) {
            if (whole) {
              quad_rows = bytes + (ih0 + d.pad_top) * img_row_bytes;
            } else {
              for (int r = 0; r < kh_n; ++r) build_row(bytes + r * row_bytes, ih0 + r * d.dil_h, iw_first, ncols);
              quad_rows = bytes;
            }
          } else {
            for (int r = 0; r < rpairs; ++r) {
              const int ia = ih0 + 2 * r * d.dil_h, ib = ia + d.dil_h;
              const bool a_in = ia >= 0 && ia < d.in_h, has_b = 2 * r + 1 < kh_n, b_in = has_b && ib >= 0 && ib < d.in_h;
              const TIn* xa = x + static_cast<std::ptrdiff_t>(ia) * d.in_w * cin;
              const TIn* xb = x + static_cast<std::ptrdiff_t>(ib) * d.in_w * cin;
              std::uint32_t* wr = words + r * span * cin;
              const std::uint32_t hi_pad = has_b ? pad << 16 : 0u;
              for (int i = 0; i < j_lo * cin; ++i) wr[i] = pad | hi_pad;
              for (int i = j_hi * cin; i < ncols * cin; ++i) wr[i] = pad | hi_pad;
              const int n = (j_hi - j_lo) * cin;
              const std::uint8_t* ba = reinterpret_cast<const std::uint8_t*>(xa + (iw_first + j_lo) * cin);
              const std::uint8_t* bb = reinterpret_cast<const std::uint8_t*>(xb + (iw_first + j_lo) * cin);
              std::uint32_t* wi = wr + j_lo * cin;
              int i = 0;
              if (a_in) {  // 8 words at a time: u16 of row a zipped with u16 of row b (or the constant high half)
                const hn::CappedTag<std::uint8_t, 8> d8;
                const hn::Rebind<std::uint16_t, decltype(d8)> d16x8;
                const hn::Repartition<std::uint32_t, decltype(d16x8)> d32x4;
                const auto flip = hn::Set(d8, static_cast<std::uint8_t>(kFlip ? 0x80 : 0));
                const auto hi_const = hn::Set(d16x8, static_cast<std::uint16_t>(hi_pad >> 16));
                if (hn::Lanes(d8) == 8)
                  for (; i + 8 <= n; i += 8) {
                    const auto a = hn::PromoteTo(d16x8, hn::Xor(hn::LoadU(d8, ba + i), flip));
                    const auto b = b_in ? hn::PromoteTo(d16x8, hn::Xor(hn::LoadU(d8, bb + i), flip)) : hi_const;
                    hn::StoreU(hn::ZipLower(d32x4, a, b), d32x4, wi + i);
                    hn::StoreU(hn::ZipUpper(d32x4, a, b), d32x4, wi + i + 4);
                  }
              }
              for (; i < n; ++i) {
                const std::uint32_t va = a_in ? static_cast<std::uint32_t>(ba[i] ^ (kFlip ? 0x80u : 0u)) : pad;
                const std::uint32_t vb = b_in ? static_cast<std::uint32_t>(bb[i] ^ (kFlip ? 0x80u : 0u)) << 16 : hi_pad;
                wi[i] = va | vb;
              }
            }
          }
          // The sums (bias' and any border correction added) of output pixel (oh, ow): channel vectors sa, sb.
          const auto pixel = [&](int ow, hn::Vec<D32>& sa, hn::Vec<D32>& sb) HWY_ATTR {
#if HWY_TARGET == HWY_AVX2
            if constexpr (kQuad) {
              const std::uint8_t* bp = quad_rows + (ow - ow0) * d.stride_w * cin;
              const __m256i ones = _mm256_set1_epi16(1);
              const auto* wv = reinterpret_cast<const __m256i*>(w4);
              __m256i a = hn::Load(d32, rq[0].bias).raw, b = hn::Load(d32, rq[1].bias).raw;
              STATIQ_UNROLL(16)
              for (int r = 0; r < kh_n; ++r) {
                STATIQ_UNROLL(16)
                for (int q = 0; q < row_quads; ++q) {
                  std::int32_t word;
                  std::memcpy(&word, bp + r * quad_row_step + 4 * q, 4);
                  const __m256i xv = _mm256_set1_epi32(word);
                  a = detail::QuadStep(a, xv, _mm256_load_si256(wv + r * row_quads + q), ones);
                  b = detail::QuadStep(b, xv, _mm256_load_si256(wv + quads + r * row_quads + q), ones);
                }
              }
              sa = hn::Vec<D32>{a};
              sb = hn::Vec<D32>{b};
            }
#endif
            if constexpr (!kQuad) {
              const std::uint32_t* wp = words + (ow - ow0) * d.stride_w * cin;
              auto a0 = hn::Zero(d32), a1 = hn::Zero(d32), b0 = hn::Zero(d32), b1 = hn::Zero(d32);
              STATIQ_UNROLL(32)
              for (int p = 0; p < pairs; ++p) {
                const auto xv = hn::BitCast(d16, hn::Set(d32, static_cast<std::int32_t>(wp[off[p]])));
                a0 = hn::ReorderWidenMulAccumulate(d32, xv, hn::Load(d16, w2 + p * 2 * N), a0, a1);
                if (nvec > 1) b0 = hn::ReorderWidenMulAccumulate(d32, xv, hn::Load(d16, w2 + (pairs + p) * 2 * N), b0, b1);
              }
              sa = hn::Add(hn::RearrangeToOddPlusEven(a0, a1), hn::Load(d32, rq[0].bias));
              sb = nvec > 1 ? hn::Add(hn::RearrangeToOddPlusEven(b0, b1), hn::Load(d32, rq[1].bias)) : sa;
            }
            if constexpr (kValuePad) {
              const int iw0 = ow * d.stride_w - d.pad_left;
              if (ih0 < 0 || ih0 + (kh_n - 1) * d.dil_h >= d.in_h || iw0 < 0 || iw0 + (kw_n - 1) * d.dil_w >= d.in_w) {
                std::int64_t acc64[2 * HWY_LANES(std::int32_t)] = {};
                for (int kh = 0; kh < kh_n; ++kh) {
                  const int ih = ih0 + kh * d.dil_h;
                  const bool h_out = ih < 0 || ih >= d.in_h;
                  for (int kw = 0; kw < kw_n; ++kw) {
                    const int iw = iw0 + kw * d.dil_w;
                    if (!h_out && iw >= 0 && iw < d.in_w) continue;
                    const std::int64_t* tp = tap_pad + (kh * kw_n + kw) * lanes;
                    for (std::size_t l = 0; l < lanes; ++l) acc64[l] += tp[l];
                  }
                }
                for (std::size_t l = 0; l < lanes; ++l) corr[l] = ref::round_q16(acc64[l]);
                sa = hn::Add(sa, hn::Load(d32, corr));
                if (nvec > 1) sb = hn::Add(sb, hn::Load(d32, corr + N));
              }
            }
          };
          for (int ow = ow0; ow < ow1; ow += kPool ? 2 : 1) {
            auto sa = hn::Zero(d32), sb = hn::Zero(d32);
            pixel(ow, sa, sb);
            int oc_col = ow;
            if constexpr (kPool) {  // requantization is monotonic: pool the sums, requantize the maximum
              auto ta = hn::Zero(d32), tb = hn::Zero(d32);
              pixel(ow + 1, ta, tb);
              sa = hn::Max(sa, ta);
              sb = hn::Max(sb, tb);
              std::int32_t* rm = row_max + ((ow - ow0) / 2) * 2 * N;
              if (sub == 0) {
                hn::Store(sa, d32, rm);
                if (nvec > 1) hn::Store(sb, d32, rm + N);
                continue;
              }
              sa = hn::Max(sa, hn::Load(d32, rm));
              if (nvec > 1) sb = hn::Max(sb, hn::Load(d32, rm + N));
              oc_col = ow / 2;
            }
            TOut* yp = y + (static_cast<std::ptrdiff_t>(ro) * out_w + oc_col) * d.out_c + oc0;
#if HWY_TARGET == HWY_AVX2
            if constexpr (kQuad) {
              constexpr bool kShort = decltype(k_short)::value;
              const auto ra = detail::RequantizeLanes<kShort, false>(d32, sa, rq[0], 0, vzp, vlo, vhi);
              const auto rb = detail::RequantizeLanes<kShort, false>(d32, sb, rq[1], 0, vzp, vlo, vhi);
              const __m256i lo8 = _mm256_set1_epi8(static_cast<char>(lo)), hi8 = _mm256_set1_epi8(static_cast<char>(hi));
              _mm_storeu_si128(reinterpret_cast<__m128i*>(yp), detail::PackBytes16<TOut>(ra.raw, rb.raw, lo8, hi8,
                                                                                     detail::NeedsByteClamp<TOut>(lo, hi)));
            }
#endif
            if constexpr (!kQuad) {
              hn::StoreU(hn::DemoteTo(dy, detail::RequantizeLanes(d32, sa, rq[0], 0, vzp, vlo, vhi)), dy, yp);
              if (nvec > 1) hn::StoreU(hn::DemoteTo(dy, detail::RequantizeLanes(d32, sb, rq[1], 0, vzp, vlo, vhi)), dy, yp + N);
            }
          }
        }
      }
    }
  };
  if constexpr (kQuad) {
    if (short_form) return run(std::true_type{});
  }
  run(std::false_type{});
}

// Runs block(tag, nvec, first channel) over the output channels in blocks of 2 vectors, 1 vector and (on targets
// wider than 4 lanes) 4 lanes; returns the first channel left over (fewer than 4 remain).
template <class Block>
HWY_INLINE int FirstLayerChannelBlocks(int out_c, const Block& block) {
  const hn::ScalableTag<std::int32_t> d32;
  const int N = static_cast<int>(hn::Lanes(d32));
  int oc = 0;
  for (; oc + 2 * N <= out_c; oc += 2 * N) block(d32, std::integral_constant<int, 2>(), oc);
  for (; oc + N <= out_c; oc += N) block(d32, std::integral_constant<int, 1>(), oc);
  const hn::CappedTag<std::int32_t, 4> d4;
  if (hn::Lanes(d4) == 4 && N > 4 && oc + 4 <= out_c) {
    block(d4, std::integral_constant<int, 1>(), oc);
    oc += 4;
  }
  return oc;
}

template <class TIn, class TOut>
HWY_INLINE void FirstLayer(const conv2d_dims& d, const gemm_packed_view& pk, const TIn* x, std::int32_t y_zp,
                           std::int32_t lo, std::int32_t hi, TOut* y) {
  // Compile-time taps for the common first layers (3x3 over 1 or 3 channels).
  const int oc = FirstLayerChannelBlocks(d.out_c, [&](auto dv, auto nvec, int oc0) HWY_ATTR {
    constexpr int kVec = decltype(nvec)::value;
#if HWY_TARGET == HWY_AVX2
    if constexpr (kVec == 2) {
      if (FirstLayerQuadFit(d) && FirstLayerQuadWeights(pk, oc0, 2 * static_cast<int>(hn::Lanes(dv)))) {
        if (d.k_h == 3 && d.k_w == 3 && d.in_c == 1)
          return FirstLayerRowsBlock<3, 3, 1, 2, false, false, true>(dv, d, pk, x, y_zp, lo, hi, y, oc0);
        return FirstLayerRowsBlock<0, 0, 0, 2, false, false, true>(dv, d, pk, x, y_zp, lo, hi, y, oc0);
      }
    }
#endif
    if (d.k_h == 3 && d.k_w == 3 && d.in_c == 1 && FirstLayerRowsFit<3, 3, 1>(d))
      return FirstLayerRowsBlock<3, 3, 1, kVec>(dv, d, pk, x, y_zp, lo, hi, y, oc0);
    if (d.k_h == 3 && d.k_w == 3 && d.in_c == 3 && FirstLayerRowsFit<3, 3, 3>(d))
      return FirstLayerRowsBlock<3, 3, 3, kVec>(dv, d, pk, x, y_zp, lo, hi, y, oc0);
    if (FirstLayerRowsFit<0, 0, 0>(d)) return FirstLayerRowsBlock<0, 0, 0, kVec>(dv, d, pk, x, y_zp, lo, hi, y, oc0);
    FirstLayerBlock<0, 0, 0, kVec>(dv, d, pk, x, y_zp, lo, hi, y, oc0);
  });
  if (oc < d.out_c) {  // < 4 channels: the packed GEMM over im2col rows, channels [oc, out_c)
    const std::size_t k = pk.k();
    HWY_ALIGN TIn col[kFirstLayerMaxK];
    const TIn padv = static_cast<TIn>(pk.x_zp());
    for (int p = 0; p < d.out_h * d.out_w; ++p) {
      Patch(d, x, 0, p / d.out_w, p % d.out_w, padv, col);
      GemmPacked<TIn, TOut>(pk.data, 1, col, k, y + static_cast<std::size_t>(p) * d.out_c, 0, y_zp, lo, hi,
                            static_cast<std::size_t>(oc) / gemm_nr * gemm_nr, d.out_c);
    }
  }
}
// The value-padded first layer (preprocessing folded in, padding with the mean): the row-pair block with the
// per-pixel border correction. False when the shape is not one it takes (the caller then runs conv2d_q and the
// border pass).
template <class TIn, class TOut>
HWY_INLINE bool FirstLayerValuePadded(const conv2d_dims& d, const gemm_packed_view& pk, const TIn* x,
                                      const std::int32_t* pad_q16, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                                      TOut* y) {
  const hn::ScalableTag<std::int32_t> d32;
  const int N = static_cast<int>(hn::Lanes(d32));
  if (!(d.groups == 1 && d.in_c <= 4 && d.k_h * d.k_w * d.in_c <= kFirstLayerMaxK && d.k_h * d.k_w <= kValuePadTaps &&
        d.out_c % N == 0 && FirstLayerRowsFit<0, 0, 0>(d)))
    return false;
  int oc = 0;
  for (; oc + 2 * N <= d.out_c; oc += 2 * N) {
#if HWY_TARGET == HWY_AVX2
    if (FirstLayerQuadFit(d) && FirstLayerQuadWeights(pk, oc, 2 * N)) {
      if (d.k_h == 3 && d.k_w == 3 && d.in_c == 1)
        FirstLayerRowsBlock<3, 3, 1, 2, true, false, true>(d32, d, pk, x, y_zp, lo, hi, y, oc, pad_q16);
      else
        FirstLayerRowsBlock<0, 0, 0, 2, true, false, true>(d32, d, pk, x, y_zp, lo, hi, y, oc, pad_q16);
      continue;
    }
#endif
    if (d.k_h == 3 && d.k_w == 3 && d.in_c == 1)
      FirstLayerRowsBlock<3, 3, 1, 2, true>(d32, d, pk, x, y_zp, lo, hi, y, oc, pad_q16);
    else
      FirstLayerRowsBlock<0, 0, 0, 2, true>(d32, d, pk, x, y_zp, lo, hi, y, oc, pad_q16);
  }
  if (oc < d.out_c) FirstLayerRowsBlock<0, 0, 0, 1, true>(d32, d, pk, x, y_zp, lo, hi, y, oc, pad_q16);
  return true;
}

// The first layer with a 2x2 stride-2 max pool fused (see kPool). False when the shape is not one it takes (the
// caller then runs the im2col route, Conv2dQMaxPool2).
template <class TIn, class TOut>
HWY_INLINE bool FirstLayerPooled(const conv2d_dims& d, const gemm_packed_view& pk, const TIn* x, std::int32_t y_zp,
                                 std::int32_t lo, std::int32_t hi, TOut* y) {
  const int rpairs = (d.k_h + 1) / 2, reach = (d.k_w - 1) * d.dil_w + 1;
  // two output columns per chunk of row-pair words at least
  if (!(d.groups == 1 && d.in_c <= 4 && d.k_h * d.k_w * d.in_c <= kFirstLayerMaxK &&
        kRowWords / (rpairs * d.in_c) >= reach + d.stride_w))
    return false;
  const int oc = FirstLayerChannelBlocks(d.out_c, [&](auto dv, auto nvec, int oc0) HWY_ATTR {
    constexpr int kVec = decltype(nvec)::value;
#if HWY_TARGET == HWY_AVX2
    // two output columns per chunk of the quad row buffer at least
    if constexpr (kVec == 2) {
      if (FirstLayerQuadFit(d, d.stride_w) &&
          FirstLayerQuadWeights(pk, oc0, 2 * static_cast<int>(hn::Lanes(dv)))) {
        if (d.k_h == 3 && d.k_w == 3 && d.in_c == 1)
          return FirstLayerRowsBlock<3, 3, 1, 2, false, true, true>(dv, d, pk, x, y_zp, lo, hi, y, oc0);
        return FirstLayerRowsBlock<0, 0, 0, 2, false, true, true>(dv, d, pk, x, y_zp, lo, hi, y, oc0);
      }
    }
#endif
    if (d.k_h == 3 && d.k_w == 3 && d.in_c == 1)
      return FirstLayerRowsBlock<3, 3, 1, kVec, false, true>(dv, d, pk, x, y_zp, lo, hi, y, oc0);
    if (d.k_h == 3 && d.k_w == 3 && d.in_c == 3)
      return FirstLayerRowsBlock<3, 3, 3, kVec, false, true>(dv, d, pk, x, y_zp, lo, hi, y, oc0);
    FirstLayerRowsBlock<0, 0, 0, kVec, false, true>(dv, d, pk, x, y_zp, lo, hi, y, oc0);
  });
  if (oc < d.out_c) {  // < 4 channels: the pooled GEMM over the 4 patches of each window, channels [oc, out_c)
    const std::size_t k = pk.k();
    HWY_ALIGN TIn col[4 * kFirstLayerMaxK];
    const TIn padv = static_cast<TIn>(pk.x_zp());
    const int pw_n = d.out_w / 2;
    for (int q = 0; q < (d.out_h / 2) * pw_n; ++q) {
      const int ph = q / pw_n, pw = q % pw_n;
      for (int i = 0; i < 4; ++i) Patch(d, x, 0, 2 * ph + i / 2, 2 * pw + i % 2, padv, col + i * k);
      GemmPackedMaxPool4<TIn, TOut>(pk.data, 4, col, k, y + static_cast<std::size_t>(q) * d.out_c, 0, y_zp, lo, hi,
                                    static_cast<std::size_t>(oc) / gemm_nr * gemm_nr, d.out_c);
    }
  }
  return true;
}
#endif  // HWY_TARGET != HWY_SCALAR

// A 1x1, stride 1, unpadded convolution: the GEMM runs on the input itself.
inline bool GemmOnInput(const conv2d_dims& d) {
  return d.k_h == 1 && d.k_w == 1 && d.stride_h == 1 && d.stride_w == 1 && d.pad_top == 0 && d.pad_left == 0 &&
         d.pad_bottom == 0 && d.pad_right == 0 && d.out_h == d.in_h && d.out_w == d.in_w;
}

#if STATIQ_AVX2_GEMM_PATHS || STATIQ_VNNI_PATHS
// Implicit convolution (no im2col) for the vpmaddubsw GEMM route (STATIQ_AVX2_GEMM_PATHS: AVX2, and AVX-512
// without AVX512-VNNI in the flags) and the vpdpbusd one (STATIQ_VNNI_PATHS):
// with groups == 1 and dil_w == 1, kernel row kh
// of a pixel's patch is k_w * in_c values lying contiguous in the NHWC input, so the GEMM reads each patch as
// k_h segments in place (PanelsSegAVX2) from a table of pointers per row. Only the segments that cross the
// left or right padding are assembled (in a scratch tile); a kernel row wholly in the top or bottom padding
// points at one row of the zero point. An input of at most 32 KiB is instead copied once with its padding. On the Fashion-MNIST 14x14x16 -> 32 layer the im2col copy was a fifth
// of the instructions. Requires each segment to be whole groups (k_w * in_c a multiple of gemm_kr).
inline constexpr std::size_t kImplicitRows = 64;      // GEMM rows (pixels) per table
inline constexpr int kImplicitMaxKh = 16;             // segments per row
inline constexpr std::size_t kImplicitSegMax = 4096;  // bytes of one segment (the zero-point row)
inline constexpr std::size_t kImplicitPadBytes = 32 * 1024;  // a padded copy of an input up to this size
static_assert(kImplicitPadBytes >= kIm2colBytes, "the scratch serves both");

inline bool ImplicitConvFits(const conv2d_dims& d, const gemm_packed_view& pk) {
  const std::size_t seg = static_cast<std::size_t>(d.k_w) * d.in_c;
#if STATIQ_AVX2_GEMM_PATHS
  static_assert(kImplicitMaxKh <= gemm_detail::kMaxSegAVX2, "a row's segments fit the AVX2 remainder tiles' table");
  if ((pk.flags() & gemm_pairs_fit_s16) == 0) return false;  // vpdpbusd is exact for every weight
#else
  (void)pk;
  static_assert(kImplicitMaxKh <= gemm_detail::vnni::kMaxSegments, "a row's segments fit the VNNI tile's table");
#endif
  return d.groups == 1 && d.dil_w == 1 && seg % gemm_kr == 0 &&
         d.k_h <= kImplicitMaxKh && seg <= kImplicitSegMax && 4 * d.k_h * seg <= kIm2colBytes;
}

// Whether ImplicitConv copies the input with its padding (a padded input of at most kImplicitPadBytes) instead of
// assembling the segments that cross the padding.
inline bool ImplicitConvCopiesInput(const conv2d_dims& d) {
  const std::size_t h = static_cast<std::size_t>(d.in_h) + d.pad_top + d.pad_bottom;
  const std::size_t w = static_cast<std::size_t>(d.in_w) + d.pad_left + d.pad_right;
  return d.pad_top + d.pad_left + d.pad_bottom + d.pad_right > 0 && h * w * d.in_c <= kImplicitPadBytes;
}

// Row r of the input padded with `pad` around it (in_w + pad_left + pad_right pixels), into dst.
template <class TIn>
HWY_INLINE void CopyPaddedRow(const conv2d_dims& d, const TIn* HWY_RESTRICT x, TIn pad, int r, TIn* HWY_RESTRICT dst) {
  const std::size_t in_c = static_cast<std::size_t>(d.in_c), row = static_cast<std::size_t>(d.in_w) * in_c;
  const std::size_t left = static_cast<std::size_t>(d.pad_left) * in_c;
  const std::size_t right = static_cast<std::size_t>(d.pad_right) * in_c;
  const int ih = r - d.pad_top;
  if (ih < 0 || ih >= d.in_h) {
    std::memset(dst, static_cast<unsigned char>(pad), left + row + right);
    return;
  }
  std::memset(dst, static_cast<unsigned char>(pad), left);
  std::memcpy(dst + left, x + static_cast<std::size_t>(ih) * row, row);
  std::memset(dst + left + row, static_cast<unsigned char>(pad), right);
}

// Segment pointers tab[r * k_h + kh] of GEMM rows [r0, r0 + n); pixel.Start(r0) is a cursor over the rows' output
// pixels (oh, ow; Next()). zrow: a segment of the zero point. scratch == nullptr: x is ImplicitConv's padded copy (d
// without padding), where every window lies inside; first_only: there, only each row's first segment (tab[r]; the
// GEMM adds the kernel rows' offsets, the same for every row).
template <class TIn, class PixelOf>
HWY_INLINE void ImplicitRows(const conv2d_dims& d, const TIn* HWY_RESTRICT x, const TIn* zrow,
                             std::size_t r0, std::size_t n, const PixelOf& pixel, const TIn** HWY_RESTRICT tab,
                             TIn* HWY_RESTRICT scratch, bool first_only = false) {
  const int in_h = d.in_h, in_w = d.in_w, in_c = d.in_c, k_h = d.k_h, k_w = d.k_w, dil_h = d.dil_h;
  const int stride_h = d.stride_h, stride_w = d.stride_w, pad_top = d.pad_top, pad_left = d.pad_left;
  const std::ptrdiff_t row_step = static_cast<std::ptrdiff_t>(in_w) * in_c;
  const std::ptrdiff_t tap_step = row_step * dil_h;
  const std::size_t seg = static_cast<std::size_t>(k_w) * in_c;
  auto px = pixel.Start(r0);
  if (scratch == nullptr) {  // the padded copy: every window lies inside
    const std::ptrdiff_t oh_step = row_step * stride_h, ow_step = static_cast<std::ptrdiff_t>(stride_w) * in_c;
    if (first_only) {
      if constexpr (PixelOf::kRaster) {  // output row by output row: a loop GCC vectorizes (the cursor cost 11
                                          // instructions a pixel)
        const std::size_t out_w = static_cast<std::size_t>(pixel.out_w);
        std::size_t ow = static_cast<std::size_t>(px.ow());
        const TIn* row = x + px.oh() * oh_step;
        for (std::size_t r = 0; r < n; row += oh_step, ow = 0) {
          const std::size_t cols = out_w - ow < n - r ? out_w - ow : n - r;
          const TIn* first = row + static_cast<std::ptrdiff_t>(ow) * ow_step;
          const TIn** t = tab + r;
          for (std::size_t c = 0; c < cols; ++c) t[c] = first + static_cast<std::ptrdiff_t>(c) * ow_step;
          r += cols;
        }
      } else {
        for (std::size_t r = 0; r < n; ++r, px.Next()) tab[r] = x + px.oh() * oh_step + px.ow() * ow_step;
      }
      return;
    }
    for (std::size_t r = 0; r < n; ++r, tab += k_h, px.Next()) {
      const TIn* p = x + px.oh() * oh_step + px.ow() * ow_step;
      for (int kh = 0; kh < k_h; ++kh, p += tap_step) tab[kh] = p;
    }
    return;
  }
  for (std::size_t r = 0; r < n; ++r, tab += k_h, px.Next()) {
    const int oh = px.oh(), ow = px.ow();
    const int ih0 = oh * stride_h - pad_top, iw0 = ow * stride_w - pad_left;
    const bool cols_inside = iw0 >= 0 && iw0 + k_w <= in_w;
    if (cols_inside && ih0 >= 0 && ih0 + (k_h - 1) * dil_h < in_h) {  // most pixels: the window is inside
      const TIn* p = x + ih0 * row_step + static_cast<std::ptrdiff_t>(iw0) * in_c;
      for (int kh = 0; kh < k_h; ++kh, p += tap_step) tab[kh] = p;
      continue;
    }
    for (int kh = 0; kh < k_h; ++kh) {
      const int ih = ih0 + kh * dil_h;
      if (ih < 0 || ih >= in_h) {
        tab[kh] = zrow;
        continue;
      }
      const TIn* xr = x + ih * row_step;
      if (cols_inside) {
        tab[kh] = xr + static_cast<std::ptrdiff_t>(iw0) * in_c;
        continue;
      }
      for (int kw = 0; kw < k_w; ++kw) {
        const int iw = iw0 + kw;
        if (iw < 0 || iw >= in_w) CopySmall(scratch + kw * in_c, zrow, static_cast<std::size_t>(in_c));
        else CopySmall(scratch + kw * in_c, xr + static_cast<std::ptrdiff_t>(iw) * in_c, static_cast<std::size_t>(in_c));
      }
      tab[kh] = scratch;
      scratch += seg;
    }
  }
}

// Output pixels in GEMM row order: raster order, or (kPool) window by window, each window's 4 pixels in (row,
// column) order. A cursor steps without dividing.
template <bool kPool>
struct PixelOrder {
  static constexpr bool kRaster = !kPool;
  int out_w;
  struct Cursor {  // kPool: (wh, ww) the window's top-left pixel, i the pixel within it; else (wh, ww) = (oh, ow)
    int wh, ww, i, out_w;
    HWY_INLINE int oh() const { return kPool ? wh + (i >> 1) : wh; }
    HWY_INLINE int ow() const { return kPool ? ww + (i & 1) : ww; }
    HWY_INLINE void Next() {
      if constexpr (kPool) {
        if (++i < 4) return;
        i = 0;
        ww += 2;
        if (ww + 2 > out_w) {  // floor mode: an odd last column has no window
          ww = 0;
          wh += 2;
        }
      } else if (++ww == out_w) {
        ww = 0;
        ++wh;
      }
    }
  };
  HWY_INLINE Cursor Start(std::size_t r) const {
    if constexpr (kPool) {
      const int pw_n = out_w / 2, q = static_cast<int>(r / 4);
      return Cursor{2 * (q / pw_n), 2 * (q % pw_n), static_cast<int>(r % 4), out_w};
    } else {
      return Cursor{static_cast<int>(r / out_w), static_cast<int>(r % out_w), 0, out_w};
    }
  }
};

#if STATIQ_AVX2_GEMM_PATHS
// Border pixels without their taps in the padding (as oneDNN's int8 convolution without zero points). On the
// padded copy a pixel whose window reaches into the padding reads the input zero point there, whose products the
// packed bias' cancels (the zero-point compensation). Here such pixels run over their taps inside the input only,
// from a bias with the left-out taps' share of the compensation added back: bias'[c] + the packed zero-point sums
// of the left-out kernel rows or columns (conv2d_q_border_sums_bytes). The sums equal the full window's (the same
// integers, added in another order).
// - Output rows with kernel rows in the top or bottom padding: goff and the packed weights from the first kernel
//   row inside on; tiles of 3 pixels of the row (ImplicitBorderRows, BorderTiles::Row).
// - Where in_c % 4 == 0 (a group then holds one tap's values), also the first and last columns of the other rows,
//   without their kernel columns in the padding, and then no padded copy at all (ImplicitConvBorders).
// A row or column ending in 1 or 2 pixels ends with a tile of its last 3 (the same bytes stored twice). Zen 3,
// 3x3 with padding 1: 14x14x16 -> 32 does 8 % fewer multiply-adds, 10.38 -> 9.89 us; 28x28x32 -> 32 4 %, 77.5
// -> 75.6 us. Computing the zero-point sums per call instead of packing them cost 14x14x16 -> 32 0.3 us (short
// loops, mispredicted exits). Output channels: multiples of 32 up to 128 (the 3-row x 32-channel tile, every
// panel pair in the requantization cache); rows of 3 pixels or more.
inline constexpr std::size_t kBorderMaxChannels = 2 * gemm_detail::kCachedPairs * gemm_nr;

inline bool ImplicitBorderRowsFit(const conv2d_dims& d) {
  return d.out_c % 32 == 0 && static_cast<std::size_t>(d.out_c) <= kBorderMaxChannels && d.out_w >= 3 &&
         d.k_h <= kImplicitMaxKh;
}

// Taps [t0, t1) of output position o along one axis (in inputs, pad before them, k taps dil apart, stride) that lie
// inside the input.
HWY_INLINE void TapsInside(int o, int in, int pad, int k, int stride, int dil, int& t0, int& t1) {
  const int i0 = o * stride - pad;
  t0 = 0;
  t1 = k;
  while (t0 < k && i0 + t0 * dil < 0) ++t0;
  while (t1 > t0 && i0 + (t1 - 1) * dil >= in) --t1;
}
// Kernel rows [kh0, kh1) of output row oh, and kernel columns [kw0, kw1) of output column ow, inside the input.
HWY_INLINE void KernelRowsInside(const conv2d_dims& d, int oh, int& kh0, int& kh1) {
  TapsInside(oh, d.in_h, d.pad_top, d.k_h, d.stride_h, d.dil_h, kh0, kh1);
}
HWY_INLINE void KernelColumnsInside(const conv2d_dims& d, int ow, int& kw0, int& kw1) {
  TapsInside(ow, d.in_w, d.pad_left, d.k_w, d.stride_w, d.dil_w, kw0, kw1);
}

inline constexpr std::size_t kBorderColumnBytes = 16 * 1024;  // a border column's weights, copied
inline constexpr std::size_t kPoolSeparateBytes = 16 * 1024;  // Conv2dQMaxPool2's unpooled output on the stack

// Rows [0, top) and [bottom, out_h) have kernel rows in the padding; of rows [top, bottom), columns [0, left) and
// [right, out_w) have kernel columns there.
struct BorderRegion {
  int top, bottom, left, right;
};
HWY_INLINE BorderRegion ImplicitBorderRegion(const conv2d_dims& d) {
  BorderRegion b{0, d.out_h, 0, d.out_w};
  const auto full_row = [&](int oh) {
    int t0, t1;
    KernelRowsInside(d, oh, t0, t1);
    return t0 == 0 && t1 == d.k_h;
  };
  const auto full_column = [&](int ow) {
    int t0, t1;
    KernelColumnsInside(d, ow, t0, t1);
    return t0 == 0 && t1 == d.k_w;
  };
  while (b.top < d.out_h && !full_row(b.top)) ++b.top;
  while (b.bottom > b.top && !full_row(b.bottom - 1)) --b.bottom;
  while (b.left < d.out_w && !full_column(b.left)) ++b.left;
  while (b.right > b.left && !full_column(b.right - 1)) --b.right;
  return b;
}
// Whether d has border rows (ImplicitBorderRows / ImplicitConvBorders; ImplicitBorderRowsFit assumed).
HWY_INLINE bool ImplicitBorderRowsTaken(const conv2d_dims& d, const BorderRegion& b) {
  return b.top > 0 || b.bottom < d.out_h;
}
// Whether ImplicitConvBorders takes the convolution (border columns too; one block of panels for their copied
// weights; 3 rows or more between the border rows, for the columns' tiles).
HWY_INLINE bool ImplicitBorderColumnsTaken(const conv2d_dims& d, const gemm_packed_view& pk, const BorderRegion& b) {
  const std::size_t groups = static_cast<std::size_t>(d.k_h) * d.k_w * d.in_c / gemm_kr;
  return ImplicitBorderRowsTaken(d, b) && d.in_c % 4 == 0 && pk.np() / gemm_nr <= gemm_block_panels &&
         b.bottom - b.top >= 3 && (b.left > 0 || b.right < d.out_w) &&
         groups * pk.group_stride(0) <= kBorderColumnBytes;
}
// Whether Conv2dQ / Conv2dQMaxPool2 run d through ImplicitConvBorders (ImplicitConvFits assumed); region: d's.
HWY_INLINE bool ImplicitConvBordersTaken(const conv2d_dims& d, const gemm_packed_view& pk, BorderRegion& region) {
  if (!ImplicitConvCopiesInput(d) || !ImplicitBorderRowsFit(d)) return false;
  region = ImplicitBorderRegion(d);
  return ImplicitBorderColumnsTaken(d, pk, region);
}

// f(i) for tiles of 3 of n >= 3 positions, at i = 0, 3, ...: a last tile past n is moved back to end at n (it
// repeats 1 or 2 positions, whose outputs it rewrites with the same bytes).
template <class F>
HWY_INLINE void ForEachTileOf3(std::size_t n, const F& f) {
  for (std::size_t i = 0; i < n;) {
    f(i);
    i += 3;
    if (i < n && i + 3 > n) i = n - 3;
  }
}

// What the border tiles share: the blob, the sink, the requantization cache and the zero-point sums.
template <class TOut>
struct BorderTiles {
  const conv2d_dims& d;
  const gemm_packed_view& pk;
  const gemm_detail::Sink<TOut>& out;
  const gemm_detail::PairRequantCache& rq;
  const std::int32_t* zp_sums;  // the blob's (conv2d_q_border_sums_bytes)
  std::size_t nc, panels, segg;

  // bias' plus the zero-point sums of the kernel rows outside [kh0, kh1) and the kernel columns outside [kw0, kw1)
  // (a pixel leaves out rows or columns, not both), into b
  HWY_INLINE void WindowBias(std::size_t kh0, std::size_t kh1, std::size_t kw0, std::size_t kw1,
                             std::int32_t* HWY_RESTRICT b) const {
    const std::int32_t* bias = reinterpret_cast<const std::int32_t*>(pk.bias());
    const std::size_t k_h = static_cast<std::size_t>(d.k_h), k_w = static_cast<std::size_t>(d.k_w);
    const std::size_t np = panels * gemm_nr;
    for (std::size_t c = 0; c < nc; c += gemm_nr) {
      __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c));
      const auto add = [&](std::size_t word) HWY_ATTR {
        v = _mm256_add_epi32(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zp_sums + word * np + c)));
      };
      for (std::size_t kh = 0; kh < kh0; ++kh) add(kh);
      for (std::size_t kh = kh1; kh < k_h; ++kh) add(kh);
      for (std::size_t kw = 0; kw < kw0; ++kw) add(k_h + kw);
      for (std::size_t kw = kw1; kw < k_w; ++kw) add(k_h + kw);
      _mm256_store_si256(reinterpret_cast<__m256i*>(b + c), v);
    }
  }
  // One tile: sink o, row m, pixels' windows at a[0..2], n groups listed at goff (win: see gemm_detail::TileWindow).
  template <bool kFlip>
  HWY_INLINE void Tile(const gemm_detail::Sink<TOut>& o, std::size_t m, const std::uint8_t* const* a, std::size_t n,
                       const std::ptrdiff_t* goff, const gemm_detail::TileWindow* win) const {
    for (std::size_t p = 0; p < panels; p += 4)
      gemm_detail::Pairs3x4Bytes<kFlip>(o, pk, m, p, a, 1, n, rq.For(p), rq.For(p + 2), goff, win);
  }
  // Border row oh without its kernel rows in the padding; row: the padded row of its windows' first kernel row
  // (padded_row values; goff_pad: the offsets of a pixel's groups there); tiles of 3 pixels, the last one ending at
  // the row's end.
  template <bool kFlip>
  HWY_INLINE void Row(int oh, const std::uint8_t* row, const std::ptrdiff_t* goff_pad, std::int32_t* win_bias) const {
    int kh0, kh1;
    KernelRowsInside(d, oh, kh0, kh1);
    WindowBias(static_cast<std::size_t>(kh0), static_cast<std::size_t>(kh1), 0, static_cast<std::size_t>(d.k_w),
               win_bias);
    const gemm_detail::TileWindow win{static_cast<std::size_t>(kh0) * segg, win_bias};
    const std::size_t n = static_cast<std::size_t>(kh1 - kh0) * segg, out_w = static_cast<std::size_t>(d.out_w);
    const std::size_t ow_step = static_cast<std::size_t>(d.stride_w) * d.in_c;
    ForEachTileOf3(out_w, [&](std::size_t ow) HWY_ATTR __attribute__((always_inline)) {
      const std::uint8_t* a[3] = {row + ow * ow_step, row + (ow + 1) * ow_step, row + (ow + 2) * ow_step};
      Tile<kFlip>(out, static_cast<std::size_t>(oh) * out_w + ow, a, n, goff_pad, &win);
    });
  }
};

// Border rows [0, region.top) and [region.bottom, out_h) on the full padded copy xp (rows of padded_row values;
// goff: the offsets of a pixel's groups); the caller runs the others.
template <class TIn, class TOut>
HWY_NOINLINE void ImplicitBorderRows(const conv2d_dims& d, const gemm_packed_view& pk, const std::uint8_t* zp_sums,
                                     const TIn* HWY_RESTRICT xp, std::size_t padded_row, const std::ptrdiff_t* goff,
                                     const BorderRegion& region, const gemm_detail::Sink<TOut>& out) {
  constexpr bool kFlip = std::is_same_v<TIn, std::int8_t>;
  const std::size_t nc = static_cast<std::size_t>(d.out_c);
  const gemm_detail::PairRequantCache rq(out, pk, 0, nc / gemm_nr);
  const BorderTiles<TOut> bt{d, pk, out, rq, reinterpret_cast<const std::int32_t*>(zp_sums), nc, nc / gemm_nr,
                             static_cast<std::size_t>(d.k_w) * d.in_c / gemm_kr};
  HWY_ALIGN std::int32_t win_bias[kBorderMaxChannels];
  const auto row = [&](int oh) {
    return reinterpret_cast<const std::uint8_t*>(xp + static_cast<std::size_t>(oh) * d.stride_h * padded_row);
  };
  for (int oh = 0; oh < region.top; ++oh) bt.template Row<kFlip>(oh, row(oh), goff, win_bias);
  for (int oh = region.bottom; oh < d.out_h; ++oh) bt.template Row<kFlip>(oh, row(oh), goff, win_bias);
}

// The whole convolution where ImplicitBorderColumnsTaken, without a padded copy of the input: the border rows on
// padded copies of only the input rows they read (two bands of padded rows), every other pixel on x itself (none
// of them reads the padding):
// - the border columns of rows [top, bottom) without their kernel columns in the padding: tiles of 3 pixels of a
//   column (a sink of out_w pixels' stride, row m = oh), the kept groups listed in a table of their own (relative to
//   the first kept column) and their weights copied in that order (one block of panels);
// - the rest of each row with every tap: whole tiles of 3 contiguous in the output, then the 1 or 2 columns left
//   over as tiles of 3 pixels of a column.
// Without the padded copy (28x28x32: 28.8 KiB written per call) 28x28x32 -> 32 ran 0.6 us faster, 14x14x16 -> 32
// 0.2 us.
template <class TIn, class TOut>
HWY_NOINLINE void ImplicitConvBorders(const conv2d_dims& d, const std::uint8_t* HWY_RESTRICT packed,
                                      const TIn* HWY_RESTRICT x, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                                      TOut* HWY_RESTRICT y, const BorderRegion& region) {
  constexpr bool kFlip = std::is_same_v<TIn, std::int8_t>;
  const gemm_packed_view pk{packed};
  const std::size_t nc = static_cast<std::size_t>(d.out_c), panels = nc / gemm_nr;
  const std::size_t k_h = static_cast<std::size_t>(d.k_h), k_w = static_cast<std::size_t>(d.k_w);
  const std::size_t in_c = static_cast<std::size_t>(d.in_c), segg = k_w * in_c / gemm_kr, groups = k_h * segg;
  const std::size_t gu = in_c / gemm_kr;  // groups of a kernel column
  const std::size_t out_w = static_cast<std::size_t>(d.out_w);
  const int top = region.top, bottom = region.bottom, left = region.left, right = region.right;
  const gemm_detail::Sink<TOut> out{y, nc, y_zp, lo, hi, nc, false, gemm_detail::ShortRequant(pk, y_zp)};
  const gemm_detail::PairRequantCache rq(out, pk, 0, panels);
  const BorderTiles<TOut> bt{d, pk, out, rq, reinterpret_cast<const std::int32_t*>(packed + conv2d_q_group_bytes(d)),
                             nc, panels, segg};
  HWY_ALIGN std::int32_t win_bias[kBorderMaxChannels];

  // The border rows: padded rows [0, top_rows) and [bottom_first, padded_h) of the padded input, copied.
  const std::size_t padded_row = (static_cast<std::size_t>(d.in_w) + d.pad_left + d.pad_right) * in_c;
  const int padded_h = d.in_h + d.pad_top + d.pad_bottom;
  const int top_rows = top > 0 ? std::min(padded_h, (top - 1) * d.stride_h + (d.k_h - 1) * d.dil_h + 1) : 0;
  const int bottom_first = bottom < d.out_h ? bottom * d.stride_h : padded_h;
  HWY_ALIGN TIn band[kImplicitPadBytes];
  const TIn pad = static_cast<TIn>(pk.x_zp());
  const std::size_t row_bytes = static_cast<std::size_t>(d.in_w) * in_c;
  std::ptrdiff_t goff_pad[kIm2colBytes / 4 / gemm_kr], goff_x[kIm2colBytes / 4 / gemm_kr];
  for (std::size_t g = 0; g < groups; ++g) {
    const std::ptrdiff_t kh = static_cast<std::ptrdiff_t>(g / segg);
    const std::ptrdiff_t in_row = static_cast<std::ptrdiff_t>(g % segg * gemm_kr);
    goff_pad[g] = kh * d.dil_h * static_cast<std::ptrdiff_t>(padded_row) + in_row;
    goff_x[g] = kh * d.dil_h * static_cast<std::ptrdiff_t>(row_bytes) + in_row;
  }
  const std::size_t ow_step = static_cast<std::size_t>(d.stride_w) * in_c;
  if (top_rows > 0) {
    for (int r = 0; r < top_rows; ++r) CopyPaddedRow(d, x, pad, r, band + static_cast<std::size_t>(r) * padded_row);
    for (int oh = 0; oh < top; ++oh)
      bt.template Row<kFlip>(
          oh, reinterpret_cast<const std::uint8_t*>(band + static_cast<std::size_t>(oh) * d.stride_h * padded_row),
          goff_pad, win_bias);
  }
  if (bottom_first < padded_h) {
    for (int r = bottom_first; r < padded_h; ++r)
      CopyPaddedRow(d, x, pad, r, band + static_cast<std::size_t>(r - bottom_first) * padded_row);
    for (int oh = bottom; oh < d.out_h; ++oh)
      bt.template Row<kFlip>(oh, reinterpret_cast<const std::uint8_t*>(
                                     band + static_cast<std::size_t>(oh * d.stride_h - bottom_first) * padded_row),
                             goff_pad, win_bias);
  }

  // Rows [top, bottom) on x: pixel (oh, ow)'s window starts at input row oh * stride_h - pad_top (inside) and
  // column ow * stride_w - pad_left (inside from column `left` on).
  const std::size_t rows = static_cast<std::size_t>(bottom - top);
  const auto at = [&](std::size_t oh, std::ptrdiff_t iw) {
    return reinterpret_cast<const std::uint8_t*>(x + (static_cast<std::ptrdiff_t>(oh) * d.stride_h - d.pad_top) *
                                                         static_cast<std::ptrdiff_t>(row_bytes) +
                                                     iw * static_cast<std::ptrdiff_t>(in_c));
  };
  // Column ow of rows [top, bottom) as tiles of 3 pixels of it, groups goff[0, n) relative to input column iw.
  const auto column = [&](int ow, std::ptrdiff_t iw, std::size_t n, const std::ptrdiff_t* goff,
                          const gemm_detail::TileWindow* win) HWY_ATTR {
    const gemm_detail::Sink<TOut> col{y + static_cast<std::size_t>(ow) * nc, out_w * nc, y_zp, lo, hi, nc, false,
                                      out.short_rq};
    ForEachTileOf3(rows, [&](std::size_t i) HWY_ATTR __attribute__((always_inline)) {
      const std::size_t oh = static_cast<std::size_t>(top) + i;
      const std::uint8_t* a[3] = {at(oh, iw), at(oh + 1, iw), at(oh + 2, iw)};
      bt.template Tile<kFlip>(col, oh, a, n, goff, win);
    });
  };
  HWY_ALIGN std::uint8_t col_w[kBorderColumnBytes];
  std::ptrdiff_t col_goff[kBorderColumnBytes / (gemm_nr * gemm_kr)];
  const std::size_t gs = pk.group_stride(0);
  const auto border_column = [&](int ow) HWY_ATTR {
    int c0, c1;
    KernelColumnsInside(d, ow, c0, c1);
    bt.WindowBias(0, k_h, static_cast<std::size_t>(c0), static_cast<std::size_t>(c1), win_bias);
    const std::size_t kept = static_cast<std::size_t>(c1 - c0) * gu;  // groups of a kernel row
    for (std::size_t kh = 0; kh < k_h; ++kh) {
      const std::size_t g = kh * segg + static_cast<std::size_t>(c0) * gu;
      const std::ptrdiff_t first = static_cast<std::ptrdiff_t>(static_cast<std::size_t>(c0) * gu * gemm_kr);
      for (std::size_t j = 0; j < kept; ++j) col_goff[kh * kept + j] = goff_x[g + j] - first;
      std::memcpy(col_w + kh * kept * gs, pk.group(0, g), kept * gs);
    }
    const gemm_detail::TileWindow win{0, win_bias, col_w};
    column(ow, static_cast<std::ptrdiff_t>(ow) * d.stride_w - d.pad_left + c0, k_h * kept, col_goff, &win);
  };
  for (int ow = 0; ow < left; ++ow) border_column(ow);
  for (int ow = right; ow < d.out_w; ++ow) border_column(ow);
  // The rest: whole tiles of 3 of each row, then the columns left over.
  const std::size_t whole = static_cast<std::size_t>(right - left) / 3 * 3;
  for (std::size_t oh = static_cast<std::size_t>(top); oh < static_cast<std::size_t>(bottom); ++oh) {
    for (std::size_t c = 0; c < whole; c += 3) {
      const std::ptrdiff_t iw =
          static_cast<std::ptrdiff_t>((static_cast<std::size_t>(left) + c) * d.stride_w) - d.pad_left;
      const std::uint8_t* a0 = at(oh, iw);
      const std::uint8_t* a[3] = {a0, a0 + ow_step, a0 + 2 * ow_step};
      bt.template Tile<kFlip>(out, oh * out_w + static_cast<std::size_t>(left) + c, a, groups, goff_x, nullptr);
    }
  }
  for (int ow = left + static_cast<int>(whole); ow < right; ++ow)
    column(ow, static_cast<std::ptrdiff_t>(ow) * d.stride_w - d.pad_left, groups, goff_x, nullptr);
}
#endif

// The convolution (kPool: with the 2x2 max pool fused, rows in window order) through PanelsSegAVX2.
template <bool kPool, class TIn, class TOut>
HWY_NOINLINE void ImplicitConv(const conv2d_dims& d, const std::uint8_t* HWY_RESTRICT packed,
                               const TIn* HWY_RESTRICT x, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                               TOut* HWY_RESTRICT y) {
  const gemm_packed_view pk{packed};
  const std::size_t seg = static_cast<std::size_t>(d.k_w) * d.in_c;
  const TIn pad = static_cast<TIn>(pk.x_zp());
  HWY_ALIGN TIn zrow[kImplicitSegMax];
  std::memset(zrow, static_cast<unsigned char>(pad), seg);
  HWY_ALIGN TIn scratch[kImplicitPadBytes];
  const TIn* tab[kImplicitRows * kImplicitMaxKh];
  // Rows per table: every segment of every row may need the scratch (a layer narrower than its kernel).
  std::size_t tile = kIm2colBytes / (d.k_h * seg);
  tile = (tile < kImplicitRows ? tile : kImplicitRows) / 4 * 4;
  // A small input is copied once with its padding around it (into the scratch): then every window lies inside,
  // and no row needs assembling.
  conv2d_dims dp = d;
  dp.in_h = d.in_h + d.pad_top + d.pad_bottom;
  dp.in_w = d.in_w + d.pad_left + d.pad_right;
  dp.pad_top = dp.pad_left = dp.pad_bottom = dp.pad_right = 0;
  const std::size_t padded_row = static_cast<std::size_t>(dp.in_w) * d.in_c;
  const bool padded = ImplicitConvCopiesInput(d);
  if (padded) {
    for (int r = 0; r < dp.in_h; ++r) CopyPaddedRow(d, x, pad, r, scratch + static_cast<std::size_t>(r) * padded_row);
  }
  const pool2d_dims pd = conv2d_q_pool2_dims(d);
  const std::size_t rows = kPool ? 4 * static_cast<std::size_t>(pd.out_h) * pd.out_w
                                 : static_cast<std::size_t>(d.out_h) * d.out_w;
  const PixelOrder<kPool> pixel{d.out_w};
  const std::size_t panels = (static_cast<std::size_t>(d.out_c) + gemm_nr - 1) / gemm_nr;
  const bool short_rq = gemm_detail::ShortRequant(pk, y_zp);
  // On the padded copy the tile reads group g of every row at its first segment plus goff[g]: one pointer per row,
  // and one loop over all k_h * seg / 4 groups. VNNI: 28x28x32 -> 32 3x3: 22.9 -> 20.0 us; 14x14x16 -> 32: 3.6 ->
  // 2.9 us (the tables had cost 2 us alone). vpmaddubsw (Zen 3): 80.7 -> 78.8 us and 11.1 -> 10.7 us.
  const bool offsets = padded;
  std::ptrdiff_t goff[kIm2colBytes / 4 / gemm_kr];  // ImplicitConvFits: 4 * k_h * seg <= kIm2colBytes
  const std::size_t groups = d.k_h * seg / gemm_kr;
  if (offsets) {
    for (std::size_t g = 0; g < groups; ++g)
      goff[g] = static_cast<std::ptrdiff_t>(g / (seg / gemm_kr)) * static_cast<std::ptrdiff_t>(padded_row) * d.dil_h +
                static_cast<std::ptrdiff_t>(g % (seg / gemm_kr) * gemm_kr);
    tile = kImplicitRows * kImplicitMaxKh;  // the whole table for single pointers
  }
  // Rows [m_begin, m_end) through the GEMM below; the others, whole output rows at the top and the bottom, without
  // their kernel rows in the padding (ImplicitBorderRows).
  std::size_t m_begin = 0, m_end = rows;
#if STATIQ_AVX2_GEMM_PATHS
  if constexpr (!kPool) {
    const BorderRegion region = ImplicitBorderRegion(d);
    if (offsets && ImplicitBorderRowsFit(d) && ImplicitBorderRowsTaken(d, region)) {
      const gemm_detail::Sink<TOut> out{y, static_cast<std::size_t>(d.out_c), y_zp, lo, hi,
                                        static_cast<std::size_t>(d.out_c), false, short_rq};
      ImplicitBorderRows(d, pk, packed + conv2d_q_group_bytes(d), scratch, padded_row, goff, region, out);
      m_begin = static_cast<std::size_t>(region.top) * d.out_w;
      m_end = static_cast<std::size_t>(region.bottom) * d.out_w;
    }
  }
#endif
  for (std::size_t r0 = m_begin; r0 < m_end; r0 += tile) {
    const std::size_t n = m_end - r0 < tile ? m_end - r0 : tile;
    // The padded copy needs no assembling: no scratch for ImplicitRows.
    ImplicitRows(padded ? dp : d, padded ? scratch : x, zrow, r0, n, pixel, tab, padded ? nullptr : scratch, offsets);
    const gemm_detail::Sink<TOut> out{y + (kPool ? r0 / 4 : r0) * d.out_c, static_cast<std::size_t>(d.out_c), y_zp,
                                      lo, hi, static_cast<std::size_t>(d.out_c), kPool, short_rq};
#if STATIQ_AVX2_GEMM_PATHS
    gemm_detail::PanelsSegAVX2(pk, n, tab, static_cast<std::size_t>(d.k_h), seg / gemm_kr, out, 0, panels,
                               offsets ? goff : nullptr);
#else
    if (offsets) gemm_detail::vnni::PanelsSeg(pk, n, tab, goff, 1, groups, out, 0, panels);
    else gemm_detail::vnni::PanelsSeg(pk, n, tab, nullptr, static_cast<std::size_t>(d.k_h), seg / gemm_kr, out, 0, panels);
#endif
  }
}
#endif  // STATIQ_AVX2_GEMM_PATHS or STATIQ_VNNI_PATHS

}  // namespace conv_detail

// int8 convolution over weights packed by pack_conv2d_q<TIn>(d, ...): per group, im2col tiles of up to
// 24 KiB (patch rows of k_h * k_w * cin_g bytes) feed the packed GEMM, which requantizes into y (row
// stride out_c). A 1x1, stride 1, unpadded convolution runs the GEMM on x directly. Equal to
// ref::conv2d_q bit for bit. Requires k_h * k_w * in_c / groups <= 24576 (one patch fits the tile).
template <class TIn, class TOut>
HWY_NOINLINE void Conv2dQ(const conv2d_dims& d, const std::uint8_t* HWY_RESTRICT packed, const TIn* HWY_RESTRICT x,
                          std::int32_t y_zp, std::int32_t lo, std::int32_t hi, TOut* HWY_RESTRICT y) {
  const std::size_t k = conv2d_q_gemm_k(d);
  const int cin_g = d.in_c / d.groups, cout_g = d.out_c / d.groups;
  const std::size_t pixels = static_cast<std::size_t>(d.out_h) * d.out_w;
  const std::size_t group_bytes = conv2d_q_group_bytes(d);
  const bool direct = conv_detail::GemmOnInput(d);
#if HWY_TARGET != HWY_SCALAR
  if (d.groups == 1 && d.in_c <= 4 && k <= static_cast<std::size_t>(conv_detail::kFirstLayerMaxK))
    return conv_detail::FirstLayer(d, gemm_packed_view{packed}, x, y_zp, lo, hi, y);
#endif
#if STATIQ_AVX2_GEMM_PATHS || STATIQ_VNNI_PATHS
  if (!direct && conv_detail::ImplicitConvFits(d, gemm_packed_view{packed})) {
#if STATIQ_AVX2_GEMM_PATHS
    conv_detail::BorderRegion region;
    if (conv_detail::ImplicitConvBordersTaken(d, gemm_packed_view{packed}, region))
      return conv_detail::ImplicitConvBorders(d, packed, x, y_zp, lo, hi, y, region);
#endif
    return conv_detail::ImplicitConv<false>(d, packed, x, y_zp, lo, hi, y);
  }
#endif
  for (int g = 0; g < d.groups; ++g) {
    const std::uint8_t* pk = packed + g * group_bytes;
    TOut* yg = y + g * cout_g;
    if (direct) {
      GemmPacked<TIn, TOut>(pk, pixels, x + g * cin_g, d.in_c, yg, d.out_c, y_zp, lo, hi);
      continue;
    }
    const TIn pad = static_cast<TIn>(gemm_packed_view{pk}.x_zp());
    HWY_ALIGN TIn col[conv_detail::kIm2colBytes / sizeof(TIn)];
    std::size_t tile = conv_detail::kIm2colBytes / (k * sizeof(TIn));
    tile = tile > 256 ? 256 : (tile >= 8 ? tile / 4 * 4 : tile);
    HWY_DASSERT(tile >= 1);  // k <= conv2d_q_max_k: the quantizer keeps larger convolutions in float
    for (std::size_t p0 = 0; p0 < pixels; p0 += tile) {
      const std::size_t rows = p0 + tile < pixels ? tile : pixels - p0;
      for (std::size_t r = 0; r < rows; ++r) {
        const int p = static_cast<int>(p0 + r);
        conv_detail::Patch(d, x, g, p / d.out_w, p % d.out_w, pad, col + r * k);
      }
      GemmPacked<TIn, TOut>(pk, rows, col, k, yg + p0 * d.out_c, d.out_c, y_zp, lo, hi);
    }
  }
}

HWY_INLINE void Conv2dU8S8(const conv2d_dims& d, const std::uint8_t* packed, const std::uint8_t* x, std::int32_t y_zp,
                           std::int32_t lo, std::int32_t hi, std::uint8_t* y) {
  Conv2dQ<std::uint8_t, std::uint8_t>(d, packed, x, y_zp, lo, hi, y);
}
HWY_INLINE void Conv2dS8S8(const conv2d_dims& d, const std::uint8_t* packed, const std::int8_t* x, std::int32_t y_zp,
                           std::int32_t lo, std::int32_t hi, std::int8_t* y) {
  Conv2dQ<std::int8_t, std::int8_t>(d, packed, x, y_zp, lo, hi, y);
}

// Conv2dQ followed by a 2x2, stride-2 max pool (no padding, floor mode), in one pass: y is
// [out_h / 2][out_w / 2][out_c] and equals ref::max_pool_q over ref::conv2d_q's output bit for bit. Each
// window's 4 sums are pooled before they are requantized (requantization is monotonic), so the convolution's
// full-size output never exists and a quarter of the requantization work remains. Requires
// conv2d_q_pool2_fits(d) (conv2d_pack.hpp). im2col rows come in window order (4 per pooled pixel) for the pooled GEMM; first
// layers take their row-pair kernel with the pooling inside.
template <class TIn, class TOut>
HWY_NOINLINE void Conv2dQMaxPool2(const conv2d_dims& d, const std::uint8_t* HWY_RESTRICT packed,
                                  const TIn* HWY_RESTRICT x, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                                  TOut* HWY_RESTRICT y) {
  HWY_DASSERT(conv2d_q_pool2_fits(d));
#if HWY_TARGET != HWY_SCALAR
  if (conv_detail::FirstLayerPooled(d, gemm_packed_view{packed}, x, y_zp, lo, hi, y)) return;
#endif
#if STATIQ_AVX2_GEMM_PATHS || STATIQ_VNNI_PATHS
  if (conv_detail::ImplicitConvFits(d, gemm_packed_view{packed})) {
#if STATIQ_AVX2_GEMM_PATHS
    // Where ImplicitConvBorders takes the convolution (border taps left out), it and a separate pool beat the fused
    // route, whose tiles of pooling windows run every tap: 14x14x16 -> 32 10.58 -> 10.34 us on Zen 3. The pool of
    // the requantized outputs equals the fused one (requantization is monotonic, see gemm_detail::Sink::pool4).
    const std::size_t out_bytes = static_cast<std::size_t>(d.out_h) * d.out_w * d.out_c * sizeof(TOut);
    conv_detail::BorderRegion region;
    if (out_bytes <= conv_detail::kPoolSeparateBytes &&
        conv_detail::ImplicitConvBordersTaken(d, gemm_packed_view{packed}, region)) {
      HWY_ALIGN TOut conv[conv_detail::kPoolSeparateBytes / sizeof(TOut)];
      conv_detail::ImplicitConvBorders(d, packed, x, y_zp, lo, hi, conv, region);
      return detail::MaxPool(conv2d_q_pool2_dims(d), conv, y);
    }
#endif
    return conv_detail::ImplicitConv<true>(d, packed, x, y_zp, lo, hi, y);
  }
#endif
  const std::size_t k = conv2d_q_gemm_k(d);
  const int cout_g = d.out_c / d.groups;
  const int pw_n = d.out_w / 2;
  const std::size_t pooled = static_cast<std::size_t>(d.out_h / 2) * pw_n;
  const std::size_t group_bytes = conv2d_q_group_bytes(d);
  HWY_ALIGN TIn col[conv_detail::kIm2colBytes / sizeof(TIn)];
  std::size_t windows = conv_detail::kIm2colBytes / (4 * k * sizeof(TIn));  // pooled pixels per tile
  windows = windows > 64 ? 64 : windows;
  for (int g = 0; g < d.groups; ++g) {
    const std::uint8_t* pk = packed + g * group_bytes;
    const TIn pad = static_cast<TIn>(gemm_packed_view{pk}.x_zp());
    for (std::size_t q0 = 0; q0 < pooled; q0 += windows) {
      const std::size_t nq = q0 + windows < pooled ? windows : pooled - q0;
      for (std::size_t j = 0; j < nq; ++j) {
        const int ph = static_cast<int>((q0 + j) / pw_n), pw = static_cast<int>((q0 + j) % pw_n);
        for (int i = 0; i < 4; ++i) conv_detail::Patch(d, x, g, 2 * ph + i / 2, 2 * pw + i % 2, pad, col + (4 * j + i) * k);
      }
      GemmPackedMaxPool4<TIn, TOut>(pk, 4 * nq, col, k, y + q0 * d.out_c + g * cout_g, d.out_c, y_zp, lo, hi);
    }
  }
}
HWY_INLINE void Conv2dMaxPool2U8S8(const conv2d_dims& d, const std::uint8_t* packed, const std::uint8_t* x,
                                   std::int32_t y_zp, std::int32_t lo, std::int32_t hi, std::uint8_t* y) {
  Conv2dQMaxPool2<std::uint8_t, std::uint8_t>(d, packed, x, y_zp, lo, hi, y);
}
HWY_INLINE void Conv2dMaxPool2S8S8(const conv2d_dims& d, const std::uint8_t* packed, const std::int8_t* x,
                                   std::int32_t y_zp, std::int32_t lo, std::int32_t hi, std::int8_t* y) {
  Conv2dQMaxPool2<std::int8_t, std::int8_t>(d, packed, x, y_zp, lo, hi, y);
}

// The value-padded convolution's first-layer fast path (see FirstLayerValuePadded); false: not taken.
template <class TIn, class TOut>
HWY_INLINE bool Conv2dValuePaddedFirstLayer(const conv2d_dims& d, const std::uint8_t* packed, const TIn* x,
                                            const std::int32_t* pad_q16, std::int32_t y_zp, std::int32_t lo,
                                            std::int32_t hi, TOut* y) {
#if HWY_TARGET != HWY_SCALAR
  return conv_detail::FirstLayerValuePadded(d, gemm_packed_view{packed}, x, pad_q16, y_zp, lo, hi, y);
#else
  (void)d, (void)packed, (void)x, (void)pad_q16, (void)y_zp, (void)lo, (void)hi, (void)y;
  return false;
#endif
}
HWY_INLINE bool Conv2dValuePaddedU8(const conv2d_dims& d, const std::uint8_t* packed, const std::uint8_t* x,
                                    const std::int32_t* pad_q16, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                                    std::uint8_t* y) {
  return Conv2dValuePaddedFirstLayer(d, packed, x, pad_q16, y_zp, lo, hi, y);
}
HWY_INLINE bool Conv2dValuePaddedS8(const conv2d_dims& d, const std::uint8_t* packed, const std::int8_t* x,
                                    const std::int32_t* pad_q16, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                                    std::int8_t* y) {
  return Conv2dValuePaddedFirstLayer(d, packed, x, pad_q16, y_zp, lo, hi, y);
}

// ---------------------------------------------------------------------------------------------------------
// Float convolution with ref::conv2d_f32's signature (OHWI weights as given, no packing). Each output
// channel's weights are one contiguous row of k = k_h * k_w * cin_g floats, so a tile of 4 pixels' patches
// (built like the int8 im2col, padding 0) times 3 weight rows is 12 dot products sharing 7 loads per 12 FMA
// (FMA-bound on Zen 3: 2 FMA/cycle, 3 loads/cycle); lanes are summed once per dot product.
namespace conv_detail {

inline constexpr std::size_t kPatchFloats = 4096;  // 4 patches of up to 4096 floats: 64 KiB of stack

template <int MR, int NR, class DF>
HWY_INLINE void DotTileF32(DF df, std::size_t k, const float* HWY_RESTRICT patch, const float* HWY_RESTRICT w,
                           float* HWY_RESTRICT out /* [MR][NR] */) {
  const std::size_t N = hn::Lanes(df);
  auto a00 = hn::Zero(df), a01 = hn::Zero(df), a02 = hn::Zero(df);
  auto a10 = hn::Zero(df), a11 = hn::Zero(df), a12 = hn::Zero(df);
  auto a20 = hn::Zero(df), a21 = hn::Zero(df), a22 = hn::Zero(df);
  auto a30 = hn::Zero(df), a31 = hn::Zero(df), a32 = hn::Zero(df);
  std::size_t i = 0;
  for (; i + N <= k; i += N) {
    const auto w0 = hn::LoadU(df, w + i);
    const auto w1 = NR > 1 ? hn::LoadU(df, w + k + i) : w0;
    const auto w2 = NR > 2 ? hn::LoadU(df, w + 2 * k + i) : w0;
    const auto x0 = hn::LoadU(df, patch + i);
    a00 = hn::MulAdd(x0, w0, a00);
    if (NR > 1) a01 = hn::MulAdd(x0, w1, a01);
    if (NR > 2) a02 = hn::MulAdd(x0, w2, a02);
    if (MR > 1) {
      const auto x1 = hn::LoadU(df, patch + k + i);
      a10 = hn::MulAdd(x1, w0, a10);
      if (NR > 1) a11 = hn::MulAdd(x1, w1, a11);
      if (NR > 2) a12 = hn::MulAdd(x1, w2, a12);
    }
    if (MR > 2) {
      const auto x2 = hn::LoadU(df, patch + 2 * k + i);
      a20 = hn::MulAdd(x2, w0, a20);
      if (NR > 1) a21 = hn::MulAdd(x2, w1, a21);
      if (NR > 2) a22 = hn::MulAdd(x2, w2, a22);
    }
    if (MR > 3) {
      const auto x3 = hn::LoadU(df, patch + 3 * k + i);
      a30 = hn::MulAdd(x3, w0, a30);
      if (NR > 1) a31 = hn::MulAdd(x3, w1, a31);
      if (NR > 2) a32 = hn::MulAdd(x3, w2, a32);
    }
  }
  const auto sum = [&](auto v) HWY_ATTR { return hn::GetLane(hn::SumOfLanes(df, v)); };
  float s[4][3] = {{sum(a00), sum(a01), sum(a02)}, {sum(a10), sum(a11), sum(a12)},
                   {sum(a20), sum(a21), sum(a22)}, {sum(a30), sum(a31), sum(a32)}};
  for (; i < k; ++i)
    for (int r = 0; r < MR; ++r)
      for (int c = 0; c < NR; ++c) s[r][c] += patch[r * k + i] * w[c * k + i];
  for (int r = 0; r < MR; ++r)
    for (int c = 0; c < NR; ++c) out[r * NR + c] = s[r][c];
}

template <int MR, class DF>
HWY_INLINE void RowTileF32(DF df, const conv2d_dims& d, const float* HWY_RESTRICT patch, const float* HWY_RESTRICT w,
                           const float* HWY_RESTRICT bias, float lo, float hi, int g, std::size_t p0,
                           float* HWY_RESTRICT y) {
  const int cout_g = d.out_c / d.groups;
  const std::size_t k = static_cast<std::size_t>(d.k_h) * d.k_w * (d.in_c / d.groups);
  float t[MR * 3];
  int c = 0;
  const auto emit = [&](int nr) {
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < nr; ++j) {
        const int oc = g * cout_g + c + j;
        float v = t[r * nr + j] + (bias ? bias[oc] : 0.0f);
        v = v < lo ? lo : v;
        v = v > hi ? hi : v;
        y[(p0 + r) * d.out_c + oc] = v;
      }
  };
  const float* wg = w + static_cast<std::size_t>(g) * cout_g * k;
  for (; c + 3 <= cout_g; c += 3) {
    DotTileF32<MR, 3>(df, k, patch, wg + c * k, t);
    emit(3);
  }
  for (; c < cout_g; ++c) {
    DotTileF32<MR, 1>(df, k, patch, wg + c * k, t);
    emit(1);
  }
}

}  // namespace conv_detail

namespace conv_detail {

// Patches up to this length take the broadcast kernel below; its transposed weight block (K x 2 vectors of
// output channels) lives on the stack.
inline constexpr std::size_t kBcastMaxK = 512;
// Pixels per tile: 6 x 2 vectors of channels = 12 accumulators, enough FMAs in flight for a 4-cycle latency at 2 per
// cycle (4 x 2 left it latency bound: 28x28x32 -> 32 3x3 on AVX-512 117 -> 82 us).
inline constexpr std::size_t kBcastRows = 6;
static_assert(kBcastRows * kBcastMaxK <= 4 * kPatchFloats, "the patch buffer holds a tile's patches");

// Row r of a float broadcast tile (BcastTileF32, FirstLayerBlockF32): value x (pixel r's patch value) times the NV
// weight vectors w0 / w1 into the row's accumulators ar0 / ar1.
#define STATIQ_BCAST_FMA(r, x)                       \
  if (MR > r) {                                      \
    const auto xr = hn::Set(df, x);                  \
    a##r##0 = hn::MulAdd(xr, w0, a##r##0);           \
    if (NV > 1) a##r##1 = hn::MulAdd(xr, w1, a##r##1); \
  }

// acc + bias clamped to [lo, hi], stored at out.
template <class DF, class V = hn::Vec<DF>>
HWY_INLINE void StoreBiasClamp(DF df, V acc, V bias, V lo, V hi, float* out) {
  hn::StoreU(hn::Min(hn::Max(hn::Add(acc, bias), lo), hi), df, out);
}

// Output channels in lanes: weights of a block of NV vectors of channels transposed to [k][NV * N] once,
// then every k broadcasts one patch value per pixel into MR x NV FMAs (4 x 2: 8 FMA per 2 loads + 4
// broadcasts, FMA-bound; no horizontal sums). Measured on AVX2 against the dot-product tile above:
// 28x28x1 -> 16 3x3 88 -> 19 us, 28x28x32 -> 32 3x3 27 -> 50 GFLOPS.
// Pixel r's patch is nseg segments of seg_len floats, segment s at base[r] + s * step[r]: straight in the input
// for a pixel whose window lies inside it (a kernel row's k_w * in_c values are contiguous in NHWC), in the
// patch buffer (built by Patch) for the others, so an interior pixel's patch is never copied.
template <int MR, int NV, class DF>
HWY_INLINE void BcastTileF32(DF df, std::size_t nseg, std::size_t seg_len, const float* const* base,
                             const std::ptrdiff_t* step, const float* HWY_RESTRICT wt, const float* HWY_RESTRICT bias,
                             float lo, float hi, float* HWY_RESTRICT y, std::size_t y_stride) {
  const std::size_t N = hn::Lanes(df);
  auto a00 = hn::Zero(df), a01 = hn::Zero(df), a10 = hn::Zero(df), a11 = hn::Zero(df);
  auto a20 = hn::Zero(df), a21 = hn::Zero(df), a30 = hn::Zero(df), a31 = hn::Zero(df);
  auto a40 = hn::Zero(df), a41 = hn::Zero(df), a50 = hn::Zero(df), a51 = hn::Zero(df);
  const float* wp = wt;
  for (std::size_t s = 0; s < nseg; ++s) {
    const auto seg = [&](int r) {  // rows past MR: row 0 again (unused)
      return base[r < MR ? r : 0] + static_cast<std::ptrdiff_t>(s) * step[r < MR ? r : 0];
    };
    const float *q0 = seg(0), *q1 = seg(1), *q2 = seg(2), *q3 = seg(3), *q4 = seg(4), *q5 = seg(5);
    for (std::size_t i = 0; i < seg_len; ++i, wp += NV * N) {
      const auto w0 = hn::Load(df, wp);
      const auto w1 = NV > 1 ? hn::Load(df, wp + N) : w0;
      STATIQ_BCAST_FMA(0, q0[i])
      STATIQ_BCAST_FMA(1, q1[i])
      STATIQ_BCAST_FMA(2, q2[i])
      STATIQ_BCAST_FMA(3, q3[i])
      STATIQ_BCAST_FMA(4, q4[i])
      STATIQ_BCAST_FMA(5, q5[i])
    }
  }
  const auto b0 = bias ? hn::LoadU(df, bias) : hn::Zero(df);
  const auto b1 = (NV > 1 && bias) ? hn::LoadU(df, bias + N) : hn::Zero(df);
  const auto vlo = hn::Set(df, lo), vhi = hn::Set(df, hi);
  const auto emit = [&](auto a, auto b, float* out) HWY_ATTR { StoreBiasClamp(df, a, b, vlo, vhi, out); };
  emit(a00, b0, y);
  if (NV > 1) emit(a01, b1, y + N);
  if (MR > 1) { emit(a10, b0, y + y_stride); if (NV > 1) emit(a11, b1, y + y_stride + N); }
  if (MR > 2) { emit(a20, b0, y + 2 * y_stride); if (NV > 1) emit(a21, b1, y + 2 * y_stride + N); }
  if (MR > 3) { emit(a30, b0, y + 3 * y_stride); if (NV > 1) emit(a31, b1, y + 3 * y_stride + N); }
  if (MR > 4) { emit(a40, b0, y + 4 * y_stride); if (NV > 1) emit(a41, b1, y + 4 * y_stride + N); }
  if (MR > 5) { emit(a50, b0, y + 5 * y_stride); if (NV > 1) emit(a51, b1, y + 5 * y_stride + N); }
}

// One block of NV * Lanes(df) output channels [oc0, ...) of group g over every pixel.
template <int NV, class DF>
HWY_NOINLINE void BcastBlockF32(DF df, const conv2d_dims& dims, const float* HWY_RESTRICT x,
                                const float* HWY_RESTRICT w, const float* HWY_RESTRICT bias, float* HWY_RESTRICT y,
                                float lo, float hi, int g, int oc0, float* HWY_RESTRICT patch) {
  const conv2d_dims d = dims;  // a local copy: stores to the tile's pointers and the patch cannot alias it
  const std::size_t N = hn::Lanes(df);
  const std::size_t k = static_cast<std::size_t>(d.k_h) * d.k_w * (d.in_c / d.groups);
  HWY_ALIGN float wt[kBcastMaxK * 2 * HWY_LANES(float)];
  for (std::size_t j = 0; j < NV * N; ++j) {
    const float* wr = w + (static_cast<std::size_t>(oc0) + j) * k;
    for (std::size_t i = 0; i < k; ++i) wt[i * NV * N + j] = wr[i];
  }
  const float* b = bias ? bias + oc0 : nullptr;
  const std::size_t pixels = static_cast<std::size_t>(d.out_h) * d.out_w;
  const std::size_t nseg = static_cast<std::size_t>(d.k_h), seg_len = k / nseg;
  // Windows inside the input are read in place where a kernel row's values are contiguous there: output rows whose
  // kernel rows lie inside, columns [ow_lo, ow_hi).
  const bool in_place = d.groups == 1 && d.dil_w == 1;
  const std::ptrdiff_t row_step = static_cast<std::ptrdiff_t>(d.dil_h) * d.in_w * d.in_c;
  const std::ptrdiff_t col_step = static_cast<std::ptrdiff_t>(d.stride_w) * d.in_c;
  const int ow_lo = (d.pad_left + d.stride_w - 1) / d.stride_w;
  const int last_in = d.in_w - d.k_w + d.pad_left;  // the last window start inside, plus the padding
  const int ow_hi = last_in < 0 ? 0 : std::min(last_in / d.stride_w + 1, d.out_w);
  const float* base[kBcastRows];
  std::ptrdiff_t step[kBcastRows];
  int oh = 0, ow = 0;  // of the next pixel (no division per pixel: it showed in the 9-tap first layer's profile)
  bool row_in = false;
  const float* row_base = x;  // the input at (oh's first kernel row, column -pad_left)
  const auto start_row = [&] {
    const int ih0 = oh * d.stride_h - d.pad_top;
    row_in = in_place && ih0 >= 0 && ih0 + (d.k_h - 1) * d.dil_h < d.in_h;
    row_base = x + (static_cast<std::ptrdiff_t>(ih0) * d.in_w - d.pad_left) * d.in_c;
  };
  start_row();
  // Pixel (oh, ow) into tile slot r, then on to the next pixel.
  const auto place = [&](std::size_t r) {
    if (row_in && ow >= ow_lo && ow < ow_hi) {
      base[r] = row_base + ow * col_step;
      step[r] = row_step;
    } else {
      Patch(d, x, g, oh, ow, 0.0f, patch + r * k);
      base[r] = patch + r * k;
      step[r] = static_cast<std::ptrdiff_t>(seg_len);
    }
    if (++ow == d.out_w) {
      ow = 0;
      ++oh;
      start_row();
    }
  };
  std::size_t p0 = 0;
  for (; p0 + kBcastRows <= pixels; p0 += kBcastRows) {
    for (std::size_t r = 0; r < kBcastRows; ++r) place(r);
    BcastTileF32<kBcastRows, NV>(df, nseg, seg_len, base, step, wt, b, lo, hi, y + p0 * d.out_c + oc0, d.out_c);
  }
  for (; p0 < pixels; ++p0) {
    place(0);
    BcastTileF32<1, NV>(df, nseg, seg_len, base, step, wt, b, lo, hi, y + p0 * d.out_c + oc0, d.out_c);
  }
}

// Float first layer (groups == 1, in_c <= 4, k_h * k_w * in_c <= kFirstLayerF32MaxK = 64): output channels in lanes,
// like BcastBlockF32, but the input rows a chunk of output columns reads are first copied into a buffer with their
// padding as zeros (k_h rows of columns), so every pixel, border or not, reads tap t at one offset off[t] from its
// column: no per-pixel placement or patch. 6 pixels x NV vectors of channels per tile; per tap 6 broadcasts from
// the buffer and NV weight loads. Through BcastBlockF32 FMAs were 12 % of the
// instructions of 28x28x1 -> 16 3x3 (9.7 us on Zen 3).
inline constexpr int kFirstLayerF32MaxK = 64;
inline constexpr int kFirstLayerF32Floats = 8192;  // the row buffer: 32 KiB
inline constexpr int kFirstLayerF32Px = 6;          // pixels per tile: 12 FMA chains for NV = 2

// Whether FirstLayerF32 takes the shape: the buffer holds one pixel's reach on every kernel row.
inline bool FirstLayerF32Fits(const conv2d_dims& d) {
  if (d.groups != 1 || d.in_c > 4 || d.k_h * d.k_w * d.in_c > kFirstLayerF32MaxK) return false;
  const int reach = (d.k_w - 1) * d.dil_w + 1;
  return reach * d.k_h * d.in_c <= kFirstLayerF32Floats;
}

template <int NV, class DF>
HWY_NOINLINE void FirstLayerBlockF32(DF df, const conv2d_dims& dims, const float* HWY_RESTRICT x,
                                     const float* HWY_RESTRICT w, const float* HWY_RESTRICT bias,
                                     float* HWY_RESTRICT y, float lo, float hi, int oc0) {
  const conv2d_dims d = dims;  // a local copy: stores to y cannot alias it
  const int N = static_cast<int>(hn::Lanes(df));
  const int cin = d.in_c, k = d.k_h * d.k_w * cin;
  HWY_ALIGN float wt[kFirstLayerF32MaxK * 2 * HWY_LANES(float)];  // [t][NV * N]
  for (int j = 0; j < NV * N; ++j)
    for (int t = 0; t < k; ++t) wt[t * NV * N + j] = w[static_cast<std::size_t>(oc0 + j) * k + t];
  const auto b0 = bias ? hn::LoadU(df, bias + oc0) : hn::Zero(df);
  const auto b1 = NV > 1 && bias ? hn::LoadU(df, bias + oc0 + N) : hn::Zero(df);
  const auto vlo = hn::Set(df, lo), vhi = hn::Set(df, hi);
  const int reach = (d.k_w - 1) * d.dil_w + 1;
  const int max_cols = kFirstLayerF32Floats / (d.k_h * cin);  // >= reach (FirstLayerF32Fits)
  const int chunk = (max_cols - reach) / d.stride_w + 1;       // output columns per chunk
  const int row_floats = max_cols * cin;                       // buffer row stride
  int off[kFirstLayerF32MaxK];                                    // tap t of a pixel: its column's floats + off[t]
  for (int kh = 0, t = 0; kh < d.k_h; ++kh)
    for (int kw = 0; kw < d.k_w; ++kw)
      for (int ci = 0; ci < cin; ++ci, ++t) off[t] = kh * row_floats + kw * d.dil_w * cin + ci;
  HWY_ALIGN float buf[kFirstLayerF32Floats + HWY_LANES(float)];  // + slack for the zeros' last vector
  const int px_step = d.stride_w * cin;
  for (int oh = 0; oh < d.out_h; ++oh) {
    for (int ow0 = 0; ow0 < d.out_w; ow0 += chunk) {
      const int ow1 = std::min(ow0 + chunk, d.out_w);
      const int ncols = (ow1 - 1 - ow0) * d.stride_w + reach;
      const int iw0 = ow0 * d.stride_w - d.pad_left;
      const int c_lo = std::min(std::max(-iw0, 0), ncols);                 // columns inside: [c_lo, c_hi)
      const int c_hi = std::max(std::min(d.in_w - iw0, ncols), c_lo);
      // Zeros in whole vectors (up to N - 1 floats past the end: the buffer's slack, or the copy's place, which is
      // written after), and the copy in fixed-size pieces: as libc calls (GCC's loop idioms) the 3 rows of each of
      // 28x28x1's output rows cost more than its multiply-adds.
      const auto zeros = [&](float* p, int n) HWY_ATTR {
        for (int i = 0; i < n; i += N) hn::StoreU(hn::Zero(df), df, p + i);
      };
      for (int kh = 0; kh < d.k_h; ++kh) {
        float* row = buf + kh * row_floats;
        const int ih = oh * d.stride_h - d.pad_top + kh * d.dil_h;
        if (ih < 0 || ih >= d.in_h) {
          zeros(row, ncols * cin);
          continue;
        }
        zeros(row, c_lo * cin);
        zeros(row + c_hi * cin, (ncols - c_hi) * cin);
        CopySmall(row + c_lo * cin, x + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw0 + c_lo) * cin,
                  static_cast<std::size_t>(c_hi - c_lo) * cin);
      }
      const auto at = [&](int ow) { return y + (static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * d.out_c + oc0; };
      const auto emit = [&](auto a, auto b, float* out) HWY_ATTR { StoreBiasClamp(df, a, b, vlo, vhi, out); };
      // Tiles of 6 pixels; the last one ends at the chunk's end (pixels computed twice are written twice with the
      // same values: one pixel at a time, the 4 left of a 28-column row took a third of the time, latency bound).
      int ow = ow0;
      for (; ow < ow1 && ow1 - ow0 >= kFirstLayerF32Px; ow += kFirstLayerF32Px) {
        if (ow + kFirstLayerF32Px > ow1) ow = ow1 - kFirstLayerF32Px;
        float* yp = at(ow);
        const float* q = buf + (ow - ow0) * px_step;
        auto a00 = hn::Zero(df), a01 = hn::Zero(df), a10 = hn::Zero(df), a11 = hn::Zero(df);
        auto a20 = hn::Zero(df), a21 = hn::Zero(df), a30 = hn::Zero(df), a31 = hn::Zero(df);
        auto a40 = hn::Zero(df), a41 = hn::Zero(df), a50 = hn::Zero(df), a51 = hn::Zero(df);
        const float* wp = wt;
        for (int t = 0; t < k; ++t, wp += NV * N) {
          const float* qt = q + off[t];
          const auto w0 = hn::Load(df, wp);
          const auto w1 = NV > 1 ? hn::Load(df, wp + N) : w0;
          constexpr int MR = kFirstLayerF32Px;
          STATIQ_BCAST_FMA(0, qt[0])
          STATIQ_BCAST_FMA(1, qt[px_step])
          STATIQ_BCAST_FMA(2, qt[2 * px_step])
          STATIQ_BCAST_FMA(3, qt[3 * px_step])
          STATIQ_BCAST_FMA(4, qt[4 * px_step])
          STATIQ_BCAST_FMA(5, qt[5 * px_step])
        }
        emit(a00, b0, yp), emit(a10, b0, yp + d.out_c), emit(a20, b0, yp + 2 * d.out_c);
        emit(a30, b0, yp + 3 * d.out_c), emit(a40, b0, yp + 4 * d.out_c), emit(a50, b0, yp + 5 * d.out_c);
        if (NV > 1) {
          emit(a01, b1, yp + N), emit(a11, b1, yp + d.out_c + N), emit(a21, b1, yp + 2 * d.out_c + N);
          emit(a31, b1, yp + 3 * d.out_c + N), emit(a41, b1, yp + 4 * d.out_c + N), emit(a51, b1, yp + 5 * d.out_c + N);
        }
      }
      for (; ow < ow1; ++ow) {  // a chunk narrower than a tile
        float* yp = at(ow);
        const float* q = buf + (ow - ow0) * px_step;
        auto a0 = hn::Zero(df), a1 = hn::Zero(df);
        const float* wp = wt;
        for (int t = 0; t < k; ++t, wp += NV * N) {
          const auto xv = hn::Set(df, q[off[t]]);
          a0 = hn::MulAdd(xv, hn::Load(df, wp), a0);
          if (NV > 1) a1 = hn::MulAdd(xv, hn::Load(df, wp + N), a1);
        }
        emit(a0, b0, yp);
        if (NV > 1) emit(a1, b1, yp + N);
      }
    }
  }
}

#undef STATIQ_BCAST_FMA

}  // namespace conv_detail

inline HWY_NOINLINE void Conv2dF32(const conv2d_dims& d, const float* HWY_RESTRICT x, const float* HWY_RESTRICT w,
                            const float* HWY_RESTRICT bias, float* HWY_RESTRICT y, float lo, float hi) {
#if HWY_TARGET == HWY_SCALAR
  ref::conv2d_f32(d, x, w, bias, y, lo, hi);
#else
  const std::size_t k = static_cast<std::size_t>(d.k_h) * d.k_w * (d.in_c / d.groups);
  if (k > conv_detail::kPatchFloats) return ref::conv2d_f32(d, x, w, bias, y, lo, hi);
  const std::size_t pixels = static_cast<std::size_t>(d.out_h) * d.out_w;
  if (d.groups == 1 && conv_detail::GemmOnInput(d)) {  // 1x1: the GEMM on the input as it is (OHWI = [n][k])
    return DenseF32(pixels, static_cast<std::size_t>(d.out_c), k, x, w, bias, y, lo, hi);
  }
  const hn::ScalableTag<float> df;
  const int N = static_cast<int>(hn::Lanes(df));
  // First layers whose output channels come in fours (the blocks below: 2 and 1 vectors, then 4 lanes).
  if (conv_detail::FirstLayerF32Fits(d) && d.out_c % 4 == 0) {
    int oc = 0;
    for (; oc + 2 * N <= d.out_c; oc += 2 * N) conv_detail::FirstLayerBlockF32<2>(df, d, x, w, bias, y, lo, hi, oc);
    for (; oc + N <= d.out_c; oc += N) conv_detail::FirstLayerBlockF32<1>(df, d, x, w, bias, y, lo, hi, oc);
    const hn::CappedTag<float, 4> d4;
    for (; oc < d.out_c; oc += 4) conv_detail::FirstLayerBlockF32<1>(d4, d, x, w, bias, y, lo, hi, oc);
    return;
  }
  HWY_ALIGN float patch[4 * conv_detail::kPatchFloats];
  const int cout_g = d.out_c / d.groups;
  if (k <= conv_detail::kBcastMaxK && cout_g >= N) {
    for (int g = 0; g < d.groups; ++g) {
      int oc = 0;
      for (; oc + 2 * N <= cout_g; oc += 2 * N)
        conv_detail::BcastBlockF32<2>(df, d, x, w, bias, y, lo, hi, g, g * cout_g + oc, patch);
      for (; oc + N <= cout_g; oc += N)
        conv_detail::BcastBlockF32<1>(df, d, x, w, bias, y, lo, hi, g, g * cout_g + oc, patch);
      const hn::CappedTag<float, 4> d4;
      if (hn::Lanes(d4) == 4 && N > 4 && oc + 4 <= cout_g) {
        conv_detail::BcastBlockF32<1>(d4, d, x, w, bias, y, lo, hi, g, g * cout_g + oc, patch);
        oc += 4;
      }
      if (oc < cout_g) {  // < 4 channels left: dot products
        for (std::size_t p = 0; p < pixels; ++p) {
          const int pi = static_cast<int>(p);
          conv_detail::Patch(d, x, g, pi / d.out_w, pi % d.out_w, 0.0f, patch);
          float t[1];
          for (int c = oc; c < cout_g; ++c) {
            const int occ = g * cout_g + c;
            conv_detail::DotTileF32<1, 1>(df, k, patch, w + static_cast<std::size_t>(occ) * k, t);
            float v = t[0] + (bias ? bias[occ] : 0.0f);
            v = v < lo ? lo : v;
            y[p * d.out_c + occ] = v > hi ? hi : v;
          }
        }
      }
    }
    return;
  }
  for (int g = 0; g < d.groups; ++g) {
    std::size_t p0 = 0;
    for (; p0 + 4 <= pixels; p0 += 4) {
      for (int r = 0; r < 4; ++r) {
        const int p = static_cast<int>(p0) + r;
        conv_detail::Patch(d, x, g, p / d.out_w, p % d.out_w, 0.0f, patch + r * k);
      }
      conv_detail::RowTileF32<4>(df, d, patch, w, bias, lo, hi, g, p0, y);
    }
    for (; p0 < pixels; ++p0) {
      const int p = static_cast<int>(p0);
      conv_detail::Patch(d, x, g, p / d.out_w, p % d.out_w, 0.0f, patch);
      conv_detail::RowTileF32<1>(df, d, patch, w, bias, lo, hi, g, p0, y);
    }
  }
#endif
}

namespace conv_detail {

// One block of Lanes(df) channels of a float depthwise convolution over every pixel; the block's weights
// transposed to [tap][lane] on the stack; interior pixels take every tap without bounds checks (compile-time
// taps for 3x3 and 5x5), one FMA chain per kernel row. nv vectors of channels [c0, c0 + nv * N) share a pass
// over the output rows, which reads each input row band once (one vector per pass over the whole image streamed
// a 28x28x128 f32 input 16 times and took twice as long); within a row, a 3x3 kernel's interior columns run
// vector by vector with the weights in registers.
inline constexpr int kDepthwiseF32Vectors = HWY_LANES(float) >= 128 ? 1 : 128 / HWY_LANES(float);  // 128 channels

template <int KH, int KW, class DF>
HWY_NOINLINE void DepthwiseBlockF32(DF df, const conv2d_dims& dims, const float* HWY_RESTRICT x,
                                   const float* HWY_RESTRICT w, const float* HWY_RESTRICT bias,
                                   float* HWY_RESTRICT y, float lo, float hi, int c0, int nv) {
  const conv2d_dims d = dims;  // a local copy: stores to y cannot alias it
  const int kh_n = KH > 0 ? KH : d.k_h, kw_n = KW > 0 ? KW : d.k_w;
  const int taps = kh_n * kw_n;
  const int C = d.in_c;
  const std::size_t N = hn::Lanes(df);
  const std::size_t NB = N * static_cast<std::size_t>(nv);
  HWY_ALIGN float wt[64 * kDepthwiseF32Vectors * HWY_LANES(float)];
  HWY_ALIGN float bt[kDepthwiseF32Vectors * HWY_LANES(float)];
  for (int t = 0; t < taps; ++t)
    for (std::size_t l = 0; l < NB; ++l) wt[t * NB + l] = w[(c0 + static_cast<int>(l)) * taps + t];
  for (std::size_t l = 0; l < NB; ++l) bt[l] = bias ? bias[c0 + static_cast<int>(l)] : 0.0f;
  const auto vlo = hn::Set(df, lo), vhi = hn::Set(df, hi);
  const std::ptrdiff_t row_step = static_cast<std::ptrdiff_t>(d.dil_h) * d.in_w * C;
  const std::ptrdiff_t col_step = static_cast<std::ptrdiff_t>(d.dil_w) * C;
  // Output columns [ow_lo, ow_hi) read no padding.
  const int ow_lo = (d.pad_left + d.stride_w - 1) / d.stride_w;
  const int last_in = d.in_w - 1 - (kw_n - 1) * d.dil_w + d.pad_left;
  int ow_hi = last_in < 0 ? 0 : last_in / d.stride_w + 1;
  ow_hi = ow_hi > d.out_w ? d.out_w : ow_hi;
  // One output pixel, all nv vectors: inside the input every tap without bounds checks, one FMA chain per kernel
  // row; on the border the taps that lie inside, their ranges computed once for the pixel.
  const auto pixel = [&](int oh, int ow) HWY_ATTR {
    const int ih0 = oh * d.stride_h - d.pad_top, iw0 = ow * d.stride_w - d.pad_left;
    float* yp = y + (static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * C + c0;
    if (ih0 >= 0 && ih0 + (kh_n - 1) * d.dil_h < d.in_h && iw0 >= 0 && iw0 + (kw_n - 1) * d.dil_w < d.in_w) {
      const float* xp0 = x + (static_cast<std::ptrdiff_t>(ih0) * d.in_w + iw0) * C + c0;
      for (int v = 0; v < nv; ++v) {
        const float* wv = wt + v * N;
        const float* xv = xp0 + v * N;
        auto r0 = hn::Load(df, bt + v * N), r1 = hn::Zero(df), r2 = hn::Zero(df);
        STATIQ_UNROLL(25)
        for (int kh = 0; kh < kh_n; ++kh) {
          auto r = hn::Zero(df);
          STATIQ_UNROLL(5)
          for (int kw = 0; kw < kw_n; ++kw)
            r = hn::MulAdd(hn::LoadU(df, xv + kh * row_step + kw * col_step), hn::Load(df, wv + (kh * kw_n + kw) * NB), r);
          if (kh % 3 == 0) r0 = hn::Add(r0, r);
          else if (kh % 3 == 1) r1 = hn::Add(r1, r);
          else r2 = hn::Add(r2, r);
        }
        hn::StoreU(hn::Min(hn::Max(hn::Add(hn::Add(r0, r1), r2), vlo), vhi), df, yp + v * N);
      }
      return;
    }
    // taps [kh0, kh1) x [kw0, kw1) lie inside the input
    const auto ceil_div = [](int a, int b) { return a <= 0 ? 0 : (a + b - 1) / b; };
    const int kh0 = ceil_div(-ih0, d.dil_h), kw0 = ceil_div(-iw0, d.dil_w);
    int kh1 = ceil_div(d.in_h - ih0, d.dil_h), kw1 = ceil_div(d.in_w - iw0, d.dil_w);
    kh1 = kh1 < kh_n ? kh1 : kh_n;
    kw1 = kw1 < kw_n ? kw1 : kw_n;
    const float* xp0 = x + (static_cast<std::ptrdiff_t>(ih0) * d.in_w + iw0) * C + c0;
    for (int v = 0; v < nv; ++v) {
      const float* wv = wt + v * N;
      const float* xv = xp0 + v * N;
      auto acc = hn::Load(df, bt + v * N);
      // (Unrolled over the compile-time taps with a test each: as loops over the ranges, about 20 instructions a tap.)
      STATIQ_UNROLL(25)
      for (int kh = 0; kh < kh_n; ++kh) {
        if (kh < kh0 || kh >= kh1) continue;
        STATIQ_UNROLL(5)
        for (int kw = 0; kw < kw_n; ++kw) {
          if (kw < kw0 || kw >= kw1) continue;
          acc = hn::MulAdd(hn::LoadU(df, xv + kh * row_step + kw * col_step), hn::Load(df, wv + (kh * kw_n + kw) * NB), acc);
        }
      }
      hn::StoreU(hn::Min(hn::Max(acc, vlo), vhi), df, yp + v * N);
    }
  };
  for (int oh = 0; oh < d.out_h; ++oh) {
    const int ih0 = oh * d.stride_h - d.pad_top;
    const bool rows_inside = ih0 >= 0 && ih0 + (kh_n - 1) * d.dil_h < d.in_h;
    if constexpr (KH == 3 && KW == 3) {
      if (rows_inside && ow_lo < ow_hi) {
        // Interior columns vector by vector, the 9 weights and the bias in registers (read from the stack once per
        // row and vector, not once per tap). With the border's per-pixel tap ranges: 28x28x24 15.0 -> 7.5 us,
        // 28x28x128 48 -> 39 us, 28x28x64 stride 2 6.2 -> 4.5 us (AVX-512, against pixels in the outer loop and
        // a weight load per tap).
        // Where the block's 3 input rows exceed 16 KiB, in chunks of 8 columns, every vector of a chunk before the
        // next chunk (the weights reloaded once per chunk and vector): vector by vector along whole rows, a vector
        // came back to lines L1 no longer held (28x28x128 with 128 channels a block: 79 -> 50 us on Zen 3).
        const int chunk = 3 * d.in_w * static_cast<int>(NB * sizeof(float)) > 16384 ? 8 : ow_hi - ow_lo;
        for (int ow0 = ow_lo; ow0 < ow_hi; ow0 += chunk)
        for (int v = 0; v < nv; ++v) {
          const int cv = c0 + v * static_cast<int>(N);
          const float* wv = wt + v * N;
          const auto w0 = hn::Load(df, wv), w1 = hn::Load(df, wv + NB), w2 = hn::Load(df, wv + 2 * NB);
          const auto w3 = hn::Load(df, wv + 3 * NB), w4 = hn::Load(df, wv + 4 * NB), w5 = hn::Load(df, wv + 5 * NB);
          const auto w6 = hn::Load(df, wv + 6 * NB), w7 = hn::Load(df, wv + 7 * NB), w8 = hn::Load(df, wv + 8 * NB);
          const auto b = hn::Load(df, bt + v * N);
          const std::ptrdiff_t col = static_cast<std::ptrdiff_t>(d.stride_w) * C;
          const float* p0 = x + (static_cast<std::ptrdiff_t>(ih0) * d.in_w + ow0 * d.stride_w - d.pad_left) * C + cv;
          float* yp = y + (static_cast<std::ptrdiff_t>(oh) * d.out_w + ow0) * C + cv;
          const int ow1 = ow0 + chunk < ow_hi ? ow0 + chunk : ow_hi;
          for (int ow = ow0; ow < ow1; ++ow, p0 += col, yp += C) {
            const float* p1 = p0 + row_step;
            const float* p2 = p1 + row_step;
            auto r0 = hn::MulAdd(hn::LoadU(df, p0), w0, b);
            auto r1 = hn::Mul(hn::LoadU(df, p1), w3);
            auto r2 = hn::Mul(hn::LoadU(df, p2), w6);
            r0 = hn::MulAdd(hn::LoadU(df, p0 + col_step), w1, r0);
            r1 = hn::MulAdd(hn::LoadU(df, p1 + col_step), w4, r1);
            r2 = hn::MulAdd(hn::LoadU(df, p2 + col_step), w7, r2);
            r0 = hn::MulAdd(hn::LoadU(df, p0 + 2 * col_step), w2, r0);
            r1 = hn::MulAdd(hn::LoadU(df, p1 + 2 * col_step), w5, r1);
            r2 = hn::MulAdd(hn::LoadU(df, p2 + 2 * col_step), w8, r2);
            hn::StoreU(hn::Min(hn::Max(hn::Add(hn::Add(r0, r1), r2), vlo), vhi), df, yp);
          }
        }
        for (int ow = 0; ow < ow_lo; ++ow) pixel(oh, ow);
        for (int ow = ow_hi; ow < d.out_w; ++ow) pixel(oh, ow);
        continue;
      }
    }
    for (int ow = 0; ow < d.out_w; ++ow) pixel(oh, ow);
  }
}

}  // namespace conv_detail

// Float depthwise (groups == in_c == out_c), same signature as ref::conv2d_f32: channels in lanes. Kernels
// over 64 taps use Conv2dF32.
inline HWY_NOINLINE void DepthwiseConvF32(const conv2d_dims& d, const float* HWY_RESTRICT x, const float* HWY_RESTRICT w,
                                   const float* HWY_RESTRICT bias, float* HWY_RESTRICT y, float lo, float hi) {
#if HWY_TARGET == HWY_SCALAR
  ref::conv2d_f32(d, x, w, bias, y, lo, hi);
#else
  const int taps = d.k_h * d.k_w;
  if (taps > 64) return Conv2dF32(d, x, w, bias, y, lo, hi);
  const int C = d.in_c;
  const auto run = [&](auto df, int c0, int nv) HWY_ATTR {
    if (d.k_h == 3 && d.k_w == 3) return conv_detail::DepthwiseBlockF32<3, 3>(df, d, x, w, bias, y, lo, hi, c0, nv);
    if (d.k_h == 5 && d.k_w == 5) return conv_detail::DepthwiseBlockF32<5, 5>(df, d, x, w, bias, y, lo, hi, c0, nv);
    conv_detail::DepthwiseBlockF32<0, 0>(df, d, x, w, bias, y, lo, hi, c0, nv);
  };
  const hn::ScalableTag<float> dfull;
  const int N = static_cast<int>(hn::Lanes(dfull));
  int c = 0;
  while (c + N <= C) {
    int nv = (C - c) / N;
    nv = nv > conv_detail::kDepthwiseF32Vectors ? conv_detail::kDepthwiseF32Vectors : nv;
    run(dfull, c, nv);
    c += nv * N;
  }
  const auto block = [&](auto df, int c0) HWY_ATTR { run(df, c0, 1); };
  c += detail::ForEachChannelBlock<float>(C - c, [&](auto df, int c0) HWY_ATTR { block(df, c + c0); });
  if (c < C) {
    // < 4 channels left
    for (int oh = 0; oh < d.out_h; ++oh)
      for (int ow = 0; ow < d.out_w; ++ow)
        for (int cc = c; cc < C; ++cc) {
          float acc = bias ? bias[cc] : 0.0f;
          for (int kh = 0; kh < d.k_h; ++kh) {
            const int ih = oh * d.stride_h - d.pad_top + kh * d.dil_h;
            if (ih < 0 || ih >= d.in_h) continue;
            for (int kw = 0; kw < d.k_w; ++kw) {
              const int iw = ow * d.stride_w - d.pad_left + kw * d.dil_w;
              if (iw < 0 || iw >= d.in_w) continue;
              acc += x[(static_cast<std::ptrdiff_t>(ih) * d.in_w + iw) * C + cc] * w[cc * taps + kh * d.k_w + kw];
            }
          }
          acc = acc < lo ? lo : acc;
          y[(static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * C + cc] = acc > hi ? hi : acc;
        }
  }
#endif
}

}  // namespace statiq::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // STATIQ_KERNELS_CONV2D_INL_H_
