// Firmware: the baked Fashion-MNIST INT8 model on a Cortex-M4 (QEMU's mps2-an386), no heap, its footprint
// checked by the compiler against the board. Classifies the embedded test images, compares every prediction
// with the host build's, and reports through semihosting; the exit code is 0 when all of them are equal.
#include STATIQ_BAKED_HEADER

#include <statiq/statiq.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/highway.h>

#include "board.hpp"
#include "test_images.hpp"

namespace baked = STATIQ_BAKED_NAMESPACE;
using model_t = decltype(baked::model);

// The footprint is a compile-time fact: the arena must fit the RAM the stack leaves, the model's data the flash.
static_assert(statiq::arena_fits<model_t, board::ram_bytes - board::stack_bytes - board::stack_guard_bytes>());
static_assert(statiq::weights_fit<model_t, board::flash_bytes>());

namespace {

// Normalisation of the host example (examples/common/fashion_mnist.hpp): (pixel / 255 - mean) / std.
constexpr float fmnist_mean = 0.2860f;
constexpr float fmnist_std = 0.3530f;

statiq::arena_for<model_t> arena;  // .bss, arena_bytes_v<model_t> bytes
float image[784];
float logits[10];

constexpr const char* highway_target() {
#if HWY_TARGET == HWY_SCALAR
  return "HWY_SCALAR";
#elif HWY_TARGET == HWY_EMU128
  return "HWY_EMU128";
#else
  return "a SIMD target";
#endif
}

}  // namespace

int main() {
  constexpr std::size_t arena_bytes = statiq::arena_bytes_v<model_t>;
  constexpr std::size_t lower_bound = statiq::arena_lower_bound_v<model_t>;
  board::line() << "statiq firmware: " << STATIQ_BAKED_NAME << " on a Cortex-M4 (mps2-an386), Highway target "
                << highway_target();
  board::line() << "arena " << arena_bytes << " B (live-tensor lower bound " << lower_bound << " B) of "
                << board::ram_bytes << " B RAM; model data " << statiq::weight_bytes_v<model_t> << " B ("
                << sizeof(baked::model) << " B object in flash) of " << board::flash_bytes << " B flash";

  std::size_t same = 0, correct = 0;
  unsigned long long ticks_total = 0;
  std::uint32_t ticks_min = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < test_images::count; ++i) {
    for (std::size_t p = 0; p < 784; ++p)
      image[p] = (static_cast<float>(test_images::pixels[i][p]) / 255.0f - fmnist_mean) / fmnist_std;
    board::timer_start();
    const statiq::status s =
        statiq::run(baked::model, std::span<const float, 784>(image), std::span<float, 10>(logits), arena);
    const std::uint32_t ticks = board::timer_ticks();
    if (s != statiq::status::ok) {
      board::line() << "firmware: run failed: " << statiq::to_string(s);
      return 2;
    }
    ticks_total += ticks;
    if (ticks < ticks_min) ticks_min = ticks;
    unsigned k = 0;
    for (unsigned c = 1; c < 10; ++c)
      if (logits[c] > logits[k]) k = c;
    const unsigned host = test_images::host_predictions[i], label = test_images::labels[i];
    same += k == host;
    correct += k == label;
    board::line() << "image " << i << ": label " << label << ", predicted " << k << ", host " << host
                  << (k == host ? "" : "  <-- differs from the host build");
  }
  // Timer ticks at 25 MHz (40 ns). Under `qemu-system-arm -icount shift=0` virtual time advances 1 ns per
  // executed instruction, so the emulated time is an instruction count (QEMU counts instructions, not Cortex-M4
  // cycles). A loop of known length checks that reading.
  constexpr std::uint32_t ns_per_tick = 1'000'000'000u / board::sysclk_hz;
  constexpr std::uint32_t spin_iterations = 1'000'000;
  board::timer_start();
  board::spin(spin_iterations);
  const unsigned long long spin_ns = static_cast<unsigned long long>(board::timer_ticks()) * ns_per_tick;
  board::line() << "timer check: " << 2 * spin_iterations << " instructions took " << spin_ns << " ns of emulated time";
  board::line() << "inference: " << ticks_total * ns_per_tick / test_images::count << " ns of emulated time per image "
                << "(minimum " << static_cast<unsigned long long>(ticks_min) * ns_per_tick
                << "); with -icount shift=0, instructions executed (+-" << ns_per_tick << ")";
  const std::size_t stack = board::stack_used();
  board::line() << "stack: " << stack << " B used of " << board::stack_reserved() << " B";
  if (stack > board::stack_reserved()) {
    board::line() << "firmware: the stack overflowed (raise board::stack_bytes and __stack_size__)";
    return 5;
  }
  board::line() << "accuracy " << correct << " of " << test_images::count << "; " << same << " of "
                << test_images::count << " predictions equal to the host build's";
  return same == test_images::count ? 0 : 1;
}
