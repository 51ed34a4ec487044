// The Fashion-MNIST CNN imported by statiq-import agrees with PyTorch on all 10,000 test images: same argmax
// everywhere and logits within 1e-4 (BatchNorm folded by the importer, by PyTorch's export, and with the
// weights loaded at run time from the external blob).
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

#include "fmnist_cnn.hpp"         // namespace fmnist        (fmnist_cnn.onnx: Conv+BatchNormalization)
#include "fmnist_cnn_ext.hpp"     // namespace fmnist_ext    (the same, --weights external)
#include "fmnist_cnn_fused.hpp"   // namespace fmnist_fused  (fmnist_cnn_fused.onnx: BN folded by PyTorch)

namespace {

constexpr std::size_t images = 10000, pixels = 28 * 28, classes = 10;

// t10k images normalised as the model expects: (pixel / 255 - 0.2860) / 0.3530, NCHW [10000][1][28][28].
std::vector<float> load_images() {
  gzFile f = gzopen(STATIQ_FMNIST_IMAGES, "rb");
  REQUIRE_MESSAGE(f != nullptr, "cannot open " STATIQ_FMNIST_IMAGES);
  std::vector<unsigned char> raw(16 + images * pixels);
  const int got = gzread(f, raw.data(), static_cast<unsigned>(raw.size()));
  gzclose(f);
  REQUIRE(got == static_cast<int>(raw.size()));
  std::vector<float> x(images * pixels);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (raw[16 + i] / 255.0f - 0.2860f) / 0.3530f;
  return x;
}

std::vector<float> load_floats(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot open " << path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<float> v(bytes.size() / sizeof(float));
  std::copy_n(bytes.data(), v.size() * sizeof(float), reinterpret_cast<char*>(v.data()));
  return v;
}

template <class M>
void check_against_pytorch(const char* what, const M& model) {
  static const std::vector<float> x = load_images();
  static const std::vector<float> want = load_floats(STATIQ_FMNIST_DIR "/fmnist_cnn_logits.f32");
  REQUIRE(want.size() == images * classes);
  std::vector<float> got(images * classes);
  auto arena = std::make_unique<statiq::arena_for<M>>();
  REQUIRE(statiq::run(model, std::span<const float>(x), std::span<float>(got), *arena) == statiq::status::ok);
  std::size_t argmax_diff = 0;
  double max_diff = 0;
  for (std::size_t i = 0; i < images; ++i) {
    const float* g = &got[i * classes];
    const float* w = &want[i * classes];
    argmax_diff += std::max_element(g, g + classes) - g != std::max_element(w, w + classes) - w;
    for (std::size_t c = 0; c < classes; ++c) max_diff = std::max(max_diff, double(std::fabs(g[c] - w[c])));
  }
  std::printf("fmnist %-28s: argmax differs on %zu of %zu images, max |logit diff| %.3g\n", what, argmax_diff, images,
              max_diff);
  CHECK(argmax_diff == 0);
  CHECK(max_diff <= 1e-4);
}

}  // namespace

TEST_CASE("statiq-import: fmnist_cnn.onnx (BatchNorm folded by the importer) agrees with PyTorch") {
  check_against_pytorch("fmnist_cnn.onnx", fmnist::model);
}

TEST_CASE("statiq-import: fmnist_cnn_fused.onnx agrees with PyTorch") {
  check_against_pytorch("fmnist_cnn_fused.onnx", fmnist_fused::model);
}

TEST_CASE("statiq-import: --weights external loads the same model at run time") {
  const std::vector<float> blob = load_floats(STATIQ_FMNIST_EXT_BIN);
  REQUIRE(blob.size() == fmnist_ext::weight_count);
  const auto model = fmnist_ext::make_model(std::span<const float, fmnist_ext::weight_count>(blob.data(), blob.size()));
  check_against_pytorch("fmnist_cnn.onnx (external)", model);
}
