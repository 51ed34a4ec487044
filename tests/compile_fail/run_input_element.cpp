// expect: the input span's element type must be the model's input element type
// expect: input_element_mismatch<statiq::Input<statiq::Shape<4>, [^>]*(unsigned char|uint8_t)>, float>
#include <array>
#include <cstdint>
#include <span>
#include <statiq/statiq.hpp>
#include <statiq/transform/embed_preprocess.hpp>
using namespace statiq;
using G = Graph<Input<Shape<4>>, Dense<2>>;
const auto raw_model = Owned<G>{} | embed_preprocess(mean{127.5f}, input<u8>);
void infer(arena_for<decltype(raw_model)>& arena) {
#ifdef STATIQ_NEAR_MISS
  std::array<std::uint8_t, 4> in{};
#else
  std::array<float, 4> in{};
#endif
  std::array<float, 2> out{};
  (void)run(raw_model, std::span<const typename decltype(in)::value_type>(in), std::span<float>(out), arena);
}
