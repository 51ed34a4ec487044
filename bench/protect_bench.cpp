// What range supervision costs at run time: a Fashion-MNIST-sized CNN (synthetic weights, calibrated on
// synthetic images) with and without statiq::protect, in float (the bounds fused into each Conv2d/Dense's
// output clamp) and INT8 (the bounds folded into each requantization clamp). Batch 1, per image.
//   BM_Protect_Model/{f32,f32_protected,int8,int8_protected}
// The protected and unprotected models do the same work; the ratio of their times is what to read.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <statiq/calibrate/calibrate.hpp>
#include <statiq/statiq.hpp>
#include <statiq/transform/protect.hpp>

namespace {
using namespace statiq;

using cnn = Graph<Input<Shape<28, 28, 1>>, Conv2d<16, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>,
                  Conv2d<32, Kernel<3>, Pads<1>>, Relu, MaxPool<Kernel<2>, Stride<2>>, Flatten, Dense<64>, Relu,
                  Dense<10>>;

std::uint32_t next(std::uint32_t& s) {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

struct models {
  std::unique_ptr<Owned<cnn>> f32 = std::make_unique<Owned<cnn>>();
  std::vector<float> images = std::vector<float>(64 * 784);
  std::unique_ptr<Owned<protect_graph_t<cnn>>> f32p;
  std::unique_ptr<Quantized<cnn, std::uint8_t, quantization_mask_t<cnn>>> q8;
  std::unique_ptr<Quantized<protect_graph_t<cnn>, std::uint8_t, quantization_mask_t<protect_graph_t<cnn>>>> q8p;
  models() {
    std::uint32_t s = 2463534242u;
    for (auto& w : f32->weights) w = (static_cast<float>(next(s) % 2001) / 1000.0f - 1.0f) * 0.1f;
    for (auto& x : images) x = static_cast<float>(next(s) % 2001) / 1000.0f - 1.0f;
    calibration_options o;
    o.progress = false;
    o.mode = preset::mixed;
    const auto stats = calibrate(*f32, sample_view_for<Owned<cnn>>(std::span<const float>(images)), o);
    const auto ranges = ranges_of(stats);
    f32p = std::make_unique<Owned<protect_graph_t<cnn>>>(*f32 | protect(stats));
    q8 = std::make_unique<std::remove_cvref_t<decltype(*q8)>>(*f32 | quantize(ranges));
    q8p = std::make_unique<std::remove_cvref_t<decltype(*q8p)>>(*f32 | protect(stats) | quantize(ranges));
  }
};

const models& get() {
  static const models m;
  return m;
}

template <class M>
void time_model(benchmark::State& state, const M& m) {
  const auto& d = get();
  auto arena = std::make_unique<arena_for<M>>();
  float logits[10];
  std::size_t i = 0;
  for (auto _ : state) {
    run(m, std::span<const float>(d.images.data() + (i++ % 64) * 784, 784), std::span<float>(logits), *arena);
    benchmark::DoNotOptimize(logits);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_Protect_Model(benchmark::State& s, int which) {
  const auto& m = get();
  switch (which) {
    case 0: return time_model(s, *m.f32);
    case 1: return time_model(s, *m.f32p);
    case 2: return time_model(s, *m.q8);
    default: return time_model(s, *m.q8p);
  }
}
BENCHMARK_CAPTURE(BM_Protect_Model, f32, 0);
BENCHMARK_CAPTURE(BM_Protect_Model, f32_protected, 1);
BENCHMARK_CAPTURE(BM_Protect_Model, int8, 2);
BENCHMARK_CAPTURE(BM_Protect_Model, int8_protected, 3);

}  // namespace
