// Element-wise addition of two quantized tensors, statically dispatched to this TU's target.
#pragma once

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/highway.h>

#include "statiq/kernels/add_quantized-inl.h"

namespace statiq::kernels {

// y[i] = ref::add_q(...)[i]; p from make_qadd_params(s_a, zp_a, s_b, zp_b, s_y, zp_y, lo, hi).
inline void add_q(std::size_t n, const qadd_params& p, const std::uint8_t* a, const std::uint8_t* b, std::uint8_t* y) {
  HWY_STATIC_DISPATCH(AddQuantizedU8)(n, p, a, b, y);
}
inline void add_q(std::size_t n, const qadd_params& p, const std::int8_t* a, const std::int8_t* b, std::int8_t* y) {
  HWY_STATIC_DISPATCH(AddQuantizedS8)(n, p, a, b, y);
}

}  // namespace statiq::kernels
