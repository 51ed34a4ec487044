// expect: `outputs` needs one tensor_quant per graph node
// expect: quantization_outputs_count_mismatch<2, 1>
#include <statiq/statiq.hpp>
#include <statiq/transform/quantize.hpp>
using namespace statiq;
using G = Graph<Input<Shape<4>>, Dense<3>>;
constexpr std::array<float, 12> w{};
constexpr std::array<float, 3> b{};
constexpr G model{w, b};
#ifdef STATIQ_NEAR_MISS
constexpr std::array<tensor_quant, 2> outputs{tensor_quant{0.1f, 128}, tensor_quant{0.2f, 128}};
#else
constexpr std::array<tensor_quant, 1> outputs{tensor_quant{0.1f, 128}};
#endif
constexpr std::array<float, 3> scales{0.01f, 0.01f, 0.01f};
constexpr auto q = quantize_with_params<std::uint8_t>(model, outputs, scales);
static_assert(q.q[0].scale == 0.1f);
