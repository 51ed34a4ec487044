// Softmax over the last (channel) axis, per position.
#pragma once

#include "statiq/graph/layer.hpp"

namespace statiq {

struct Softmax : detail::shape_preserving {};

template <>
inline constexpr bool is_elementwise_v<Softmax> = true;

}  // namespace statiq
