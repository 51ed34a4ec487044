// expect: arena_exceeds_budget<(12544|12544ul), (8192|8192ul)>
// expect: the model's arena exceeds the RAM budget
// expect: raise Budget
#include <statiq/statiq.hpp>
using namespace statiq;
using G = Graph<Input<Shape<28, 28, 1>>, Conv2d<4, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>>;
#ifdef STATIQ_NEAR_MISS
static_assert(arena_fits<G, 16384>());
#else
static_assert(arena_fits<G, 8192>());
#endif
