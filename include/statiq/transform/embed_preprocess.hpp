// embed_preprocess(options...): bakes Model Optimizer's input preprocessing into the model, so the caller feeds raw
// input. Order as MO documents it: reverse the channels, subtract the mean, divide by the scale; values in the
// original model's channel order; layout<"..."> is the caller's input layout.
//
// Where the only reader of the input (past Identity nodes, and past a Flatten before a Dense) is a Conv2d (or a
// ValuePadded Conv2d) or a Dense, the preprocessing folds into it: the scale into its weights, the reversal into a
// permutation of its input channels, the mean into its bias.
// A zero-padded convolution then pads the raw input with the value preprocessing maps to 0 (the mean, per channel:
// a ValuePadded<Conv2d>), which is what makes the fold exact at the borders, where MO declines to fold.
// Otherwise (another first layer, several readers, reversal into a grouped convolution) a Preprocess layer is
// inserted after the Input.
//
// input<u8> makes the caller's buffer raw 8-bit pixels: run() takes std::span<const std::uint8_t>. A float model
// widens them into its input buffer in the pass that also transposes an NCHW input; a quantized model whose
// first layer folded the preprocessing reads them as its int8 input (scale 1, zero point 0): no float step.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "statiq/graph/conv2d.hpp"
#include "statiq/graph/dense.hpp"
#include "statiq/graph/graph.hpp"
#include "statiq/graph/identity.hpp"
#include "statiq/graph/input.hpp"
#include "statiq/graph/preprocess.hpp"
#include "statiq/graph/value_padded.hpp"
#include "statiq/transform/detail/map_nodes.hpp"
#include "statiq/transform/diagnostics.hpp"
#include "statiq/transform/pipeline.hpp"
#include "statiq/transform/preprocess_options.hpp"

namespace statiq {

namespace detail {

template <class InputLayer, Layout L, class E>
struct with_layout;
template <class S, Layout Old, class OldE, Layout L, class E>
struct with_layout<Input<S, Old, OldE>, L, E> {
  using type = Input<S, L, E>;
};

// What embed_preprocess does to the first layer it folds into, if it can.
template <class L, bool Reverse, bool Mean>
struct preprocess_fold {
  static constexpr bool possible = false;
  static constexpr bool flat = false;  // reads its input in flat order (may be reached through a Flatten)
  using type = L;
};
template <std::size_t C, class... A, bool Reverse, bool Mean>
struct preprocess_fold<Conv2d<C, A...>, Reverse, Mean> {
  using conv = Conv2d<C, A...>;
  using pads = typename conv::pads;
  static constexpr bool padded = pads::top + pads::left + pads::bottom + pads::right != 0;
  static constexpr bool possible = !Reverse || conv::groups == 1;
  static constexpr bool flat = false;
  using type = std::conditional_t<padded && Mean, ValuePadded<conv>, conv>;
};
template <class Conv, bool Reverse, bool Mean>
struct preprocess_fold<ValuePadded<Conv>, Reverse, Mean> {
  static constexpr bool possible = !Reverse || Conv::groups == 1;
  static constexpr bool flat = false;
  using type = ValuePadded<Conv>;
};
template <std::size_t N, bool Reverse, bool Mean>
struct preprocess_fold<Dense<N>, Reverse, Mean> {
  static constexpr bool possible = true;
  static constexpr bool flat = true;
  using type = Dense<N>;
};

// The node embed_preprocess would fold into: the only reader of the Input, past alias nodes (Identity, and
// Flatten or Reshape in front of a Dense, which reads the flat channels-last order either way) that are each the
// only reader of the node before; G::num_nodes if there is none.
struct fold_target_t {
  std::size_t node;
  bool reshaped;  // reached through a Flatten or Reshape
};
template <class G>
constexpr fold_target_t fold_target() {
  constexpr std::size_t n = G::num_nodes;
  constexpr auto identity = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<bool, n>{std::is_same_v<typename G::template layer_t<I>, Identity>...};
  }(std::make_index_sequence<n>{});
  constexpr auto alias = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<bool, n>{is_alias_v<typename G::template layer_t<I>>...};
  }(std::make_index_sequence<n>{});
  std::size_t node = 0;
  bool reshaped = false;
  do {
    if (readers_of<G>(node) != 1) return {n, false};
    reshaped = reshaped || (node != 0 && !identity[node]);
    node = first_reader_of<G>(node);
  } while (alias[node]);
  return {node, reshaped};
}

}  // namespace detail

// The recipe embed_preprocess(options...) makes: MeanN / ScaleN values (0: none), Reverse, the caller's
// layout (void: the model's own) and the caller's element type (void: the model's own).
template <std::size_t MeanN, std::size_t ScaleN, bool Reverse, class LayoutOption, class InputOption = void>
struct embed_preprocess_closure
    : transform_closure<embed_preprocess_closure<MeanN, ScaleN, Reverse, LayoutOption, InputOption>> {
  std::array<float, MeanN> mean_values{};
  std::array<float, ScaleN> scale_values{};

  // How this recipe rewrites graph G.
  template <class G>
  struct plan {
    using input = typename G::input_layer;
    using shape = typename G::input_shape;
    static constexpr std::size_t channels = channels_v<shape>;
    static constexpr std::size_t rank = shape::rank;
    static constexpr bool layout_ok = [] {
      if constexpr (std::is_void_v<LayoutOption>) return true;
      else return LayoutOption::rank == rank;
    }();
    static constexpr std::size_t layout_rank = [] {
      if constexpr (std::is_void_v<LayoutOption>) return rank;
      else return LayoutOption::rank;
    }();
    static constexpr bool valid = (!Reverse || channels == 3) && (MeanN <= 1 || MeanN == channels) &&
                                  (ScaleN <= 1 || ScaleN == channels) && layout_ok;

    static constexpr Layout caller_layout = [] {
      if constexpr (std::is_void_v<LayoutOption>) return input::layout;
      else return LayoutOption::value;
    }();
    using caller_element = typename std::conditional_t<std::is_void_v<InputOption>, input, InputOption>::element;
    using new_input = typename detail::with_layout<input, caller_layout, caller_element>::type;

    static constexpr bool changes_values = MeanN != 0 || ScaleN != 0 || Reverse;
    static constexpr std::size_t target = detail::fold_target<G>().node;
    using target_fold = detail::preprocess_fold<typename G::template layer_t<target < G::num_nodes ? target : 0>,
                                                Reverse, (MeanN != 0)>;
    static constexpr bool folds = changes_values && target < G::num_nodes && target_fold::possible &&
                                  (!detail::fold_target<G>().reshaped || target_fold::flat);
    static constexpr bool inserts = changes_values && !folds;

    struct policy {
      template <std::size_t I>
      using layer = std::conditional_t<
          I == 0, new_input,
          std::conditional_t<folds && I == target, typename target_fold::type, typename G::template layer_t<I>>>;
    };
    // An invalid recipe leaves G as it is, so that its one diagnostic is not followed by others.
    using graph = std::conditional_t<
        !valid, G,
        std::conditional_t<inserts, detail::insert_after_input_t<G, new_input, Preprocess<Reverse>>,
                           detail::map_nodes_t<G, policy>>>;
  };

  template <class M>
  using result_t = Owned<typename plan<graph_of_t<M>>::graph>;

  // Per channel of the model's input: mean and scale (identity where not given).
  template <std::size_t C>
  constexpr std::array<float, C> channel_means() const {
    std::array<float, C> a{};
    for (std::size_t c = 0; c < C; ++c)
      if constexpr (MeanN != 0) a[c] = mean_values[MeanN == 1 ? 0 : c];
    return a;
  }
  template <std::size_t C>
  constexpr std::array<float, C> channel_scales() const {
    std::array<float, C> a{};
    for (std::size_t c = 0; c < C; ++c) {
      if constexpr (ScaleN != 0) a[c] = scale_values[ScaleN == 1 ? 0 : c];
      else a[c] = 1.0f;
    }
    return a;
  }

  template <model_type M>
  constexpr result_t<M> operator()(const M& m) const {
    using G = graph_of_t<M>;
    using P = plan<G>;
    STATIQ_REQUIRE((!Reverse || P::channels == 3),
                   "statiq::embed_preprocess(reverse_channels): channel reversal (RGB <-> BGR) needs an input with "
                   "exactly 3 channels",
                   diagnostic::reverse_channels_needs_3_channels<typename P::input, P::channels>);
    STATIQ_REQUIRE((MeanN <= 1 || MeanN == P::channels),
                   "statiq::embed_preprocess(mean{...}): give one mean value, or one per input channel",
                   diagnostic::mean_count_mismatch<typename P::input, MeanN, P::channels>);
    STATIQ_REQUIRE((ScaleN <= 1 || ScaleN == P::channels),
                   "statiq::embed_preprocess(scale{...}): give one scale value, or one per input channel",
                   diagnostic::scale_count_mismatch<typename P::input, ScaleN, P::channels>);
    STATIQ_REQUIRE((P::layout_ok),
                   "statiq::embed_preprocess(layout<\"...\">): the layout does not match the rank of the model's input "
                   "(\"nchw\"/\"nhwc\" for Shape<H, W, C>, \"nc\" for Shape<N>)",
                   diagnostic::layout_rank_mismatch<LayoutOption, P::layout_rank, typename P::input, P::rank>);
    using G2 = typename P::graph;
    result_t<M> out{};
    if constexpr (P::valid) {
      constexpr std::size_t C = P::channels;
      const auto mean_c = channel_means<C>();
      const auto scale_c = channel_scales<C>();
      if constexpr (P::inserts) {
        detail::carry_unchanged<1>(m, out);
        for (std::size_t c = 0; c < C; ++c) {
          out.param(G2::first_param[1])[c] = mean_c[c];
          out.param(G2::first_param[1] + 1)[c] = scale_c[c];
        }
      } else {
        detail::carry_unchanged(m, out);
        if constexpr (P::folds) fold_into<G, G2, P::target, C>(m, out, mean_c, scale_c);
      }
    }
    return out;
  }

 private:
  // Model input channel c reads caller channel rev(c); weights are [out][taps][channels per group] (a Dense behind
  // a Flatten of H x W x C: [out][H * W][C]).
  template <class G, class G2, std::size_t F, std::size_t C, class M>
  static constexpr void fold_into(const M& m, Owned<G2>& out, const std::array<float, C>& mean_c,
                                  const std::array<float, C>& scale_c) {
    using L = typename G::template layer_t<F>;
    using L2 = typename G2::template layer_t<F>;
    constexpr std::size_t out_c = channels_v<typename G::template shape_t<F>>;
    constexpr std::size_t groups = [] {
      if constexpr (requires { L::groups; }) return L::groups;
      else return std::size_t{1};
    }();
    constexpr std::size_t cin_g = C / groups;
    constexpr std::size_t cout_g = out_c / groups;
    constexpr std::size_t wsize = G::param_sizes[G::first_param[F]];
    constexpr std::size_t taps = wsize / (out_c * cin_g);
    auto rev = [](std::size_t c) { return Reverse ? C - 1 - c : c; };
    const float* w = m.param(G::first_param[F]);
    const float* b = m.param(G::first_param[F] + 1);
    float* w2 = out.param(G2::first_param[F]);
    float* b2 = out.param(G2::first_param[F] + 1);
    for (std::size_t o = 0; o < out_c; ++o) {
      const std::size_t g = o / cout_g;
      double bias = static_cast<double>(b[o]);
      for (std::size_t t = 0; t < taps; ++t)
        for (std::size_t ci = 0; ci < cin_g; ++ci) {
          const std::size_t c = g * cin_g + ci;  // model channel
          const std::size_t at = (o * taps + t) * cin_g;
          const double wv = static_cast<double>(w[at + ci]);
          bias -= wv * static_cast<double>(mean_c[c]) / static_cast<double>(scale_c[c]);
          // raw channel r = rev(c) (groups == 1 whenever Reverse) takes model channel c's weight.
          w2[at + (Reverse ? rev(c) : ci)] = static_cast<float>(wv / static_cast<double>(scale_c[c]));
        }
      b2[o] = static_cast<float>(bias);
    }
    if constexpr (detail::is_value_padded_v<L2>) {
      // The raw value that preprocessing maps to what the padding must read (0, or an earlier pad value).
      float* pad2 = out.param(G2::first_param[F] + 2);
      for (std::size_t c = 0; c < C; ++c) {
        double v = 0.0;
        if constexpr (detail::is_value_padded_v<L>) v = static_cast<double>(m.param(G::first_param[F] + 2)[c]);
        pad2[rev(c)] = static_cast<float>(v * static_cast<double>(scale_c[c]) + static_cast<double>(mean_c[c]));
      }
    }
  }
};

namespace detail {
template <class T>
inline constexpr std::size_t is_reverse_option_v = std::is_same_v<T, reverse_channels_t> ? 1 : 0;

template <class... O>
struct layout_option_of {
  using type = void;
};
template <class O, class... Rest>
struct layout_option_of<O, Rest...> {
  using type = std::conditional_t<is_layout_option_v<O>, O, typename layout_option_of<Rest...>::type>;
};
template <class... O>
struct input_option_of {
  using type = void;
};
template <class O, class... Rest>
struct input_option_of<O, Rest...> {
  using type = std::conditional_t<is_input_option_v<O>, O, typename input_option_of<Rest...>::type>;
};
}  // namespace detail

struct embed_preprocess_t {
  // embed_preprocess(options...): the recipe, to apply with `model | recipe`.
  template <class... O>
    requires(preprocess_option<O> && ...)
  constexpr auto operator()(const O&... options) const {
    static_assert(((detail::mean_count_v<O> != 0 ? 1 : 0) + ... + 0) <= 1 &&
                      ((detail::scale_count_v<O> != 0 ? 1 : 0) + ... + 0) <= 1 &&
                      (detail::is_reverse_option_v<O> + ... + 0) <= 1 &&
                      ((detail::is_layout_option_v<O> ? 1 : 0) + ... + 0) <= 1 &&
                      ((detail::is_input_option_v<O> ? 1 : 0) + ... + 0) <= 1,
                  "statiq::embed_preprocess(options...): each of mean, scale, reverse_channels, layout and input at "
                  "most once");
    constexpr std::size_t mean_n = (detail::mean_count_v<O> + ... + 0);
    constexpr std::size_t scale_n = (detail::scale_count_v<O> + ... + 0);
    constexpr bool reverse = (detail::is_reverse_option_v<O> + ... + 0) != 0;
    embed_preprocess_closure<mean_n, scale_n, reverse, typename detail::layout_option_of<O...>::type,
                             typename detail::input_option_of<O...>::type>
        r{};
    (
        [&](const auto& o) {
          using T = std::remove_cvref_t<decltype(o)>;
          if constexpr (detail::mean_count_v<T> != 0) r.mean_values = o.values;
          if constexpr (detail::scale_count_v<T> != 0) r.scale_values = o.values;
        }(options),
        ...);
    return r;
  }
  // embed_preprocess(model, options...): applied at once.
  template <model_type M, class... O>
    requires(preprocess_option<O> && ...)
  constexpr auto operator()(const M& m, const O&... options) const {
    return (*this)(options...)(m);
  }
};
inline constexpr embed_preprocess_t embed_preprocess{};

}  // namespace statiq
