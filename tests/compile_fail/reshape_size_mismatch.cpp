// expect: shape_mismatch<1, statiq::Reshape<statiq::Shape<5, 5> ?>, statiq::Shape<4, 6>, statiq::Shape<5, 5>
// expect: S must hold as many elements as the input
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4, 6>>, Reshape<Shape<3, 8>>>;
#else
using G = Graph<Input<Shape<4, 6>>, Reshape<Shape<5, 5>>>;
#endif
static_assert(G::output_shape::rank == 2);
