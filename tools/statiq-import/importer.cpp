// statiq-import: ONNX (NCHW, opset 11-17) -> a statiq::Graph type (channels-last) plus its parameters.
//
// The conversion walks the ONNX graph once in its (topological) order. Every ONNX value is either a constant
// (initializers, Constant, and whatever is computed from constants only: the Shape -> Gather -> Unsqueeze ->
// Concat chains PyTorch emits for view/flatten are folded here) or a run-time tensor produced by a statiq node.
// A run-time tensor keeps its ONNX shape (batch first) and how its per-sample elements sit in statiq's buffer:
// channels-last for 4-D tensors, or, after a Flatten/Reshape of an NCHW tensor, an explicit permutation that a
// following Dense absorbs into its weight columns (only where nothing absorbs it is a permutation materialised).
#include "importer.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include <onnx/onnx_pb.h>

#include "onnx_tensor.hpp"

namespace statiq_import {
namespace {

using i64 = std::int64_t;
using shape_t = std::vector<i64>;

// A dynamic batch extent inside folded shape arithmetic (Shape of a tensor whose batch is not fixed).
constexpr i64 batch_marker = INT64_MIN + 7;
constexpr i64 max_permutation = 4096;  // a materialised layout change costs n*n weights
constexpr i64 max_elements = i64{1} << 24;  // per-sample elements of a run-time tensor

std::string display_name(const onnx::NodeProto& n) {
  if (!n.name().empty()) return n.name();
  if (n.output_size() > 0) return n.output(0);
  return n.op_type();
}

std::string join(const shape_t& s, const char* sep = ", ") {
  std::string r;
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (k) r += sep;
    r += s[k] == -1 ? std::string("N") : std::to_string(s[k]);
  }
  return r;
}
// A list of integers as given (a Reshape target: -1 is -1, not the run-time batch).
std::string ints_str(const std::vector<i64>& v) {
  std::string r = "[";
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (k) r += ", ";
    r += v[k] == batch_marker ? std::string("N") : std::to_string(v[k]);
  }
  r += ']';
  return r;
}

std::string shape_str(const shape_t& s) {
  std::string r = "[";
  r += join(s);
  r += ']';
  return r;
}

i64 product(const shape_t& s, std::size_t from = 0, std::size_t to = SIZE_MAX) {
  i64 n = 1;
  for (std::size_t k = from; k < s.size() && k < to; ++k) {
    if (s[k] > 0 && n > INT64_MAX / s[k]) return INT64_MAX;  // saturate: callers reject it as too large
    n *= s[k];
  }
  return n;
}

// Exact float -> std::ratio text (a float is m * 2^e). Magnitudes beyond what intmax_t holds saturate to
// +-INTMAX_MAX (~9.2e18: an unbounded Clip side); tiny magnitudes round to a 2^-62 grid.
std::string ratio_of(float f) {
  if (std::isnan(f)) throw std::runtime_error("NaN bound");
  if (std::isinf(f) || std::fabs(f) >= 4.0e18f) return f < 0 ? "std::ratio<-INTMAX_MAX>" : "std::ratio<INTMAX_MAX>";
  if (f == 0.0f) return "std::ratio<0>";
  int e = 0;
  const double m = std::frexp(double(f), &e);  // f = m * 2^e, 0.5 <= |m| < 1
  i64 num = static_cast<i64>(std::ldexp(m, 24));
  e -= 24;
  while (num % 2 == 0 && e < 0) { num /= 2; ++e; }
  if (e >= 0) return "std::ratio<" + std::to_string(num << e) + ">";
  if (e < -62) {
    num = static_cast<i64>(std::llround(std::ldexp(double(f), 62)));
    e = -62;
    if (num == 0) return "std::ratio<0>";
  }
  return "std::ratio<" + std::to_string(num) + ", " + std::to_string(i64{1} << (-e)) + ">";
}

std::string float_literal(float f) {
  if (std::isnan(f)) return "std::numeric_limits<float>::quiet_NaN()";
  if (std::isinf(f)) return f < 0 ? "-std::numeric_limits<float>::infinity()" : "std::numeric_limits<float>::infinity()";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f);  // shortest text that reads back as exactly f
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".";
  return s + "f";
}

std::string identifier(std::string s) {
  for (auto& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  std::string r;
  for (char ch : s)
    if (!(ch == '_' && (r.empty() || r.back() == '_'))) r += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  while (!r.empty() && r.back() == '_') r.pop_back();
  if (r.empty() || std::isdigit(static_cast<unsigned char>(r[0]))) r = "p_" + r;
  return r;
}

// Parameter name stem for a node: its sanitized name without a trailing op type ("/conv1/Conv" -> "conv1").
std::string base_name(const onnx::NodeProto& n, std::size_t index) {
  if (n.name().empty()) return identifier(n.op_type()) + std::to_string(index);
  std::string b = identifier(n.name());
  const std::string tail = "_" + identifier(n.op_type());
  if (b.size() > tail.size() && b.compare(b.size() - tail.size(), tail.size(), tail) == 0) b.resize(b.size() - tail.size());
  return b;
}

struct value {
  bool is_const = false;
  tensor c;
  shape_t shape;           // run-time tensor: ONNX shape, batch first (-1: chosen at run time)
  int node = -1;           // statiq node producing it
  std::vector<i64> perm;   // statiq per-sample position -> ONNX per-sample flat index; empty: canonical
  std::array<i64, 4> pad{};  // a zero Pad (top, left, bottom, right) not yet applied: only a Conv absorbs it
  bool quantized = false;    // run-time u8/s8 integers (a QuantizeLinear output, a u8/s8 graph input)
  std::int32_t qtype = 0;    // their ONNX element type (UINT8 or INT8)
  bool integer = false;      // int32 results of ConvInteger/MatMulInteger, held exactly in float
  std::vector<float> grid;   // constant from a DequantizeLinear: the int8 grid scale of each slice along grid_axis
  i64 grid_axis = -1;        // -1: one grid scale for the whole tensor
};

struct snode {
  std::string layer;                       // C++ type of the layer
  std::string kind;                        // Conv2d, Dense, ...
  std::vector<int> inputs;                 // statiq node indices
  shape_t shape;                           // statiq per-sample output shape
  std::vector<std::vector<float>> params;  // parameter arrays in the layer's order
  std::vector<std::string> suffix;         // parameter name suffixes
  std::string base;                        // parameter name stem
  std::string onnx_value;                  // ONNX value this node's output currently is (folding checks)
  std::string origin;                      // ONNX node(s) it comes from
  bool has_q = false;                      // output quantization fixed by the source (QuantizeLinear, QLinear*)
  float q_scale = 1.0f;
  i64 q_zp = 0;
  std::vector<float> wscale;               // Conv2d/Dense: the source's int8 weight grid, one scale per output channel
};

shape_t per_sample(const shape_t& s) { return shape_t(s.begin() + 1, s.end()); }

// statiq's per-sample shape for an ONNX per-sample shape: (C, H, W) becomes (H, W, C); others keep their order.
shape_t statiq_shape_of(const shape_t& ps) {
  if (ps.size() == 3) return {ps[1], ps[2], ps[0]};
  if (ps.empty()) return {1};  // a rank-1 ONNX tensor [N]: N samples of one element
  return ps;
}

std::vector<i64> canonical_perm(const shape_t& ps) {
  const i64 n = product(ps);
  std::vector<i64> p(static_cast<std::size_t>(n));
  if (ps.size() == 3) {
    const i64 C = ps[0], H = ps[1], W = ps[2];
    std::size_t k = 0;
    for (i64 h = 0; h < H; ++h)
      for (i64 w = 0; w < W; ++w)
        for (i64 c = 0; c < C; ++c) p[k++] = c * H * W + h * W + w;
  } else {
    std::iota(p.begin(), p.end(), i64{0});
  }
  return p;
}

std::string shape_type(const shape_t& s) { return "statiq::Shape<" + join(s) + ">"; }

struct window {
  i64 k, s, d, pb, pe, out;
};
// ONNX's sliding-window geometry along one axis (auto_pad resolved to explicit pads).
window make_window(i64 in, i64 k, i64 s, i64 d, i64 pb, i64 pe, const std::string& auto_pad, bool ceil_mode) {
  window w{k, s, d, pb, pe, 0};
  const i64 span = d * (k - 1) + 1;
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const i64 out = (in + s - 1) / s;
    const i64 total = std::max<i64>(0, (out - 1) * s + span - in);
    w.pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    w.pe = total - w.pb;
  } else if (auto_pad == "VALID") {
    w.pb = w.pe = 0;
  }
  const i64 padded = in + w.pb + w.pe;
  if (padded < span) return w;
  const i64 num = padded - span;
  w.out = (ceil_mode ? (num + s - 1) / s : num / s) + 1;
  if (ceil_mode && (w.out - 1) * s >= in + w.pb) --w.out;
  return w;
}

class converter {
 public:
  converter(const onnx::ModelProto& m, const options& o) : model_(m), opt_(o) {}
  result run();

 private:
  const onnx::ModelProto& model_;
  const options& opt_;
  int opset_ = 0;
  std::map<std::string, value> values_;
  std::map<std::string, int> uses_;
  std::vector<snode> nodes_;
  const onnx::NodeProto* cur_ = nullptr;
  std::string input_name_, output_name_;
  shape_t input_shape_;
  bool input_nhwc_ = false;
  bool output_onnx_order_ = false;  // the ONNX input is [N, H, W, C], transposed to NCHW inside (TensorFlow exports)
  std::int32_t act_type_ = 0;       // element type of the quantized activations (UINT8 or INT8; 0: none yet)
  std::int32_t input_type_ = onnx::TensorProto::FLOAT;
  bool integer_ops_ = false;        // ConvInteger/MatMulInteger: a float model over zero-point-shifted integers

  [[noreturn]] void fail(const std::string& why) const {
    if (cur_) throw import_error(display_name(*cur_), cur_->op_type(), why);
    throw import_error("", "", why);
  }

  // ---- attributes ----
  const onnx::AttributeProto* attr(const char* name) const {
    for (const auto& a : cur_->attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  void allow_attrs(std::initializer_list<const char*> ok) const {
    for (const auto& a : cur_->attribute()) {
      bool known = false;
      for (const char* k : ok) known = known || a.name() == k;
      if (!known) fail("attribute '" + a.name() + "' is not supported");
    }
  }
  i64 attr_i(const char* name, i64 def) const {
    auto* a = attr(name);
    if (!a) return def;
    if (a->type() != onnx::AttributeProto::INT) fail("attribute '" + std::string(name) + "' must be an int");
    return a->i();
  }
  float attr_f(const char* name, float def) const {
    auto* a = attr(name);
    if (!a) return def;
    if (a->type() != onnx::AttributeProto::FLOAT) fail("attribute '" + std::string(name) + "' must be a float");
    return a->f();
  }
  std::string attr_s(const char* name, const std::string& def) const {
    auto* a = attr(name);
    if (!a) return def;
    if (a->type() != onnx::AttributeProto::STRING) fail("attribute '" + std::string(name) + "' must be a string");
    return a->s();
  }
  std::vector<i64> attr_ints(const char* name, std::vector<i64> def) const {
    auto* a = attr(name);
    if (!a) return def;
    if (a->type() != onnx::AttributeProto::INTS) fail("attribute '" + std::string(name) + "' must be a list of ints");
    return {a->ints().begin(), a->ints().end()};
  }

  // ---- inputs ----
  bool has_in(int k) const { return k < cur_->input_size() && !cur_->input(k).empty(); }
  value& in(int k) {
    if (!has_in(k)) fail("input " + std::to_string(k) + " is missing");
    auto it = values_.find(cur_->input(k));
    if (it == values_.end()) fail("input '" + cur_->input(k) + "' is not produced by any node, input or initializer");
    if (!it->second.is_const && it->second.pad != std::array<i64, 4>{} && cur_->op_type() != "Conv")
      fail("input '" + cur_->input(k) + "' comes from a Pad; statiq folds a zero Pad into a following Conv only");
    if (it->second.quantized && !reads_quantized(cur_->op_type()))
      fail("input '" + cur_->input(k) + "' holds quantized integers (a QuantizeLinear output or a u8/s8 graph input); "
           "statiq reads them through DequantizeLinear, QLinearConv, QLinearMatMul, ConvInteger or MatMulInteger");
    return it->second;
  }
  const tensor& const_in(int k, const char* what) {
    value& v = in(k);
    if (!v.is_const) fail(std::string(what) + " (input '" + cur_->input(k) + "') must be a constant");
    return v.c;
  }
  const std::vector<float>& const_float(int k, const char* what) {
    const tensor& t = const_in(k, what);
    if (!t.is_float) fail(std::string(what) + " (input '" + cur_->input(k) + "') must be a float tensor");
    return t.f;
  }
  value& dyn_in(int k) {
    value& v = in(k);
    if (v.is_const) fail("input '" + cur_->input(k) + "' is a constant: a run-time tensor is expected here");
    if (v.pad != std::array<i64, 4>{} && cur_->op_type() != "Conv")
      fail("input '" + cur_->input(k) + "' comes from a Pad; statiq folds a zero Pad into a following Conv only");
    return v;
  }
  bool output_live(int k) const { return k < cur_->output_size() && !cur_->output(k).empty() && uses_.count(cur_->output(k)); }
  void only_first_output(const char* what) const {
    for (int k = 1; k < cur_->output_size(); ++k)
      if (output_live(k)) fail(std::string("output ") + std::to_string(k) + " (" + what + ") is not supported");
  }
  void set_out(const value& v, int k = 0) { values_[cur_->output(k)] = v; }

  // ---- statiq nodes ----
  int add_node(snode n) {
    n.origin = cur_ ? display_name(*cur_) : std::string("input");
    if (n.base.empty()) n.base = cur_ ? base_name(*cur_, nodes_.size()) : "input";
    nodes_.push_back(std::move(n));
    return static_cast<int>(nodes_.size()) - 1;
  }
  value dyn_value(const shape_t& onnx_shape, int node) {
    i64 n = 1;
    for (std::size_t k = 1; k < onnx_shape.size(); ++k) {
      if (onnx_shape[k] <= 0 || onnx_shape[k] > max_elements || n * onnx_shape[k] > max_elements)
        fail("tensor " + shape_str(onnx_shape) + " is empty or holds more than " + std::to_string(max_elements) + " elements per sample");
      n *= onnx_shape[k];
    }
    value v;
    v.shape = onnx_shape;
    v.node = node;
    return v;
  }
  std::vector<i64> perm_of(const value& v) const { return v.perm.empty() ? canonical_perm(per_sample(v.shape)) : v.perm; }
  bool is_canonical(const value& v) const { return v.perm.empty() || v.perm == canonical_perm(per_sample(v.shape)); }
  // Materialises a pending layout permutation: a Dense<n> whose weights are a permutation matrix (exact).
  void canon(value& v) {
    if (is_canonical(v)) { v.perm.clear(); return; }
    const shape_t ps = per_sample(v.shape);
    const i64 n = product(ps);
    if (n > max_permutation)
      fail("a " + std::to_string(n) + "-element tensor" +
           " would need an element permutation from channels-last to ONNX order (supported up to " +
           std::to_string(max_permutation) + " elements)");
    const std::vector<i64> want = canonical_perm(ps);
    std::vector<i64> where(static_cast<std::size_t>(n));
    for (i64 p = 0; p < n; ++p) where[static_cast<std::size_t>(v.perm[p])] = p;
    snode d;
    int src = v.node;
    if (nodes_[src].shape.size() != 1) {
      snode f;
      f.kind = "Flatten";
      f.layer = "statiq::Flatten";
      f.inputs = {src};
      f.shape = {n};
      src = add_node(std::move(f));
    }
    d.kind = "Dense";
    d.layer = "statiq::Dense<" + std::to_string(n) + ">";
    d.inputs = {src};
    d.shape = {n};
    std::vector<float> w(static_cast<std::size_t>(n * n), 0.0f);
    for (i64 q = 0; q < n; ++q) w[static_cast<std::size_t>(q * n + where[static_cast<std::size_t>(want[q])])] = 1.0f;
    d.params = {std::move(w), std::vector<float>(static_cast<std::size_t>(n), 0.0f)};
    d.suffix = {"w", "b"};
    d.base = "layout" + std::to_string(nodes_.size());
    int id = add_node(std::move(d));
    const shape_t ss = statiq_shape_of(ps);
    if (ss.size() != 1) {
      snode r;
      r.kind = "Reshape";
      r.layer = "statiq::Reshape<" + shape_type(ss) + ">";
      r.inputs = {id};
      r.shape = ss;
      id = add_node(std::move(r));
    }
    v.node = id;
    v.perm.clear();
  }
  // The ONNX value `v` reshaped to `out` (batch unchanged): a view, with the layout permutation carried along.
  value reshape_to(const value& v, const shape_t& out) {
    const shape_t ps_out = per_sample(out);
    const std::vector<i64> p_in = perm_of(v);
    value r = dyn_value(out, v.node);
    shape_t target;
    if (p_in == canonical_perm(ps_out)) {
      target = statiq_shape_of(ps_out);
    } else {
      target = {product(ps_out)};
      r.perm = p_in;
    }
    const shape_t& have = nodes_[v.node].shape;
    if (target != have) {
      snode n;
      n.kind = target.size() == 1 && have.size() > 1 ? "Flatten" : "Reshape";
      n.layer = n.kind == "Flatten" ? "statiq::Flatten" : "statiq::Reshape<" + shape_type(target) + ">";
      n.inputs = {v.node};
      n.shape = target;
      r.node = add_node(std::move(n));
    }
    return r;
  }
  // Whether the statiq node producing `v` can absorb a per-output-channel affine map (BN, bias, scale).
  bool foldable_producer(const value& v, const std::string& onnx_name) const {
    if (v.is_const || !v.perm.empty()) return false;
    const snode& p = nodes_[v.node];
    auto u = uses_.find(onnx_name);
    return (p.kind == "Conv2d" || p.kind == "Dense") && p.onnx_value == onnx_name && u != uses_.end() && u->second == 1;
  }
  // y = x * scale[c] + shift[c] over the channel axis of `v` (channels: statiq's last axis).
  value affine(value v, const std::string& onnx_name, const std::vector<double>& scale, const std::vector<double>& shift) {
    const std::size_t C = scale.size();
    if (foldable_producer(v, onnx_name)) {
      snode& p = nodes_[v.node];
      auto& w = p.params[0];
      auto& b = p.params[1];
      const std::size_t per = w.size() / C;
      for (std::size_t c = 0; c < C; ++c) {
        for (std::size_t k = 0; k < per; ++k) w[c * per + k] = static_cast<float>(double(w[c * per + k]) * scale[c]);
        b[c] = static_cast<float>(double(b[c]) * scale[c] + shift[c]);
        if (c < p.wscale.size()) p.wscale[c] = static_cast<float>(double(p.wscale[c]) * std::fabs(scale[c]));  // same grid, scaled
      }
      p.origin += " + " + display_name(*cur_);
      return v;
    }
    // Otherwise a depthwise 1x1 convolution: exact for x*1+b and x*s+0.
    const shape_t ss = nodes_[v.node].shape;
    int src = v.node;
    const bool image = ss.size() == 3;
    if (!image) {
      snode r;
      r.kind = "Reshape";
      r.shape = {1, product(ss) / static_cast<i64>(C), static_cast<i64>(C)};
      r.layer = "statiq::Reshape<" + shape_type(r.shape) + ">";
      r.inputs = {src};
      src = add_node(std::move(r));
    }
    snode d;
    d.kind = "Conv2d";
    d.layer = "statiq::Conv2d<" + std::to_string(C) + ", statiq::Kernel<1, 1>, statiq::Groups<" + std::to_string(C) + ">>";
    d.inputs = {src};
    d.shape = image ? ss : shape_t{1, product(ss) / static_cast<i64>(C), static_cast<i64>(C)};
    std::vector<float> w(C), b(C);
    for (std::size_t c = 0; c < C; ++c) { w[c] = static_cast<float>(scale[c]); b[c] = static_cast<float>(shift[c]); }
    d.params = {w, b};
    d.suffix = {"w", "b"};
    int id = add_node(std::move(d));
    if (!image) {
      snode r;
      r.kind = "Reshape";
      r.shape = ss;
      r.layer = "statiq::Reshape<" + shape_type(ss) + ">";
      r.inputs = {id};
      id = add_node(std::move(r));
    }
    v.node = id;
    return v;
  }
  // A constant broadcast against run-time tensor `v` as one value per statiq channel; fails when it varies along
  // the batch or along a non-channel axis.
  std::vector<double> per_channel(const value& v, const tensor& c, const char* what) {
    if (!c.is_float) fail(std::string(what) + " must be a float tensor");
    const shape_t& full = v.shape;
    const std::size_t r = full.size();
    if (c.dims.size() > r) fail(std::string(what) + " " + shape_str(c.dims) + " does not broadcast to " + shape_str(full));
    shape_t cd(r - c.dims.size(), 1);
    cd.insert(cd.end(), c.dims.begin(), c.dims.end());
    for (std::size_t k = 0; k < r; ++k)
      if (cd[k] != 1 && cd[k] != full[k]) fail(std::string(what) + " " + shape_str(c.dims) + " does not broadcast to " + shape_str(full));
    if (cd[0] != 1) fail(std::string(what) + " " + shape_str(c.dims) + " varies along the batch axis");
    const shape_t ps = per_sample(full);
    const i64 n = product(ps);
    // Per-sample element e (ONNX order) -> its constant.
    std::vector<float> per(static_cast<std::size_t>(n));
    for (i64 e = 0; e < n; ++e) {
      i64 rem = e, off = 0, stride = 1;
      std::vector<i64> idx(ps.size());
      for (std::size_t k = ps.size(); k-- > 0;) { idx[k] = rem % ps[k]; rem /= ps[k]; }
      for (std::size_t k = ps.size(); k-- > 0;) {
        const i64 ext = cd[k + 1];
        off += (ext == 1 ? 0 : idx[k]) * stride;
        stride *= ext;
      }
      per[static_cast<std::size_t>(e)] = c.f[static_cast<std::size_t>(off)];
    }
    const std::vector<i64> p = perm_of(v);
    const shape_t& ss = nodes_[v.node].shape;
    const i64 C = ss.back();
    std::vector<double> out(static_cast<std::size_t>(C));
    for (i64 q = 0; q < n; ++q) {
      const float x = per[static_cast<std::size_t>(p[static_cast<std::size_t>(q)])];
      if (q < C) out[static_cast<std::size_t>(q)] = x;
      else if (float(out[static_cast<std::size_t>(q % C)]) != x)
        fail(std::string(what) + " " + shape_str(c.dims) + " is not constant along the non-channel axes (only per-channel constants are supported)");
    }
    return out;
  }

  static bool reads_quantized(const std::string& op) {
    return op == "DequantizeLinear" || op == "QLinearConv" || op == "QLinearMatMul" || op == "ConvInteger" ||
           op == "MatMulInteger" || op == "Identity" || op == "Dropout";
  }
  struct window2d {
    window h, w;
    std::vector<i64> st, dl;
  };
  window2d parse_window(i64 H, i64 W, i64 KH, i64 KW, bool ceil_mode, const std::array<i64, 4>& pre, const char* what);
  int conv_layer(value x, const tensor& wt, const std::vector<float>* bias, const value* wsrc);
  int gemm_layer(value x, const tensor& b, bool matmul, const std::vector<float>* bias_c, const tensor* c, const value* wsrc);
  tensor dequantize_const(const tensor& q, const tensor& s, const tensor* zp, i64 axis, std::vector<float>& grid);
  void set_quant(int node, float scale, i64 zp, std::int32_t type);
  float scalar_scale(int k, const char* what);
  std::pair<i64, std::int32_t> scalar_zero_point(int k, const char* what, std::int32_t type);
  void quantize_linear(), dequantize_linear(), qlinear(bool is_conv), integer_op(bool is_conv);
  std::vector<int> effective_quant();
  void emit_quantized_model(std::ostringstream& h);
  void emit_edge_quantization(std::ostringstream& h);
  void load_inputs();
  void convert_node(const onnx::NodeProto& n);
  bool fold_constant(const onnx::NodeProto& n);
  void conv(), gemm(bool matmul), pool(bool is_max), reduce_mean(), global_avg_pool(), clip(), binary(bool add),
      concat(), softmax(), batch_norm(), flatten(), reshape(), squeeze(bool un), transpose();
  std::string emit();
};

// ---- loading ----
void converter::load_inputs() {
  const auto& g = model_.graph();
  std::set<std::string> inits;
  for (const auto& t : g.initializer()) {
    value v;
    v.is_const = true;
    try {
      v.c = decode_tensor(t);
    } catch (const std::exception& e) {
      fail(std::string("initializer: ") + e.what());
    }
    values_[t.name()] = std::move(v);
    inits.insert(t.name());
  }
  std::vector<const onnx::ValueInfoProto*> runtime;
  for (const auto& i : g.input())
    if (!inits.count(i.name())) runtime.push_back(&i);
  if (runtime.empty()) fail("the graph has no run-time input");
  if (runtime.size() - 1 != opt_.constant_inputs.size()) {
    if (runtime.size() > 1 && opt_.constant_inputs.empty())
      fail("the graph has " + std::to_string(runtime.size()) + " run-time inputs; statiq models take one (bind the others with --constant-input)");
    fail("the graph has " + std::to_string(runtime.size() - 1) + " inputs besides the first, but " +
         std::to_string(opt_.constant_inputs.size()) + " --constant-input tensors were given");
  }
  for (std::size_t k = 1; k < runtime.size(); ++k) {
    onnx::TensorProto t;
    if (!t.ParseFromString(opt_.constant_inputs[k - 1])) fail("--constant-input for '" + runtime[k]->name() + "' is not a TensorProto");
    value v;
    v.is_const = true;
    try {
      v.c = decode_tensor(t);
    } catch (const std::exception& e) {
      fail(std::string("--constant-input: ") + e.what());
    }
    values_[runtime[k]->name()] = std::move(v);
  }
  const auto& in = *runtime[0];
  input_name_ = in.name();
  if (!in.type().has_tensor_type()) fail("input '" + in.name() + "' is not a tensor");
  const auto& tt = in.type().tensor_type();
  if (tt.elem_type() != onnx::TensorProto::FLOAT && tt.elem_type() != onnx::TensorProto::UINT8 &&
      tt.elem_type() != onnx::TensorProto::INT8)
    fail("input '" + in.name() + "' has element type " +
         onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(tt.elem_type())) +
         " (float32, or uint8/int8 read through DequantizeLinear or a QLinear operator)");
  input_type_ = tt.elem_type();
  if (!tt.has_shape()) {
    if (opt_.input_shape.empty()) fail("input '" + in.name() + "' has no shape: give it with --input-shape");
  }
  shape_t s;
  std::vector<std::string> names;
  for (const auto& d : tt.shape().dim()) {
    s.push_back(d.has_dim_value() && d.dim_value() > 0 ? d.dim_value() : -1);
    names.push_back(d.has_dim_param() ? d.dim_param() : "?");
  }
  if (!opt_.input_shape.empty()) {
    if (tt.has_shape() && opt_.input_shape.size() != s.size())
      fail("--input-shape has " + std::to_string(opt_.input_shape.size()) + " dimensions but input '" + in.name() +
           "' has " + std::to_string(s.size()));
    for (std::size_t k = 0; k < opt_.input_shape.size(); ++k) {
      if (opt_.input_shape[k] <= 0) fail("--input-shape dimensions must be positive");
      if (k < s.size() && s[k] > 0 && s[k] != opt_.input_shape[k])
        fail("--input-shape " + shape_str(opt_.input_shape) + " contradicts input '" + in.name() + "' " + shape_str(s));
    }
    s = opt_.input_shape;
  }
  if (s.empty() || s.size() > 4)
    fail("input '" + in.name() + "' has rank " + std::to_string(s.size()) + " (supported: 1 [N], 2 [N,F], 3 [N,A,B] and 4 [N,C,H,W])");
  for (std::size_t k = 1; k < s.size(); ++k)
    if (s[k] <= 0)
      fail("input '" + in.name() + "' has dynamic dimension " + std::to_string(k) + " ('" + names[k] + "'): fix it with --input-shape");
  input_shape_ = s;
  (void)dyn_value(s, -1);  // size check before anything is derived from the shape
  const shape_t ss = statiq_shape_of(per_sample(s));
  snode n;
  n.kind = "Input";
  const bool nchw = s.size() == 4 && opt_.layout != input_layout::nhwc;
  n.layer = "statiq::Input<" + shape_type(ss) + ", statiq::Layout::" + (nchw ? "nchw" : "nhwc") + ">";
  n.shape = ss;
  n.onnx_value = in.name();
  const int id = add_node(std::move(n));
  values_[in.name()] = dyn_value(s, id);
  if (input_type_ != onnx::TensorProto::FLOAT) {
    values_[in.name()].quantized = true;
    values_[in.name()].qtype = input_type_;
  }
}

// ---- constant folding ----
// numpy-style broadcasting of two shapes.
shape_t broadcast(const shape_t& a, const shape_t& b, bool& ok) {
  const std::size_t r = std::max(a.size(), b.size());
  shape_t out(r);
  ok = true;
  for (std::size_t k = 0; k < r; ++k) {
    const i64 x = k + a.size() >= r ? a[k + a.size() - r] : 1;
    const i64 y = k + b.size() >= r ? b[k + b.size() - r] : 1;
    if (x != y && x != 1 && y != 1) ok = false;
    out[k] = std::max(x, y);
    if (x == 0 || y == 0) out[k] = 0;
  }
  return out;
}
std::size_t broadcast_index(const shape_t& out, const shape_t& in, i64 flat) {
  std::size_t off = 0, stride = 1;
  for (std::size_t k = out.size(); k-- > 0;) {
    const i64 idx = flat % out[k];
    flat /= out[k];
    const std::size_t j = k + in.size();
    if (j >= out.size()) {
      const i64 ext = in[j - out.size()];
      off += static_cast<std::size_t>(ext == 1 ? 0 : idx) * stride;
      stride *= static_cast<std::size_t>(ext);
    }
  }
  return off;
}

bool converter::fold_constant(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  auto all_const = [&] {
    for (int k = 0; k < n.input_size(); ++k)
      if (has_in(k) && !in(k).is_const) return false;
    return true;
  };
  auto out_tensor = [&](tensor t) {
    value v;
    v.is_const = true;
    v.c = std::move(t);
    set_out(v);
  };
  auto axes_from = [&](int input_index) -> std::vector<i64> {
    if (opset_ >= 13) {
      if (!has_in(input_index)) return {};
      const tensor& a = const_in(input_index, "axes");
      return a.i;
    }
    return attr_ints("axes", {});
  };
  if (op == "Constant") {
    allow_attrs({"value", "value_float", "value_floats", "value_int", "value_ints"});
    tensor t;
    if (auto* a = attr("value")) {
      try { t = decode_tensor(a->t()); } catch (const std::exception& e) { fail(e.what()); }
    } else if (auto* a = attr("value_float")) { t.is_float = true; t.f = {a->f()}; }
    else if (auto* a = attr("value_floats")) { t.is_float = true; t.f.assign(a->floats().begin(), a->floats().end()); t.dims = {i64(t.f.size())}; }
    else if (auto* a = attr("value_int")) { t.is_float = false; t.i = {a->i()}; }
    else if (auto* a = attr("value_ints")) { t.is_float = false; t.i.assign(a->ints().begin(), a->ints().end()); t.dims = {i64(t.i.size())}; }
    else fail("a Constant needs a value attribute (sparse_value and string values are not supported)");
    out_tensor(std::move(t));
    return true;
  }
  if (op == "Shape") {
    allow_attrs({"start", "end"});
    value& x = in(0);
    shape_t s = x.is_const ? x.c.dims : x.shape;
    const i64 r = static_cast<i64>(s.size());
    i64 b = attr_i("start", 0), e = attr_i("end", r);
    if (b < 0) b += r;
    if (e < 0) e += r;
    b = std::clamp<i64>(b, 0, r);
    e = std::clamp<i64>(e, b, r);
    tensor t;
    t.is_float = false;
    for (i64 k = b; k < e; ++k) t.i.push_back(s[static_cast<std::size_t>(k)] < 0 ? batch_marker : s[static_cast<std::size_t>(k)]);
    t.dims = {e - b};
    out_tensor(std::move(t));
    return true;
  }
  if (!all_const()) return false;
  if (op == "Identity" || op == "Dropout") {
    set_out(in(0));
    return true;
  }
  if (op == "Gather") {
    allow_attrs({"axis"});
    const tensor& d = in(0).c;
    const tensor& idx = in(1).c;
    const i64 r = static_cast<i64>(d.dims.size());
    i64 axis = attr_i("axis", 0);
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r || idx.is_float) fail("Gather axis or indices out of range");
    tensor t;
    t.is_float = d.is_float;
    t.dims.assign(d.dims.begin(), d.dims.begin() + axis);
    t.dims.insert(t.dims.end(), idx.dims.begin(), idx.dims.end());
    t.dims.insert(t.dims.end(), d.dims.begin() + axis + 1, d.dims.end());
    const i64 outer = product(d.dims, 0, static_cast<std::size_t>(axis)), inner = product(d.dims, static_cast<std::size_t>(axis + 1));
    const i64 ax = d.dims[static_cast<std::size_t>(axis)];
    for (i64 o = 0; o < outer; ++o)
      for (i64 j : idx.i) {
        if (j < 0) j += ax;
        if (j < 0 || j >= ax) fail("Gather index out of range");
        for (i64 q = 0; q < inner; ++q) {
          const std::size_t src = static_cast<std::size_t>((o * ax + j) * inner + q);
          if (t.is_float) t.f.push_back(d.f[src]); else t.i.push_back(d.i[src]);
        }
      }
    out_tensor(std::move(t));
    return true;
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    allow_attrs({"axes"});
    tensor t = in(0).c;
    std::vector<i64> axes = axes_from(1);
    if (op == "Unsqueeze") {
      const i64 r = static_cast<i64>(t.dims.size() + axes.size());
      for (auto& a : axes) if (a < 0) a += r;
      std::sort(axes.begin(), axes.end());
      for (i64 a : axes) {
        if (a < 0 || a > static_cast<i64>(t.dims.size())) fail("Unsqueeze axis out of range");
        t.dims.insert(t.dims.begin() + a, 1);
      }
    } else {
      const i64 r = static_cast<i64>(t.dims.size());
      shape_t nd;
      for (i64 k = 0; k < r; ++k) {
        const bool listed = axes.empty() ? t.dims[static_cast<std::size_t>(k)] == 1
                                         : std::count(axes.begin(), axes.end(), k) + std::count(axes.begin(), axes.end(), k - r) > 0;
        if (!listed) nd.push_back(t.dims[static_cast<std::size_t>(k)]);
      }
      t.dims = nd;
    }
    out_tensor(std::move(t));
    return true;
  }
  if (op == "Concat") {
    allow_attrs({"axis"});
    const tensor& f = in(0).c;
    const i64 r = static_cast<i64>(f.dims.size());
    i64 axis = attr_i("axis", 0);
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) fail("Concat axis out of range");
    tensor t;
    t.is_float = f.is_float;
    t.dims = f.dims;
    t.dims[static_cast<std::size_t>(axis)] = 0;
    const i64 outer = product(f.dims, 0, static_cast<std::size_t>(axis));
    for (int k = 0; k < n.input_size(); ++k) t.dims[static_cast<std::size_t>(axis)] += in(k).c.dims[static_cast<std::size_t>(axis)];
    for (i64 o = 0; o < outer; ++o)
      for (int k = 0; k < n.input_size(); ++k) {
        const tensor& s = in(k).c;
        if (s.dims.size() != f.dims.size() || s.is_float != f.is_float) fail("Concat of constants with different ranks or types");
        const i64 chunk = product(s.dims, static_cast<std::size_t>(axis));
        for (i64 q = 0; q < chunk; ++q) {
          const std::size_t src = static_cast<std::size_t>(o * chunk + q);
          if (t.is_float) t.f.push_back(s.f[src]); else t.i.push_back(s.i[src]);
        }
      }
    out_tensor(std::move(t));
    return true;
  }
  if (op == "Reshape") {
    allow_attrs({"allowzero"});
    tensor t = in(0).c;
    const tensor& s = in(1).c;
    shape_t nd;
    i64 known = 1, infer = -1;
    for (std::size_t k = 0; k < s.i.size(); ++k) {
      i64 d = s.i[k];
      if (d == batch_marker) fail("the run-time batch extent reaches a constant Reshape (fix it with --input-shape)");
      if (d == 0 && !attr_i("allowzero", 0)) d = k < t.dims.size() ? t.dims[k] : 0;
      if (d == -1) { infer = static_cast<i64>(k); d = 1; }
      nd.push_back(d);
      known *= d;
    }
    if (infer >= 0 && known != 0) nd[static_cast<std::size_t>(infer)] = t.count() / known;
    if (product(nd) != t.count()) fail("Reshape of a constant to " + shape_str(nd) + " changes its size");
    t.dims = nd;
    out_tensor(std::move(t));
    return true;
  }
  if (op == "Slice") {
    allow_attrs({});
    const tensor& d = in(0).c;
    const std::size_t r = d.dims.size();
    const std::vector<i64> starts = const_in(1, "starts").i, ends = const_in(2, "ends").i;
    std::vector<i64> axes, steps;
    if (has_in(3)) axes = const_in(3, "axes").i;
    else for (std::size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<i64>(k));
    if (has_in(4)) steps = const_in(4, "steps").i;
    else steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
      fail("starts, ends, axes and steps differ in length");
    std::vector<i64> b(r, 0), st(r, 1), cnt(d.dims.begin(), d.dims.end());
    for (std::size_t k = 0; k < starts.size(); ++k) {
      i64 a = axes[k] < 0 ? axes[k] + static_cast<i64>(r) : axes[k];
      if (a < 0 || a >= static_cast<i64>(r) || steps[k] == 0) fail("Slice axis or step out of range");
      const i64 n = d.dims[static_cast<std::size_t>(a)];
      const i64 step = std::clamp<i64>(steps[k], -(n + 1), n + 1);  // larger steps select the same (one) element
      auto clampi = [&](i64 v, bool is_start) {
        if (v < 0) v += n;
        if (step > 0) return std::clamp<i64>(v, 0, n);
        return is_start ? std::clamp<i64>(v, 0, n - 1) : std::clamp<i64>(v, -1, n - 1);
      };
      const i64 s0 = clampi(starts[k], true), e0 = clampi(ends[k], false);
      b[static_cast<std::size_t>(a)] = s0;
      st[static_cast<std::size_t>(a)] = step;
      cnt[static_cast<std::size_t>(a)] = step > 0 ? std::max<i64>(0, (e0 - s0 + step - 1) / step) : std::max<i64>(0, (s0 - e0 - step - 1) / -step);
    }
    tensor t;
    t.is_float = d.is_float;
    t.dims = cnt;
    const i64 total = product(cnt);
    std::vector<i64> strides(r, 1);
    for (std::size_t k = r; k-- > 1;) strides[k - 1] = strides[k] * d.dims[k];
    for (i64 e = 0; e < total; ++e) {
      i64 rem = e, src = 0;
      for (std::size_t k = r; k-- > 0;) {
        const i64 idx = rem % cnt[k];
        rem /= cnt[k];
        src += (b[k] + idx * st[k]) * strides[k];
      }
      if (t.is_float) t.f.push_back(d.f[static_cast<std::size_t>(src)]); else t.i.push_back(d.i[static_cast<std::size_t>(src)]);
    }
    out_tensor(std::move(t));
    return true;
  }
  if (op == "Transpose") {
    allow_attrs({"perm"});
    const tensor& d = in(0).c;
    const std::size_t r = d.dims.size();
    std::vector<i64> perm = attr_ints("perm", {});
    if (perm.empty()) for (std::size_t k = r; k-- > 0;) perm.push_back(static_cast<i64>(k));
    if (perm.size() != r) fail("perm does not match the rank");
    tensor t;
    t.is_float = d.is_float;
    for (i64 a : perm) {
      if (a < 0 || a >= static_cast<i64>(r)) fail("perm out of range");
      t.dims.push_back(d.dims[static_cast<std::size_t>(a)]);
    }
    std::vector<i64> strides(r, 1);
    for (std::size_t k = r; k-- > 1;) strides[k - 1] = strides[k] * d.dims[k];
    const i64 total = product(t.dims);
    for (i64 e = 0; e < total; ++e) {
      i64 rem = e, src = 0;
      for (std::size_t k = r; k-- > 0;) {
        const i64 idx = rem % t.dims[k];
        rem /= t.dims[k];
        src += idx * strides[static_cast<std::size_t>(perm[k])];
      }
      if (t.is_float) t.f.push_back(d.f[static_cast<std::size_t>(src)]); else t.i.push_back(d.i[static_cast<std::size_t>(src)]);
    }
    out_tensor(std::move(t));
    return true;
  }
  if (op == "Cast") {
    allow_attrs({"to", "saturate"});
    tensor t = in(0).c;
    const i64 to = attr_i("to", 1);
    if (to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE) {
      if (!t.is_float) { for (i64 x : t.i) t.f.push_back(static_cast<float>(x)); t.i.clear(); t.is_float = true; }
    } else {
      if (t.is_float) { for (float x : t.f) t.i.push_back(static_cast<i64>(x)); t.f.clear(); t.is_float = false; }
    }
    t.data_type = static_cast<std::int32_t>(to);  // a zero point's type (QuantizeLinear's output type) follows a Cast
    out_tensor(std::move(t));
    return true;
  }
  if (op == "ConstantOfShape") {
    allow_attrs({"value"});
    const tensor& s = in(0).c;
    tensor t;
    if (auto* a = attr("value")) {
      try { t = decode_tensor(a->t()); } catch (const std::exception& e) { fail(e.what()); }
    } else { t.is_float = true; t.f = {0.0f}; }
    for (i64 d : s.i) if (d < 0) fail("ConstantOfShape of the run-time batch extent (fix it with --input-shape)");
    t.dims = s.i;
    const i64 cnt = product(t.dims);
    if (cnt > max_elements) fail("ConstantOfShape of more than " + std::to_string(max_elements) + " elements");
    if (t.is_float) t.f.assign(static_cast<std::size_t>(cnt), t.f.empty() ? 0.0f : t.f[0]);
    else t.i.assign(static_cast<std::size_t>(cnt), t.i.empty() ? 0 : t.i[0]);
    out_tensor(std::move(t));
    return true;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    allow_attrs({});
    const tensor& a = in(0).c;
    const tensor& b = in(1).c;
    bool ok = false;
    const shape_t od = broadcast(a.dims, b.dims, ok);
    if (!ok) fail("operands " + shape_str(a.dims) + " and " + shape_str(b.dims) + " do not broadcast");
    tensor t;
    t.dims = od;
    t.is_float = a.is_float || b.is_float;
    const i64 cnt = product(od);
    if (cnt > max_elements) fail("constant arithmetic on more than " + std::to_string(max_elements) + " elements");
    for (i64 e = 0; e < cnt; ++e) {
      const std::size_t ia = broadcast_index(od, a.dims, e), ib = broadcast_index(od, b.dims, e);
      if (t.is_float) {
        const float x = a.is_float ? a.f[ia] : float(a.i[ia]), y = b.is_float ? b.f[ib] : float(b.i[ib]);
        t.f.push_back(op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y);
      } else {
        const i64 x = a.i[ia], y = b.i[ib];
        if (x == batch_marker || y == batch_marker) fail("the run-time batch extent is used in arithmetic (fix it with --input-shape)");
        if (op == "Div" && y == 0) fail("integer division by zero");
        t.i.push_back(op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y);
      }
    }
    out_tensor(std::move(t));
    return true;
  }
  return false;
}

// ---- operators on run-time tensors ----
// Strides, dilations, pads and auto_pad of a 2-D window over an H x W input (Conv, QLinearConv, ConvInteger and
// the pools): checked once here; `pre` is a preceding zero Pad the window absorbs, `what` names the window.
converter::window2d converter::parse_window(i64 H, i64 W, i64 KH, i64 KW, bool ceil_mode, const std::array<i64, 4>& pre,
                                            const char* what) {
  const auto st = attr_ints("strides", {1, 1});
  const auto dl = attr_ints("dilations", {1, 1});
  const auto pd = attr_ints("pads", {0, 0, 0, 0});
  const std::string ap = attr_s("auto_pad", "NOTSET");
  if (ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER" && ap != "SAME_LOWER") fail("auto_pad '" + ap + "' is not supported");
  if (pre != std::array<i64, 4>{} && ap != "NOTSET") fail("auto_pad after a Pad is not supported");
  if (st.size() != 2 || dl.size() != 2 || pd.size() != 4) fail("strides, dilations and pads must describe 2 spatial axes");
  for (i64 v : st) if (v <= 0) fail("strides must be positive");
  for (i64 v : dl) if (v <= 0) fail("dilations must be positive");
  for (i64 v : pd) if (v < 0) fail("negative pads are not supported");
  window2d r;
  r.h = make_window(H, KH, st[0], dl[0], pd[0] + pre[0], pd[2] + pre[2], ap, ceil_mode);
  r.w = make_window(W, KW, st[1], dl[1], pd[1] + pre[1], pd[3] + pre[3], ap, ceil_mode);
  if (r.h.out <= 0 || r.w.out <= 0) fail(std::string("the ") + what + " is larger than the padded input");
  r.st = st;
  r.dl = dl;
  return r;
}

void converter::conv() {
  allow_attrs({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
  value x = dyn_in(0);
  const tensor& wt = const_in(1, "the weights");
  std::vector<float> bias;
  if (has_in(2)) bias = const_float(2, "the bias");
  conv_layer(x, wt, has_in(2) ? &bias : nullptr, &in(1));
}

// A Conv2d node over run-time x (NCHW) with float weights [M, C/group, kH, kW]; `wsrc`, when the weights come
// from a DequantizeLinear, gives their int8 grid (per output channel, axis 0, or per tensor).
int converter::conv_layer(value x, const tensor& wt, const std::vector<float>* bias_in, const value* wsrc) {
  if (x.shape.size() != 4) fail("only 2-D convolution is supported (input " + shape_str(x.shape) + ")");
  canon(x);
  const std::array<i64, 4> pre = x.pad;  // a preceding zero Pad: the convolution pads further instead
  x.shape[2] -= pre[0] + pre[2];
  x.shape[3] -= pre[1] + pre[3];
  if (!wt.is_float || wt.dims.size() != 4) fail("weights must be a float [M, C/group, kH, kW] tensor");
  const i64 M = wt.dims[0], CG = wt.dims[1], KH = wt.dims[2], KW = wt.dims[3];
  const i64 C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const i64 g = attr_i("group", 1);
  if (g <= 0 || C % g != 0 || M % g != 0 || CG != C / g)
    fail("weights " + shape_str(wt.dims) + " do not match input channels " + std::to_string(C) + " with group " + std::to_string(g));
  const auto ks = attr_ints("kernel_shape", {KH, KW});
  if (ks.size() != 2 || ks[0] != KH || ks[1] != KW) fail("kernel_shape does not match the weights");
  const window2d win = parse_window(H, W, KH, KW, false, pre, "kernel");
  const window& wh = win.h;
  const window& ww = win.w;
  const auto& st = win.st;
  const auto& dl = win.dl;
  std::vector<float> bias(static_cast<std::size_t>(M), 0.0f);
  if (bias_in) {
    const auto& b = *bias_in;
    if (static_cast<i64>(b.size()) != M) fail("bias has " + std::to_string(b.size()) + " values for " + std::to_string(M) + " output channels");
    bias = b;
  }
  // OIHW -> OHWI
  std::vector<float> w(wt.f.size());
  for (i64 m = 0; m < M; ++m)
    for (i64 c = 0; c < CG; ++c)
      for (i64 h = 0; h < KH; ++h)
        for (i64 q = 0; q < KW; ++q)
          w[static_cast<std::size_t>(((m * KH + h) * KW + q) * CG + c)] = wt.f[static_cast<std::size_t>(((m * CG + c) * KH + h) * KW + q)];
  std::string t = "statiq::Conv2d<" + std::to_string(M) + ", statiq::Kernel<" + std::to_string(KH) + ", " + std::to_string(KW) + ">";
  if (st[0] != 1 || st[1] != 1) t += ", statiq::Stride<" + std::to_string(st[0]) + ", " + std::to_string(st[1]) + ">";
  if (wh.pb || ww.pb || wh.pe || ww.pe)
    t += ", statiq::Pads<" + join({wh.pb, ww.pb, wh.pe, ww.pe}) + ">";
  if (dl[0] != 1 || dl[1] != 1) t += ", statiq::Dilation<" + std::to_string(dl[0]) + ", " + std::to_string(dl[1]) + ">";
  if (g != 1) t += ", statiq::Groups<" + std::to_string(g) + ">";
  t += ">";
  snode n;
  n.kind = "Conv2d";
  n.layer = t;
  n.inputs = {x.node};
  n.shape = {wh.out, ww.out, M};
  n.params = {std::move(w), std::move(bias)};
  n.suffix = {"w", "b"};
  n.onnx_value = cur_->output(0);
  if (wsrc && !wsrc->grid.empty() && (wsrc->grid.size() == 1 || (wsrc->grid_axis == 0 && static_cast<i64>(wsrc->grid.size()) == M)))
    n.wscale = wsrc->grid.size() == 1 ? std::vector<float>(static_cast<std::size_t>(M), wsrc->grid[0]) : wsrc->grid;
  const int id = add_node(std::move(n));
  set_out(dyn_value({x.shape[0], M, wh.out, ww.out}, id));
  return id;
}

void converter::gemm(bool matmul) {
  if (matmul) allow_attrs({});
  else allow_attrs({"alpha", "beta", "transA", "transB"});
  value& xr = in(0);
  if (xr.is_const) fail("the first operand must be a run-time tensor");
  if (!in(1).is_const)
    fail("the second operand must be a constant (statiq's Dense has constant weights; a product of two run-time tensors is not supported)");
  const tensor& b = const_in(1, "the weights");
  const tensor* c = !matmul && has_in(2) ? &const_in(2, "the bias C") : nullptr;
  gemm_layer(xr, b, matmul, nullptr, c, &in(1));
}

// A Dense node over run-time x [N, K] with float weights b ([K, N]; [N, K] for Gemm with transB) and bias: a
// per-unit vector `bias_c`, or Gemm's C. `wsrc`, when the weights come from a DequantizeLinear, gives their int8
// grid (per output unit or per tensor).
int converter::gemm_layer(value x, const tensor& b, bool matmul, const std::vector<float>* bias_c, const tensor* c, const value* wsrc) {
  if (x.shape.size() != 2) fail("only 2-D operands are supported (first operand " + shape_str(x.shape) + ")");
  if (!b.is_float || b.dims.size() != 2) fail("the weights must be a 2-D float tensor (weights " + shape_str(b.dims) + ")");
  if (!matmul && attr_i("transA", 0)) fail("transA=1 on a run-time operand is not supported (the batch axis must stay first)");
  const bool tb = !matmul && attr_i("transB", 0);
  const float alpha = matmul ? 1.0f : attr_f("alpha", 1.0f), beta = matmul ? 1.0f : attr_f("beta", 1.0f);
  const i64 K = x.shape[1];
  const i64 bk = tb ? b.dims[1] : b.dims[0], N = tb ? b.dims[0] : b.dims[1];
  if (bk != K) fail("weights " + shape_str(b.dims) + " do not match the input " + shape_str(x.shape));
  const std::vector<i64> p = perm_of(x);  // statiq input position j holds ONNX feature p[j]
  std::vector<float> w(static_cast<std::size_t>(N * K));
  for (i64 o = 0; o < N; ++o)
    for (i64 j = 0; j < K; ++j) {
      const i64 k = p[static_cast<std::size_t>(j)];
      const float v = tb ? b.f[static_cast<std::size_t>(o * K + k)] : b.f[static_cast<std::size_t>(k * N + o)];
      w[static_cast<std::size_t>(o * K + j)] = alpha == 1.0f ? v : alpha * v;
    }
  std::vector<float> bias(static_cast<std::size_t>(N), 0.0f);
  if (bias_c) {
    if (static_cast<i64>(bias_c->size()) != N) fail("bias has " + std::to_string(bias_c->size()) + " values for " + std::to_string(N) + " outputs");
    bias = *bias_c;
  }
  if (c) {
    if (!c->is_float) fail("the bias C must be a float tensor");
    // C broadcasts to [M, N]; statiq's bias is per output unit, so C must not vary along the batch axis.
    shape_t cd = c->dims;
    while (cd.size() < 2) cd.insert(cd.begin(), 1);
    if (cd[1] != 1 && cd[1] != N) fail("the bias C " + shape_str(c->dims) + " does not broadcast to [M, " + std::to_string(N) + "]");
    for (i64 r = 1; r < cd[0]; ++r)
      for (i64 o = 0; o < cd[1]; ++o)
        if (c->f[static_cast<std::size_t>(r * cd[1] + o)] != c->f[static_cast<std::size_t>(o)])
          fail("the bias C " + shape_str(c->dims) + " varies along the batch axis (statiq's bias is per output unit)");
    for (i64 o = 0; o < N; ++o) {
      const float v = c->f[static_cast<std::size_t>(cd[1] == 1 ? 0 : o)];
      bias[static_cast<std::size_t>(o)] = beta == 1.0f ? v : beta * v;
    }
  }
  snode n;
  n.kind = "Dense";
  n.layer = "statiq::Dense<" + std::to_string(N) + ">";
  n.inputs = {x.node};
  n.shape = {N};
  n.params = {std::move(w), std::move(bias)};
  n.suffix = {"w", "b"};
  n.onnx_value = cur_->output(0);
  if (wsrc && !wsrc->grid.empty() && alpha != 0.0f) {
    const i64 unit_axis = tb ? 0 : 1;
    if (wsrc->grid.size() == 1) n.wscale.assign(static_cast<std::size_t>(N), wsrc->grid[0] * std::fabs(alpha));
    else if (wsrc->grid_axis == unit_axis && static_cast<i64>(wsrc->grid.size()) == N)
      for (float v : wsrc->grid) n.wscale.push_back(v * std::fabs(alpha));
  }
  const int id = add_node(std::move(n));
  set_out(dyn_value({x.shape[0], N}, id));
  return id;
}

void converter::pool(bool is_max) {
  if (is_max) allow_attrs({"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"});
  else allow_attrs({"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"});
  if (is_max) only_first_output("Indices");
  value x = dyn_in(0);
  if (x.shape.size() != 4) fail("only 2-D pooling is supported (input " + shape_str(x.shape) + ")");
  canon(x);
  const auto ks = attr_ints("kernel_shape", {});
  if (ks.size() != 2) fail("kernel_shape must have 2 entries");
  for (i64 v : ks) if (v <= 0) fail("kernel_shape must be positive");
  const bool ceil_mode = attr_i("ceil_mode", 0) != 0;
  const window2d win = parse_window(x.shape[2], x.shape[3], ks[0], ks[1], ceil_mode, {}, "window");
  const window& wh = win.h;
  const window& ww = win.w;
  const auto& st = win.st;
  const auto& dl = win.dl;
  if (wh.pb >= ks[0] || wh.pe >= ks[0] || ww.pb >= ks[1] || ww.pe >= ks[1]) fail("pads must be smaller than the kernel");
  std::string t = std::string(is_max ? "statiq::MaxPool" : "statiq::AvgPool") + "<statiq::Kernel<" + std::to_string(ks[0]) + ", " + std::to_string(ks[1]) + ">";
  t += ", statiq::Stride<" + std::to_string(st[0]) + ", " + std::to_string(st[1]) + ">";
  if (wh.pb || ww.pb || wh.pe || ww.pe) t += ", statiq::Pads<" + join({wh.pb, ww.pb, wh.pe, ww.pe}) + ">";
  if (dl[0] != 1 || dl[1] != 1) t += ", statiq::Dilation<" + std::to_string(dl[0]) + ", " + std::to_string(dl[1]) + ">";
  if (!is_max && attr_i("count_include_pad", 0)) t += ", statiq::CountIncludePad<true>";
  if (ceil_mode) t += ", statiq::CeilMode<true>";
  t += ">";
  snode n;
  n.kind = is_max ? "MaxPool" : "AvgPool";
  n.layer = t;
  n.inputs = {x.node};
  n.shape = {wh.out, ww.out, x.shape[1]};
  set_out(dyn_value({x.shape[0], x.shape[1], wh.out, ww.out}, add_node(std::move(n))));
}

void converter::global_avg_pool() {
  allow_attrs({});
  value x = dyn_in(0);
  if (x.shape.size() != 4) fail("only 4-D [N,C,H,W] inputs are supported (input " + shape_str(x.shape) + ")");
  canon(x);
  snode n;
  n.kind = "GlobalAvgPool";
  n.layer = "statiq::GlobalAvgPool";
  n.inputs = {x.node};
  n.shape = {1, 1, x.shape[1]};
  set_out(dyn_value({x.shape[0], x.shape[1], 1, 1}, add_node(std::move(n))));
}

void converter::reduce_mean() {
  allow_attrs({"axes", "keepdims", "noop_with_empty_axes"});
  value x = dyn_in(0);
  auto axes = attr_ints("axes", {});
  for (auto& a : axes) if (a < 0) a += static_cast<i64>(x.shape.size());
  std::sort(axes.begin(), axes.end());
  if (x.shape.size() != 4 || axes != std::vector<i64>{2, 3})
    fail("only the mean over the spatial axes [2, 3] of a 4-D tensor is supported (axes " + ints_str(axes) + " of " + shape_str(x.shape) + ")");
  canon(x);
  snode n;
  n.kind = "GlobalAvgPool";
  n.layer = "statiq::GlobalAvgPool";
  n.inputs = {x.node};
  n.shape = {1, 1, x.shape[1]};
  value v = dyn_value({x.shape[0], x.shape[1], 1, 1}, add_node(std::move(n)));
  if (!attr_i("keepdims", 1)) v = reshape_to(v, {x.shape[0], x.shape[1]});
  set_out(v);
}

void converter::clip() {
  allow_attrs({});
  value x = dyn_in(0);
  float lo = -INFINITY, hi = INFINITY;
  auto scalar = [&](int k, const char* what) {
    const auto& v = const_float(k, what);
    if (v.size() != 1) fail(std::string(what) + " must be a scalar");
    return v[0];
  };
  if (has_in(1)) lo = scalar(1, "min");
  if (has_in(2)) hi = scalar(2, "max");
  snode n;
  n.kind = "Clip";
  if (lo == 0.0f && std::isinf(hi) && hi > 0) n.layer = "statiq::Relu";
  else if (lo == 0.0f && hi == 6.0f) n.layer = "statiq::Relu6";
  else {
    if (std::isnan(lo) || std::isnan(hi) || lo > hi) fail("min must not exceed max");
    n.layer = "statiq::Clip<" + ratio_of(lo) + ", " + ratio_of(hi) + ">";
  }
  n.inputs = {x.node};
  n.shape = nodes_[x.node].shape;
  value v = x;
  v.node = add_node(std::move(n));
  set_out(v);
}

void converter::binary(bool add) {
  allow_attrs({});
  value& a = in(0);
  value& b = in(1);
  if (!a.is_const && !b.is_const) {
    if (!add) fail("a product of two run-time tensors is not supported");
    value x = a, y = b;
    if (x.shape != y.shape) fail("operands " + shape_str(x.shape) + " and " + shape_str(y.shape) + " differ in shape (broadcasting two run-time tensors is not supported)");
    if (x.perm != y.perm) { canon(x); canon(y); }
    snode n;
    n.kind = "Add";
    n.layer = "statiq::Add";
    n.inputs = {x.node, y.node};
    n.shape = nodes_[x.node].shape;
    value v = x;
    v.node = add_node(std::move(n));
    set_out(v);
    return;
  }
  const int dk = a.is_const ? 1 : 0;
  value x = dk ? b : a;
  const tensor& c = (dk ? a : b).c;
  const std::vector<double> per = per_channel(x, c, add ? "the constant addend" : "the constant factor");
  std::vector<double> scale(per.size(), 1.0), shift(per.size(), 0.0);
  if (add) shift = per; else scale = per;
  value v = affine(x, cur_->input(dk), scale, shift);
  if (foldable_producer(x, cur_->input(dk))) nodes_[v.node].onnx_value = cur_->output(0);
  set_out(v);
}

void converter::batch_norm() {
  allow_attrs({"epsilon", "momentum", "training_mode", "spatial"});
  if (attr_i("training_mode", 0)) fail("training_mode=1 is not supported (inference only)");
  if (attr_i("spatial", 1) != 1) fail("spatial=0 is not supported");
  only_first_output("running statistics");
  value x = dyn_in(0);
  if (x.shape.size() != 4 && x.shape.size() != 2) fail("only [N,C] and [N,C,H,W] inputs are supported (input " + shape_str(x.shape) + ")");
  canon(x);
  const i64 C = x.shape[1];
  const auto& gamma = const_float(1, "scale");
  const auto& beta = const_float(2, "bias");
  const auto& mean = const_float(3, "mean");
  const auto& var = const_float(4, "var");
  for (const auto* p : {&gamma, &beta, &mean, &var})
    if (static_cast<i64>(p->size()) != C) fail("statistics must hold one value per channel (" + std::to_string(C) + ")");
  const float eps = attr_f("epsilon", 1e-5f);
  if (!(eps > 0.0f)) fail("epsilon must be positive");
  if (foldable_producer(x, cur_->input(0))) {
    std::vector<double> scale(static_cast<std::size_t>(C)), shift(static_cast<std::size_t>(C));
    for (std::size_t c = 0; c < static_cast<std::size_t>(C); ++c) {
      scale[c] = double(gamma[c]) / std::sqrt(double(var[c]) + double(eps));
      shift[c] = double(beta[c]) - double(mean[c]) * scale[c];
    }
    value v = affine(x, cur_->input(0), scale, shift);
    nodes_[v.node].onnx_value = cur_->output(0);
    set_out(v);
    return;
  }
  snode n;
  n.kind = "BatchNorm";
  n.layer = "statiq::BatchNorm<" + ratio_of(eps) + ">";
  n.inputs = {x.node};
  n.shape = nodes_[x.node].shape;
  n.params = {gamma, beta, mean, var};
  n.suffix = {"gamma", "beta", "mean", "var"};
  value v = x;
  v.node = add_node(std::move(n));
  set_out(v);
}

void converter::concat() {
  allow_attrs({"axis"});
  std::vector<value> xs;
  for (int k = 0; k < cur_->input_size(); ++k) {
    if (in(k).is_const) fail("input '" + cur_->input(k) + "' is a constant: Concat of run-time tensors only (statiq models take one run-time input, and statiq has no constant-tensor layer)");
    xs.push_back(in(k));
  }
  const i64 r = static_cast<i64>(xs[0].shape.size());
  i64 axis = attr_i("axis", 0);
  if (axis < 0) axis += r;
  const i64 channel_axis = r == 4 ? 1 : r - 1;
  if (axis != channel_axis || axis == 0)
    fail("Concat along axis " + std::to_string(attr_i("axis", 0)) + " of " + shape_str(xs[0].shape) +
         " is not supported (statiq concatenates channels: axis 1 of NCHW, or the last axis)");
  shape_t out = xs[0].shape;
  out[static_cast<std::size_t>(axis)] = 0;
  snode n;
  n.kind = "Concat";
  n.layer = "statiq::Concat";
  for (auto& x : xs) {
    if (x.shape.size() != out.size()) fail("inputs differ in rank");
    for (std::size_t k = 0; k < out.size(); ++k)
      if (static_cast<i64>(k) != axis && x.shape[k] != xs[0].shape[k]) fail("inputs " + shape_str(xs[0].shape) + " and " + shape_str(x.shape) + " differ outside the concatenation axis");
    canon(x);
    out[static_cast<std::size_t>(axis)] += x.shape[static_cast<std::size_t>(axis)];
    n.inputs.push_back(x.node);
  }
  n.shape = statiq_shape_of(per_sample(out));
  if (n.inputs.size() == 1) { set_out(xs[0]); return; }
  set_out(dyn_value(out, add_node(std::move(n))));
}

void converter::softmax() {
  allow_attrs({"axis"});
  value x = dyn_in(0);
  const i64 r = static_cast<i64>(x.shape.size());
  i64 axis = attr_i("axis", opset_ >= 13 ? -1 : 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) fail("axis out of range");
  // Opset < 13 normalises over all axes from `axis` on; 13+ over `axis` alone. Extents of 1 do not matter.
  std::vector<i64> reduced;
  for (i64 k = axis; k < (opset_ >= 13 ? axis + 1 : r); ++k)
    if (x.shape[static_cast<std::size_t>(k)] != 1 || k == 0) reduced.push_back(k);
  const i64 channel_axis = r == 4 ? 1 : r - 1;
  if (reduced.size() != 1 || reduced[0] != channel_axis)
    fail("Softmax over axis " + std::to_string(attr_i("axis", opset_ >= 13 ? -1 : 1)) + " of " + shape_str(x.shape) +
         " is not supported (statiq normalises over channels: axis 1 of NCHW, or the last axis)");
  if (r != 2) canon(x);  // over a rank-1 buffer a pending permutation commutes with softmax
  snode n;
  n.kind = "Softmax";
  n.layer = "statiq::Softmax";
  n.inputs = {x.node};
  n.shape = nodes_[x.node].shape;
  value v = x;
  v.node = add_node(std::move(n));
  set_out(v);
}

void converter::flatten() {
  allow_attrs({"axis"});
  value x = dyn_in(0);
  const i64 r = static_cast<i64>(x.shape.size());
  i64 axis = attr_i("axis", 1);
  if (axis < 0) axis += r;
  if (r < 1 || axis < 0 || axis > r)
    fail("Flatten axis " + std::to_string(attr_i("axis", 1)) + " is out of range for an input of shape " + shape_str(x.shape));
  if (axis != 1) {
    // [N, ...] -> [prod(dims[:axis]), prod(dims[axis:])]: fine only when the batch survives as the first axis.
    bool ok = axis >= 1;
    for (i64 k = 1; k < axis && ok; ++k) ok = x.shape[static_cast<std::size_t>(k)] == 1;
    if (!ok) fail("Flatten with axis " + std::to_string(attr_i("axis", 1)) + " of " + shape_str(x.shape) + " mixes the batch axis into the features (only axis 1 is supported)");
  }
  set_out(reshape_to(x, {x.shape[0], product(x.shape, 1)}));
}

void converter::reshape() {
  allow_attrs({"allowzero"});
  value x = dyn_in(0);
  const tensor& s = const_in(1, "the target shape");
  if (s.is_float) fail("the target shape must be an integer tensor");
  const bool allowzero = attr_i("allowzero", 0) != 0;
  const i64 per = product(x.shape, 1);
  shape_t out;
  int infer = -1;
  bool batch_copied = false;
  for (std::size_t k = 0; k < s.i.size(); ++k) {
    i64 d = s.i[k];
    if (k == 0 && (d == batch_marker || (d == 0 && !allowzero))) {  // Shape(x)[0] or 0: the batch, copied
      out.push_back(x.shape[0]);
      batch_copied = true;
      continue;
    }
    if (d == 0 && !allowzero && k < x.shape.size()) d = x.shape[k];
    if (d == -1) {
      if (infer >= 0) fail("more than one -1 in the target shape");
      infer = static_cast<int>(k);
    } else if (d <= 0) {
      fail("target shape " + ints_str(s.i) + " is not supported");
    }
    out.push_back(d);
  }
  if (out.empty()) fail("a scalar target shape is not supported");
  if (infer >= 0) {
    i64 rest = 1;  // known extents of the result other than the batch and the inferred one
    for (std::size_t k = 1; k < out.size(); ++k)
      if (static_cast<int>(k) != infer) rest *= out[k];
    if (infer == 0) {
      out[0] = rest == per ? x.shape[0] : -2;  // -1 in front: the batch, when the rest is one sample
    } else if (batch_copied || x.shape[0] == -1 || out[0] == x.shape[0]) {
      if (rest == 0 || per % rest != 0) fail("target shape " + ints_str(s.i) + " does not divide " + shape_str(x.shape));
      out[static_cast<std::size_t>(infer)] = per / rest;
    } else {
      const i64 total = x.shape[0] * per, known = rest * out[0];
      out[static_cast<std::size_t>(infer)] = known && total % known == 0 ? total / known : -2;
    }
  }
  if (out[0] != x.shape[0] || product(out, 1) != per)
    fail("Reshape of " + shape_str(x.shape) + " to " + ints_str(s.i) + " changes the batch axis (statiq keeps the batch first: per-sample reshapes only)");
  if (out.size() < 2 || out.size() > 4) fail("Reshape to rank " + std::to_string(out.size()) + " is not supported (ranks 2 to 4)");
  set_out(reshape_to(x, out));
}

void converter::squeeze(bool un) {
  allow_attrs({"axes"});
  value x = dyn_in(0);
  std::vector<i64> axes;
  if (opset_ >= 13) { if (has_in(1)) axes = const_in(1, "axes").i; }
  else axes = attr_ints("axes", {});
  shape_t out = x.shape;
  if (un) {
    const i64 r = static_cast<i64>(x.shape.size() + axes.size());
    for (auto& a : axes) if (a < 0) a += r;
    std::sort(axes.begin(), axes.end());
    for (i64 a : axes) {
      if (a <= 0 || a > static_cast<i64>(out.size())) fail("Unsqueeze at axis " + std::to_string(a) + " (the batch axis must stay first)");
      out.insert(out.begin() + a, 1);
    }
  } else {
    const i64 r = static_cast<i64>(x.shape.size());
    out.clear();
    for (i64 k = 0; k < r; ++k) {
      const bool listed = axes.empty() ? (k > 0 && x.shape[static_cast<std::size_t>(k)] == 1)
                                       : std::count(axes.begin(), axes.end(), k) + std::count(axes.begin(), axes.end(), k - r) > 0;
      if (listed && k == 0) fail("Squeeze of the batch axis is not supported");
      if (listed && x.shape[static_cast<std::size_t>(k)] != 1) fail("Squeeze of an axis whose extent is not 1");
      if (!listed) out.push_back(x.shape[static_cast<std::size_t>(k)]);
    }
  }
  if (out.size() < 2 || out.size() > 4) fail("the result has rank " + std::to_string(out.size()) + " (supported: 2 to 4)");
  set_out(reshape_to(x, out));
}

void converter::transpose() {
  allow_attrs({"perm"});
  value x = dyn_in(0);
  const std::size_t r = x.shape.size();
  std::vector<i64> perm = attr_ints("perm", {});
  if (perm.empty())
    for (std::size_t k = r; k-- > 0;) perm.push_back(static_cast<i64>(k));
  std::vector<i64> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t k = 0; k < sorted.size(); ++k)
    if (sorted[k] != static_cast<i64>(k) || perm.size() != r) fail("perm " + ints_str(perm) + " is not a permutation of " + std::to_string(r) + " axes");
  if (perm[0] != 0) fail("a Transpose that moves the batch axis is not supported (perm " + ints_str(perm) + ")");
  shape_t out(r);
  for (std::size_t k = 0; k < r; ++k) out[k] = x.shape[static_cast<std::size_t>(perm[k])];
  // An NHWC graph input transposed to NCHW (TensorFlow exports): the input itself becomes channels-last.
  if (x.node == 0 && r == 4 && perm == std::vector<i64>{0, 3, 1, 2} && is_canonical(x) && uses_[input_name_] == 1 &&
      cur_->input(0) == input_name_) {
    snode& in = nodes_[0];
    in.shape = {x.shape[1], x.shape[2], x.shape[3]};
    in.layer = "statiq::Input<" + shape_type(in.shape) + ", statiq::Layout::" +
               (opt_.layout == input_layout::nchw ? "nchw" : "nhwc") + ">";
    input_nhwc_ = true;
    set_out(dyn_value(out, 0));
    return;
  }
  // Otherwise a relabelling of the per-sample elements: statiq's buffer stays, its permutation changes.
  const shape_t ps_in = per_sample(x.shape), ps_out = per_sample(out);
  const std::vector<i64> p_in = perm_of(x);
  std::vector<i64> in_strides(ps_in.size(), 1);
  for (std::size_t k = ps_in.size(); k-- > 1;) in_strides[k - 1] = in_strides[k] * ps_in[k];
  const i64 n = product(ps_in);
  std::vector<i64> old_to_new(static_cast<std::size_t>(n));
  for (i64 e = 0; e < n; ++e) {  // e: flat index in the output's ONNX order
    i64 rem = e, src = 0;
    for (std::size_t k = ps_out.size(); k-- > 0;) {
      const i64 idx = rem % ps_out[k];
      rem /= ps_out[k];
      src += idx * in_strides[static_cast<std::size_t>(perm[k + 1] - 1)];
    }
    old_to_new[static_cast<std::size_t>(src)] = e;
  }
  value v = dyn_value(out, x.node);
  v.perm.resize(p_in.size());
  for (std::size_t q = 0; q < p_in.size(); ++q) v.perm[q] = old_to_new[static_cast<std::size_t>(p_in[q])];
  if (v.perm == canonical_perm(ps_out)) v.perm.clear();
  set_out(v);
}

// ---- quantized operators ----
// The source's quantization is taken as given: a QuantizeLinear (or a QLinear* output) fixes the scale and zero
// point of the statiq node producing the tensor; a DequantizeLinear of a constant folds to float weights whose
// int8 grid (scale per slice) travels with them; the header quantizes the float graph with exactly those
// parameters (statiq::quantize_with_params).

float converter::scalar_scale(int k, const char* what) {
  const tensor& t = const_in(k, what);
  if (!t.is_float) fail(std::string(what) + " must be a float tensor");
  if (t.f.size() != 1)
    fail(std::string(what) + " " + shape_str(t.dims) + " has " + std::to_string(t.f.size()) +
         " values: per-axis quantization of activations is not supported (statiq quantizes activations per tensor)");
  if (!(t.f[0] > 0.0f) || std::isinf(t.f[0])) fail(std::string(what) + " must be positive and finite");
  return t.f[0];
}

// A per-tensor zero point (absent: 0 of `type`), with its element type.
std::pair<i64, std::int32_t> converter::scalar_zero_point(int k, const char* what, std::int32_t type) {
  if (!has_in(k)) return {0, type ? type : std::int32_t{onnx::TensorProto::UINT8}};
  const tensor& t = const_in(k, what);
  if (t.is_float || t.i.size() != 1)
    fail(std::string(what) + " " + shape_str(t.dims) + " must be one integer: per-axis quantization of activations is not supported (statiq quantizes activations per tensor)");
  return {t.i[0], t.data_type ? t.data_type : type};
}

void converter::set_quant(int node, float scale, i64 zp, std::int32_t type) {
  if (type != onnx::TensorProto::UINT8 && type != onnx::TensorProto::INT8)
    fail("quantized activations of type " + onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(type)) +
         " are not supported (uint8 or int8)");
  const i64 lo = type == onnx::TensorProto::UINT8 ? 0 : -128, hi = type == onnx::TensorProto::UINT8 ? 255 : 127;
  if (zp < lo || zp > hi) fail("zero point " + std::to_string(zp) + " is outside its type's range");
  if (act_type_ && act_type_ != type)
    fail("the model quantizes activations to both uint8 and int8 (statiq quantizes all activations of a model to one type)");
  if (integer_ops_) fail("ConvInteger/MatMulInteger and other quantized operators in one model are not supported");
  act_type_ = type;
  snode& n = nodes_[static_cast<std::size_t>(node)];
  if (n.has_q && (n.q_scale != scale || n.q_zp != zp))
    fail("the tensor of statiq node " + std::to_string(node) + " (" + n.origin + ") is quantized with scale " +
         float_literal(n.q_scale) + ", zero point " + std::to_string(n.q_zp) + " and here with scale " + float_literal(scale) +
         ", zero point " + std::to_string(zp) + " (one quantization per tensor)");
  n.has_q = true;
  n.q_scale = scale;
  n.q_zp = zp;
}

// (q - zero_point) * scale of a constant integer tensor, per tensor or per slice along `axis`, as ONNX's
// DequantizeLinear computes it in float. `grid` gets each slice's int8 grid: its scale where |q - zero_point| <= 127
// (the exact source weights), widened to max |q - zero_point| / 127 otherwise (u8 weights with a zero point).
tensor converter::dequantize_const(const tensor& q, const tensor& s, const tensor* zp, i64 axis, std::vector<float>& grid) {
  if (q.is_float) fail("the quantized tensor must be an integer tensor");
  if (!s.is_float) fail("the scale must be a float tensor");
  const i64 r = static_cast<i64>(q.dims.size());
  const i64 ns = static_cast<i64>(s.f.size());
  if (axis < 0) axis += r;
  i64 slices = 1, inner = q.count();
  if (ns != 1) {
    if (axis < 0 || axis >= r || q.dims[static_cast<std::size_t>(axis)] != ns)
      fail("the scale has " + std::to_string(ns) + " values; per-axis quantization needs one per slice along axis " +
           std::to_string(attr_i("axis", 1)) + " of " + shape_str(q.dims));
    slices = ns;
    inner = product(q.dims, static_cast<std::size_t>(axis) + 1);
  }
  if (zp && (zp->is_float || static_cast<i64>(zp->i.size()) != ns)) fail("the zero point must be an integer tensor shaped like the scale");
  for (float v : s.f)
    if (!(v > 0.0f) || std::isinf(v)) fail("scales must be positive and finite");
  tensor out;
  out.dims = q.dims;
  out.is_float = true;
  out.f.resize(q.i.size());
  std::vector<i64> maxabs(static_cast<std::size_t>(slices), 0);
  for (std::size_t e = 0; e < q.i.size(); ++e) {
    const std::size_t c = static_cast<std::size_t>((static_cast<i64>(e) / inner) % slices);
    const i64 v = q.i[e] - (zp ? zp->i[c] : 0);
    maxabs[c] = std::max(maxabs[c], v < 0 ? -v : v);
    out.f[e] = static_cast<float>(v) * s.f[c];
  }
  grid.assign(static_cast<std::size_t>(slices), 0.0f);
  for (std::size_t c = 0; c < grid.size(); ++c)
    grid[c] = maxabs[c] <= 127 ? s.f[c] : static_cast<float>(double(s.f[c]) * double(maxabs[c]) / 127.0);
  return out;
}

void converter::quantize_linear() {
  allow_attrs({"axis", "saturate"});
  value& xv = in(0);
  if (xv.is_const) {  // a fake-quantized constant (NNCF, QAT exports: float weights -> QuantizeLinear -> DequantizeLinear)
    const tensor& x = xv.c;
    const tensor& s = const_in(1, "y_scale");
    if (!x.is_float || !s.is_float) fail("QuantizeLinear of a constant needs float x and y_scale");
    const tensor* zp = has_in(2) ? &const_in(2, "y_zero_point") : nullptr;
    const std::int32_t type = zp && zp->data_type ? zp->data_type : std::int32_t{onnx::TensorProto::UINT8};
    if (type != onnx::TensorProto::UINT8 && type != onnx::TensorProto::INT8) fail("y_zero_point must be uint8 or int8");
    const i64 r = static_cast<i64>(x.dims.size()), ns = static_cast<i64>(s.f.size());
    i64 axis = attr_i("axis", 1), inner = x.count(), slices = 1;
    if (axis < 0) axis += r;
    if (ns != 1) {
      if (axis < 0 || axis >= r || x.dims[static_cast<std::size_t>(axis)] != ns) fail("y_scale does not match the axis");
      slices = ns;
      inner = product(x.dims, static_cast<std::size_t>(axis) + 1);
    }
    if (zp && static_cast<i64>(zp->i.size()) != ns) fail("y_zero_point must be shaped like y_scale");
    tensor t;
    t.dims = x.dims;
    t.is_float = false;
    t.data_type = type;
    const i64 lo = type == onnx::TensorProto::UINT8 ? 0 : -128, hi = type == onnx::TensorProto::UINT8 ? 255 : 127;
    for (std::size_t e = 0; e < x.f.size(); ++e) {
      const std::size_t c = static_cast<std::size_t>((static_cast<i64>(e) / inner) % slices);
      const i64 v = static_cast<i64>(std::nearbyint(x.f[e] / s.f[c])) + (zp ? zp->i[c] : 0);
      t.i.push_back(std::clamp(v, lo, hi));
    }
    value v;
    v.is_const = true;
    v.c = std::move(t);
    set_out(v);
    return;
  }
  if (xv.quantized) fail("input '" + cur_->input(0) + "' is already quantized");
  const float scale = scalar_scale(1, "y_scale");
  const auto [zp, type] = scalar_zero_point(2, "y_zero_point", onnx::TensorProto::UINT8);
  set_quant(xv.node, scale, zp, type);
  value v = xv;
  v.quantized = true;
  v.qtype = type;
  set_out(v);
}

void converter::dequantize_linear() {
  allow_attrs({"axis"});
  value& xv = in(0);
  if (xv.is_const) {
    const tensor& s = const_in(1, "x_scale");
    const tensor* zp = has_in(2) ? &const_in(2, "x_zero_point") : nullptr;
    value v;
    v.is_const = true;
    v.c = dequantize_const(xv.c, s, zp, attr_i("axis", 1), v.grid);
    i64 axis = attr_i("axis", 1);
    if (axis < 0) axis += static_cast<i64>(xv.c.dims.size());
    v.grid_axis = v.grid.size() == 1 ? -1 : axis;
    set_out(v);
    return;
  }
  if (!xv.quantized)
    fail("input '" + cur_->input(0) + "' is a float tensor (DequantizeLinear reads a QuantizeLinear output, a u8/s8 graph input or a constant)");
  const float scale = scalar_scale(1, "x_scale");
  const auto [zp, type] = scalar_zero_point(2, "x_zero_point", xv.qtype);
  if (type != xv.qtype) fail("x_zero_point's type differs from x's");
  set_quant(xv.node, scale, zp, type);
  value v = xv;
  v.quantized = false;
  set_out(v);
}

// QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B) and QLinearMatMul(a, a_scale, a_zp, b, b_scale,
// b_zp, y_scale, y_zp): an int8 Conv2d/Dense with the given scales; weights per tensor or per output channel.
void converter::qlinear(bool is_conv) {
  if (is_conv) allow_attrs({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
  else allow_attrs({});
  value xv = in(0);
  if (xv.is_const) fail("input '" + cur_->input(0) + "' is a constant: a run-time tensor is expected here");
  if (!xv.quantized) fail("input '" + cur_->input(0) + "' is a float tensor (a QuantizeLinear output or a u8/s8 graph input is expected)");
  const float xs = scalar_scale(1, is_conv ? "x_scale" : "a_scale");
  const auto [xzp, xt] = scalar_zero_point(2, is_conv ? "x_zero_point" : "a_zero_point", xv.qtype);
  set_quant(xv.node, xs, xzp, xt);
  if (!in(3).is_const) fail("the weights (input '" + cur_->input(3) + "') must be a constant (statiq's layers have constant weights)");
  const tensor& wq = const_in(3, is_conv ? "w" : "b");
  const tensor& wsc = const_in(4, is_conv ? "w_scale" : "b_scale");
  const tensor* wzp = has_in(5) ? &const_in(5, is_conv ? "w_zero_point" : "b_zero_point") : nullptr;
  const i64 unit_axis = is_conv ? 0 : 1;
  if (wq.dims.size() != (is_conv ? 4u : 2u))
    fail(std::string(is_conv ? "the weights must be [M, C/group, kH, kW]" : "only a 2-D constant second operand is supported") +
         " (weights " + shape_str(wq.dims) + ")");
  value w;
  w.is_const = true;
  w.c = dequantize_const(wq, wsc, wzp, unit_axis, w.grid);
  w.grid_axis = w.grid.size() == 1 ? -1 : unit_axis;
  const float ys = scalar_scale(6, "y_scale");
  const auto [yzp, yt] = scalar_zero_point(7, "y_zero_point", xt);
  std::vector<float> bias;
  if (is_conv && has_in(8)) {
    const tensor& b = const_in(8, "B");
    if (b.is_float) fail("B must be an int32 tensor");
    const i64 M = wq.dims[0];
    if (static_cast<i64>(b.i.size()) != M) fail("B has " + std::to_string(b.i.size()) + " values for " + std::to_string(M) + " output channels");
    for (i64 c = 0; c < M; ++c)  // B's scale is x_scale * w_scale[c] (ONNX QLinearConv)
      bias.push_back(static_cast<float>(b.i[static_cast<std::size_t>(c)]) * (xs * wsc.f[wsc.f.size() == 1 ? 0 : static_cast<std::size_t>(c)]));
  }
  xv.quantized = false;
  const int id = is_conv ? conv_layer(xv, w.c, has_in(8) ? &bias : nullptr, &w) : gemm_layer(xv, w.c, true, nullptr, nullptr, &w);
  if (nodes_[static_cast<std::size_t>(id)].wscale.empty())
    fail("the weight scale must be per tensor or per output channel");
  set_quant(id, ys, yzp, yt);
  value out = values_[cur_->output(0)];
  out.quantized = true;
  out.qtype = yt;
  set_out(out);
}

// ConvInteger(x, w, x_zp, w_zp) and MatMulInteger(A, B, a_zp, b_zp): int32 results, which no int8 layer produces.
// Imported as a float Conv2d/Dense over the zero-point-shifted integers (the caller passes x - x_zp, the
// dequantized input with scale 1); exact while every accumulator stays below 2^24, which is checked here.
void converter::integer_op(bool is_conv) {
  if (is_conv) allow_attrs({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
  else allow_attrs({});
  value xv = in(0);
  if (xv.is_const || !xv.quantized || xv.node != 0)
    fail("input '" + cur_->input(0) + "' must be the u8/s8 graph input (statiq imports ConvInteger/MatMulInteger as a float layer over x - x_zero_point)");
  const auto [xzp, xt] = scalar_zero_point(2, is_conv ? "x_zero_point" : "a_zero_point", xv.qtype);
  if (act_type_ || integer_ops_) fail("only one ConvInteger/MatMulInteger reading the graph input is supported, without other quantized operators");
  const tensor& wq = const_in(1, is_conv ? "w" : "B");
  const tensor* wzp = has_in(3) ? &const_in(3, is_conv ? "w_zero_point" : "b_zero_point") : nullptr;
  if (wq.is_float) fail("the weights must be an integer tensor");
  const i64 unit_axis = is_conv ? 0 : 1;
  if (wq.dims.size() != (is_conv ? 4u : 2u)) fail("the weights " + shape_str(wq.dims) + " are not supported (" + (is_conv ? "4-D" : "2-D") + " only)");
  tensor ones;
  ones.is_float = true;
  ones.dims = wzp && wzp->i.size() > 1 ? shape_t{static_cast<i64>(wzp->i.size())} : shape_t{};
  ones.f.assign(wzp && wzp->i.size() > 1 ? wzp->i.size() : 1, 1.0f);
  std::vector<float> grid;
  const tensor w = dequantize_const(wq, ones, wzp, unit_axis, grid);
  // |x - x_zp| <= 255: the largest accumulator is 255 * max over outputs of sum |w - w_zp|.
  const i64 units = wq.dims[static_cast<std::size_t>(unit_axis)];
  std::vector<double> l1(static_cast<std::size_t>(units), 0.0);
  const i64 inner = product(wq.dims, static_cast<std::size_t>(unit_axis) + 1);
  for (std::size_t e = 0; e < w.f.size(); ++e) l1[static_cast<std::size_t>((static_cast<i64>(e) / inner) % units)] += std::fabs(w.f[e]);
  for (double v : l1)
    if (255.0 * v >= 16777216.0) fail("an accumulator may reach 2^24, where float stops holding int32 results exactly");
  nodes_[0].has_q = true;  // the caller's input: x - x_zp, scale 1
  nodes_[0].q_scale = 1.0f;
  nodes_[0].q_zp = xzp;
  input_type_ = xt;
  integer_ops_ = true;
  xv.quantized = false;
  if (is_conv) conv_layer(xv, w, nullptr, nullptr);
  else gemm_layer(xv, w, true, nullptr, nullptr, nullptr);
  value out = values_[cur_->output(0)];
  out.integer = true;
  set_out(out);
}

void converter::convert_node(const onnx::NodeProto& n) {
  cur_ = &n;
  const std::string& op = n.op_type();
  if (!n.domain().empty() && n.domain() != "ai.onnx") fail("operator domain '" + n.domain() + "' is not supported");
  if (op == "QuantizeLinear") { quantize_linear(); return; }
  if (op == "DequantizeLinear") { dequantize_linear(); return; }
  if (op == "QLinearConv" || op == "QLinearMatMul") { qlinear(op == "QLinearConv"); return; }
  if (op == "ConvInteger" || op == "MatMulInteger") { integer_op(op == "ConvInteger"); return; }
  if (fold_constant(n)) return;
  if (op == "Conv") conv();
  else if (op == "Gemm") gemm(false);
  else if (op == "MatMul") gemm(true);
  else if (op == "Relu") {
    allow_attrs({});
    value x = dyn_in(0);
    snode s;
    s.kind = "Relu";
    s.layer = "statiq::Relu";
    s.inputs = {x.node};
    s.shape = nodes_[x.node].shape;
    value v = x;
    v.node = add_node(std::move(s));
    set_out(v);
  } else if (op == "Clip") clip();
  else if (op == "MaxPool") pool(true);
  else if (op == "AveragePool") pool(false);
  else if (op == "GlobalAveragePool") global_avg_pool();
  else if (op == "ReduceMean") reduce_mean();
  else if (op == "Add") binary(true);
  else if (op == "Mul") binary(false);
  else if (op == "Concat") concat();
  else if (op == "Flatten") flatten();
  else if (op == "Reshape") reshape();
  else if (op == "Squeeze") squeeze(false);
  else if (op == "Transpose") transpose();
  else if (op == "Unsqueeze") squeeze(true);
  else if (op == "BatchNormalization") batch_norm();
  else if (op == "Softmax") softmax();
  else if (op == "Identity") { allow_attrs({}); set_out(in(0)); }
  else if (op == "Pad") {
    // PyTorch exports avg_pool2d as a no-op Pad + AveragePool; TensorFlow exports explicit zero padding before Conv.
    allow_attrs({"mode", "pads", "value"});
    const tensor& p = const_in(1, "pads");
    bool none = true;
    for (i64 v : p.i) none = none && v == 0;
    if (none && !p.is_float) {
      set_out(in(0));
      return;
    }
    value x = in(0);
    if (x.is_const) fail("Pad of a constant is not supported");
    float fill = 0.0f;
    if (has_in(2)) {
      const auto& f = const_float(2, "constant_value");
      if (f.size() != 1) fail("constant_value must be a scalar");
      fill = f[0];
    }
    if (attr_s("mode", "constant") != "constant" || fill != 0.0f || p.is_float || x.shape.size() != 4 ||
        p.i.size() != 8 || p.i[0] || p.i[1] || p.i[4] || p.i[5])
      fail("only a zero, constant-mode Pad of the spatial axes of a 4-D tensor is supported (folded into the next Conv)");
    for (i64 v : p.i) if (v < 0) fail("negative pads (cropping) are not supported");
    canon(x);
    value v = x;
    v.pad = {x.pad[0] + p.i[2], x.pad[1] + p.i[3], x.pad[2] + p.i[6], x.pad[3] + p.i[7]};
    v.shape[2] += p.i[2] + p.i[6];
    v.shape[3] += p.i[3] + p.i[7];
    set_out(v);
  }
  else if (op == "Dropout") {
    allow_attrs({"seed", "ratio", "is_test"});
    only_first_output("mask");
    if (has_in(2)) {
      const tensor& t = const_in(2, "training_mode");
      if (!t.i.empty() && t.i[0]) fail("training_mode=true is not supported (inference only)");
    }
    set_out(in(0));
  } else {
    fail("operator is not supported");
  }
}

result converter::run() {
  if (!model_.has_graph()) fail("not an ONNX model (no graph)");
  for (const auto& o : model_.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = static_cast<int>(o.version());
  if (model_.ir_version() <= 0 || model_.opset_import_size() == 0) fail("not an ONNX model (no IR version or opset)");
  if (opset_ == 0) fail("the model imports no default-domain (ai.onnx) opset");
  // Opset 10 introduced the quantized operators; their opset-10 definitions are the ones opset 11 keeps, so a
  // graph of only those (as ONNX's own tests of them are) is read as well.
  static const std::set<std::string> opset10_ops = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul",
                                                    "ConvInteger", "MatMulInteger", "Identity"};
  bool quantized_only = model_.has_graph() && model_.graph().node_size() > 0;
  for (const auto& n : model_.graph().node()) quantized_only = quantized_only && opset10_ops.count(n.op_type()) && n.domain().empty();
  if (opset_ == 10 && !quantized_only)
    fail("opset 10 is supported only for graphs of QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul, ConvInteger and MatMulInteger (11 to 17 otherwise)");
  if (opset_ < 10 || opset_ > 17) fail("opset " + std::to_string(opset_) + " is not supported (11 to 17)");
  const auto& g = model_.graph();
  if (g.output_size() != 1) fail("the graph has " + std::to_string(g.output_size()) + " outputs; statiq models have one");
  output_name_ = g.output(0).name();
  // Liveness: only nodes the output depends on are converted.
  std::map<std::string, int> producer;
  for (int k = 0; k < g.node_size(); ++k)
    for (const auto& o : g.node(k).output()) producer[o] = k;
  std::vector<bool> live(static_cast<std::size_t>(g.node_size()), false);
  uses_[output_name_] = 1;
  std::vector<std::string> stack{output_name_};
  std::set<std::string> seen{output_name_};
  while (!stack.empty()) {
    const std::string v = stack.back();
    stack.pop_back();
    auto it = producer.find(v);
    if (it == producer.end() || live[static_cast<std::size_t>(it->second)]) continue;
    live[static_cast<std::size_t>(it->second)] = true;
    for (const auto& i : g.node(it->second).input())
      if (!i.empty() && seen.insert(i).second) stack.push_back(i);
  }
  for (int k = 0; k < g.node_size(); ++k)
    if (live[static_cast<std::size_t>(k)])
      for (const auto& i : g.node(k).input()) if (!i.empty()) ++uses_[i];
  load_inputs();
  for (int k = 0; k < g.node_size(); ++k)
    if (live[static_cast<std::size_t>(k)]) convert_node(g.node(k));
  cur_ = nullptr;
  auto it = values_.find(output_name_);
  if (it == values_.end()) fail("the output '" + output_name_ + "' is not produced by any node");
  if (it->second.is_const) fail("the output '" + output_name_ + "' is a constant (nothing to run)");
  value out = it->second;
  if (out.pad != std::array<i64, 4>{}) fail("the output '" + output_name_ + "' comes from a Pad (statiq folds a zero Pad into a following Conv only)");
  std::vector<i64> identity(static_cast<std::size_t>(product(per_sample(out.shape))));
  std::iota(identity.begin(), identity.end(), i64{0});
  output_onnx_order_ = perm_of(out) == identity;  // statiq's buffer already holds ONNX's element order
  if (!output_onnx_order_ && !is_canonical(out)) {
    static const onnx::NodeProto none = [] { onnx::NodeProto p; p.set_name("output"); p.set_op_type("Output"); p.add_input(""); return p; }();
    cur_ = &none;
    canon(out);
    cur_ = nullptr;
  }
  if (out.node == 0 || out.node != static_cast<int>(nodes_.size()) - 1) {
    snode r;
    r.kind = "Reshape";
    r.shape = nodes_[out.node].shape;
    r.layer = "statiq::Reshape<" + shape_type(r.shape) + ">";
    r.inputs = {out.node};
    out.node = add_node(std::move(r));
  }
  values_[output_name_] = out;
  if (act_type_ && opt_.external_weights)
    fail("--weights external is not supported for quantized models (the header holds their int8 parameters)");
  result res;
  res.header = emit();
  if (opt_.external_weights)
    for (const auto& n : nodes_)
      for (const auto& p : n.params) res.weights.insert(res.weights.end(), p.begin(), p.end());
  return res;
}

// The embed_preprocess(...) call statiq-import's preprocessing options ask for ("" when none), checked against
// the model's input: `input` its name, `channels` its channel count (the last extent of statiq's shape).
std::string preprocess_recipe(const options& o, const std::string& input, std::int64_t channels) {
  if (!o.preprocess_input.empty() && o.preprocess_input != input)
    throw import_error("", "", "the preprocessing values name the input '" + o.preprocess_input +
                                   "', but the model's input is '" + input + "'");
  auto values = [&](const char* option, const std::vector<float>& v, const char* type) {
    if (v.size() != 1 && static_cast<std::int64_t>(v.size()) != channels)
      throw import_error("", "", std::string(option) + " gives " + std::to_string(v.size()) + " values, but the input '" +
                                     input + "' has " + std::to_string(channels) +
                                     " channels: give one value, or one per channel");
    std::string r = std::string(", statiq::") + type + "{";
    for (std::size_t k = 0; k < v.size(); ++k) r += (k ? ", " : "") + float_literal(v[k]);
    return r + "}";
  };
  if (o.reverse_input_channels && channels != 3)
    throw import_error("", "", "--reverse-input-channels needs an input with 3 channels; the input '" + input +
                                   "' has " + std::to_string(channels));
  std::string r;
  if (!o.mean_values.empty()) r += values("--mean-values", o.mean_values, "mean");
  if (!o.scale_values.empty()) r += values("--scale-values", o.scale_values, "scale");
  if (o.reverse_input_channels) r += ", statiq::reverse_channels";
  if (o.u8_input) r += ", statiq::input<statiq::u8>";
  return r.empty() ? r : "statiq::embed_preprocess(" + r.substr(2) + ")";
}

std::string converter::emit() {
  std::ostringstream h;
  const std::string recipe = preprocess_recipe(opt_, input_name_, nodes_[0].shape.back());
  if (!recipe.empty() && act_type_)
    throw import_error("", "", "the preprocessing options (--mean-values, --scale-values, --reverse-input-channels, "
                               "--input-type u8) are not supported for quantized ONNX models");
  const value& out = values_[output_name_];
  const shape_t in_ps = per_sample(input_shape_), out_ps = per_sample(out.shape);
  const bool nchw_in = input_shape_.size() == 4 && (input_nhwc_ ? opt_.layout == input_layout::nchw : opt_.layout != input_layout::nhwc);
  const bool out_cl = !output_onnx_order_ && out_ps.size() == 3;
  std::size_t total = 0;
  for (const auto& n : nodes_)
    for (const auto& p : n.params) total += p.size();
  h << "// " << opt_.name << ": generated by statiq-import from " << opt_.source << " (ONNX opset " << opset_;
  if (!model_.producer_name().empty()) h << ", produced by " << model_.producer_name() << ' ' << model_.producer_version();
  h << "). Do not edit.\n";
  h << "// Input '" << input_name_ << "' " << shape_str(input_shape_) << " float32" << (input_nhwc_ ? " (NHWC, transposed to NCHW by the model)" : "")
    << ": the caller's buffer is "
    << (input_shape_.size() == 4 ? (nchw_in ? "NCHW" : "NHWC") : "in ONNX order") << ", batch = input.size() / "
    << product(in_ps) << ".\n";
  h << "// Output '" << output_name_ << "' " << shape_str(out.shape);
  if (out_cl)
    h << ": statiq's output is channels-last (N, H, W, C) = " << shape_str({out.shape[0], out_ps[1], out_ps[2], out_ps[0]})
      << "; transpose it to compare with ONNX's NCHW.\n";
  else
    h << ": same element order as ONNX.\n";
  h << "// " << total << " parameters";
  if (opt_.external_weights) h << ", loaded at run time from '" << opt_.weights_file << "' (little-endian float32, parameter order)";
  h << ".\n#pragma once\n\n#include <array>\n#include <cstddef>\n#include <limits>\n#include <ratio>\n#include <span>\n\n#include <statiq/statiq.hpp>\n\n";
  if (!recipe.empty()) h << "#include <cstdint>\n#include <utility>\n\n#include <statiq/transform/embed_preprocess.hpp>\n\n";
  h << "namespace " << opt_.name << " {\n\n";
  // With preprocessing: the source model in namespace `source`, the model the caller runs around it.
  if (!recipe.empty()) h << "namespace source {\n\n";
  // Parameter names.
  std::set<std::string> used;
  std::vector<std::vector<std::string>> names(nodes_.size());
  for (std::size_t k = 0; k < nodes_.size(); ++k)
    for (std::size_t p = 0; p < nodes_[k].params.size(); ++p) {
      std::string nm = nodes_[k].base + "_" + nodes_[k].suffix[p];
      for (int d = 2; used.count(nm); ++d) nm = nodes_[k].base + std::to_string(d) + "_" + nodes_[k].suffix[p];
      used.insert(nm);
      names[k].push_back(nm);
    }
  if (!opt_.external_weights) {
    for (std::size_t k = 0; k < nodes_.size(); ++k)
      for (std::size_t p = 0; p < nodes_[k].params.size(); ++p) {
        const auto& a = nodes_[k].params[p];
        h << "inline constexpr float " << names[k][p] << "[] = {";
        for (std::size_t e = 0; e < a.size(); ++e) {
          if (e % 10 == 0) h << "\n   ";
          h << ' ' << float_literal(a[e]) << ',';
        }
        h << "\n};\n";
      }
    h << '\n';
  }
  h << "using graph = statiq::Graph<\n";
  for (std::size_t k = 0; k < nodes_.size(); ++k) {
    const snode& n = nodes_[k];
    std::string t = n.layer;
    const bool prev = n.inputs.size() == 1 && n.inputs[0] == static_cast<int>(k) - 1;
    if (k != 0 && !prev) {
      t = "statiq::At<" + n.layer;
      for (int i : n.inputs) t += ", " + std::to_string(i);
      t += ">";
    }
    h << "    " << t << (k + 1 < nodes_.size() ? "," : "") << "  // node " << k << ": " << n.origin << " -> " << shape_type(n.shape) << "\n";
  }
  h << ">;\n\n";
  if (!opt_.external_weights) {
    const bool quantized = act_type_ && !integer_ops_;
    h << "inline constexpr graph " << (quantized ? "float_model" : "model") << "{";
    bool first = true;
    for (const auto& v : names)
      for (const auto& nm : v) { h << (first ? "" : ", ") << nm; first = false; }
    h << "};\n";
    if (quantized) emit_quantized_model(h);
  } else {
    h << "// Floats in '" << opt_.weights_file << "'.\ninline constexpr std::size_t weight_count = " << total << ";\n";
    h << "static_assert(weight_count == graph::weight_count);\n\n";
    h << "// The model over a blob of weight_count floats read from '" << opt_.weights_file << "'; the blob must outlive it.\n";
    h << "constexpr graph make_model(std::span<const float, weight_count> w) noexcept {\n  return graph{";
    std::size_t off = 0;
    bool first = true;
    for (std::size_t k = 0; k < nodes_.size(); ++k)
      for (const auto& p : nodes_[k].params) {
        h << (first ? "" : ",\n               ") << "w.subspan<" << off << ", " << p.size() << ">()";
        off += p.size();
        first = false;
      }
    h << "};\n}\n";
  }
  auto arr = [&](const shape_t& s) {
    std::string r = "std::array<std::size_t, " + std::to_string(s.size()) + ">{";
    for (std::size_t k = 0; k < s.size(); ++k) r += (k ? ", " : "") + std::to_string(s[k]);
    return r + "}";
  };
  h << "\n// ONNX's per-sample shapes (batch excluded, ONNX axis order).\n";
  h << "inline constexpr auto source_input_shape = " << arr(in_ps) << ";\n";
  h << "inline constexpr auto source_output_shape = " << arr(out_ps) << ";\n";
  h << "// Whether the output's element order is channels-last where ONNX's is channels-first (4-D outputs).\n";
  h << "inline constexpr bool output_channels_last = " << (out_cl ? "true" : "false") << ";\n";
  emit_edge_quantization(h);
  if (!recipe.empty()) {
    h << "\n}  // namespace source\n\n";
    h << "// The caller's input " << (opt_.u8_input ? "holds raw 8-bit pixels (std::span<const std::uint8_t>)" : "holds floats")
      << "; preprocessing embedded as Model Optimizer applies it (reverse, subtract the mean, divide by the scale).\n";
    h << "inline constexpr auto recipe = " << recipe << ";\n";
    if (!opt_.external_weights) {
      h << "inline constexpr auto model = source::model | recipe;\n";
      h << "using graph = statiq::graph_of_t<decltype(model)>;\n";
    } else {
      h << "using source::weight_count;\n";
      h << "// The model over a blob of weight_count floats; it holds its own (folded) copy of the weights.\n";
      h << "constexpr auto make_model(std::span<const float, weight_count> w) noexcept { return source::make_model(w) | recipe; }\n";
      h << "using graph = statiq::graph_of_t<decltype(make_model(std::declval<std::span<const float, weight_count>>()))>;\n";
    }
    h << "using source::source_input_shape;\nusing source::source_output_shape;\nusing source::output_channels_last;\n";
  }
  h << "\n}  // namespace " << opt_.name << "\n";
  return h.str();
}

// Per statiq node: the node whose quantization its output has in the int8 model (-1: none, it runs in float).
// Layers that only move data (and a Relu/Clip) keep their input's quantization, as statiq's int8 kernels do; a
// QuantizeLinear after a Relu/Clip that a Conv2d/Dense feeds alone gives that Conv2d/Dense its output quantization
// (the pair runs fused).
std::vector<int> converter::effective_quant() {
  std::vector<int> eff(nodes_.size(), -1);
  std::vector<int> readers(nodes_.size(), 0);
  for (const auto& n : nodes_)
    for (int i : n.inputs) ++readers[static_cast<std::size_t>(i)];
  auto same = [&](int a, int b) { return nodes_[a].q_scale == nodes_[b].q_scale && nodes_[a].q_zp == nodes_[b].q_zp; };
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    snode& n = nodes_[i];
    const bool keeps = n.kind == "Flatten" || n.kind == "Reshape" || n.kind == "MaxPool" || n.kind == "AvgPool" ||
                       n.kind == "GlobalAvgPool" || n.kind == "Relu" || n.kind == "Clip";
    if (n.kind == "Input" || n.kind == "Conv2d" || n.kind == "Dense" || n.kind == "Add" || n.kind == "Concat") {
      eff[i] = n.has_q ? static_cast<int>(i) : -1;
    } else if (keeps) {
      const int src = n.inputs[0];
      const snode& p = nodes_[static_cast<std::size_t>(src)];
      const bool fusable = (n.kind == "Relu" || n.kind == "Clip") && (p.kind == "Conv2d" || p.kind == "Dense") &&
                           readers[static_cast<std::size_t>(src)] == 1;
      if (n.has_q && fusable) {
        eff[static_cast<std::size_t>(src)] = static_cast<int>(i);
        eff[i] = static_cast<int>(i);
      } else if (n.has_q && eff[static_cast<std::size_t>(src)] >= 0 && !same(eff[static_cast<std::size_t>(src)], static_cast<int>(i))) {
        const snode& q = nodes_[static_cast<std::size_t>(eff[static_cast<std::size_t>(src)])];
        throw import_error(n.origin, n.kind,
                           "the output is quantized with scale " + float_literal(n.q_scale) + ", zero point " + std::to_string(n.q_zp) +
                               " but its input with scale " + float_literal(q.q_scale) + ", zero point " + std::to_string(q.q_zp) +
                               " (statiq's int8 " + n.kind + " keeps its input's quantization)");
      } else {
        eff[i] = eff[static_cast<std::size_t>(src)];
      }
    }
  }
  return eff;
}

// The int8 model: the float graph (dequantized weights) quantized with the source's scales and zero points.
void converter::emit_quantized_model(std::ostringstream& h) {
  const std::vector<int> eff = effective_quant();
  std::vector<std::size_t> keep_float;
  std::vector<float> scales;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const snode& n = nodes_[i];
    const bool weights = n.kind == "Conv2d" || n.kind == "Dense";
    bool int8 = eff[i] >= 0;
    for (int k : n.inputs) int8 = int8 && eff[static_cast<std::size_t>(k)] >= 0;
    if (weights) int8 = int8 && !n.wscale.empty();
    if (!int8) keep_float.push_back(i);
    if (weights) {
      const std::size_t M = static_cast<std::size_t>(n.shape.back());
      for (std::size_t c = 0; c < M; ++c) scales.push_back(int8 ? n.wscale[c] : 0.0f);
      if (int8) {
        const snode& x = nodes_[static_cast<std::size_t>(eff[static_cast<std::size_t>(n.inputs[0])])];
        const snode& y = nodes_[static_cast<std::size_t>(eff[i])];
        for (std::size_t c = 0; c < M; ++c) {
          const double m = double(x.q_scale) * double(n.wscale[c]) / double(y.q_scale);
          if (!(m < 0.5))
            throw import_error(n.origin, n.kind,
                               "requantization multiplier input scale * weight scale / output scale = " + std::to_string(m) +
                                   " for output channel " + std::to_string(c) + " (statiq's int8 kernels need it below 0.5)");
        }
      }
    }
  }
  h << "\n// The source's quantization, taken as given (QuantizeLinear/DequantizeLinear, QLinear*): per node the scale\n"
       "// and zero point of its output; per output channel of every Conv2d/Dense the scale of its int8 weight grid\n"
       "// (0: the node runs in float).\n";
  h << "inline constexpr std::array<statiq::tensor_quant, " << nodes_.size() << "> quantization{{";
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const snode& q = nodes_[static_cast<std::size_t>(eff[i] >= 0 ? eff[i] : 0)];
    h << (i % 4 == 0 ? "\n    " : " ") << '{' << (eff[i] >= 0 ? float_literal(q.q_scale) : std::string("1.0f")) << ", "
      << (eff[i] >= 0 ? q.q_zp : 0) << "},";
  }
  h << "\n}};\n";
  h << "inline constexpr std::array<float, " << scales.size() << "> weight_scales{";
  for (std::size_t c = 0; c < scales.size(); ++c) h << (c % 8 == 0 ? "\n   " : "") << ' ' << float_literal(scales[c]) << ',';
  h << "\n};\n";
  std::string ignore = "statiq::ignore<";
  for (std::size_t k = 0; k < keep_float.size(); ++k) ignore += (k ? ", " : "") + std::to_string(keep_float[k]);
  ignore += ">";
  h << "// Nodes kept in float (no quantization in the source, or no int8 weight grid).\n";
  h << "using float_nodes = " << ignore << ";\n\n";
  h << "// The int8 model, quantized by the compiler.\n";
  h << "inline constexpr auto model = statiq::quantize_with_params<"
    << (act_type_ == onnx::TensorProto::UINT8 ? "std::uint8_t" : "std::int8_t")
    << ", float_nodes>(float_model, quantization, weight_scales);\n";
}

// Quantization at the model's edges, for callers holding the source's integer tensors.
void converter::emit_edge_quantization(std::ostringstream& h) {
  const value& out = values_[output_name_];
  const std::vector<int> eff = act_type_ && !integer_ops_ ? effective_quant() : std::vector<int>(nodes_.size(), -1);
  const bool in_q = input_type_ != onnx::TensorProto::FLOAT;
  const snode& iq = nodes_[0];
  const int oe = eff[static_cast<std::size_t>(out.node)];
  const bool out_q = out.quantized && oe >= 0;
  h << "// The source's integer tensors at the edges. input_is_quantized: ONNX's input holds "
    << (input_type_ == onnx::TensorProto::INT8 ? "int8" : "uint8") << " q; pass\n"
    << "// (q - input_quant.zero_point) * input_quant.scale (exact in float), which the model quantizes back.\n"
    << "// output_is_quantized: ONNX's output holds integers; the model returns them dequantized with output_quant.\n"
    << "// output_is_integer: ONNX's output is int32 (ConvInteger/MatMulInteger), returned exactly as floats.\n";
  h << "inline constexpr bool input_is_quantized = " << (in_q ? "true" : "false") << ";\n";
  h << "inline constexpr statiq::tensor_quant input_quant{" << float_literal(in_q ? iq.q_scale : 1.0f) << ", "
    << (in_q ? iq.q_zp : 0) << "};\n";
  h << "inline constexpr bool output_is_quantized = " << (out_q ? "true" : "false") << ";\n";
  h << "inline constexpr statiq::tensor_quant output_quant{"
    << float_literal(out_q ? nodes_[static_cast<std::size_t>(oe)].q_scale : 1.0f) << ", "
    << (out_q ? nodes_[static_cast<std::size_t>(oe)].q_zp : 0) << "};\n";
  h << "inline constexpr bool output_is_integer = " << (out.integer ? "true" : "false") << ";\n";
}

}  // namespace

std::string format_error(const std::string& file, const import_error& e) {
  std::string s = "statiq-import: " + file + ": ";
  if (!e.node.empty() || !e.op.empty()) s += "node '" + e.node + "' (" + e.op + "): ";
  std::string r = e.what();
  for (auto& c : r) if (c == '\n') c = ' ';
  return s + r;
}

std::vector<std::string> model_ops(const void* data, std::size_t size) {
  onnx::ModelProto m;
  if (size > static_cast<std::size_t>(INT_MAX) || !m.ParseFromArray(data, static_cast<int>(size)))
    throw import_error("", "", "not a valid ONNX file (the protobuf does not parse: truncated, corrupt or not ONNX)");
  std::set<std::string> ops;
  for (const auto& n : m.graph().node())
    ops.insert(n.domain().empty() || n.domain() == "ai.onnx" ? n.op_type() : n.domain() + "." + n.op_type());
  return {ops.begin(), ops.end()};
}

result import_model(const void* data, std::size_t size, const options& opt) {
  if (size > static_cast<std::size_t>(INT_MAX)) throw import_error("", "", "the file is larger than 2 GiB (not supported)");
  onnx::ModelProto m;
  if (!m.ParseFromArray(data, static_cast<int>(size)))
    throw import_error("", "", "not a valid ONNX file (the protobuf does not parse: truncated, corrupt or not ONNX)");
  try {
    converter c(m, opt);
    return c.run();
  } catch (const import_error&) {
    throw;
  } catch (const std::exception& e) {
    throw import_error("", "", e.what());
  }
}

}  // namespace statiq_import
