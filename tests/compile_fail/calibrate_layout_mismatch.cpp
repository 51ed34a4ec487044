// expect: calibration_samples_layout_mismatch<(statiq::)?Layout::nchw, (statiq::)?Layout::nhwc ?>
// expect: the samples' layout must be the layout of the model's Input
#include <span>
#include <statiq/calibrate/calibrate.hpp>
#include <statiq/statiq.hpp>
using namespace statiq;
using G = Graph<Input<Shape<28, 28, 1>, Layout::nchw>, Conv2d<4, Kernel<3>, Pads<1>>, Relu>;
statiq::calibration_stats<G> f(const G& model, std::span<const float> data) {
#ifdef STATIQ_NEAR_MISS
  return calibrate(model, sample_view<Shape<28, 28, 1>, Layout::nchw>(data));
#else
  return calibrate(model, sample_view<Shape<28, 28, 1>>(data));
#endif
}
