// Whole-model float inference per image: a Fashion-MNIST-sized CNN through statiq::run, batch 1 and 16,
// with the arena and weight bytes reported as counters beside the time.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <statiq/statiq.hpp>
#include <vector>

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

}  // namespace

