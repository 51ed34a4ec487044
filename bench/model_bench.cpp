// Whole-model inference per image through statiq::run, with the arena and weight bytes reported as counters
// beside the time (items/s = images/s; per_image = the time per image):
//  - BM_Model_statiq_f32/fmnist_cnn: a Fashion-MNIST-sized CNN with synthetic weights, float, batch 1 and 16;
//  - BM_Model_statiq_{f32,int8}/fmnist/batch:{1,64}: the imported Fashion-MNIST CNN
//    (statiq-import tests/data/fmnist/fmnist_cnn.onnx), in float and in INT8 (u8 activations, min/max
//    calibration on the first 300 training images, quantize_with_ranges<std::uint8_t>), on the first test
//    images; its top-1 accuracy on the 10,000 test images is a counter. Built when statiq-import is
//    (STATIQ_BENCH_HAVE_FMNIST); the decompressed idx files are read from STATIQ_BENCH_FMNIST_DATA_DIR, or
//    from the folder named by the environment variable STATIQ_FASHION_MNIST_DATA.
// bench/model_compare/ runs these beside ONNX Runtime and PyTorch on the same model.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <span>
#include <statiq/statiq.hpp>
#include <string>
#include <vector>

#if defined(STATIQ_BENCH_HAVE_FMNIST)
#include STATIQ_BENCH_FMNIST_HEADER
#include <statiq/transform/quantize.hpp>

#include "../examples/common/fashion_mnist.hpp"
#endif

namespace {
using namespace statiq;

// 28x28x1 -> conv 16 3x3 + relu -> pool 2 -> conv 32 3x3 + relu -> pool 2 -> dense 64 + relu -> dense 10
using cnn = Graph<Input<Shape<28, 28, 1>>, Conv2d<16, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>,
                  Conv2d<32, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>, Flatten, Dense<64>, Relu,
                  Dense<10>>;

// Deterministic weights in one run-time blob (xorshift, scaled ~1/sqrt(fan_in)).
struct weights {
  std::vector<float> blob;
  weights() {
    std::uint32_t s = 2463534242u;
    for (std::size_t i = 0; i < cnn::weight_count; ++i) {
      s ^= s << 13;
      s ^= s >> 17;
      s ^= s << 5;
      blob.push_back((static_cast<float>(s % 2001) / 1000.0f - 1.0f) * 0.1f);
    }
  }
  template <std::size_t... P>
  cnn bind(std::index_sequence<P...>) const {
    return cnn{std::span<const float, cnn::param_sizes[P]>(blob.data() + offset(P), cnn::param_sizes[P])...};
  }
  static constexpr std::size_t offset(std::size_t p) {
    std::size_t o = 0;
    for (std::size_t i = 0; i < p; ++i) o += cnn::param_sizes[i];
    return o;
  }
};

template <std::size_t Batch>
void BM_Model_statiq_f32_cnn(benchmark::State& state) {
  static const weights w;
  const cnn model = w.bind(std::make_index_sequence<cnn::num_params>{});
  static arena_for<cnn, Batch> arena;
  std::vector<float> in(Batch * 784, 0.5f), out(Batch * 10);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i % 255) / 255.0f;
  for (auto _ : state) {
    run(model, std::span<const float>(in), std::span<float>(out), arena);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * Batch));
  state.counters["arena_bytes"] = static_cast<double>(arena_bytes_v<cnn, Batch>);
  state.counters["weight_bytes"] = static_cast<double>(weight_bytes_v<cnn>);
  state.counters["naive_arena_bytes"] = static_cast<double>(plan_v<cnn, Batch>.naive_bytes);
}
BENCHMARK(BM_Model_statiq_f32_cnn<1>)->Name("BM_Model_statiq_f32/fmnist_cnn/batch:1");
BENCHMARK(BM_Model_statiq_f32_cnn<16>)->Name("BM_Model_statiq_f32/fmnist_cnn/batch:16");

#if defined(STATIQ_BENCH_HAVE_FMNIST)
// ---- the imported Fashion-MNIST CNN, float and INT8 ----
namespace fm {
using graph = fmnist::graph;
constexpr std::size_t in_size = graph::input_shape::size;
constexpr std::size_t out_size = graph::output_shape::size;
static_assert(in_size == 784 && out_size == 10, "the Fashion-MNIST benchmark expects a 28x28x1 -> 10 model");

struct data_set {
  statiq_examples::fashion_mnist calib, test;  // the first 300 training images; the 10,000 test images
  std::string error;
};

const data_set& data() {
  static const data_set d = [] {
    data_set r;
    const char* env = std::getenv("STATIQ_FASHION_MNIST_DATA");
    const std::string dir = env && *env ? env : STATIQ_BENCH_FMNIST_DATA_DIR;
    try {
      r.calib = statiq_examples::load_fashion_mnist(dir + "/train-images-idx3-ubyte", dir + "/train-labels-idx1-ubyte", 300);
      r.test = statiq_examples::load_fashion_mnist(dir + "/t10k-images-idx3-ubyte", dir + "/t10k-labels-idx1-ubyte");
    } catch (const std::exception& e) {
      r.error = std::string("Fashion-MNIST data (set STATIQ_FASHION_MNIST_DATA to the decompressed idx files' folder): ") + e.what();
    }
    return r;
  }();
  return d;
}

// Min/max of every node's output over the calibration images (as examples/fmnist does).
std::vector<value_range> calibrate_min_max(const statiq_examples::fashion_mnist& calib) {
  static observe_arena_for<decltype(fmnist::model), 16> arena;
  std::vector<value_range> r(graph::num_nodes, value_range{1e30f, -1e30f});
  std::vector<float> out(calib.count * out_size);
  run_observed(fmnist::model, std::span<const float>(calib.images), std::span<float>(out), arena,
               [&](std::size_t node, std::span<const float> v) {
                 for (float x : v) {
                   r[node].lo = std::min(r[node].lo, x);
                   r[node].hi = std::max(r[node].hi, x);
                 }
               });
  unify_concat_ranges<graph>(r);
  return r;
}

const auto& int8_model() {
  static const auto q = quantize_with_ranges<std::uint8_t>(fmnist::model, calibrate_min_max(data().calib));
  return q;
}

// Top-1 accuracy on the test images, computed once per model type (batch 64).
template <class M>
double accuracy(const M& m) {
  static const double acc = [&] {
    static arena_for<M, 64> arena;
    const auto& t = data().test;
    std::vector<float> logits(t.count * out_size);
    run(m, std::span<const float>(t.images), std::span<float>(logits), arena);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < t.count; ++i)
      correct += static_cast<std::size_t>(std::max_element(&logits[i * out_size], &logits[i * out_size] + out_size) -
                                          &logits[i * out_size]) == t.labels[i];
    return static_cast<double>(correct) / static_cast<double>(t.count);
  }();
  return acc;
}

template <class M, std::size_t Batch>
void run_model(benchmark::State& state, const M& m) {
  static arena_for<M, Batch> arena;
  const auto& t = data().test;
  std::vector<float> in(t.images.begin(), t.images.begin() + Batch * in_size), out(Batch * out_size);
  for (auto _ : state) {
    run(m, std::span<const float>(in), std::span<float>(out), arena);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * Batch));
  state.counters["per_image"] =
      benchmark::Counter(static_cast<double>(Batch), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["arena_bytes"] = static_cast<double>(arena_bytes_v<M, Batch>);
  state.counters["weight_bytes"] = static_cast<double>(weight_bytes_v<M>);
  state.counters["accuracy"] = accuracy(m);
}

template <std::size_t Batch>
void BM_Model_statiq_f32_fmnist(benchmark::State& state) {
  if (!data().error.empty()) return state.SkipWithError(data().error.c_str());
  run_model<std::remove_cvref_t<decltype(fmnist::model)>, Batch>(state, fmnist::model);
}

template <std::size_t Batch>
void BM_Model_statiq_int8_fmnist(benchmark::State& state) {
  if (!data().error.empty()) return state.SkipWithError(data().error.c_str());
  const auto& q = int8_model();
  run_model<std::remove_cvref_t<decltype(q)>, Batch>(state, q);
}
}  // namespace fm

BENCHMARK(fm::BM_Model_statiq_f32_fmnist<1>)->Name("BM_Model_statiq_f32/fmnist/batch:1");
BENCHMARK(fm::BM_Model_statiq_f32_fmnist<64>)->Name("BM_Model_statiq_f32/fmnist/batch:64");
BENCHMARK(fm::BM_Model_statiq_int8_fmnist<1>)->Name("BM_Model_statiq_int8/fmnist/batch:1");
BENCHMARK(fm::BM_Model_statiq_int8_fmnist<64>)->Name("BM_Model_statiq_int8/fmnist/batch:64");
#endif

}  // namespace

