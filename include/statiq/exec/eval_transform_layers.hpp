// Float evaluation of the layers transforms introduce: Preprocess and ValuePadded (Identity is an alias: never run).
#pragma once

#include <cstddef>
#include <limits>

#include "statiq/exec/eval_f32.hpp"
#include "statiq/exec/plan.hpp"
#include "statiq/graph/identity.hpp"
#include "statiq/graph/preprocess.hpp"
#include "statiq/graph/value_padded.hpp"
#include "statiq/kernels/ref/conv2d_q_border.hpp"

namespace statiq::detail {

template <class Conv>
inline constexpr bool accepts_fused_clamp_v<ValuePadded<Conv>> = true;

// Per pixel of C channels: y[c] = (x[rev(c)] - mean[c]) / scale[c]; a pixel is read whole before it is written,
// so reversal in place is safe too.
template <class G, std::size_t I, bool Reverse, class M>
void eval_node(layer_tag<Preprocess<Reverse>>, const M& g, const node_io<G, I>& io) noexcept {
  using S = typename G::template shape_t<I>;
  constexpr std::size_t c = channels_v<S>;
  const float* mean = g.param(G::first_param[I]);
  const float* scale = g.param(G::first_param[I] + 1);
  const std::size_t pixels = io.batch * S::size / c;
  for (std::size_t p = 0; p < pixels; ++p) {
    float px[c];
    for (std::size_t j = 0; j < c; ++j) px[j] = io.in[0][p * c + (Reverse ? c - 1 - j : j)];
    for (std::size_t j = 0; j < c; ++j) io.out[p * c + j] = (px[j] - mean[j]) / scale[j];
  }
}

// The zero-padded convolution (the Conv2d's own evaluation: weights and bias are its first two parameters), plus,
// for each output pixel whose window reaches into the padding, the weights of the padded taps times the pad
// value; then the fused clamp. Only border pixels pay for the correction.
template <class G, std::size_t I, class Conv, class M>
void eval_node(layer_tag<ValuePadded<Conv>>, const M& g, const node_io<G, I>& io) noexcept {
  using In = typename G::template shape_t<G::template inputs_v<I>[0]>;
  using Out = typename G::template shape_t<I>;
  constexpr auto d = conv_dims<In, Out, Conv>();
  constexpr float inf = std::numeric_limits<float>::infinity();
  node_io<G, I> unclamped = io;
  unclamped.lo = -inf;
  unclamped.hi = inf;
  eval_node<G, I>(layer_tag<Conv>{}, g, unclamped);
  const float* w = g.param(G::first_param[I]);
  const float* pad = g.param(G::first_param[I] + 2);
  constexpr int cin_g = d.in_c / d.groups;
  constexpr int cout_g = d.out_c / d.groups;
  for (std::size_t s = 0; s < io.batch; ++s) {
    float* y = io.out + s * Out::size;
    kernels::ref::for_each_border_pixel(d, [&](int oh, int ow, int ih0, int iw0) {
      float* yp = y + (static_cast<std::ptrdiff_t>(oh) * d.out_w + ow) * d.out_c;
      for (int oc = 0; oc < d.out_c; ++oc) {
        const float* pg = pad + (oc / cout_g) * cin_g;
        float acc = 0.0f;
        for (int kh = 0; kh < d.k_h; ++kh) {
          const int ih = ih0 + kh * d.dil_h;
          const bool h_out = ih < 0 || ih >= d.in_h;
          for (int kw = 0; kw < d.k_w; ++kw) {
            const int iw = iw0 + kw * d.dil_w;
            if (!h_out && iw >= 0 && iw < d.in_w) continue;
            const float* wp = w + ((static_cast<std::ptrdiff_t>(oc) * d.k_h + kh) * d.k_w + kw) * cin_g;
            for (int ci = 0; ci < cin_g; ++ci) acc += pg[ci] * wp[ci];
          }
        }
        yp[oc] += acc;
      }
    });
    if (io.lo != -inf || io.hi != inf)
      for (std::size_t k = 0; k < Out::size; ++k) y[k] = y[k] < io.lo ? io.lo : (y[k] > io.hi ? io.hi : y[k]);
  }
}

}  // namespace statiq::detail
