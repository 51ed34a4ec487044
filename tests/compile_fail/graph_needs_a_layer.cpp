// expect: needs an Input and at least one layer
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4>>, Relu>;
#else
using G = Graph<Input<Shape<4>>>;
#endif
static_assert(G::num_nodes >= 1);
