// expect: calibration_samples_shape_mismatch<statiq::Shape<28, 28, 1>, statiq::Shape<28, 28, 3> ?>
// expect: the samples' per-sample Shape must be the model's input Shape
#include <span>
#include <statiq/calibrate/calibrate.hpp>
#include <statiq/statiq.hpp>
using namespace statiq;
using G = Graph<Input<Shape<28, 28, 1>>, Conv2d<4, Kernel<3>, Pads<1>>, Relu>;
statiq::calibration_stats<G> f(const G& model, std::span<const float> data) {
#ifdef STATIQ_NEAR_MISS
  return calibrate(model, sample_view<Shape<28, 28, 1>>(data));
#else
  return calibrate(model, sample_view<Shape<28, 28, 3>>(data));
#endif
}
