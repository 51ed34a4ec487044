// protect(stats) on the reference Fashion-MNIST CNN (imported from tests/data/fmnist/fmnist_cnn.onnx at build
// time): the bounds are the calibrated min and max of each activation, and clean accuracy on the 10,000 test
// images is the same with protection as without, for the float and the INT8 model.
#include <doctest/doctest.h>

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <statiq/calibrate/calibrate.hpp>
#include <statiq/statiq.hpp>
#include <statiq/transform/protect.hpp>

#include "../calibrate/idx_images.hpp"
#include "fmnist_cnn.hpp"  // namespace fmnist (generated)

namespace {

using namespace statiq;
using M = std::remove_cvref_t<decltype(fmnist::model)>;
using G = graph_of_t<M>;

std::vector<std::uint8_t> read_idx_labels(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("cannot open " + path);
  unsigned char h[8];
  if (gzread(f, h, 8) != 8 || h[2] != 0x08 || h[3] != 0x01) {
    gzclose(f);
    throw std::runtime_error(path + ": not an idx1 unsigned-byte file");
  }
  const std::size_t n = std::size_t{h[4]} << 24 | std::size_t{h[5]} << 16 | std::size_t{h[6]} << 8 | h[7];
  std::vector<std::uint8_t> v(n);
  const int got = gzread(f, v.data(), static_cast<unsigned>(n));
  gzclose(f);
  if (got != static_cast<int>(n)) throw std::runtime_error(path + ": truncated idx data");
  return v;
}

// Correct predictions (argmax of the logits) over the whole test set, one image at a time.
template <class Model>
std::size_t correct(const Model& m, const std::vector<float>& x, const std::vector<std::uint8_t>& labels) {
  auto arena = std::make_unique<arena_for<Model>>();
  constexpr std::size_t in = G::input_shape::size, out = G::output_shape::size;
  std::size_t n = 0;
  float logits[out];
  for (std::size_t i = 0; i < labels.size(); ++i) {
    REQUIRE(run(m, std::span<const float>(x.data() + i * in, in), std::span<float>(logits), *arena) == status::ok);
    n += static_cast<std::size_t>(std::max_element(logits, logits + out) - logits) == labels[i];
  }
  return n;
}

}  // namespace

TEST_CASE("protect on the Fashion-MNIST CNN: calibrated bounds, clean accuracy unchanged (float and INT8)") {
  const auto train = statiq_test::read_idx_images(STATIQ_FMNIST_DIR "/train-images-idx3-ubyte.gz", 300);
  const auto test = statiq_test::read_idx_images(STATIQ_FMNIST_DIR "/t10k-images-idx3-ubyte.gz", 10000);
  const auto labels = read_idx_labels(STATIQ_FMNIST_DIR "/t10k-labels-idx1-ubyte.gz");
  REQUIRE(labels.size() == 10000);
  REQUIRE(test.size() == 10000 * G::input_shape::size);

  calibration_options o;
  o.progress = false;
  o.mode = preset::mixed;
  const auto stats = calibrate(fmnist::model, sample_view_for<M>(std::span<const float>(train)), o);
  static const auto pm = fmnist::model | protect(stats);
  using P = graph_of_t<decltype(pm)>;

  // Every activation is protected, with its calibrated min and max (clipped to the activation's own range).
  std::size_t protected_nodes = 0;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using L = typename P::template layer_t<I>;
          CHECK(is_clamp_v<typename G::template layer_t<I>> == is_protected_v<L>);
          if constexpr (is_protected_v<L>) {
            ++protected_nodes;
            CAPTURE(I);
            CHECK(pm.template param<I, 0>()[0] == std::max(stats[I].min, L::activation::lo));
            CHECK(pm.template param<I, 0>()[1] == std::min(stats[I].max, L::activation::hi));
            CHECK(pm.template param<I, 0>()[1] > 0.0f);
          }
        }(),
        ...);
  }(std::make_index_sequence<P::num_nodes>{});
  CHECK(protected_nodes >= 3);  // the CNN's three ReLUs

  const std::size_t f = correct(fmnist::model, test, labels);
  const std::size_t pf = correct(pm, test, labels);
  MESSAGE("float: " << f << " / 10000 correct, protected " << pf);
  CHECK(f > 8500);
  CHECK(pf == f);

  const auto ranges = ranges_of(stats);
  static const auto q = quantize(ranges)(fmnist::model);
  static const auto pq = quantize(ranges)(pm);
  const std::size_t qi = correct(q, test, labels);
  const std::size_t pqi = correct(pq, test, labels);
  MESSAGE("int8:  " << qi << " / 10000 correct, protected " << pqi);
  CHECK(qi > 8500);
  CHECK(pqi == qi);
}
