// Per-sample tensor shapes as types: Shape<H, W, C> for images (channels-last), Shape<N> for vectors.
#pragma once

#include <array>
#include <cstddef>

namespace statiq {

template <std::size_t... Dims>
struct Shape {
  static_assert(sizeof...(Dims) >= 1, "statiq::Shape<...> needs at least one extent");
  static_assert(((Dims > 0) && ...), "statiq::Shape<...>: every extent must be positive");
  static constexpr std::size_t rank = sizeof...(Dims);
  static constexpr std::size_t size = (Dims * ...);
  static constexpr std::array<std::size_t, rank> dims{Dims...};
};

template <class T>
inline constexpr bool is_shape_v = false;
template <std::size_t... D>
inline constexpr bool is_shape_v<Shape<D...>> = true;

// An image tensor: rank 3, channels-last (H, W, C).
template <class S>
concept image_shape = is_shape_v<S> && S::rank == 3;

template <class S>
concept vector_shape = is_shape_v<S> && S::rank == 1;

// Extents of an image shape by name.
template <image_shape S>
inline constexpr std::size_t height_v = S::dims[0];
template <image_shape S>
inline constexpr std::size_t width_v = S::dims[1];
template <class S>
inline constexpr std::size_t channels_v = S::dims[S::rank - 1];

// How the caller orders an input buffer; inside, statiq is always channels-last.
enum class Layout { nhwc, nchw };

}  // namespace statiq
