// expect: each pad must be smaller than the kernel extent
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<6, 6, 2>>, MaxPool<Kernel<3>, Pads<2>>>;
#else
using G = Graph<Input<Shape<6, 6, 2>>, MaxPool<Kernel<2>, Pads<2>>>;
#endif
static_assert(G::output_shape::rank == 3);
