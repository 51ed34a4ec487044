// Compile-cost probe: the smallest program that instantiates and runs an imported float model (its header
// holds the typed graph and every weight as constexpr data). bench/compile_time.sh times compiling it.
#include STATIQ_EXAMPLE_HEADER

#include <statiq/statiq.hpp>

#include <array>
#include <cstdio>

int main() {
  using graph = STATIQ_EXAMPLE_NAMESPACE::graph;
  static statiq::arena_for<decltype(STATIQ_EXAMPLE_NAMESPACE::model)> arena;
  static std::array<float, graph::input_shape::size> in{};
  std::array<float, graph::output_shape::size> out{};
  const auto s = statiq::run(STATIQ_EXAMPLE_NAMESPACE::model, std::span<const float>(in), std::span<float>(out), arena);
  std::printf("%d %g\n", static_cast<int>(s), static_cast<double>(out[0]));
}
