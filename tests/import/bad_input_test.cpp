// statiq-import rejects bad input with one line naming the file, the node, its op type and the reason, a
// non-zero exit code, and no output file left behind.
#include <doctest/doctest.h>

#include <onnx/onnx_pb.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

const fs::path work = fs::path(STATIQ_IMPORT_WORK_DIR) / "bad_input";

struct outcome {
  int exit_code;
  std::string err;
  bool output_exists;
  bool stray_files;  // anything but the model, the header expected and the captured stderr
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << bytes;
}

// Runs statiq-import on `model` in a fresh directory.
outcome import(const std::string& case_name, const std::string& bytes, const std::string& extra = "") {
  const fs::path dir = work / case_name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  write(dir / "model.onnx", bytes);
  const std::string cmd = "cd '" + dir.string() + "' && '" STATIQ_IMPORT_EXE "' model.onnx --name m -o m.hpp " + extra +
                          " 2> stderr.txt";
  const int status = std::system(cmd.c_str());
  outcome o{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir / "stderr.txt"), fs::exists(dir / "m.hpp"), false};
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name != "model.onnx" && name != "stderr.txt" && name != "m.hpp") o.stray_files = true;
  }
  return o;
}

void check_rejected(const outcome& o, const std::string& must_contain) {
  INFO("stderr: " << o.err);
  CHECK(o.exit_code != 0);
  CHECK_FALSE(o.output_exists);
  CHECK_FALSE(o.stray_files);
  REQUIRE(!o.err.empty());
  CHECK(o.err.back() == '\n');
  CHECK(o.err.find('\n') == o.err.size() - 1);  // exactly one line
  CHECK(o.err.rfind("statiq-import: model.onnx: ", 0) == 0);
  CHECK(o.err.find(must_contain) != std::string::npos);
}

// A small valid model: x [N, 1, 8, 8] -> Conv(2, 3x3) -> Relu -> y; `edit` adjusts it.
template <class Edit>
std::string model(Edit edit) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("statiq-test");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto* in = g->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tt->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (int d : {1, 8, 8}) shape->add_dim()->set_dim_value(d);
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  for (int d : {2, 1, 3, 3}) w->add_dims(d);
  for (int k = 0; k < 18; ++k) w->add_float_data(0.1f * k);
  auto* conv = g->add_node();
  conv->set_name("conv0");
  conv->set_op_type("Conv");
  conv->add_input("x");
  conv->add_input("w");
  conv->add_output("c");
  auto* relu = g->add_node();
  relu->set_name("relu0");
  relu->set_op_type("Relu");
  relu->add_input("c");
  relu->add_output("y");
  auto* out = g->add_output();
  out->set_name("y");
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  edit(m);
  return m.SerializeAsString();
}
std::string model() {
  return model([](onnx::ModelProto&) {});
}

}  // namespace

TEST_CASE("statiq-import: the valid model imports (near miss of every case below)") {
  const outcome o = import("valid", model());
  INFO("stderr: " << o.err);
  CHECK(o.exit_code == 0);
  CHECK(o.output_exists);
  CHECK(o.err.empty());
  CHECK_FALSE(o.stray_files);
}

TEST_CASE("statiq-import: truncated file") {
  const std::string full = model();
  check_rejected(import("truncated", full.substr(0, full.size() * 2 / 3)), "truncated, corrupt or not ONNX");
}

TEST_CASE("statiq-import: corrupt file") {
  std::string bytes = model();
  for (std::size_t k = bytes.size() / 3; k < bytes.size() / 3 + 16; ++k) bytes[k] = static_cast<char>(0xff);
  check_rejected(import("corrupt", bytes), "truncated, corrupt or not ONNX");
}

TEST_CASE("statiq-import: not an ONNX file") {
  check_rejected(import("not_onnx", "#include <cstdio>\nint main() { return 0; }\n"), "not ");
  check_rejected(import("empty", ""), "not an ONNX model");
}

TEST_CASE("statiq-import: unsupported operator") {
  const auto bytes = model([](onnx::ModelProto& m) { m.mutable_graph()->mutable_node(1)->set_op_type("Sin"); });
  check_rejected(import("unsupported_op", bytes), "node 'relu0' (Sin): operator is not supported");
}

TEST_CASE("statiq-import: unsupported attribute") {
  const auto bytes = model([](onnx::ModelProto& m) {
    auto* a = m.mutable_graph()->mutable_node(0)->add_attribute();
    a->set_name("frobnicate");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(1);
  });
  check_rejected(import("unsupported_attribute", bytes), "node 'conv0' (Conv): attribute 'frobnicate' is not supported");
}

TEST_CASE("statiq-import: unsupported attribute value") {
  const auto bytes = model([](onnx::ModelProto& m) {
    auto* a = m.mutable_graph()->mutable_node(0)->add_attribute();
    a->set_name("auto_pad");
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s("SAME_MIDDLE");
  });
  check_rejected(import("unsupported_attribute_value", bytes), "node 'conv0' (Conv): auto_pad 'SAME_MIDDLE' is not supported");
}

TEST_CASE("statiq-import: dynamic shape without --input-shape, and with it") {
  const auto bytes = model([](onnx::ModelProto& m) {
    m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(2)->set_dim_param("H");
  });
  check_rejected(import("dynamic_shape", bytes), "dynamic dimension 2 ('H'): fix it with --input-shape");
  const outcome fixed = import("dynamic_shape_fixed", bytes, "--input-shape 1,1,8,8");
  INFO("stderr: " << fixed.err);
  CHECK(fixed.exit_code == 0);
  CHECK(fixed.output_exists);
}

TEST_CASE("statiq-import: Flatten with an axis past the input's rank (found by the fuzzer), and a valid one") {
  const auto with_flatten = [](int axis) {
    return model([axis](onnx::ModelProto& m) {
      auto* g = m.mutable_graph();
      auto* f = g->add_node();
      f->set_name("flat0");
      f->set_op_type("Flatten");
      f->add_input("y");
      f->add_output("f");
      auto* a = f->add_attribute();
      a->set_name("axis");
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(axis);
      g->mutable_output(0)->set_name("f");
    });
  };
  check_rejected(import("flatten_axis_out_of_range", with_flatten(5)), "node 'flat0' (Flatten): Flatten axis 5 is out of range");
  const outcome ok = import("flatten_axis_1", with_flatten(1));
  INFO("stderr: " << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output_exists);
}

TEST_CASE("statiq-import: unsupported opset") {
  for (int v : {9, 18}) {
    const auto bytes = model([v](onnx::ModelProto& m) { m.mutable_opset_import(0)->set_version(v); });
    check_rejected(import("opset" + std::to_string(v), bytes), "opset " + std::to_string(v) + " is not supported (11 to 17)");
  }
}

TEST_CASE("statiq-import: a failing import leaves an existing output untouched") {
  const fs::path dir = work / "keep";
  fs::remove_all(dir);
  fs::create_directories(dir);
  write(dir / "m.hpp", "previous");
  write(dir / "model.onnx", "garbage");
  const std::string cmd = "cd '" + dir.string() + "' && '" STATIQ_IMPORT_EXE "' model.onnx -o m.hpp 2> /dev/null";
  CHECK(std::system(cmd.c_str()) != 0);
  CHECK(slurp(dir / "m.hpp") == "previous");
}

namespace {
// Quantized-operator edits of the small model: a per-tensor scale and zero point as initializers, and a node.
void add_quant_params(onnx::GraphProto* g, const std::string& prefix, std::initializer_list<float> scales, int zp_type, int zp) {
  auto* s = g->add_initializer();
  s->set_name(prefix + "_scale");
  s->set_data_type(onnx::TensorProto::FLOAT);
  if (scales.size() != 1) s->add_dims(static_cast<std::int64_t>(scales.size()));
  for (float v : scales) s->add_float_data(v);
  auto* z = g->add_initializer();
  z->set_name(prefix + "_zp");
  z->set_data_type(zp_type);
  if (scales.size() != 1) z->add_dims(static_cast<std::int64_t>(scales.size()));
  for (std::size_t k = 0; k < scales.size(); ++k) z->add_int32_data(zp);
}
// Inserts `op`(input, prefix_scale, prefix_zp) -> output before all nodes.
void add_q_node(onnx::GraphProto* g, const std::string& op, const std::string& in, const std::string& out, const std::string& prefix) {
  auto* n = g->add_node();
  n->set_name(op + "_" + in);
  n->set_op_type(op);
  n->add_input(in);
  n->add_input(prefix + "_scale");
  n->add_input(prefix + "_zp");
  n->add_output(out);
  for (int k = g->node_size() - 1; k > 0; --k) g->mutable_node()->SwapElements(k, k - 1);
}
}  // namespace

TEST_CASE("statiq-import: quantized operators it cannot map are rejected with the reason") {
  // Per-axis quantization of an activation (statiq quantizes activations per tensor).
  check_rejected(import("q_per_axis", model([](onnx::ModelProto& m) {
                   auto* g = m.mutable_graph();
                   add_quant_params(g, "xq", {0.1f, 0.2f}, onnx::TensorProto::UINT8, 128);
                   add_q_node(g, "QuantizeLinear", "x", "x_q", "xq");
                   g->mutable_node(1)->set_input(0, "x_q");
                 })),
                 "node 'QuantizeLinear_x' (QuantizeLinear): y_scale [2] has 2 values: per-axis quantization of activations is not supported");
  // A quantized tensor read by a float operator without a DequantizeLinear.
  check_rejected(import("q_no_dequantize", model([](onnx::ModelProto& m) {
                   auto* g = m.mutable_graph();
                   add_quant_params(g, "xq", {0.1f}, onnx::TensorProto::UINT8, 128);
                   add_q_node(g, "QuantizeLinear", "x", "x_q", "xq");
                   g->mutable_node(1)->set_input(0, "x_q");
                 })),
                 "node 'conv0' (Conv): input 'x_q' holds quantized integers");
  // DequantizeLinear of a float run-time tensor.
  check_rejected(import("dq_of_float", model([](onnx::ModelProto& m) {
                   auto* g = m.mutable_graph();
                   add_quant_params(g, "xq", {0.1f}, onnx::TensorProto::UINT8, 128);
                   add_q_node(g, "DequantizeLinear", "x", "x_dq", "xq");
                   g->mutable_node(1)->set_input(0, "x_dq");
                 })),
                 "(DequantizeLinear): input 'x' is a float tensor");
  // u8 and s8 activations in one model.
  check_rejected(import("q_mixed_types", model([](onnx::ModelProto& m) {
                   auto* g = m.mutable_graph();
                   add_quant_params(g, "xq", {0.1f}, onnx::TensorProto::UINT8, 128);
                   add_quant_params(g, "cq", {0.1f}, onnx::TensorProto::INT8, 0);
                   add_q_node(g, "DequantizeLinear", "x_q", "x_dq", "xq");
                   add_q_node(g, "QuantizeLinear", "x", "x_q", "xq");
                   g->mutable_node(2)->set_input(0, "x_dq");  // conv0
                   g->mutable_node(2)->set_output(0, "c0");
                   auto* q = g->add_node();
                   q->set_name("cq0");
                   q->set_op_type("QuantizeLinear");
                   for (const char* i : {"c0", "cq_scale", "cq_zp"}) q->add_input(i);
                   q->add_output("c_q");
                   auto* dq = g->add_node();
                   dq->set_name("cdq0");
                   dq->set_op_type("DequantizeLinear");
                   for (const char* i : {"c_q", "cq_scale", "cq_zp"}) dq->add_input(i);
                   dq->add_output("c");
                   g->mutable_node()->SwapElements(3, 5);  // relu0 last
                   g->mutable_node()->SwapElements(3, 4);
                 })),
                 "node 'cq0' (QuantizeLinear): the model quantizes activations to both uint8 and int8");
  // Opset 10 only for graphs of quantized operators.
  check_rejected(import("opset10_float", model([](onnx::ModelProto& m) { m.mutable_opset_import(0)->set_version(10); })),
                 "opset 10 is supported only for graphs of QuantizeLinear");
}
