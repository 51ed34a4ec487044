// The kernels compiled once per Highway target for dynamic dispatch (re-included by foreach_target.h).

// Toggling include guard: re-included once per Highway target (foreach_target.h).
#if defined(STATIQ_KERNELS_DETAIL_DYNAMIC_TARGETS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef STATIQ_KERNELS_DETAIL_DYNAMIC_TARGETS_INL_H_
#undef STATIQ_KERNELS_DETAIL_DYNAMIC_TARGETS_INL_H_
#else
#define STATIQ_KERNELS_DETAIL_DYNAMIC_TARGETS_INL_H_
#endif

#include "statiq/kernels/dense_f32-inl.h"
#include "statiq/kernels/gemm_u8s8-inl.h"
#include "statiq/kernels/requantize-inl.h"

#endif  // STATIQ_KERNELS_DETAIL_DYNAMIC_TARGETS_INL_H_
