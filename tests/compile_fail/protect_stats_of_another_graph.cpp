// expect: the statistics must come from calibrate\(\) on this model's graph
// expect: protect_stats_of_another_graph
#include <statiq/statiq.hpp>
#include <statiq/transform/protect.hpp>
using namespace statiq;
using G = Graph<Input<Shape<4>>, Dense<3>, Relu>;
using H = Graph<Input<Shape<4>>, Dense<2>, Relu>;
constexpr float w[12] = {}, b[3] = {};
#ifdef STATIQ_NEAR_MISS
using S = G;
#else
using S = H;
#endif
void f(const calibration_stats<S>& stats) { (void)(G{w, b} | protect(stats)); }
