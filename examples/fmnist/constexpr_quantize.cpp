// The compiler quantizes: the imported float model and the ranges the main example calibrated (both headers)
// go through statiq::quantize_with_ranges in a constant expression, and the result must be the INT8 model the
// main example quantized at run time and baked, byte for byte. That is checked by static_asserts: if this file
// compiles, compile-time and run-time quantization agree. bench/compile_time.sh times it.
//
// Built from three generated headers: the imported model (<name>.hpp), the calibrated ranges (<name>_ranges.hpp)
// and the baked model (<name>_int8.hpp), all written by the build before this file compiles.
#include STATIQ_EXAMPLE_HEADER
#include STATIQ_RANGES_HEADER
#include STATIQ_BAKED_HEADER

#include <statiq/statiq.hpp>
#include <statiq/transform/quantize.hpp>

#include <cstdio>
#include <type_traits>

namespace {

namespace model_ns = STATIQ_EXAMPLE_NAMESPACE;
namespace ranges_ns = STATIQ_RANGES_NAMESPACE;
namespace baked_ns = STATIQ_BAKED_NAMESPACE;

#ifdef STATIQ_QUANTIZE_AT_RUN_TIME
// For comparison (bench/compile_time.sh): ranges that are not a constant, so the quantization runs when the
// program starts instead of in the compiler.
auto run_time_ranges = ranges_ns::ranges;
const auto q = statiq::quantize_with_ranges<std::uint8_t>(model_ns::model, run_time_ranges);
#else
constexpr auto q = statiq::quantize_with_ranges<std::uint8_t>(model_ns::model, ranges_ns::ranges);
#endif
using Q = std::remove_cvref_t<decltype(q)>;
static_assert(std::is_same_v<Q, baked_ns::model_type>,
              "the compiler's INT8 model has the baked model's type (graph, activation type and precision mask)");

template <class A, class B>
constexpr bool same_data(const A& a, const B& b) {
  return a.q.size() == b.q.size() && a.bytes == b.bytes && a.ints == b.ints && a.floats == b.floats &&
         a.lo == b.lo && a.hi == b.hi && [&] {
           for (std::size_t i = 0; i < a.q.size(); ++i)
             if (a.q[i].scale != b.q[i].scale || a.q[i].zero_point != b.q[i].zero_point) return false;
           for (std::size_t i = 0; i < a.mults.size(); ++i)
             if (a.mults[i].multiplier != b.mults[i].multiplier || a.mults[i].shift != b.mults[i].shift) return false;
           return true;
         }();
}
#ifndef STATIQ_QUANTIZE_AT_RUN_TIME
static_assert(same_data(q, baked_ns::model),
              "quantizing in a constant expression gives the bytes the run-time quantization baked");
#endif

}  // namespace

int main() {
  if (!same_data(q, baked_ns::model)) {
    std::puts("constexpr_quantize: the INT8 model differs from the baked one");
    return 1;
  }
  std::printf("constexpr_quantize: %zu bytes of packed INT8 weights, quantized by the compiler, equal the baked "
              "model's\n",
              q.bytes.size());
  return 0;
}
