// expect: weight_count_mismatch<1, statiq::Conv2d<4, statiq::Kernel<3(, 3)?> ?>, statiq::Shape<6, 6, 2>, 0, 72, 70>
// expect: a parameter array has the wrong number of floats for its layer
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
constexpr float w[72] = {};
#else
constexpr float w[70] = {};
#endif
constexpr float b[4] = {};
constexpr Graph<Input<Shape<6, 6, 2>>, Conv2d<4, Kernel<3>>> model{w, b};
