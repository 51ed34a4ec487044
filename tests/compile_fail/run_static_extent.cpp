// expect: the input span's extent must be a positive multiple of the model's input size
#include <array>
#include <span>
#include <statiq/statiq.hpp>
using namespace statiq;
constexpr float w[8] = {}, b[2] = {};
constexpr Graph<Input<Shape<4>>, Dense<2>> model{w, b};
void infer(arena_for<decltype(model)>& arena) {
#ifdef STATIQ_NEAR_MISS
  std::array<float, 8> in{};
#else
  std::array<float, 7> in{};
#endif
  std::array<float, 4> out{};
  (void)run(model, std::span<const float, in.size()>(in), std::span<float, 4>(out), arena);
}
