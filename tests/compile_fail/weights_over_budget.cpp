// expect: weights_exceed_budget<(160|160ul), (128|128ul)>
// expect: the model's parameters exceed the flash budget
#include <statiq/statiq.hpp>
using namespace statiq;
using G = Graph<Input<Shape<28, 28, 1>>, Conv2d<4, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>>;
#ifdef STATIQ_NEAR_MISS
static_assert(weights_fit<G, 160>());
#else
static_assert(weights_fit<G, 128>());
#endif
