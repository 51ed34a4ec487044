// statiq-import's preprocessing options (--mean-values, --scale-values, --reverse-input-channels, --input-type
// u8): the model imported with them, fed raw pixels, equals the model imported without them fed the pixels
// preprocessed by hand; and the Fashion-MNIST CNN taking u8 pixels, calibrated on u8 pixels and quantized, stays
// within 0.5 accuracy points of float on the 10,000 test images.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <statiq/calibrate/calibrate.hpp>
#include <statiq/transform/quantize.hpp>

#include "avgpool_nchw.hpp"      // namespace avgpool_nchw: statiq-import --layout nchw
#include "avgpool_pre.hpp"       // namespace avgpool_pre: the same with per-channel mean, scale, reversal, u8
#include "fmnist_cnn.hpp"        // namespace fmnist: fmnist_cnn.onnx as it is
#include "fmnist_cnn_u8.hpp"     // namespace fmnist_u8: --mean-values [72.93] --scale-values [90.015] --input-type u8

namespace {

constexpr std::size_t pixels = 28 * 28, classes = 10;

std::vector<std::uint8_t> gz_bytes(const std::string& path, std::size_t header, std::size_t n) {
  gzFile f = gzopen(path.c_str(), "rb");
  REQUIRE_MESSAGE(f != nullptr, "cannot open " << path);
  std::vector<std::uint8_t> raw(header + n);
  const int got = gzread(f, raw.data(), static_cast<unsigned>(raw.size()));
  gzclose(f);
  REQUIRE(got == static_cast<int>(raw.size()));
  return {raw.begin() + static_cast<std::ptrdiff_t>(header), raw.end()};
}

template <class M, class E>
std::vector<float> run_all(const M& model, const std::vector<E>& x) {
  using G = statiq::graph_of_t<M>;
  std::vector<float> y(x.size() / G::input_shape::size * G::output_shape::size);
  auto arena = std::make_unique<statiq::arena_for<M>>();
  REQUIRE(statiq::run(model, std::span<const E>(x), std::span<float>(y), *arena) == statiq::status::ok);
  return y;
}

double accuracy(const std::vector<float>& logits, const std::vector<std::uint8_t>& labels) {
  std::size_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const float* l = &logits[i * classes];
    correct += static_cast<std::size_t>(std::max_element(l, l + classes) - l) == labels[i];
  }
  return 100.0 * static_cast<double>(correct) / static_cast<double>(labels.size());
}

}  // namespace

TEST_CASE("statiq-import --mean-values --scale-values --input-type u8: raw pixels equal preprocessed floats") {
  static_assert(std::is_same_v<statiq::input_element_t<fmnist_u8::graph>, std::uint8_t>);
  static_assert(std::is_same_v<fmnist_u8::graph::layer_t<1>, statiq::ValuePadded<fmnist::graph::layer_t<1>>>);
  const auto raw = gz_bytes(STATIQ_FMNIST_DIR_DATA "/t10k-images-idx3-ubyte.gz", 16, 500 * pixels);
  std::vector<float> prepared(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) prepared[i] = (static_cast<float>(raw[i]) - 72.93f) / 90.015f;
  const auto want = run_all(fmnist::model, prepared);
  const auto got = run_all(fmnist_u8::model, raw);
  double worst = 0;
  std::size_t argmax_diff = 0;
  for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, double(std::fabs(got[i] - want[i])));
  for (std::size_t i = 0; i < want.size() / classes; ++i)
    argmax_diff += std::max_element(&got[i * classes], &got[i * classes] + classes) - &got[i * classes] !=
                   std::max_element(&want[i * classes], &want[i * classes] + classes) - &want[i * classes];
  MESSAGE("fmnist, 500 images: max |logit difference| " << worst);
  CHECK(worst <= 1e-3);
  CHECK(argmax_diff == 0);
}

TEST_CASE("statiq-import per-channel --mean-values/--scale-values with --reverse-input-channels (3 channels)") {
  // ONNX's AveragePool node test model: nothing to fold into, so a Preprocess layer after the input.
  static_assert(std::is_same_v<avgpool_pre::graph::layer_t<1>, statiq::Preprocess<true>>);
  constexpr std::size_t C = 3, HW = 32 * 32;
  std::vector<std::uint8_t> raw(2 * C * HW);
  std::uint32_t s = 7;
  for (auto& v : raw) v = static_cast<std::uint8_t>((s = s * 1664525u + 1013904223u) >> 24);
  const float mean[3] = {123.675f, 116.28f, 103.53f}, scale[3] = {58.395f, 57.12f, 57.375f};
  std::vector<float> prepared(raw.size());
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t p = 0; p < HW; ++p)
        prepared[(n * C + c) * HW + p] = (static_cast<float>(raw[(n * C + (C - 1 - c)) * HW + p]) - mean[c]) / scale[c];
  const auto want = run_all(avgpool_nchw::model, prepared);
  const auto got = run_all(avgpool_pre::model, raw);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(std::fabs(got[i] - want[i]) <= 1e-5f * (1 + std::fabs(want[i])));
}

TEST_CASE("Fashion-MNIST from u8 pixels: calibrated on u8, int8 within 0.5 accuracy points of float") {
  const auto calib = gz_bytes(STATIQ_FMNIST_DIR_DATA "/train-images-idx3-ubyte.gz", 16, 300 * pixels);
  const auto test = gz_bytes(STATIQ_FMNIST_DIR_DATA "/t10k-images-idx3-ubyte.gz", 16, 10000 * pixels);
  const auto labels = gz_bytes(STATIQ_FMNIST_DIR_DATA "/t10k-labels-idx1-ubyte.gz", 8, 10000);
  statiq::calibration_options o;
  o.mode = statiq::preset::mixed;
  o.progress = false;
  using M = decltype(fmnist_u8::model);
  const auto stats = statiq::calibrate(fmnist_u8::model, statiq::sample_view_for<M>(std::span<const std::uint8_t>(calib)), o);
  const auto ranges = statiq::ranges_of(stats);
  static const auto q = fmnist_u8::model | statiq::quantize<std::uint8_t>(ranges);
  using Q = std::remove_cvref_t<decltype(q)>;
  static_assert(Q::quantized[0] && Q::quantized[1], "u8 pixels go straight into the first int8 convolution");
  CHECK(q.q[0].scale == 1.0f);
  CHECK(q.q[0].zero_point == 0);
  const double float_acc = accuracy(run_all(fmnist_u8::model, test), labels);
  const double int8_acc = accuracy(run_all(q, test), labels);
  MESSAGE("Fashion-MNIST from u8 pixels: float " << float_acc << " %, int8 " << int8_acc << " %");
  CHECK(float_acc > 85.0);
  CHECK(std::fabs(int8_acc - float_acc) <= 0.5);
}
