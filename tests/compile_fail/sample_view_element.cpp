// expect: statiq::sample_view<S, layout, E>: E is float or std::uint8_t
#include <cstdint>
#include <span>
#include <statiq/calibrate/calibrate.hpp>
using namespace statiq;
#ifdef STATIQ_NEAR_MISS
using V = sample_view<Shape<4>, Layout::nhwc, std::uint8_t>;
#else
using V = sample_view<Shape<4>, Layout::nhwc, std::int8_t>;
#endif
static_assert(sizeof(V) > 0);
