// statiq-import's library entry point: ONNX model bytes -> the text of a header declaring a statiq::Graph
// type and its parameters (embedded constexpr arrays, or a blob of floats loaded at run time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace statiq_import {

enum class input_layout { source, nchw, nhwc };

struct options {
  std::string name = "model";             // C++ namespace of the generated header
  std::string source = "model.onnx";      // file name quoted in the header comment and in errors
  std::vector<std::int64_t> input_shape;  // full ONNX input shape (batch included) fixing dynamic dimensions
  bool external_weights = false;          // weights go to a float blob instead of constexpr arrays
  std::string weights_file;               // name of that blob, quoted in the header
  input_layout layout = input_layout::source;
  // Tensors bound to the graph's 2nd, 3rd, ... inputs as constants (serialized TensorProto files' bytes):
  // ONNX's operator tests feed weights as graph inputs, statiq models have one run-time input.
  std::vector<std::string> constant_inputs;
  // Model Optimizer's input preprocessing, embedded with statiq::embed_preprocess (empty / false: none).
  // preprocess_input names the input the values were given for (MO's `data[...]` form; empty: the only one).
  std::vector<float> mean_values, scale_values;
  bool reverse_input_channels = false;
  bool u8_input = false;  // --input-type u8: the caller feeds raw 8-bit pixels
  std::string preprocess_input;
};

struct result {
  std::string header;
  std::vector<float> weights;  // the external blob's contents (when options::external_weights)
};

// An import failure: `node` and `op` are empty when the failure is not specific to a node.
struct import_error : std::runtime_error {
  std::string node, op;
  import_error(std::string n, std::string o, const std::string& reason)
      : std::runtime_error(reason), node(std::move(n)), op(std::move(o)) {}
};

// Parses and converts; throws import_error. Never writes files.
result import_model(const void* data, std::size_t size, const options& opt);

// The distinct operator types of the model's graph, sorted (domain-qualified outside ai.onnx).
std::vector<std::string> model_ops(const void* data, std::size_t size);

// "statiq-import: <file>: node '<name>' (<OpType>): <reason>" (without the node part when not node-specific).
std::string format_error(const std::string& file, const import_error& e);

}  // namespace statiq_import
