// expect: the samples' element type must be the model's input element type
// expect: calibration_samples_element_mismatch<float, (unsigned char|std::uint8_t|uint8_t)>
#include <cstdint>
#include <span>
#include <statiq/calibrate/calibrate.hpp>
#include <statiq/statiq.hpp>
using namespace statiq;
using G = Graph<Input<Shape<4>>, Dense<2>, Relu>;
statiq::calibration_stats<G> f(const G& model, std::span<const float> floats, std::span<const std::uint8_t> pixels) {
#ifdef STATIQ_NEAR_MISS
  (void)pixels;
  return calibrate(model, sample_view<Shape<4>>(floats));
#else
  (void)floats;
  return calibrate(model, sample_view<Shape<4>, Layout::nhwc, std::uint8_t>(pixels));
#endif
}
