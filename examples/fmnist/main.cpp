// The main example: a Fashion-MNIST CNN imported from ONNX, evaluated in float, calibrated on 300 training
// images, quantized to INT8, evaluated again; prints accuracy, latency, arena and weight bytes of both, and
// ends with one JSON line for scripts.
//
// Build-time choices (CMake: STATIQ_EXAMPLE_ONNX / STATIQ_EXAMPLE_NAME): the generated header and its
// namespace, so any imported Fashion-MNIST model goes through the same pipeline.
#include STATIQ_EXAMPLE_HEADER

#include <statiq/calibrate/calibrate.hpp>
#include <statiq/io/bake.hpp>
#include <statiq/statiq.hpp>
#include <statiq/transform/error_report.hpp>
#include <statiq/transform/quantize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "../common/fashion_mnist.hpp"

namespace {

namespace model_ns = STATIQ_EXAMPLE_NAMESPACE;
using graph = model_ns::graph;
constexpr std::size_t in_size = graph::input_shape::size;
constexpr std::size_t out_size = graph::output_shape::size;
static_assert(in_size == 784, "the example feeds 28x28 single-channel images");
static_assert(out_size == 10, "the example scores 10 classes");

struct evaluation {
  double accuracy = 0;
  double us_per_image = 0;
  std::vector<std::uint8_t> predictions;
};

// Runs every test image one at a time (batch 1, the latency case) and scores the argmax.
template <class M>
evaluation evaluate(const M& m, const statiq_examples::fashion_mnist& test) {
  static statiq::arena_for<M> arena;
  evaluation e;
  e.predictions.resize(test.count);
  float logits[out_size];
  std::size_t correct = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < test.count; ++i) {
    statiq::run(m, std::span<const float>(test.images.data() + i * in_size, in_size), std::span<float>(logits), arena);
    e.predictions[i] = static_cast<std::uint8_t>(std::max_element(logits, logits + out_size) - logits);
    correct += e.predictions[i] == test.labels[i];
  }
  const auto t1 = std::chrono::steady_clock::now();
  e.accuracy = static_cast<double>(correct) / static_cast<double>(test.count);
  e.us_per_image = std::chrono::duration<double, std::micro>(t1 - t0).count() / static_cast<double>(test.count);
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 7) {
    std::fprintf(stderr,
                 "usage: %s train-images train-labels test-images test-labels [baked-header predictions-file]\n"
                 "  (uncompressed idx files; with the last two, the INT8 model is baked into a header and its\n"
                 "  predictions on the test images are written, one byte per image, for the deploy build)\n",
                 argv[0]);
    return 2;
  }
  try {
    const auto calib = statiq_examples::load_fashion_mnist(argv[1], argv[2], 300);
    const auto test = statiq_examples::load_fashion_mnist(argv[3], argv[4]);
    std::printf("Fashion-MNIST: %zu test images, %zu calibration images; model '%s', %zu nodes\n", test.count,
                calib.count, STATIQ_EXAMPLE_NAME_STRING, graph::num_nodes);

    const evaluation f = evaluate(model_ns::model, test);
    std::printf("float: accuracy %.2f %%, %.1f us/image, arena %zu B, weights %zu B\n", 100 * f.accuracy,
                f.us_per_image, statiq::arena_bytes_v<graph>, statiq::weight_bytes_v<graph>);

    // POT's DefaultQuantization with the `mixed` preset: u8 asymmetric activations, s8 per-channel weights,
    // min/max ranges averaged over the calibration samples.
    const auto t0 = std::chrono::steady_clock::now();
    statiq::calibration_options copt;
    copt.mode = statiq::preset::mixed;
    const auto stats =
        statiq::calibrate(model_ns::model, statiq::sample_view_for<decltype(model_ns::model)>(calib.images), copt);
    const auto ranges = statiq::ranges_of(stats);
    const auto t1 = std::chrono::steady_clock::now();
    statiq::quantize_report report;
    static const auto q = statiq::quantize_with_ranges<std::uint8_t>(model_ns::model, ranges, {}, &report);
    const auto t2 = std::chrono::steady_clock::now();
    using Q = std::remove_cvref_t<decltype(q)>;
    std::printf("calibration (min/max, %zu images): %.0f ms; quantization: %.0f ms\n", stats.samples,
                std::chrono::duration<double, std::milli>(t1 - t0).count(),
                std::chrono::duration<double, std::milli>(t2 - t1).count());
    std::printf("layer-wise quantization error on the calibration images, worst first:\n");
    statiq::print_layer_errors(stdout, statiq::layer_error_report(model_ns::model, q, std::span<const float>(calib.images)));

    const evaluation i8 = evaluate(q, test);
    std::size_t agree = 0;
    for (std::size_t i = 0; i < test.count; ++i) agree += f.predictions[i] == i8.predictions[i];
    std::printf("int8:  accuracy %.2f %%, %.1f us/image, arena %zu B, weights %zu B (predictions equal to float: %.2f %%)\n",
                100 * i8.accuracy, i8.us_per_image, statiq::arena_bytes_v<Q>, statiq::weight_bytes_v<Q>,
                100.0 * static_cast<double>(agree) / static_cast<double>(test.count));
    if (argc == 7) {
      statiq::io::bake(q, argv[5], STATIQ_EXAMPLE_NAME_STRING "_int8");
      // The calibrated ranges too, beside it: with the float model's header they let the compiler quantize
      // (constexpr_quantize.cpp checks that it produces this very model).
      const std::filesystem::path ranges_header =
          std::filesystem::path(argv[5]).parent_path() / (STATIQ_EXAMPLE_NAME_STRING "_ranges.hpp");
      statiq::io::bake_ranges(ranges, ranges_header, STATIQ_EXAMPLE_NAME_STRING "_ranges");
      std::ofstream p(argv[6], std::ios::binary | std::ios::trunc);
      p.write(reinterpret_cast<const char*>(i8.predictions.data()), static_cast<std::streamsize>(i8.predictions.size()));
      if (!p) throw std::runtime_error(std::string(argv[6]) + ": cannot write the predictions");
      std::printf("baked the INT8 model into %s (namespace %s_int8); predictions in %s\n", argv[5],
                  STATIQ_EXAMPLE_NAME_STRING, argv[6]);
    }
    std::printf("{\"float_accuracy\": %.4f, \"int8_accuracy\": %.4f, \"float_us_per_image\": %.2f, "
                "\"int8_us_per_image\": %.2f, \"arena_bytes\": {\"float\": %zu, \"int8\": %zu}, "
                "\"weight_bytes\": {\"float\": %zu, \"int8\": %zu}}\n",
                f.accuracy, i8.accuracy, f.us_per_image, i8.us_per_image, statiq::arena_bytes_v<graph>,
                statiq::arena_bytes_v<Q>, statiq::weight_bytes_v<graph>, statiq::weight_bytes_v<Q>);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fmnist: %s\n", e.what());
    return 1;
  }
  return 0;
}
