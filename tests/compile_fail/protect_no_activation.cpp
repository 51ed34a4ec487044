// expect: the model has no activation \(Relu, Clip, Relu6\) to protect
// expect: protect_found_no_activation
#include <statiq/statiq.hpp>
#include <statiq/transform/protect.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using G = Graph<Input<Shape<4>>, Dense<3>, Relu6>;
#else
using G = Graph<Input<Shape<4>>, Dense<3>, Softmax>;
#endif
constexpr float w[12] = {}, b[3] = {};
void f(const calibration_stats<G>& stats) { (void)(G{w, b} | protect(stats)); }
