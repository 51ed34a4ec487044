// expect: Protected<Act>: Act must be a clamp activation \(Relu, Clip<Lo, Hi>, Relu6\)
// expect: protected_needs_a_clamp_activation
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4>>, Protected<Relu6>>;
#else
using G = Graph<Input<Shape<4>>, Protected<Softmax>>;
#endif
static_assert(G::num_nodes == 2);
