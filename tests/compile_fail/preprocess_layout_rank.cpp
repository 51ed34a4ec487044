// expect: layout_rank_mismatch<statiq::layout_t<.*>, 3, statiq::Input<statiq::Shape<16>[^>]*>, 1>
// expect: the layout does not match the rank of the model's input
#include <statiq/statiq.hpp>
#include <statiq/transform/embed_preprocess.hpp>
using namespace statiq;
using G = Graph<Input<Shape<16>>, Dense<4>>;
const auto m = Owned<G>{};
#ifdef STATIQ_NEAR_MISS
const auto e = m | embed_preprocess(mean{0.5f}, layout<"nc">);
#else
const auto e = m | embed_preprocess(mean{0.5f}, layout<"nchw">);
#endif
