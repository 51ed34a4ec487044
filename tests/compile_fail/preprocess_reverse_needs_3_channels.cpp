// expect: reverse_channels_needs_3_channels<statiq::Input<statiq::Shape<28, 28, 1>
// expect: channel reversal \(RGB <-> BGR\) needs an input with exactly 3 channels
#include <statiq/statiq.hpp>
#include <statiq/transform/embed_preprocess.hpp>
using namespace statiq;
using G = Graph<Input<Shape<28, 28, 1>>, Conv2d<4, Kernel<3>, Pads<1>>>;
const auto m = Owned<G>{};
#ifdef STATIQ_NEAR_MISS
const auto e = m | embed_preprocess(mean{127.5f}, scale{255.0f});
#else
const auto e = m | embed_preprocess(mean{127.5f}, scale{255.0f}, reverse_channels);
#endif
