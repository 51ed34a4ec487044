// Scalar references for float pooling (max, average, global average), NHWC, ONNX semantics.
#pragma once

#include <cstddef>
#include <limits>

namespace statiq::kernels {

// Geometry of one NHWC pooling window sweep (per sample); pads in ONNX order (top, left, bottom, right).
struct pool2d_dims {
  int in_h = 0, in_w = 0, channels = 0;
  int out_h = 0, out_w = 0;
  int k_h = 1, k_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int dil_h = 1, dil_w = 1;
};

// The taps [hs, he) x [ws, we) of output pixel (oh, ow) inside the input (dilation 1), and the divisor of an
// average: with count_include_pad the window clipped to the declared pads (windows that ceil_mode extends
// past them are clipped, as PyTorch and ONNX Runtime do), otherwise the taps inside the input.
struct pool_window {
  int hs, he, ws, we, count;
};
constexpr pool_window pool_window_at(const pool2d_dims& d, bool count_include_pad, int oh, int ow) {
  const int h0 = oh * d.stride_h - d.pad_top, w0 = ow * d.stride_w - d.pad_left;
  const int h1p = (h0 + d.k_h) < (d.in_h + d.pad_bottom) ? (h0 + d.k_h) : (d.in_h + d.pad_bottom);
  const int w1p = (w0 + d.k_w) < (d.in_w + d.pad_right) ? (w0 + d.k_w) : (d.in_w + d.pad_right);
  pool_window p{};
  p.hs = h0 < 0 ? 0 : h0;
  p.ws = w0 < 0 ? 0 : w0;
  p.he = (h0 + d.k_h) < d.in_h ? (h0 + d.k_h) : d.in_h;
  p.we = (w0 + d.k_w) < d.in_w ? (w0 + d.k_w) : d.in_w;
  p.count = count_include_pad ? (h1p - h0) * (w1p - w0) : (p.he - p.hs) * (p.we - p.ws);
  return p;
}

namespace ref {

// Max over the taps inside the input; padding never wins (it is -inf).
constexpr void max_pool_f32(const pool2d_dims& d, const float* x, float* y) {
  for (int oh = 0; oh < d.out_h; ++oh)
    for (int ow = 0; ow < d.out_w; ++ow)
      for (int c = 0; c < d.channels; ++c) {
        float m = -std::numeric_limits<float>::infinity();
        for (int kh = 0; kh < d.k_h; ++kh) {
          const int ih = oh * d.stride_h - d.pad_top + kh * d.dil_h;
          if (ih < 0 || ih >= d.in_h) continue;
          for (int kw = 0; kw < d.k_w; ++kw) {
            const int iw = ow * d.stride_w - d.pad_left + kw * d.dil_w;
            if (iw < 0 || iw >= d.in_w) continue;
            const float v = x[(ih * d.in_w + iw) * d.channels + c];
            m = v > m ? v : m;
          }
        }
        y[(oh * d.out_w + ow) * d.channels + c] = m;
      }
}

// Average over the window (pool_window_at gives the taps and the divisor).
constexpr void avg_pool_f32(const pool2d_dims& d, bool count_include_pad, const float* x, float* y) {
  for (int oh = 0; oh < d.out_h; ++oh)
    for (int ow = 0; ow < d.out_w; ++ow) {
      const pool_window p = pool_window_at(d, count_include_pad, oh, ow);
      for (int c = 0; c < d.channels; ++c) {
        float s = 0.0f;
        for (int ih = p.hs; ih < p.he; ++ih)
          for (int iw = p.ws; iw < p.we; ++iw) s += x[(ih * d.in_w + iw) * d.channels + c];
        y[(oh * d.out_w + ow) * d.channels + c] = p.count > 0 ? s / static_cast<float>(p.count) : 0.0f;
      }
    }
}

// Mean over all positions, per channel: x [hw][c] -> y [c].
constexpr void global_avg_pool_f32(std::size_t hw, std::size_t c, const float* x, float* y) {
  for (std::size_t j = 0; j < c; ++j) {
    float s = 0.0f;
    for (std::size_t p = 0; p < hw; ++p) s += x[p * c + j];
    y[j] = s / static_cast<float>(hw);
  }
}

}  // namespace ref
}  // namespace statiq::kernels
