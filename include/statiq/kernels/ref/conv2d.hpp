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

// Output rows [row_begin, row_end) of convolution d as a convolution of their own, over the input rows they read:
// any convolution kernel run on (d, x + x_offset, y + y_offset) computes those rows of d's output, with the same
// weights (packed blobs included: they do not depend on the input's height or padding): the int8 kernels bit for bit,
// the float ones within float rounding (a slice's fewer rows may take a route that sums in another order). To split
// a layer among threads, give each a slice. Offsets count elements; y_offset counts the convolution's own output, so
// conv2d_q_max_pool2 (whose output rows are pooled pairs) is not covered.
struct conv2d_row_slice {
  conv2d_dims d;
  std::size_t x_offset = 0, y_offset = 0;
};

namespace detail {
// Input rows [first, last) that output rows [row_begin, row_end) of d read, padding included (negative, or past
// in_h).
constexpr int conv2d_rows_first_input(const conv2d_dims& d, int row_begin) { return row_begin * d.stride_h - d.pad_top; }
constexpr int conv2d_rows_last_input(const conv2d_dims& d, int row_end) {
  return (row_end - 1) * d.stride_h - d.pad_top + (d.k_h - 1) * d.dil_h + 1;
}
}  // namespace detail

// The slice of d's output rows [row_begin, row_end); requires conv2d_rows_fit (below). Its input
// is the rows they read, its padding what of it lies outside d's input.
constexpr conv2d_row_slice conv2d_rows(const conv2d_dims& d, int row_begin, int row_end) {
  const int lo = detail::conv2d_rows_first_input(d, row_begin), hi = detail::conv2d_rows_last_input(d, row_end);
  const int first = lo > 0 ? lo : 0, last = hi < d.in_h ? hi : d.in_h;
  conv2d_row_slice s;
  s.d = d;
  s.d.in_h = last - first;
  s.d.pad_top = first - lo;
  s.d.pad_bottom = hi - last;
  s.d.out_h = row_end - row_begin;
  s.x_offset = static_cast<std::size_t>(first) * d.in_w * d.in_c;
  s.y_offset = static_cast<std::size_t>(row_begin) * d.out_w * d.out_c;
  return s;
}

// Whether conv2d_rows takes [row_begin, row_end): a non-empty range of d's output rows that reads at least one row
// of the input, not padding alone (only a padding of a kernel's height or more has rows that read none).
constexpr bool conv2d_rows_fit(const conv2d_dims& d, int row_begin, int row_end) {
  return row_begin >= 0 && row_begin < row_end && row_end <= d.out_h && conv2d_rows(d, row_begin, row_end).d.in_h > 0;
}

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
