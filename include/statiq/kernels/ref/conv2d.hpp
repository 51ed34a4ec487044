// Scalar reference for 2-D convolution, NHWC, float: the definition every float conv kernel must match.
#pragma once

#include <cstddef>

namespace statiq::kernels {

// Geometry of one NHWC convolution (per sample). Weights are OHWI: [out_c][k_h][k_w][in_c / groups].
// Pads follow ONNX order (top, left, bottom, right); out_h/out_w are the caller's, computed as
// (in + pad_begin + pad_end - dil * (k - 1) - 1) / stride + 1.
struct conv2d_dims {
  int in_h = 0, in_w = 0, in_c = 0;
  int out_h = 0, out_w = 0, out_c = 0;
  int k_h = 1, k_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int dil_h = 1, dil_w = 1;
  int groups = 1;
};

namespace ref {

// y[oh][ow][oc] = clamp(bias[oc] + sum_{kh,kw,ci} x[ih][iw][g*cpg+ci] * w[oc][kh][kw][ci], lo, hi)
// accumulated in float in (kh, kw, ci) order; taps that fall in the padding contribute nothing.
constexpr void conv2d_f32(const conv2d_dims& d, const float* x, const float* w, const float* bias, float* y,
                          float lo, float hi) {
  const int cin_g = d.in_c / d.groups;
  const int cout_g = d.out_c / d.groups;
  for (int oh = 0; oh < d.out_h; ++oh) {
    for (int ow = 0; ow < d.out_w; ++ow) {
      for (int oc = 0; oc < d.out_c; ++oc) {
        const int g = oc / cout_g;
        float acc = bias ? bias[oc] : 0.0f;
        for (int kh = 0; kh < d.k_h; ++kh) {
          const int ih = oh * d.stride_h - d.pad_top + kh * d.dil_h;
          if (ih < 0 || ih >= d.in_h) continue;
          for (int kw = 0; kw < d.k_w; ++kw) {
            const int iw = ow * d.stride_w - d.pad_left + kw * d.dil_w;
            if (iw < 0 || iw >= d.in_w) continue;
            const float* xp = x + (static_cast<std::ptrdiff_t>(ih) * d.in_w + iw) * d.in_c + g * cin_g;
            const float* wp = w + ((static_cast<std::ptrdiff_t>(oc) * d.k_h + kh) * d.k_w + kw) * cin_g;
            for (int ci = 0; ci < cin_g; ++ci) acc += xp[ci] * wp[ci];
          }
        }
        acc = acc < lo ? lo : acc;
        acc = acc > hi ? hi : acc;
        y[(static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * d.out_c + oc] = acc;
      }
    }
  }
}

}  // namespace ref
}  // namespace statiq::kernels
