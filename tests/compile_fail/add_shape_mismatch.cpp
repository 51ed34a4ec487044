// expect: shape_mismatch<4, statiq::Add, statiq::Shape<4, 4, 8>, statiq::Shape<4, 4, 4>
// expect: statiq::Add needs two inputs of the same shape
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
constexpr std::size_t branch = 4;
#else
constexpr std::size_t branch = 8;
#endif
using G = Graph<Input<Shape<4, 4, 4>>, Conv2d<4, Kernel<1>>, At<Conv2d<branch, Kernel<3>, Pads<1>>, 0>,
                Relu, At<Add, 3, 1>>;
static_assert(G::output_shape::size == 64);
