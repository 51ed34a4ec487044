// expect: shape_mismatch<1, statiq::Conv2d<2, statiq::Kernel<5(, 5)?> ?>, statiq::Shape<4, 4, 1>
// expect: the \(dilated\) kernel is larger than the padded input
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4, 4, 1>>, Conv2d<2, Kernel<5>, Pads<1>>>;
#else
using G = Graph<Input<Shape<4, 4, 1>>, Conv2d<2, Kernel<5>>>;
#endif
static_assert(G::output_shape::rank == 3);
