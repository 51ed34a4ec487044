// expect: needs exactly one Kernel<h, w> attribute
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4, 4, 1>>, Conv2d<2, Kernel<3>, Stride<1>>>;
#else
using G = Graph<Input<Shape<4, 4, 1>>, Conv2d<2, Stride<1>>>;
#endif
static_assert(G::output_shape::rank == 3);
