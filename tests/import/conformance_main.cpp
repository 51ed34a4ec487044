// ONNX conformance runner: for each imported node test, reads test_data_set_0's input_0.pb, runs the statiq
// model, compares with output_0.pb as ONNX's backend test does (numpy allclose: |got - want| <= atol + rtol *
// |want|, rtol 1e-3, atol 1e-7, NaN equal to NaN) and prints one line per test: RESULT <name> pass|fail <detail>.
// Quantized tests: a u8/s8 input is fed dequantized with the model's input quantization (exact); a u8/s8 output
// is requantized with the model's output quantization and must agree within 1 LSB; an int32 output exactly; the
// float output of an int8 model (a QDQ source) within one output step.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "conformance_runner.hpp"
#include "onnx_tensor.hpp"

namespace conformance {
extern const entry* const all_entries;
extern const std::size_t all_entries_size;
}  // namespace conformance

namespace {
bool read_tensor(const std::string& path, statiq_import::tensor& t, std::string& err, bool integers_ok = false) {
  std::ifstream f(path, std::ios::binary);
  if (!f) { err = "cannot read " + path; return false; }
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  onnx::TensorProto p;
  if (!p.ParseFromString(bytes)) { err = "cannot parse " + path; return false; }
  try {
    t = statiq_import::decode_tensor(p);
  } catch (const std::exception& e) {
    err = e.what();
    return false;
  }
  if (!t.is_float && !integers_ok) { err = path + " is not a float tensor"; return false; }
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s TEST_ROOT...   (directories holding test_*/test_data_set_0)\n", argv[0]);
    return 2;
  }
  const double rtol = 1e-3, atol = 1e-7;  // onnx/backend/test/loader: ONNX's defaults for node tests
  int failed = 0;
  for (std::size_t k = 0; k < conformance::all_entries_size; ++k) {
    const auto& e = conformance::all_entries[k];
    std::string dir = std::string(argv[1]) + "/" + e.name + "/test_data_set_0/";
    for (int r = 1; r < argc; ++r) {
      const std::string d = std::string(argv[r]) + "/" + e.name + "/test_data_set_0/";
      if (std::ifstream(d + "input_0.pb").good()) dir = d;
    }
    statiq_import::tensor x, want;
    std::string err;
    const conformance::edges& io = e.io;
    if (!read_tensor(dir + "input_0.pb", x, err, io.input_quantized) ||
        !read_tensor(dir + "output_0.pb", want, err, io.output_quantized || io.output_integer)) {
      std::printf("RESULT %s fail %s\n", e.name, err.c_str());
      ++failed;
      continue;
    }
    if (!x.is_float) {  // the source's integers, dequantized: exact in float, quantized back exactly by the model
      if (!io.input_quantized) { std::printf("RESULT %s fail input_0 is not a float tensor\n", e.name); ++failed; continue; }
      for (auto q : x.i) x.f.push_back(static_cast<float>(q - io.input.zero_point) * io.input.scale);
    }
    std::vector<float> got;
    if (!e.run(x.f, got)) {
      std::printf("RESULT %s fail statiq::run rejected the input\n", e.name);
      ++failed;
      continue;
    }
    if (got.size() != want.size()) {
      std::printf("RESULT %s fail output has %zu values, expected %zu\n", e.name, got.size(), want.size());
      ++failed;
      continue;
    }
    if (!want.is_float) {  // integers: u8/s8 within 1 LSB, int32 exactly
      const long tol = io.output_quantized ? 1 : 0;
      std::size_t bad_q = 0, worst_q = 0;
      long worst_d = -1;
      for (std::size_t i = 0; i < got.size(); ++i) {
        const long g = io.output_quantized ? std::lround(got[i] / io.output.scale) + io.output.zero_point : std::lround(got[i]);
        const long d = std::labs(g - static_cast<long>(want.i[i]));
        if (d > tol) ++bad_q;
        if (d > worst_d) { worst_d = d; worst_q = i; }
      }
      if (bad_q)
        std::printf("RESULT %s fail %zu of %zu integers differ by more than %ld (worst at %zu: got %ld want %lld)\n", e.name,
                    bad_q, got.size(), tol, worst_q,
                    io.output_quantized ? std::lround(got[worst_q] / io.output.scale) + io.output.zero_point : std::lround(got[worst_q]),
                    static_cast<long long>(want.i[worst_q]));
      else
        std::printf("RESULT %s pass %zu %s, max difference %ld\n", e.name, got.size(),
                    io.output_quantized ? "quantized values (1 LSB allowed)" : "int32 values (exact)", worst_d);
      failed += bad_q != 0;
      continue;
    }
    std::size_t bad = 0, worst = 0;
    double worst_excess = -1;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double g = got[i], w = want.f[i];
      if (std::isnan(g) && std::isnan(w)) continue;
      // An int8 model (a QDQ source) may round its output one step away from ONNX's float evaluation.
      const double excess = std::fabs(g - w) - std::max(atol + rtol * std::fabs(w), io.output_lsb * 1.001);
      if (!(excess <= 0)) {
        ++bad;
        if (!(excess <= worst_excess)) { worst_excess = excess; worst = i; }
      }
    }
    if (bad) {
      std::printf("RESULT %s fail %zu of %zu values outside rtol %g atol %g (worst at %zu: got %.9g want %.9g)\n", e.name,
                  bad, got.size(), rtol, atol, worst, double(got[worst]), double(want.f[worst]));
      ++failed;
    } else {
      std::printf("RESULT %s pass %zu values\n", e.name, got.size());
    }
  }
  return failed ? 1 : 0;
}
