// Diagnostics of transforms: incomplete types whose names read as the sentence, with the numbers in them.
#pragma once

#include <cstddef>

namespace statiq::diagnostic {

// embed_preprocess(reverse_channels) on the model input `InputLayer`, which has `Channels` channels, not 3.
template <class InputLayer, std::size_t Channels>
struct reverse_channels_needs_3_channels;

// embed_preprocess(mean{...}) gives `Given` values for `InputLayer` of `Channels` channels (1 or Channels needed).
template <class InputLayer, std::size_t Given, std::size_t Channels>
struct mean_count_mismatch;

// embed_preprocess(scale{...}) gives `Given` values for `InputLayer` of `Channels` channels (1 or Channels needed).
template <class InputLayer, std::size_t Given, std::size_t Channels>
struct scale_count_mismatch;

// embed_preprocess(layout<"...">): `LayoutOption` describes a sample of rank `LayoutRank`; `InputLayer` has rank
// `InputRank`.
template <class LayoutOption, std::size_t LayoutRank, class InputLayer, std::size_t InputRank>
struct layout_rank_mismatch;

}  // namespace statiq::diagnostic
