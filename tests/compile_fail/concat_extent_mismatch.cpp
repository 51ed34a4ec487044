// expect: shape_mismatch<4, statiq::Concat, statiq::Shape<8, 8, 2>, statiq::Shape<4, 4, 3>
// expect: inputs must agree in every extent but the channels
#include <statiq/statiq.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using pool = MaxPool<Kernel<1>>;
#else
using pool = MaxPool<Kernel<2>, Stride<2>>;
#endif
using H = Graph<Input<Shape<8, 8, 2>>, Relu, At<Conv2d<3, Kernel<1>>, 0>, pool, At<Concat, 1, 3>>;
static_assert(H::output_shape::rank == 3);
