// expect: input_count_mismatch<2, statiq::Add, 2, 1>
// expect: wired to the wrong number of inputs
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4, 4, 2>>, Relu, At<Add, 1, 0>>;
#else
using G = Graph<Input<Shape<4, 4, 2>>, Relu, At<Add, 1>>;
#endif
static_assert(G::output_shape::size == 32);
