// Identity: a node whose output is its input (a view, no data movement); what a transform leaves where it
// removed a layer, so that the graph keeps its node count and every At<> index stays valid.
#pragma once

#include "statiq/graph/layer.hpp"

namespace statiq {

struct Identity : detail::shape_preserving {};

template <>
inline constexpr bool is_alias_v<Identity> = true;

}  // namespace statiq
