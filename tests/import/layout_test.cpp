// --layout: the same ONNX model imported for NCHW and for NHWC input buffers gives the same result, and the
// NCHW one matches ONNX's expected output (ONNX's AveragePool node test, a 3-channel [1, 3, 32, 32] input).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "avgpool_nchw.hpp"  // namespace avgpool_nchw: statiq-import --layout nchw
#include "avgpool_nhwc.hpp"  // namespace avgpool_nhwc: statiq-import --layout nhwc
#include "onnx_tensor.hpp"

namespace {
statiq_import::tensor load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot open " << path);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  onnx::TensorProto p;
  REQUIRE(p.ParseFromString(bytes));
  return statiq_import::decode_tensor(p);
}

template <class M>
std::vector<float> run(const M& model, const std::vector<float>& x, std::size_t out_size) {
  std::vector<float> y(out_size);
  auto arena = std::make_unique<statiq::arena_for<M>>();
  REQUIRE(statiq::run(model, std::span<const float>(x), std::span<float>(y), *arena) == statiq::status::ok);
  return y;
}
}  // namespace

TEST_CASE("statiq-import --layout nchw and --layout nhwc agree, and match ONNX") {
  const auto x = load(STATIQ_AVGPOOL_TEST_DIR "/test_data_set_0/input_0.pb");
  const auto want = load(STATIQ_AVGPOOL_TEST_DIR "/test_data_set_0/output_0.pb");
  REQUIRE(x.dims.size() == 4);
  const std::size_t C = x.dims[1], H = x.dims[2], W = x.dims[3];
  REQUIRE(C == 3);
  std::vector<float> nhwc(x.f.size());
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t h = 0; h < H; ++h)
      for (std::size_t w = 0; w < W; ++w) nhwc[(h * W + w) * C + c] = x.f[(c * H + h) * W + w];
  const auto a = run(avgpool_nchw::model, x.f, want.f.size());
  const auto b = run(avgpool_nhwc::model, nhwc, want.f.size());
  CHECK(a == b);
  static_assert(avgpool_nchw::output_channels_last);
  const std::size_t OH = avgpool_nchw::source_output_shape[1], OW = avgpool_nchw::source_output_shape[2];
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t h = 0; h < OH; ++h)
      for (std::size_t w = 0; w < OW; ++w) {
        const float got = a[(h * OW + w) * C + c], expect = want.f[(c * OH + h) * OW + w];
        REQUIRE(std::fabs(got - expect) <= 1e-7 + 1e-3 * std::fabs(expect));
      }
}
