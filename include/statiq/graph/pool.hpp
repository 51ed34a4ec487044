// MaxPool<Kernel, Stride, Pads, Dilation, CeilMode> and AvgPool<Kernel, Stride, Pads, CountIncludePad,
// CeilMode>: 2-D pooling over NHWC, ONNX semantics (padding never wins a max; ceil_mode windows that start
// in the right/bottom padding are dropped).
#pragma once

#include "statiq/graph/layer.hpp"

namespace statiq {

namespace detail {
template <class Self, bool IsMax, class... Attrs>
struct pool_base {
  static_assert(count_attr_v<attr::kernel, Attrs...> == 1,
                "statiq::MaxPool/AvgPool<Kernel<h, w>, ...> needs exactly one Kernel<h, w> attribute");
  static_assert(IsMax ? attrs_valid<void(Attrs...), attr::kernel, attr::stride, attr::pads, attr::dilation,
                                    attr::ceil_mode>::all_known
                      : attrs_valid<void(Attrs...), attr::kernel, attr::stride, attr::pads,
                                    attr::count_include_pad, attr::ceil_mode>::all_known,
                "statiq::MaxPool accepts Kernel, Stride, Pads, Dilation, CeilMode; statiq::AvgPool accepts "
                "Kernel, Stride, Pads, CountIncludePad, CeilMode");
  using kernel = find_attr_t<attr::kernel, Kernel<1>, Attrs...>;
  using stride = find_attr_t<attr::stride, Stride<1>, Attrs...>;
  using pads = find_attr_t<attr::pads, Pads<0>, Attrs...>;
  using dilation = find_attr_t<attr::dilation, Dilation<1>, Attrs...>;
  static constexpr bool ceil_mode = find_attr_t<attr::ceil_mode, CeilMode<false>, Attrs...>::value;
  static constexpr bool count_include_pad =
      find_attr_t<attr::count_include_pad, CountIncludePad<false>, Attrs...>::value;
  static_assert(pads::top < kernel::h && pads::bottom < kernel::h && pads::left < kernel::w &&
                    pads::right < kernel::w,
                "statiq::MaxPool/AvgPool: each pad must be smaller than the kernel extent (ONNX)");
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 0;

  template <std::size_t Node, class In>
  struct infer {
    STATIQ_REQUIRE((image_shape<In>), "statiq::MaxPool/AvgPool needs a rank-3 channels-last input Shape<H, W, C>", diagnostic::shape_mismatch<Node, Self, In>);
    static constexpr std::size_t out_h =
        window_out(In::dims[0], pads::top, pads::bottom, kernel::h, stride::h, dilation::h, ceil_mode);
    static constexpr std::size_t out_w =
        window_out(In::dims[1], pads::left, pads::right, kernel::w, stride::w, dilation::w, ceil_mode);
    STATIQ_REQUIRE((out_h != 0 && out_w != 0), "statiq::MaxPool/AvgPool: the window is larger than the padded input", diagnostic::shape_mismatch<Node, Self, In>);
    using output = Shape<(out_h ? out_h : 1), (out_w ? out_w : 1), In::dims[2]>;  // 1: no follow-up errors
    static constexpr std::array<std::size_t, 0> param_sizes{};
  };
};
}  // namespace detail

template <class... Attrs>
struct MaxPool : detail::pool_base<MaxPool<Attrs...>, true, Attrs...> {};

template <class... Attrs>
struct AvgPool : detail::pool_base<AvgPool<Attrs...>, false, Attrs...> {};

template <class L>
inline constexpr bool is_max_pool_v = false;
template <class... A>
inline constexpr bool is_max_pool_v<MaxPool<A...>> = true;
template <class L>
inline constexpr bool is_avg_pool_v = false;
template <class... A>
inline constexpr bool is_avg_pool_v<AvgPool<A...>> = true;

// GlobalAvgPool: mean over H and W; output Shape<1, 1, C> as ONNX keeps the spatial dims.
struct GlobalAvgPool {
  static constexpr std::size_t arity = 1;
  static constexpr std::size_t num_params = 0;
  template <std::size_t Node, class In>
  struct infer {
    STATIQ_REQUIRE((image_shape<In>), "statiq::GlobalAvgPool needs a rank-3 channels-last input Shape<H, W, C>", diagnostic::shape_mismatch<Node, GlobalAvgPool, In>);
    using output = Shape<1, 1, In::dims[2]>;
    static constexpr std::array<std::size_t, 0> param_sizes{};
  };
};

}  // namespace statiq
