// The README's twenty-line example, compiled and run by the test suite so the documentation cannot drift.
#include <statiq/statiq.hpp>
#include <statiq/transform/quantize.hpp>

#include <algorithm>
#include <cstdio>
#include <span>
using namespace statiq;

// 28x28x1 image (the caller's buffer is NCHW) -> conv 8 3x3 + relu -> pool -> dense 10
using net = Graph<Input<Shape<28, 28, 1>, Layout::nchw>,
                  Conv2d<8, Kernel<3>, Pads<1>>, Relu,
                  MaxPool<Kernel<2>, Stride<2>>, Flatten, Dense<10>>;
inline constexpr float w1[8 * 3 * 3 * 1] = {/* OHWI */}, b1[8] = {};
inline constexpr float w2[10 * 14 * 14 * 8] = {/* [out][in] */}, b2[10] = {0, 0, 0, 1};
inline constexpr net model{w1, b1, w2, b2};           // a constexpr object; a wrong array size is a compile error

static_assert(arena_bytes_v<net> <= 64 * 1024);        // the scratch memory is a compile-time constant

int classify(std::span<const float, 784> image) {
  static arena_for<net> arena;                         // no heap: a static, aligned byte array
  float logits[10];
  run(model, image, std::span<float, 10>(logits), arena);
  return int(std::max_element(logits, logits + 10) - logits);
}

int main() {
  static const float image[784] = {};
  const int k = classify(std::span<const float, 784>(image));
  std::printf("readme example: class %d\n", k);
  return k == 3 ? 0 : 1;  // all weights zero, bias 1 on class 3
}
