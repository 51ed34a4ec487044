// expect: std::span<const float, N> with a static extent N
#include <span>
#include <statiq/statiq.hpp>
using namespace statiq;
using G = Graph<Input<Shape<4>>, Dense<2>>;
float storage[10];
#ifdef STATIQ_NEAR_MISS
G make() { return G{std::span<const float, 8>(storage, 8), std::span<const float, 2>(storage + 8, 2)}; }
#else
G make() { return G{std::span<const float>(storage, 8), std::span<const float, 2>(storage + 8, 2)}; }
#endif
