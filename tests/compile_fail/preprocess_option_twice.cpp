// expect: each of mean, scale, reverse_channels, layout and input at most once
#include <statiq/statiq.hpp>
#include <statiq/transform/embed_preprocess.hpp>
using namespace statiq;
using G = Graph<Input<Shape<8, 8, 3>>, Conv2d<4, Kernel<3>>>;
const auto m = Owned<G>{};
#ifdef STATIQ_NEAR_MISS
const auto e = m | embed_preprocess(mean{127.5f}, scale{58.0f});
#else
const auto e = m | embed_preprocess(mean{127.5f}, mean{58.0f});
#endif
