// Calibration of 300 samples (POT's default stat_subset_size) on a Fashion-MNIST-sized CNN, per observer and
// preset; the float forward pass over the same samples (statiq::run) is the baseline beside it.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <span>
#include <statiq/calibrate/calibrate.hpp>
#include <statiq/statiq.hpp>
#include <vector>

namespace {
using namespace statiq;

// 28x28x1 -> conv 16 3x3 + relu -> pool 2 -> conv 32 3x3 + relu -> pool 2 -> dense 64 + relu -> dense 10
using cnn = Graph<Input<Shape<28, 28, 1>>, Conv2d<16, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>,
                  Conv2d<32, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>, Flatten, Dense<64>, Relu,
                  Dense<10>>;
constexpr std::size_t samples = 300;

// Deterministic weights and images (xorshift): the statistics do not matter here, only the work.
struct fixture {
  std::vector<float> blob, images;
  fixture() {
    std::uint32_t s = 2463534242u;
    const auto next = [&] {
      s ^= s << 13;
      s ^= s >> 17;
      s ^= s << 5;
      return static_cast<float>(s % 2001) / 1000.0f - 1.0f;
    };
    for (std::size_t i = 0; i < cnn::weight_count; ++i) blob.push_back(next() * 0.1f);
    for (std::size_t i = 0; i < samples * 784; ++i) images.push_back(next() * 2.0f);
  }
  template <std::size_t... P>
  cnn bind(std::index_sequence<P...>) const {
    return cnn{std::span<const float, cnn::param_sizes[P]>(blob.data() + cnn_offset(P), cnn::param_sizes[P])...};
  }
  static constexpr std::size_t cnn_offset(std::size_t p) {
    std::size_t o = 0;
    for (std::size_t i = 0; i < p; ++i) o += cnn::param_sizes[i];
    return o;
  }
};

const fixture& data() {
  static const fixture f;
  return f;
}

void BM_Calibrate_statiq(benchmark::State& state, observer method, preset mode) {
  const cnn model = data().bind(std::make_index_sequence<cnn::num_params>{});
  calibration_options o;
  o.method = method;
  o.mode = mode;
  o.progress = false;
  for (auto _ : state) {
    auto stats = calibrate(model, sample_view<Shape<28, 28, 1>>(data().images), o);
    benchmark::DoNotOptimize(stats.nodes.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples));
}

// The forward passes alone, batch 1 as calibration runs them.
void BM_Calibrate_forward_only(benchmark::State& state) {
  const cnn model = data().bind(std::make_index_sequence<cnn::num_params>{});
  auto arena = std::make_unique<arena_for<cnn, 1>>();
  std::vector<float> out(samples * 10);
  for (auto _ : state) {
    run(model, std::span<const float>(data().images), std::span<float>(out), *arena);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples));
}

}  // namespace

BENCHMARK(BM_Calibrate_forward_only)->Name("BM_Calibrate_statiq/forward_only/samples:300")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Calibrate_statiq, min_max_performance, observer::min_max, preset::performance)
    ->Name("BM_Calibrate_statiq/min_max/performance/samples:300")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Calibrate_statiq, min_max_mixed, observer::min_max, preset::mixed)
    ->Name("BM_Calibrate_statiq/min_max/mixed/samples:300")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Calibrate_statiq, quantile_mixed, observer::quantile, preset::mixed)
    ->Name("BM_Calibrate_statiq/quantile/mixed/samples:300")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Calibrate_statiq, kl_performance, observer::kl_divergence, preset::performance)
    ->Name("BM_Calibrate_statiq/kl_divergence/performance/samples:300")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Calibrate_statiq, kl_mixed, observer::kl_divergence, preset::mixed)
    ->Name("BM_Calibrate_statiq/kl_divergence/mixed/samples:300")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Calibrate_statiq, mse_mixed, observer::mse, preset::mixed)
    ->Name("BM_Calibrate_statiq/mse/mixed/samples:300")->Unit(benchmark::kMillisecond);
