// expect: a channels-first input layout needs a rank-3 Shape<H, W, C>
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4, 4, 2>, Layout::nchw>, Relu>;
#else
using G = Graph<Input<Shape<32>, Layout::nchw>, Relu>;
#endif
static_assert(G::num_nodes == 2);
