// expect: input_not_an_earlier_node<2, 3>
// expect: may only read earlier nodes
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4, 4, 2>>, Relu, At<Relu, 1>, Relu>;
#else
using G = Graph<Input<Shape<4, 4, 2>>, Relu, At<Relu, 3>, Relu>;
#endif
static_assert(G::output_shape::size == 32);
