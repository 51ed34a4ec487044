// expect: both models must have the same graph
#include <statiq/statiq.hpp>
#include <statiq/transform/error_report.hpp>
using namespace statiq;
using A = Graph<Input<Shape<4>>, Dense<2>>;
using B = Graph<Input<Shape<4>>, Dense<3>>;
std::vector<layer_error> report(const A& a, std::span<const float> samples) {
#ifdef STATIQ_NEAR_MISS
  using Q = Quantized<A, std::uint8_t, quantization_mask_t<A>>;
#else
  using Q = Quantized<B, std::uint8_t, quantization_mask_t<B>>;
#endif
  Q q{};
  return layer_error_report(a, q, samples);
}
