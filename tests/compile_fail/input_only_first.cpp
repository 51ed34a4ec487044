// expect: an Input may only be node 0
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4>>, Relu, Relu>;
#else
using G = Graph<Input<Shape<4>>, Relu, Input<Shape<4>>>;
#endif
static_assert(G::num_nodes == 3);
