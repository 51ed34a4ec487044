// expect: statiq::MaxPool accepts Kernel, Stride, Pads, Dilation, CeilMode
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<6, 6, 2>>, MaxPool<Kernel<2>, CeilMode<true>>>;
#else
using G = Graph<Input<Shape<6, 6, 2>>, MaxPool<Kernel<2>, Groups<2>>>;
#endif
static_assert(G::output_shape::rank == 3);
