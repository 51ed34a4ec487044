// expect: Epsilon must be a positive std::ratio
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<2, 2, 3>>, BatchNorm<std::ratio<1, 1000>>>;
#else
using G = Graph<Input<Shape<2, 2, 3>>, BatchNorm<std::ratio<0>>>;
#endif
static_assert(G::num_params == 4);
