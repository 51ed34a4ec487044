// ValuePadded<Conv2d<...>>: a Conv2d whose padding reads a per-input-channel value instead of zero; params
// weights, bias, pad value [in_c]. embed_preprocess folds a mean into a padded first convolution with it, the
// padding then seeing the raw value that preprocessing maps to 0. Quantized, it runs the int8 convolution (whose
// padding holds the input zero point) and recomputes the border pixels with the pad value's contribution
// (kernels/ref/conv2d_q_border.hpp).
#pragma once

#include "statiq/graph/conv2d.hpp"

namespace statiq {

namespace detail {
template <class L>
inline constexpr bool is_conv2d_v = false;
template <std::size_t C, class... A>
inline constexpr bool is_conv2d_v<Conv2d<C, A...>> = true;
}  // namespace detail

template <class Conv>
struct ValuePadded {
  static_assert(detail::is_conv2d_v<Conv>, "statiq::ValuePadded<L>: L must be a statiq::Conv2d<...>");
  using conv = Conv;
  using kernel = typename Conv::kernel;
  using stride = typename Conv::stride;
  using pads = typename Conv::pads;
  using dilation = typename Conv::dilation;
  static constexpr std::size_t groups = Conv::groups;
  static constexpr std::size_t out_channels = Conv::out_channels;
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 3;  // weights (as Conv2d), bias [out_c], pad value [in_c]

  template <std::size_t Node, class In>
  struct infer {
    using conv_infer = typename Conv::template infer<Node, In>;
    using output = typename conv_infer::output;
    static constexpr std::array<std::size_t, 3> param_sizes{conv_infer::param_sizes[0], conv_infer::param_sizes[1],
                                                            channels_v<In>};
  };
};

namespace detail {
template <class T>
inline constexpr bool is_value_padded_v = false;
template <class C>
inline constexpr bool is_value_padded_v<ValuePadded<C>> = true;
}  // namespace detail

}  // namespace statiq
