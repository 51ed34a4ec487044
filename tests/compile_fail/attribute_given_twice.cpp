// expect: each attribute may be given once
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<6, 6, 2>>, Conv2d<4, Kernel<3>, Stride<1>>>;
#else
using G = Graph<Input<Shape<6, 6, 2>>, Conv2d<4, Kernel<3>, Stride<1>, Stride<2>>>;
#endif
static_assert(G::output_shape::rank == 3);
