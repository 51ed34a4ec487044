// expect: `weight_scales` needs one scale per output channel of every Conv2d/Dense node
// expect: weight_scales_count_mismatch<3, 2>
#include <statiq/statiq.hpp>
#include <statiq/transform/quantize.hpp>
using namespace statiq;
using G = Graph<Input<Shape<4>>, Dense<3>>;
constexpr std::array<float, 12> w{};
constexpr std::array<float, 3> b{};
constexpr G model{w, b};
constexpr std::array<tensor_quant, 2> outputs{tensor_quant{0.1f, 128}, tensor_quant{0.2f, 128}};
#ifdef STATIQ_NEAR_MISS
constexpr std::array<float, 3> scales{0.01f, 0.01f, 0.01f};
#else
constexpr std::array<float, 2> scales{0.01f, 0.01f};
#endif
constexpr auto q = quantize_with_params<std::uint8_t>(model, outputs, scales);
static_assert(q.q[1].scale == 0.2f);
