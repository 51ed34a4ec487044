// bake(model, path, name): writes a header that holds a quantized model's final type and its constexpr data
// (int8 weights pre-packed for the kernels, s32 biases, multipliers, shifts and zero points), so a deploy
// build includes only that header and <statiq/statiq.hpp>: no float weights of quantized layers, no
// calibration code, no allocation.
#pragma once

#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "statiq/exec/quantized.hpp"
#include "statiq/io/type_name.hpp"
#include "statiq/transform/quantize.hpp"

namespace statiq::io {

class bake_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

inline void put_float(std::ostream& o, float v) {
  if (std::isnan(v)) {
    o << "std::numeric_limits<float>::quiet_NaN()";
  } else if (std::isinf(v)) {
    o << (v < 0 ? "-" : "") << "std::numeric_limits<float>::infinity()";
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
    o << buf;
    if (std::string_view(buf).find_first_of(".eE") == std::string_view::npos) o << ".0";
    o << 'f';
  }
}

template <class Range, class Put>
void put_array(std::ostream& o, const char* indent, const Range& a, Put put, std::size_t per_line = 16) {
  o << "{{";
  const std::size_t n = std::size(a);
  for (std::size_t i = 0; i < n; ++i) {
    if (i % per_line == 0) o << '\n' << indent;
    put(o, a[i]);
    o << (i + 1 < n ? ", " : "");
  }
  o << "}}";
}

inline void put_multiplier(std::ostream& o, const kernels::ref::requant_multiplier& m) {
  o << '{' << m.multiplier << ", " << m.shift << '}';
}

// Writes `text` to `path` atomically: a temporary beside it, then a rename. On failure nothing is left
// behind and a bake_error names `who`, the file and the reason.
inline void write_atomically(const std::filesystem::path& path, const std::string& text, const char* who) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw bake_error(std::string(who) + ": cannot write " + tmp.string());
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.close();
    if (!f) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw bake_error(std::string(who) + ": writing " + tmp.string() + " failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw bake_error(std::string(who) + ": cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
  }
}

inline void check_namespace_name(const std::string& name, const char* who) {
  bool ok = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok) throw bake_error(std::string(who) + ": '" + name + "' is not a C++ namespace name");
}

}  // namespace detail

// Writes `path` atomically (a temporary beside it, then a rename): on failure nothing is left behind and
// a bake_error names the file and the reason. A model whose precision was chosen at run time
// (dynamic_mask, e.g. from accuracy_aware) is written with that choice fixed in its type; only the data the
// chosen precision uses is written (no float weights for int8 nodes).
template <class G, class T, class Mask>
void bake(const Quantized<G, T, Mask>& m, const std::filesystem::path& path, const std::string& name) {
  using Q = Quantized<G, T, Mask>;
  constexpr std::size_t N = G::num_nodes;
  detail::check_namespace_name(name, "statiq::io::bake");

  // The baked model's mask and layout, and its data gathered node by node from this model's layout.
  const std::array<bool, N> mask = Q::dynamic ? m.enabled : Q::quantized;
  const auto to = statiq::detail::layout_for<G>(mask, false);
  const auto& from = Q::offsets;
  std::vector<std::uint8_t> bytes(to.n_bytes);
  std::vector<std::int32_t> ints(to.n_ints);
  std::vector<kernels::ref::requant_multiplier> mults(to.n_mults);
  std::vector<kernels::qadd_params> adds(to.n_adds);
  std::vector<float> floats(to.n_floats);
  for (std::size_t i = 0; i < N; ++i) {
    std::copy_n(m.bytes.begin() + static_cast<std::ptrdiff_t>(from.bytes[i]), to.n_bytes_of[i], bytes.begin() + static_cast<std::ptrdiff_t>(to.bytes[i]));
    std::copy_n(m.ints.begin() + static_cast<std::ptrdiff_t>(from.ints[i]), to.n_ints_of[i], ints.begin() + static_cast<std::ptrdiff_t>(to.ints[i]));
    std::copy_n(m.mults.begin() + static_cast<std::ptrdiff_t>(from.mults[i]), to.n_mults_of[i], mults.begin() + static_cast<std::ptrdiff_t>(to.mults[i]));
    std::copy_n(m.adds.begin() + static_cast<std::ptrdiff_t>(from.adds[i]), to.n_adds_of[i], adds.begin() + static_cast<std::ptrdiff_t>(to.adds[i]));
    std::copy_n(m.floats.begin() + static_cast<std::ptrdiff_t>(from.floats[i]), to.n_floats_of[i], floats.begin() + static_cast<std::ptrdiff_t>(to.floats[i]));
  }
  std::string mask_type = "std::integer_sequence<bool";
  for (bool b : mask) mask_type += b ? ", true" : ", false";
  mask_type += ">";
  const std::size_t data_bytes = bytes.size() + 4 * ints.size() + sizeof(kernels::ref::requant_multiplier) * mults.size() +
                                 sizeof(kernels::qadd_params) * adds.size() + 4 * floats.size() + N * (sizeof(tensor_quant) + 8);

  std::ostringstream o;
  o << "// " << name << ": a quantized statiq model baked by statiq::io::bake. Do not edit.\n"
    << "// " << (std::is_same_v<T, std::uint8_t> ? "u8 asymmetric" : "s8 symmetric") << " activations, "
    << "s8 per-channel weights pre-packed; " << data_bytes << " bytes of model data.\n"
    << "#pragma once\n\n#include <array>\n#include <cstdint>\n#include <limits>\n#include <ratio>\n#include <utility>\n\n"
    << "#include <statiq/statiq.hpp>\n\n"
    << "static_assert(statiq::kernels::baked_with_layout<" << kernels::gemm_layout_version << ">::ok);\n\n"
    << "namespace " << name << " {\n\n"
    << "using graph = " << type_name<G>() << ";\n"
    << "using model_type = statiq::Quantized<graph, " << type_name<T>() << ", " << mask_type << ">;\n\n"
    << "inline constexpr model_type model{\n";
  const char* in = "    ";
  o << "  // q: scale and zero point of every node's output\n  ";
  detail::put_array(o, in, m.q, [](std::ostream& s, const tensor_quant& t) {
    s << '{';
    detail::put_float(s, t.scale);
    s << ", " << t.zero_point << '}';
  }, 4);
  o << ",\n  // lo, hi: output clamps in quantized units\n  ";
  detail::put_array(o, in, m.lo, [](std::ostream& s, std::int32_t v) { s << v; });
  o << ",\n  ";
  detail::put_array(o, in, m.hi, [](std::ostream& s, std::int32_t v) { s << v; });
  o << ",\n  // bytes: packed int8 weights (GEMM blobs with folded biases and multipliers; depthwise weights)\n  ";
  detail::put_array(o, in, bytes, [](std::ostream& s, std::uint8_t v) { s << static_cast<unsigned>(v); }, 32);
  o << ",\n  // ints: depthwise biases\n  ";
  detail::put_array(o, in, ints, [](std::ostream& s, std::int32_t v) { s << v; });
  o << ",\n  // mults: depthwise requantization multipliers {Q31 mantissa, right shift}\n  ";
  detail::put_array(o, in, mults, detail::put_multiplier, 6);
  o << ",\n  // adds: quantized Add parameters\n  ";
  detail::put_array(o, in, adds, [](std::ostream& s, const kernels::qadd_params& p) {
    s << '{' << p.a_zero_point << ", " << p.b_zero_point << ", " << p.y_zero_point << ", ";
    detail::put_multiplier(s, p.a_multiplier);
    s << ", ";
    detail::put_multiplier(s, p.b_multiplier);
    s << ", ";
    detail::put_multiplier(s, p.y_multiplier);
    s << ", " << p.lo << ", " << p.hi << '}';
  }, 1);
  o << ",\n  // floats: parameters of the nodes kept in float\n  ";
  detail::put_array(o, in, floats, [](std::ostream& s, float v) { detail::put_float(s, v); }, 8);
  o << "};\n\n}  // namespace " << name << "\n";

  detail::write_atomically(path, o.str(), "statiq::io::bake");
}

// bake_ranges(ranges, path, name): writes the calibrated activation ranges of a model as a header,
// `namespace name { inline constexpr std::array<statiq::value_range, N> ranges{...}; }`, with every float
// written so it reads back bit for bit. With the float model's header, it lets the compiler quantize:
// `constexpr auto q = statiq::quantize_with_ranges<std::uint8_t>(model, name::ranges);` (see
// examples/fmnist/constexpr_quantize.cpp). Atomic like bake().
inline void bake_ranges(std::span<const value_range> ranges, const std::filesystem::path& path, const std::string& name) {
  detail::check_namespace_name(name, "statiq::io::bake_ranges");
  std::ostringstream o;
  o << "// " << name << ": calibrated activation ranges written by statiq::io::bake_ranges. Do not edit.\n"
    << "#pragma once\n\n#include <array>\n#include <limits>\n\n#include <statiq/transform/quantize.hpp>\n\n"
    << "namespace " << name << " {\n\n"
    << "// lo, hi of every node's output\n"
    << "inline constexpr std::array<statiq::value_range, " << ranges.size() << "> ranges";
  detail::put_array(o, "  ", ranges, [](std::ostream& s, const value_range& r) {
    s << '{';
    detail::put_float(s, r.lo);
    s << ", ";
    detail::put_float(s, r.hi);
    s << '}';
  }, 4);
  o << ";\n\n}  // namespace " << name << "\n";
  detail::write_atomically(path, o.str(), "statiq::io::bake_ranges");
}

}  // namespace statiq::io
