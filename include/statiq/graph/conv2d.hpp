// Conv2d<out_c, Kernel<h,w>, Stride, Pads, Dilation, Groups>: 2-D convolution, NHWC, weights OHWI, bias.
#pragma once

#include "statiq/graph/layer.hpp"

namespace statiq {

template <std::size_t OutC, class... Attrs>
struct Conv2d {
  static_assert(OutC > 0, "statiq::Conv2d<out_c, ...>: out_c must be positive");
  static_assert(detail::count_attr_v<attr::kernel, Attrs...> == 1,
                "statiq::Conv2d<out_c, Kernel<h, w>, ...> needs exactly one Kernel<h, w> attribute");
  static_assert(detail::attrs_valid<void(Attrs...), attr::kernel, attr::stride, attr::pads, attr::dilation,
                                    attr::groups>::all_known,
                "statiq::Conv2d accepts Kernel, Stride, Pads, Dilation and Groups attributes only");
  static_assert(detail::attrs_valid<void(Attrs...), attr::kernel, attr::stride, attr::pads, attr::dilation,
                                    attr::groups>::no_repeats,
                "statiq::Conv2d: each attribute may be given once");
  using kernel = detail::find_attr_t<attr::kernel, Kernel<1>, Attrs...>;
  using stride = detail::find_attr_t<attr::stride, Stride<1>, Attrs...>;
  using pads = detail::find_attr_t<attr::pads, Pads<0>, Attrs...>;
  using dilation = detail::find_attr_t<attr::dilation, Dilation<1>, Attrs...>;
  static constexpr std::size_t groups = detail::find_attr_t<attr::groups, Groups<1>, Attrs...>::value;
  static constexpr std::size_t out_channels = OutC;
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 2;  // weights [out_c][k_h][k_w][in_c / groups], bias [out_c]

  template <std::size_t Node, class In>
  struct infer {
    STATIQ_REQUIRE((image_shape<In>), "statiq::Conv2d needs a rank-3 channels-last input Shape<H, W, C>", diagnostic::shape_mismatch<Node, Conv2d, In>);
    static constexpr std::size_t in_c = channels_v<In>;
    STATIQ_REQUIRE((in_c % groups == 0 && OutC % groups == 0), "statiq::Conv2d: input and output channels must both be divisible by Groups<g>", diagnostic::shape_mismatch<Node, Conv2d, In>);
    static constexpr std::size_t out_h =
        detail::window_out(In::dims[0], pads::top, pads::bottom, kernel::h, stride::h, dilation::h, false);
    static constexpr std::size_t out_w =
        detail::window_out(In::dims[1], pads::left, pads::right, kernel::w, stride::w, dilation::w, false);
    STATIQ_REQUIRE((out_h != 0 && out_w != 0), "statiq::Conv2d: the (dilated) kernel is larger than the padded input", diagnostic::shape_mismatch<Node, Conv2d, In>);
    using output = Shape<(out_h ? out_h : 1), (out_w ? out_w : 1), OutC>;  // 1: no follow-up errors
    static constexpr std::array<std::size_t, 2> param_sizes{OutC * kernel::h * kernel::w * (in_c / groups), OutC};
  };
};

}  // namespace statiq
