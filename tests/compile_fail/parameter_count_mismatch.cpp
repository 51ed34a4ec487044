// expect: parameter_count_mismatch<4, 3>
// expect: give one parameter array per layer parameter, in node order
#include <statiq/statiq.hpp>
using namespace statiq;
constexpr float w[40] = {}, b[10] = {}, w2[20] = {}, b2[2] = {};
using G = Graph<Input<Shape<4>>, Dense<10>, Relu, Dense<2>>;
#ifdef STATIQ_NEAR_MISS
constexpr G model{w, b, w2, b2};
#else
constexpr G model{w, b, w2};
#endif
