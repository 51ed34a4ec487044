// onnx_tensor: an ONNX TensorProto decoded into dims plus float or int64 values (shared by statiq-import and
// the ONNX conformance runner).
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace statiq_import {

struct tensor {
  std::vector<std::int64_t> dims;
  bool is_float = true;             // float32 data in f; otherwise integer data in i (int64/int32/bool/...)
  std::int32_t data_type = 0;       // the ONNX element type it was decoded from (TensorProto::DataType; 0: unknown)
  std::vector<float> f;
  std::vector<std::int64_t> i;

  std::int64_t count() const {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
  }
  std::size_t size() const { return is_float ? f.size() : i.size(); }
  double at(std::size_t k) const { return is_float ? double(f[k]) : double(i[k]); }
};

// Throws std::runtime_error with a reason when the tensor cannot be decoded.
inline tensor decode_tensor(const onnx::TensorProto& t) {
  tensor out;
  std::int64_t n = 1;
  for (auto d : t.dims()) {
    if (d < 0) throw std::runtime_error("tensor '" + t.name() + "' has a negative dimension");
    if (d != 0 && n > (std::int64_t{1} << 40) / d) throw std::runtime_error("tensor '" + t.name() + "' is too large");
    out.dims.push_back(d);
    n *= d;
  }
  if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
    throw std::runtime_error("tensor '" + t.name() + "' stores its data in an external file (not supported)");
  const std::string& raw = t.raw_data();
  const bool has_raw = t.has_raw_data();
  auto check = [&](std::size_t got) {
    if (got != static_cast<std::size_t>(n))
      throw std::runtime_error("tensor '" + t.name() + "' holds " + std::to_string(got) + " values for " +
                               std::to_string(n) + " elements");
  };
  auto raw_as = [&]<class T>(T) {
    if (raw.size() % sizeof(T) != 0) throw std::runtime_error("tensor '" + t.name() + "' has truncated raw data");
    std::vector<T> v(raw.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), raw.data(), raw.size());  // little-endian host, as ONNX stores it
    return v;
  };
  out.data_type = t.data_type();
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: {
      out.is_float = true;
      if (has_raw) out.f = raw_as(float{});
      else out.f.assign(t.float_data().begin(), t.float_data().end());
      check(out.f.size());
      break;
    }
    case onnx::TensorProto::DOUBLE: {
      out.is_float = true;
      std::vector<double> d = has_raw ? raw_as(double{}) : std::vector<double>(t.double_data().begin(), t.double_data().end());
      out.f.assign(d.begin(), d.end());
      check(out.f.size());
      break;
    }
    case onnx::TensorProto::INT64: {
      out.is_float = false;
      if (has_raw) out.i = raw_as(std::int64_t{});
      else out.i.assign(t.int64_data().begin(), t.int64_data().end());
      check(out.i.size());
      break;
    }
    case onnx::TensorProto::INT32: case onnx::TensorProto::INT16: case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8: case onnx::TensorProto::UINT16: case onnx::TensorProto::BOOL: {
      out.is_float = false;
      if (has_raw) {
        const auto dt = t.data_type();
        const std::size_t w = dt == onnx::TensorProto::INT32 ? 4 : (dt == onnx::TensorProto::INT16 || dt == onnx::TensorProto::UINT16) ? 2 : 1;
        if (raw.size() % w != 0) throw std::runtime_error("tensor '" + t.name() + "' has truncated raw data");
        for (std::size_t k = 0; k < raw.size(); k += w) {
          std::int64_t v = 0;
          if (dt == onnx::TensorProto::INT32) { std::int32_t x; std::memcpy(&x, raw.data() + k, 4); v = x; }
          else if (dt == onnx::TensorProto::INT16) { std::int16_t x; std::memcpy(&x, raw.data() + k, 2); v = x; }
          else if (dt == onnx::TensorProto::UINT16) { std::uint16_t x; std::memcpy(&x, raw.data() + k, 2); v = x; }
          else if (dt == onnx::TensorProto::INT8) v = static_cast<std::int8_t>(raw[k]);
          else v = static_cast<std::uint8_t>(raw[k]);
          out.i.push_back(v);
        }
      } else {
        out.i.assign(t.int32_data().begin(), t.int32_data().end());
      }
      check(out.i.size());
      break;
    }
    default:
      throw std::runtime_error("tensor '" + t.name() + "' has data type " +
                               onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(t.data_type())) +
                               " (supported: FLOAT, DOUBLE and integer types)");
  }
  return out;
}

}  // namespace statiq_import
