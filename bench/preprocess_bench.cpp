// What folding the input preprocessing into the INT8 model saves per image, on the imported Fashion-MNIST CNN
// (batch 1, the first 256 test images in turn; items/s = images/s):
//  - BM_Preprocess_int8/fmnist/u8_fold: model | embed_preprocess(mean, scale, input<u8>) | quantize<u8>, fed the
//    raw u8 pixels: they are the first int8 convolution's input as they are (no float step, no copy);
//  - BM_Preprocess_int8/fmnist/float_pass: the model quantized as it is; per image the caller normalises the
//    pixels in a separate float pass, ((p - 72.93) / 90.015), and run() quantizes that float input;
//  - BM_Preprocess_f32/fmnist/{u8_fold,float_pass}: the same two routes for the float model (the u8 pixels are
//    widened into the input buffer inside run(); the mean and scale are folded into the first convolution).
// Both INT8 models are calibrated (min/max, mixed preset) on the first 300 training images, in their own input
// type. Built into statiq_model_bench when it has the Fashion-MNIST model (STATIQ_BENCH_HAVE_FMNIST).
#if defined(STATIQ_BENCH_HAVE_FMNIST)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include <statiq/calibrate/calibrate.hpp>
#include <statiq/statiq.hpp>
#include <statiq/transform/embed_preprocess.hpp>
#include <statiq/transform/quantize.hpp>
#include STATIQ_BENCH_FMNIST_HEADER

#include "../examples/common/fashion_mnist.hpp"

namespace {
using namespace statiq;

constexpr float pixel_mean = statiq_examples::fmnist_mean * 255, pixel_scale = statiq_examples::fmnist_std * 255;
constexpr std::size_t in_size = 784, out_size = 10, images = 256;

struct data_set {
  statiq_examples::fashion_mnist calib, test;
  std::string error;
};
const data_set& data() {
  static const data_set d = [] {
    data_set r;
    const char* env = std::getenv("STATIQ_FASHION_MNIST_DATA");
    const std::string dir = env && *env ? env : STATIQ_BENCH_FMNIST_DATA_DIR;
    try {
      r.calib = statiq_examples::load_fashion_mnist(dir + "/train-images-idx3-ubyte", dir + "/train-labels-idx1-ubyte", 300);
      r.test = statiq_examples::load_fashion_mnist(dir + "/t10k-images-idx3-ubyte", dir + "/t10k-labels-idx1-ubyte", images);
    } catch (const std::exception& e) {
      r.error = std::string("Fashion-MNIST data (set STATIQ_FASHION_MNIST_DATA): ") + e.what();
    }
    return r;
  }();
  return d;
}

calibration_options min_max() {
  calibration_options o;
  o.mode = preset::mixed;
  o.progress = false;
  return o;
}

inline constexpr auto u8_model =
    fmnist::model | embed_preprocess(mean{pixel_mean}, scale{pixel_scale}, input<u8>);

const auto& int8_u8_fold() {
  static const std::vector<value_range> r = ranges_of(calibrate(
      u8_model, sample_view_for<decltype(u8_model)>(std::span<const std::uint8_t>(data().calib.pixels)), min_max()));
  static const auto q = u8_model | quantize<std::uint8_t>(r);
  return q;
}
const auto& int8_float_pass() {
  static const std::vector<value_range> r = ranges_of(calibrate(
      fmnist::model, sample_view_for<decltype(fmnist::model)>(std::span<const float>(data().calib.images)), min_max()));
  static const auto q = fmnist::model | quantize<std::uint8_t>(r);
  return q;
}

template <class M>
void u8_fold(benchmark::State& state, const M& m) {
  if (!data().error.empty()) return state.SkipWithError(data().error.c_str());
  static arena_for<M> arena;
  const auto& px = data().test.pixels;
  float out[out_size];
  std::size_t i = 0;
  for (auto _ : state) {
    run(m, std::span<const std::uint8_t>(px.data() + i * in_size, in_size), std::span<float>(out), arena);
    benchmark::DoNotOptimize(out);
    i = (i + 1) % images;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["arena_bytes"] = static_cast<double>(arena_bytes_v<M>);
}

template <class M>
void float_pass(benchmark::State& state, const M& m) {
  if (!data().error.empty()) return state.SkipWithError(data().error.c_str());
  static arena_for<M> arena;
  const auto& px = data().test.pixels;
  static float x[in_size];
  float out[out_size];
  std::size_t i = 0;
  for (auto _ : state) {
    for (std::size_t k = 0; k < in_size; ++k) x[k] = (static_cast<float>(px[i * in_size + k]) - pixel_mean) / pixel_scale;
    run(m, std::span<const float>(x), std::span<float>(out), arena);
    benchmark::DoNotOptimize(out);
    i = (i + 1) % images;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["arena_bytes"] = static_cast<double>(arena_bytes_v<M> + sizeof x);
}

void BM_Preprocess_int8_u8_fold(benchmark::State& state) { u8_fold(state, int8_u8_fold()); }
void BM_Preprocess_int8_float_pass(benchmark::State& state) { float_pass(state, int8_float_pass()); }
void BM_Preprocess_f32_u8_fold(benchmark::State& state) { u8_fold(state, u8_model); }
void BM_Preprocess_f32_float_pass(benchmark::State& state) { float_pass(state, fmnist::model); }

}  // namespace

BENCHMARK(BM_Preprocess_int8_u8_fold)->Name("BM_Preprocess_int8/fmnist/u8_fold");
BENCHMARK(BM_Preprocess_int8_float_pass)->Name("BM_Preprocess_int8/fmnist/float_pass");
BENCHMARK(BM_Preprocess_f32_u8_fold)->Name("BM_Preprocess_f32/fmnist/u8_fold");
BENCHMARK(BM_Preprocess_f32_float_pass)->Name("BM_Preprocess_f32/fmnist/float_pass");
#endif
