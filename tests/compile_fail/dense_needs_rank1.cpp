// expect: shape_mismatch<2, statiq::Dense<10>, statiq::Shape<6, 6, 8>
// expect: insert statiq::Flatten before it
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<8, 8, 1>>, Conv2d<8, Kernel<3>>, Flatten, Dense<10>>;
#else
using G = Graph<Input<Shape<8, 8, 1>>, Conv2d<8, Kernel<3>>, Dense<10>>;
#endif
static_assert(G::output_shape::size == 10);
