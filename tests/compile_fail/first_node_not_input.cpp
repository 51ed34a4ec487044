// expect: node 0 must be an Input
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4>>, Dense<2>, Relu>;
#else
using G = Graph<Dense<2>, Relu>;
#endif
static_assert(G::num_nodes == 2 || G::num_nodes == 3);
