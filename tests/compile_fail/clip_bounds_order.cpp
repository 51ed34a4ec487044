// expect: Lo must not exceed Hi
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4>>, Clip<std::ratio<0>, std::ratio<6>>>;
#else
using G = Graph<Input<Shape<4>>, Clip<std::ratio<6>, std::ratio<0>>>;
#endif
static_assert(G::num_nodes == 2);
