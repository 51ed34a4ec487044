// expect: Mask needs one flag per graph node
#include <statiq/statiq.hpp>
using namespace statiq;
using G = Graph<Input<Shape<4>>, Dense<2>>;
#ifdef STATIQ_NEAR_MISS
using Q = Quantized<G, std::uint8_t, std::integer_sequence<bool, true, true>>;
#else
using Q = Quantized<G, std::uint8_t, std::integer_sequence<bool, true>>;
#endif
static_assert(Q::num_nodes == 2 && sizeof(Q) > 0);
