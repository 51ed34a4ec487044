// A program outside the statiq tree: builds and runs a small model through the installed/embedded library.
#include <statiq/statiq.hpp>

#include <cstdio>
#include <span>

namespace {
constexpr float w[3 * 4] = {1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1};
constexpr float b[3] = {0, 0, -100};
constexpr statiq::Graph<statiq::Input<statiq::Shape<4>>, statiq::Dense<3>, statiq::Relu> model{w, b};
static_assert(statiq::arena_bytes_v<decltype(model)> == 0);
}  // namespace

int main() {
  statiq::arena_for<decltype(model)> arena;
  const float in[4] = {1, 2, 3, 4};
  float out[3] = {};
  if (statiq::run(model, std::span<const float>(in), std::span<float>(out), arena) != statiq::status::ok) return 1;
  std::printf("consumer: %g %g %g\n", out[0], out[1], out[2]);
  return out[0] == 1.0f && out[1] == 2.0f && out[2] == 0.0f ? 0 : 1;
}
