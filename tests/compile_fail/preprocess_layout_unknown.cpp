// expect: statiq::layout<.*>: the layout is one of .*nchw.*nhwc.*chw.*hwc.*nc.*c
#include <statiq/statiq.hpp>
#include <statiq/transform/embed_preprocess.hpp>
using namespace statiq;
using G = Graph<Input<Shape<8, 8, 3>>, Conv2d<4, Kernel<3>>>;
const auto m = Owned<G>{};
#ifdef STATIQ_NEAR_MISS
const auto e = m | embed_preprocess(layout<"nchw">);
#else
const auto e = m | embed_preprocess(layout<"nhcw">);
#endif
