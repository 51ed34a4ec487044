// expect: the input element type E is float or std::uint8_t
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4>, Layout::nhwc, std::uint8_t>, Dense<2>>;
#else
using G = Graph<Input<Shape<4>, Layout::nhwc, double>, Dense<2>>;
#endif
static_assert(G::num_nodes == 2);
