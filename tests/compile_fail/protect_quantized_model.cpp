// expect: protect the float model, then quantize it
// expect: protect_needs_a_float_model
#include <statiq/statiq.hpp>
#include <statiq/transform/protect.hpp>
using namespace statiq;
using G = Graph<Input<Shape<4>>, Dense<3>, Relu>;
constexpr float w[12] = {}, b[3] = {};
void f(const calibration_stats<G>& stats, std::span<const value_range> ranges) {
  const auto q = quantize(ranges)(G{w, b});
#ifdef STATIQ_NEAR_MISS
  (void)q;
  (void)(G{w, b} | protect(stats) | quantize(ranges));
#else
  (void)(q | protect(stats));
#endif
}
