// sample_view<Shape, Layout, Element>: a calibration set as a typed view over caller-owned floats (or raw u8
// pixels), so that a set whose per-sample shape, layout or element type differs from the model's input is a
// compile error in statiq::calibrate.
#pragma once

#include <cstddef>
#include <span>

#include "statiq/core/shape.hpp"
#include "statiq/graph/graph.hpp"

namespace statiq {

namespace diagnostic {
// statiq::calibrate: the model's input is `ModelShape` (channels-last, per sample) and the samples are
// `SamplesShape`.
template <class ModelShape, class SamplesShape>
struct calibration_samples_shape_mismatch;
// statiq::calibrate: the model's input buffer layout is `ModelLayout`, the samples' is `SamplesLayout`.
template <Layout ModelLayout, Layout SamplesLayout>
struct calibration_samples_layout_mismatch;
// statiq::calibrate: the model's input holds `ModelElement`s, the samples are `SamplesElement`s.
template <class ModelElement, class SamplesElement>
struct calibration_samples_element_mismatch;
}  // namespace diagnostic

// Samples of per-sample shape S (channels-last, as the model's Input<S, L> declares it), stored one after
// another in layout L, as elements E (float, or std::uint8_t for a model that takes raw pixels): the same
// buffer run() takes. The view does not own the samples.
template <class S, Layout L = Layout::nhwc, class E = float>
class sample_view {
  static_assert(is_shape_v<S>, "statiq::sample_view<S, layout>: S must be a statiq::Shape<...>");
  static_assert(input_element<E>, "statiq::sample_view<S, layout, E>: E is float or std::uint8_t");

 public:
  using shape = S;
  using element = E;
  static constexpr Layout layout = L;
  static constexpr std::size_t sample_size = S::size;

  constexpr sample_view() = default;
  // A buffer of whole samples; a size that is not a multiple of S::size is reported by calibrate().
  constexpr explicit sample_view(std::span<const E> data) noexcept : data_(data) {}
  template <std::size_t N>
    requires(N != std::dynamic_extent)
  constexpr explicit sample_view(std::span<const E, N> data) noexcept : data_(data) {
    static_assert(N % S::size == 0, "statiq::sample_view<S>(span): the span's extent must be a multiple of S::size");
  }

  constexpr std::size_t size() const noexcept { return data_.size() / S::size; }
  constexpr bool empty() const noexcept { return size() == 0; }
  // Whether the buffer holds whole samples only.
  constexpr bool whole() const noexcept { return data_.size() % S::size == 0; }
  constexpr std::span<const E> data() const noexcept { return data_; }
  // Samples [first, first + count).
  constexpr std::span<const E> samples(std::size_t first, std::size_t count) const noexcept {
    return data_.subspan(first * S::size, count * S::size);
  }
  constexpr std::span<const E, S::size> operator[](std::size_t i) const noexcept {
    return std::span<const E, S::size>(data_.data() + i * S::size, S::size);
  }

 private:
  std::span<const E> data_{};
};

template <class T>
inline constexpr bool is_sample_view_v = false;
template <class S, Layout L, class E>
inline constexpr bool is_sample_view_v<sample_view<S, L, E>> = true;

// The sample_view a model takes: its input shape, layout and element type.
template <model_type M>
using sample_view_for = sample_view<typename graph_of_t<M>::input_shape, graph_of_t<M>::input_layer::layout,
                                    input_element_t<graph_of_t<M>>>;

}  // namespace statiq
