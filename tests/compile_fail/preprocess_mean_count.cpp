// expect: mean_count_mismatch<statiq::Input<statiq::Shape<8, 8, 3>[^>]*>, 2, 3>
// expect: give one mean value, or one per input channel
#include <statiq/statiq.hpp>
#include <statiq/transform/embed_preprocess.hpp>
using namespace statiq;
using G = Graph<Input<Shape<8, 8, 3>>, Conv2d<4, Kernel<3>>>;
const auto m = Owned<G>{};
#ifdef STATIQ_NEAR_MISS
const auto e = m | embed_preprocess(mean{123.7f, 116.3f, 103.5f});
#else
const auto e = m | embed_preprocess(mean{123.7f, 116.3f});
#endif
