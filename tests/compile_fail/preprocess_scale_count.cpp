// expect: scale_count_mismatch<statiq::Input<statiq::Shape<8, 8, 3>[^>]*>, 4, 3>
// expect: give one scale value, or one per input channel
#include <statiq/statiq.hpp>
#include <statiq/transform/embed_preprocess.hpp>
using namespace statiq;
using G = Graph<Input<Shape<8, 8, 3>>, MaxPool<Kernel<2>>>;
const auto m = Owned<G>{};
#ifdef STATIQ_NEAR_MISS
const auto e = m | embed_preprocess(scale{58.4f, 57.1f, 57.4f});
#else
const auto e = m | embed_preprocess(scale{58.4f, 57.1f, 57.4f, 1.0f});
#endif
