// expect: statiq::input<E>: the input element type is statiq::u8 or statiq::f32
#include <statiq/statiq.hpp>
#include <statiq/transform/embed_preprocess.hpp>
using namespace statiq;
using G = Graph<Input<Shape<4>>, Dense<2>>;
#ifdef STATIQ_NEAR_MISS
const auto m = Owned<G>{} | embed_preprocess(mean{127.5f}, input<u8>);
#else
const auto m = Owned<G>{} | embed_preprocess(mean{127.5f}, input<std::int8_t>);
#endif
