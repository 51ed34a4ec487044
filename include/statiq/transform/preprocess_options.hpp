// The options of embed_preprocess, spelled as Model Optimizer's: mean{...}, scale{...}, reverse_channels,
// layout<"nchw">, input<u8>. Values are given in the original model's channel order, one per channel or one
// for all.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include "statiq/core/dtype.hpp"
#include "statiq/core/shape.hpp"

namespace statiq {

// --mean_values: subtracted from each channel (after reversal).
template <std::size_t N>
struct mean {
  static_assert(N >= 1, "statiq::mean{...}: give one value, or one per input channel");
  std::array<float, N> values{};
  template <class... T>
    requires(sizeof...(T) == N && (std::is_arithmetic_v<T> && ...))
  constexpr mean(T... v) : values{static_cast<float>(v)...} {}
  constexpr explicit mean(const std::array<float, N>& v) : values(v) {}
};
template <class... T>
mean(T...) -> mean<sizeof...(T)>;
template <std::size_t N>
mean(std::array<float, N>) -> mean<N>;

// --scale_values: each channel is divided by it (after the mean is subtracted).
template <std::size_t N>
struct scale {
  static_assert(N >= 1, "statiq::scale{...}: give one value, or one per input channel");
  std::array<float, N> values{};
  template <class... T>
    requires(sizeof...(T) == N && (std::is_arithmetic_v<T> && ...))
  constexpr scale(T... v) : values{static_cast<float>(v)...} {}
  constexpr explicit scale(const std::array<float, N>& v) : values(v) {}
};
template <class... T>
scale(T...) -> scale<sizeof...(T)>;
template <std::size_t N>
scale(std::array<float, N>) -> scale<N>;

// --reverse_input_channels: the caller's channel order is the reverse of the model's (RGB <-> BGR).
struct reverse_channels_t {};
inline constexpr reverse_channels_t reverse_channels{};

namespace detail {
// A string literal as a template argument: layout<"nchw">.
template <std::size_t N>
struct fixed_string {
  char chars[N]{};
  constexpr fixed_string(const char (&s)[N]) {
    for (std::size_t i = 0; i < N; ++i) chars[i] = s[i];
  }
  static constexpr std::size_t length = N - 1;
  constexpr bool equals_ignoring_case(const char* s) const {
    for (std::size_t i = 0; i < N; ++i) {
      const char c = chars[i] >= 'A' && chars[i] <= 'Z' ? static_cast<char>(chars[i] - 'A' + 'a') : chars[i];
      if (c != s[i]) return false;
      if (s[i] == '\0') return i == N - 1;
    }
    return false;
  }
};
}  // namespace detail

// --layout: how the caller orders an input sample: "nchw"/"chw" (channels first) or "nhwc"/"hwc" for an
// image, "nc"/"c" for a vector; "n" is the batch and not part of the per-sample rank.
template <detail::fixed_string S>
struct layout_t {
  static constexpr bool channels_first = S.equals_ignoring_case("nchw") || S.equals_ignoring_case("chw");
  static constexpr bool channels_last = S.equals_ignoring_case("nhwc") || S.equals_ignoring_case("hwc");
  static constexpr bool vector = S.equals_ignoring_case("nc") || S.equals_ignoring_case("c");
  static_assert(channels_first || channels_last || vector,
                "statiq::layout<\"...\">: the layout is one of \"nchw\", \"nhwc\", \"chw\", \"hwc\", \"nc\", \"c\"");
  static constexpr std::size_t rank = vector ? 1 : 3;  // per sample
  static constexpr Layout value = channels_first ? Layout::nchw : Layout::nhwc;
};
template <detail::fixed_string S>
inline constexpr layout_t<S> layout{};

// --input_type (MO's `--data_type` of the input, as OpenVINO's preprocessing API spells it): what the caller's
// buffer holds. input<u8>: raw 8-bit pixels, run() then takes std::span<const std::uint8_t>; input<f32>: floats.
template <class E>
struct input_t {
  static_assert(input_element<E>, "statiq::input<E>: the input element type is statiq::u8 or statiq::f32");
  using element = E;
};
template <class E>
inline constexpr input_t<E> input{};

namespace detail {
template <class T>
inline constexpr bool is_input_option_v = false;
template <class E>
inline constexpr bool is_input_option_v<input_t<E>> = true;
template <class T>
inline constexpr bool is_layout_option_v = false;
template <fixed_string S>
inline constexpr bool is_layout_option_v<layout_t<S>> = true;
template <class T>
inline constexpr std::size_t mean_count_v = 0;
template <std::size_t N>
inline constexpr std::size_t mean_count_v<mean<N>> = N;
template <class T>
inline constexpr std::size_t scale_count_v = 0;
template <std::size_t N>
inline constexpr std::size_t scale_count_v<scale<N>> = N;
}  // namespace detail

// An option embed_preprocess accepts.
template <class T>
concept preprocess_option = detail::mean_count_v<T> != 0 || detail::scale_count_v<T> != 0 ||
                            std::is_same_v<T, reverse_channels_t> || detail::is_layout_option_v<T> ||
                            detail::is_input_option_v<T>;

}  // namespace statiq
