// expect: baked_with_layout<(1|1u)>
// expect: bake the model again with this statiq
// A header baked by io::bake for an older layout of the packed weights (layout 1: panel after panel).
#include <statiq/statiq.hpp>
#ifdef STATIQ_NEAR_MISS
static_assert(statiq::kernels::baked_with_layout<statiq::kernels::gemm_layout_version>::ok);
#else
static_assert(statiq::kernels::baked_with_layout<1>::ok);
#endif
