// The QDQ Fashion-MNIST CNN (fmnist_cnn_qdq.onnx: ONNX Runtime's quantize_static layout, u8 activations, s8
// per-channel weights) imported by statiq-import as an int8 model with the file's own scales: its accuracy on the
// 10,000 test images within 0.5 pt of the float model, and its logits within 1 LSB of the output scale of a numpy
// evaluation of the QDQ graph (tools/python/qdq_reference.py) on the first 300 images.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fmnist_cnn_qdq.hpp"  // namespace fmnist_qdq

namespace {

constexpr std::size_t images = 10000, pixels = 28 * 28, classes = 10, reference_images = 300;

std::vector<unsigned char> gunzip(const char* path, std::size_t bytes) {
  gzFile f = gzopen(path, "rb");
  REQUIRE_MESSAGE(f != nullptr, "cannot open " << path);
  std::vector<unsigned char> raw(bytes);
  const int got = gzread(f, raw.data(), static_cast<unsigned>(raw.size()));
  gzclose(f);
  REQUIRE(got == static_cast<int>(raw.size()));
  return raw;
}

std::vector<float> load_floats(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot open " << path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<float> v(bytes.size() / sizeof(float));
  std::copy_n(bytes.data(), v.size() * sizeof(float), reinterpret_cast<char*>(v.data()));
  return v;
}

double accuracy(const std::vector<float>& logits, const std::vector<unsigned char>& labels) {
  std::size_t right = 0;
  for (std::size_t i = 0; i < images; ++i) {
    const float* y = &logits[i * classes];
    right += static_cast<std::size_t>(std::max_element(y, y + classes) - y) == labels[8 + i];
  }
  return 100.0 * double(right) / images;
}

}  // namespace

TEST_CASE("statiq-import: the QDQ Fashion-MNIST CNN runs in int8 with the file's scales") {
  using M = std::remove_cvref_t<decltype(fmnist_qdq::model)>;
  static_assert(statiq::is_quantized_model_v<M>);
  // Every compute node runs in int8; the scales are the file's (input: QuantizeLinear 'input_scale').
  for (std::size_t i = 0; i < M::num_nodes; ++i) CHECK(M::quantized[i]);
  CHECK(fmnist_qdq::model.q[0].scale == fmnist_qdq::quantization[0].scale);
  CHECK(fmnist_qdq::model.q[M::num_nodes - 1].zero_point == fmnist_qdq::quantization[M::num_nodes - 1].zero_point);

  const auto raw = gunzip(STATIQ_FMNIST_IMAGES, 16 + images * pixels);
  const auto labels = gunzip(STATIQ_FMNIST_LABELS, 8 + images);
  std::vector<float> x(images * pixels);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (raw[16 + i] / 255.0f - 0.2860f) / 0.3530f;
  std::vector<float> got(images * classes);
  auto arena = std::make_unique<statiq::arena_for<M>>();
  REQUIRE(statiq::run(fmnist_qdq::model, std::span<const float>(x), std::span<float>(got), *arena) == statiq::status::ok);

  const std::vector<float> float_logits = load_floats(STATIQ_FMNIST_DIR "/fmnist_cnn_logits.f32");
  REQUIRE(float_logits.size() == images * classes);
  const double acc_q = accuracy(got, labels), acc_f = accuracy(float_logits, labels);

  const std::vector<float> want = load_floats(STATIQ_FMNIST_DIR "/fmnist_cnn_qdq_logits.f32");
  REQUIRE(want.size() == reference_images * classes);
  const float lsb = fmnist_qdq::model.q[M::num_nodes - 1].scale;
  double worst = 0;
  std::size_t off_by_one = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double d = std::fabs(double(got[i]) - double(want[i])) / lsb;
    worst = std::max(worst, d);
    off_by_one += d > 0.5;
  }
  std::printf("fmnist QDQ int8: accuracy %.2f%% (float %.2f%%); against the numpy QDQ reference on %zu images: "
              "max %.3g LSB, %zu of %zu logits differ by 1 LSB\n",
              acc_q, acc_f, reference_images, worst, off_by_one, want.size());
  CHECK(std::fabs(acc_q - acc_f) <= 0.5);
  CHECK(worst <= 1.0 + 1e-3);
}
