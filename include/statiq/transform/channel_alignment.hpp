// Activation channel alignment by cross-layer range equalization (Nagel et al., "Data-Free Quantization
// through Weight Equalization and Bias Correction", 2019), as POT offers it before quantization: where a
// Conv2d/Dense feeds another through layers that commute with a positive per-channel scale (ReLU, max and
// average pooling, Flatten, Identity), output channel c of the first is divided by s_c and input channel c
// of the second multiplied by s_c, with s_c = sqrt(r1_c * r2_c) / r2_c, so both layers' per-channel weight
// ranges become sqrt(r1_c * r2_c): one per-tensor activation scale then serves all channels about equally.
// The float function is unchanged (up to rounding). Calibrate after equalizing: activation ranges move.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

#include "statiq/exec/quantized.hpp"
#include "statiq/graph/graph.hpp"

namespace statiq {

namespace detail {

enum class eq_kind : unsigned char { other, weighted, passes };

template <class G, std::size_t I>
constexpr eq_kind equalization_kind() {
  using L = typename G::template layer_t<I>;
  if constexpr (is_conv_v<L> || is_dense_v<L>) {
    return eq_kind::weighted;
  } else if constexpr (std::is_same_v<L, Relu> || is_max_pool_v<L> || is_avg_pool_v<L> ||
                       std::is_same_v<L, GlobalAvgPool> || is_alias_v<L>) {
    return eq_kind::passes;  // commutes with a positive per-channel scale
  } else {
    return eq_kind::other;
  }
}

template <class G, std::size_t I>
constexpr bool takes_input_scale_v() {
  using L = typename G::template layer_t<I>;
  if constexpr (is_conv_v<L>) {
    return L::groups == 1;
  } else {
    return is_dense_v<L>;
  }
}

template <class G>
struct equalization_pairs {
  static constexpr std::size_t N = G::num_nodes;
  struct pair {
    std::size_t first = 0, second = 0;
  };
  static constexpr auto kinds = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<eq_kind, N>{equalization_kind<G, I>()...};
  }(std::make_index_sequence<N>{});
  static constexpr auto reads = read_matrix<G>(std::make_index_sequence<N>{});
  // Weighted layers that may take a scale on their input channels: groups == 1.
  static constexpr auto takes_input_scale = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<bool, N>{takes_input_scale_v<G, I>()...};
  }(std::make_index_sequence<N>{});
  static constexpr std::size_t only_reader(std::size_t k) {
    std::size_t reader = N, n = 0;
    for (std::size_t i = 0; i < N; ++i)
      if (reads[i][k]) {
        reader = i;
        ++n;
      }
    return n == 1 ? reader : N;
  }
  static constexpr auto value = [] {
    std::array<pair, N> p{};
    std::size_t count = 0;
    for (std::size_t a = 0; a < N; ++a) {
      if (kinds[a] != eq_kind::weighted) continue;
      std::size_t k = only_reader(a);
      while (k < N && kinds[k] == eq_kind::passes) k = only_reader(k);
      if (k < N && kinds[k] == eq_kind::weighted && takes_input_scale[k]) p[count++] = {a, k};
    }
    return std::pair{p, count};
  }();
};

template <class G, std::size_t I>
constexpr std::size_t out_channels_of() {
  if constexpr (requires { G::template layer_t<I>::out_channels; }) {
    return G::template layer_t<I>::out_channels;
  } else {
    return 0;
  }
}

}  // namespace detail

// Equalizes every eligible pair of weighted layers, `iterations` sweeps (chains of three or more layers
// converge over sweeps). Returns the equalized float model.
template <model_type M>
Owned<graph_of_t<M>> equalize_cross_layer_ranges(const M& model, int iterations = 20) {
  using G = graph_of_t<M>;
  constexpr std::size_t N = G::num_nodes;
  constexpr auto pairs = detail::equalization_pairs<G>::value;
  Owned<G> m = to_owned(model);
  constexpr auto out_c = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<std::size_t, N>{detail::out_channels_of<G, I>()...};
  }(std::make_index_sequence<N>{});
  for (int it = 0; it < iterations; ++it) {
    for (std::size_t p = 0; p < pairs.second; ++p) {
      const std::size_t a = pairs.first[p].first, b = pairs.first[p].second;
      const std::size_t ca = out_c[a];
      float* w1 = m.param(G::first_param[a]);
      float* b1 = m.param(G::first_param[a] + 1);
      float* w2 = m.param(G::first_param[b]);
      const std::size_t per1 = G::param_sizes[G::first_param[a]] / ca;  // one output channel of the first
      const std::size_t n2 = G::param_sizes[G::first_param[b]];         // all weights of the second
      // The second layer's input index i belongs to channel i % ca (channels-last: conv OHWI rows and a
      // Dense after Flatten both end in the channel).
      std::vector<double> r1(ca, 0.0), r2(ca, 0.0);
      for (std::size_t c = 0; c < ca; ++c)
        for (std::size_t k = 0; k < per1; ++k) r1[c] = std::max(r1[c], static_cast<double>(std::fabs(w1[c * per1 + k])));
      const std::size_t row2 = n2 / out_c[b];  // inputs per output channel of the second
      for (std::size_t i = 0; i < n2; ++i) {
        const std::size_t c = (i % row2) % ca;
        r2[c] = std::max(r2[c], static_cast<double>(std::fabs(w2[i])));
      }
      std::vector<double> scale(ca, 1.0);
      for (std::size_t c = 0; c < ca; ++c)
        if (r1[c] > 0 && r2[c] > 0) scale[c] = std::sqrt(r1[c] * r2[c]) / r2[c];  // dead channels keep 1
      for (std::size_t c = 0; c < ca; ++c) {
        for (std::size_t k = 0; k < per1; ++k) w1[c * per1 + k] = static_cast<float>(w1[c * per1 + k] / scale[c]);
        b1[c] = static_cast<float>(b1[c] / scale[c]);
      }
      for (std::size_t i = 0; i < n2; ++i) w2[i] = static_cast<float>(w2[i] * scale[(i % row2) % ca]);
    }
  }
  return m;
}

}  // namespace statiq
