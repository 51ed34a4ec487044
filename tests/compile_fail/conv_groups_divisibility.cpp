// expect: shape_mismatch<1, statiq::Conv2d<6, statiq::Kernel<3(, 3)?>, statiq::Groups<4> ?>, statiq::Shape<8, 8, 4>
// expect: must both be divisible by Groups
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<8, 8, 4>>, Conv2d<8, Kernel<3>, Groups<4>>>;
#else
using G = Graph<Input<Shape<8, 8, 4>>, Conv2d<6, Kernel<3>, Groups<4>>>;
#endif
static_assert(G::output_shape::rank == 3);
