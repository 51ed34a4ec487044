// conv2d_q_value_padded_border: the border pixels of an int8 convolution whose padding holds a per-channel value
// (ValuePadded: preprocessing folded into the first layer pads with the mean), as ref::conv2d_q_value_padded_border
// defines them, bit for bit. The reference walks one output channel at a time; here a block of 16 output channels
// sits in the innermost loop over weights transposed to [tap][16] (on the stack), so the compiler vectorizes the
// multiply-adds and each tap's input value is read once per block. Integer sums are order-independent, so the
// result equals the reference exactly. Patches longer than kMaxK fall back to the reference.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "statiq/kernels/ref/conv2d_q_border.hpp"

namespace statiq::kernels {

template <class TI, class TO>
void conv2d_q_value_padded_border(const conv2d_dims& d, const qconv_params& q, const TI* x, const std::int8_t* w,
                                  const std::int32_t* bias, const std::int32_t* pad_q16, TO* y) {
  constexpr int kBlock = 16, kMaxK = 256;
  const int cin_g = d.in_c / d.groups, cout_g = d.out_c / d.groups;
  const int k = d.k_h * d.k_w * cin_g;
  if (k > kMaxK) return ref::conv2d_q_value_padded_border(d, q, x, w, bias, pad_q16, y);
  alignas(64) std::int32_t wt[kMaxK * kBlock];  // [tap][block lane]
  for (int g = 0; g < d.groups; ++g)
    for (int oc0 = g * cout_g; oc0 < (g + 1) * cout_g; oc0 += kBlock) {
      const int nb = std::min(kBlock, (g + 1) * cout_g - oc0);
      for (int t = 0; t < k; ++t)
        for (int j = 0; j < kBlock; ++j)
          wt[t * kBlock + j] = j < nb ? w[static_cast<std::ptrdiff_t>(oc0 + j) * k + t] : 0;
      const std::int32_t* pad = pad_q16 + g * cin_g;
      ref::for_each_border_pixel(d, [&](int oh, int ow, int ih0, int iw0) {
        std::int32_t acc[kBlock];
        std::int64_t pad_acc[kBlock];
        for (int j = 0; j < kBlock; ++j) {
          acc[j] = bias && j < nb ? bias[oc0 + j] : 0;
          pad_acc[j] = 0;
        }
        for (int kh = 0; kh < d.k_h; ++kh) {
          const int ih = ih0 + kh * d.dil_h;
          const bool h_out = ih < 0 || ih >= d.in_h;
          for (int kw = 0; kw < d.k_w; ++kw) {
            const int iw = iw0 + kw * d.dil_w;
            const std::int32_t* wp = wt + ((kh * d.k_w + kw) * cin_g) * kBlock;
            if (h_out || iw < 0 || iw >= d.in_w) {
              for (int ci = 0; ci < cin_g; ++ci)
                for (int j = 0; j < kBlock; ++j) pad_acc[j] += std::int64_t{pad[ci]} * wp[ci * kBlock + j];
            } else {
              const TI* xp = x + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw) * d.in_c + g * cin_g;
              for (int ci = 0; ci < cin_g; ++ci) {
                const std::int32_t xv = std::int32_t{xp[ci]} - q.x_zero_point;
                for (int j = 0; j < kBlock; ++j) acc[j] += xv * wp[ci * kBlock + j];
              }
            }
          }
        }
        TO* yp = y + (static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * d.out_c + oc0;
        for (int j = 0; j < nb; ++j)
          yp[j] = static_cast<TO>(ref::requantize(acc[j] + ref::round_q16(pad_acc[j]),
                                                  q.multiplier[q.per_channel ? oc0 + j : 0], q.y_zero_point, q.lo,
                                                  q.hi));
      });
    }
}

}  // namespace statiq::kernels
