// Layer attributes as types (Kernel<3,3>, Stride<2,2>, Pads<t,l,b,r>, ...), given after a layer's first
// argument in any order, each optional.
#pragma once

#include <cstddef>
#include <ratio>
#include <type_traits>

namespace statiq {

namespace attr {
struct kernel;
struct stride;
struct dilation;
struct pads;
struct groups;
struct count_include_pad;
struct ceil_mode;
}  // namespace attr

template <std::size_t H, std::size_t W = H>
struct Kernel {
  using kind = attr::kernel;
  static_assert(H > 0 && W > 0, "statiq::Kernel<h, w>: kernel extents must be positive");
  static constexpr std::size_t h = H, w = W;
};
template <std::size_t H, std::size_t W = H>
struct Stride {
  using kind = attr::stride;
  static_assert(H > 0 && W > 0, "statiq::Stride<h, w>: strides must be positive");
  static constexpr std::size_t h = H, w = W;
};
template <std::size_t H, std::size_t W = H>
struct Dilation {
  using kind = attr::dilation;
  static_assert(H > 0 && W > 0, "statiq::Dilation<h, w>: dilations must be positive");
  static constexpr std::size_t h = H, w = W;
};
// Padding in ONNX order: top, left, bottom, right.
template <std::size_t Top, std::size_t Left = Top, std::size_t Bottom = Top, std::size_t Right = Left>
struct Pads {
  using kind = attr::pads;
  static constexpr std::size_t top = Top, left = Left, bottom = Bottom, right = Right;
};
template <std::size_t G>
struct Groups {
  using kind = attr::groups;
  static_assert(G > 0, "statiq::Groups<g>: g must be positive");
  static constexpr std::size_t value = G;
};
template <bool B>
struct CountIncludePad {
  using kind = attr::count_include_pad;
  static constexpr bool value = B;
};
template <bool B>
struct CeilMode {
  using kind = attr::ceil_mode;
  static constexpr bool value = B;
};

namespace detail {

template <class A>
concept attribute = requires { typename A::kind; };

template <class Kind, class A>
inline constexpr bool has_kind_v = false;
template <class Kind, attribute A>
inline constexpr bool has_kind_v<Kind, A> = std::is_same_v<typename A::kind, Kind>;

// The attribute of kind Kind among Attrs, or Default when absent.
template <class Kind, class Default, class... Attrs>
struct find_attr {
  using type = Default;
};
template <class Kind, class Default, class A, class... Rest>
struct find_attr<Kind, Default, A, Rest...> {
  using type = std::conditional_t<has_kind_v<Kind, A>, A, typename find_attr<Kind, Default, Rest...>::type>;
};
template <class Kind, class Default, class... Attrs>
using find_attr_t = typename find_attr<Kind, Default, Attrs...>::type;

template <class Kind, class... Attrs>
inline constexpr std::size_t count_attr_v = (std::size_t{0} + ... + (has_kind_v<Kind, Attrs> ? 1 : 0));

// Every attribute appears at most once and is one the layer accepts (Allowed... are kinds).
template <class A, class... Allowed>
inline constexpr bool known_attr_v = false;
template <attribute A, class... Allowed>
inline constexpr bool known_attr_v<A, Allowed...> = (has_kind_v<Allowed, A> || ...);

template <class Attrs, class... Allowed>
struct attrs_valid;
template <class... Attrs, class... Allowed>
struct attrs_valid<void(Attrs...), Allowed...> {
  static constexpr bool all_known = (known_attr_v<Attrs, Allowed...> && ...);
  static constexpr bool no_repeats = ((count_attr_v<Allowed, Attrs...> <= 1) && ...);
};

template <class R>
inline constexpr bool is_ratio_v = false;
template <std::intmax_t N, std::intmax_t D>
inline constexpr bool is_ratio_v<std::ratio<N, D>> = true;

template <class R>
inline constexpr float ratio_value_v = static_cast<float>(static_cast<double>(R::num) / static_cast<double>(R::den));

// Output extent of a sliding window (convolution or pooling), ONNX's formula.
constexpr std::size_t window_out(std::size_t in, std::size_t pad_begin, std::size_t pad_end, std::size_t k,
                                 std::size_t stride, std::size_t dil, bool ceil_mode) {
  const std::size_t span = dil * (k - 1) + 1;
  const std::size_t padded = in + pad_begin + pad_end;
  if (padded < span) return 0;
  const std::size_t num = padded - span;
  std::size_t out = (ceil_mode ? (num + stride - 1) / stride : num / stride) + 1;
  // ONNX/PyTorch: with ceil_mode the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

}  // namespace detail
}  // namespace statiq
