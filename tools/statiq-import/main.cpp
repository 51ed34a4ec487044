// statiq-import: command line front end (statiq-import model.onnx --name fmnist -o fmnist.hpp).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>
#include <unistd.h>

#include "importer.hpp"

namespace {

const char usage[] =
    "usage: statiq-import MODEL.onnx [-o OUT.hpp] [--name NS] [--input-shape N,C,H,W]\n"
    "                     [--layout nchw|nhwc] [--weights embedded|external] [--constant-input TENSOR.pb]...\n"
    "                     [--mean-values V] [--scale-values V] [--reverse-input-channels] [--input-type u8|f32]\n"
    "  -o OUT.hpp          header to write (default: NS.hpp)\n"
    "  --name NS           C++ namespace of the model (default: the file's stem)\n"
    "  --input-shape DIMS  the input's full ONNX shape, fixing dynamic dimensions (batch stays a run-time extent)\n"
    "  --layout L          layout of the caller's input buffer (default: the source model's, NCHW for images)\n"
    "  --weights external  write the weights to OUT.bin (float32) and a make_model(std::span) to the header\n"
    "  --constant-input T  bind the graph's next extra input to the TensorProto file T (ONNX's node tests)\n"
    "  --mean-values V     subtracted per channel, as Model Optimizer's --mean_values: [123.675,116.28,103.53],\n"
    "                      one value for all channels, or NAME[...] naming the input\n"
    "  --scale-values V    each channel divided by it (after the mean), as --scale_values: [58.395,57.12,57.375]\n"
    "  --reverse-input-channels  the caller's channels are in reverse order (RGB <-> BGR), applied first\n"
    "  --input-type T      u8: the caller feeds raw 8-bit pixels (run() takes std::uint8_t); f32 (default): floats\n"
    "                      (these embed the preprocessing with statiq::embed_preprocess, folded into the first layer)\n"
    "  --print-ops         print the operator types the model uses, one a line, and exit\n";

bool read_file(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return !f.bad();
}

// Writes through a temporary in the same directory and renames: never a partial file under `path`.
bool write_atomically(const std::string& path, const void* data, std::size_t size, std::string& err) {
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) { err = "cannot write '" + tmp + "'"; return false; }
    f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    f.close();
    if (!f) { std::remove(tmp.c_str()); err = "cannot write '" + tmp + "'"; return false; }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    err = "cannot rename the output to '" + path + "'";
    return false;
  }
  return true;
}

// MO's value list: "[v,v,...]", "NAME[v,...]" or "v,v,...". Returns an error message naming `option`, or "".
std::string parse_values(const std::string& option, const std::string& text, std::vector<float>& out, std::string& name) {
  const std::string example = " (expected e.g. [123.675,116.28,103.53] or data[123.675,116.28,103.53])";
  std::string list = text;
  const std::size_t open = text.find('[');
  if (open != std::string::npos) {
    if (text.back() != ']' || text.find('[', open + 1) != std::string::npos)
      return option + ": '" + text + "' is not one bracketed list (statiq models have one input)" + example;
    const std::string n = text.substr(0, open);
    if (!n.empty() && !name.empty() && n != name)
      return option + ": names the input '" + n + "', another option named '" + name + "'";
    if (!n.empty()) name = n;
    list = text.substr(open + 1, text.size() - open - 2);
  }
  std::stringstream ss(list);
  std::string v;
  out.clear();
  while (std::getline(ss, v, ',')) {
    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
    while (!v.empty() && v.back() == ' ') v.pop_back();
    char* end = nullptr;
    const float x = std::strtof(v.c_str(), &end);
    if (v.empty() || *end || !std::isfinite(x)) return option + ": '" + v + "' is not a number" + example;
    if (option == "--scale-values" && x == 0.0f) return option + ": a scale of 0 divides by zero";
    out.push_back(x);
  }
  if (out.empty() || (!list.empty() && list.back() == ',')) return option + ": '" + text + "' gives no values" + example;
  return "";
}

bool valid_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace statiq_import;
  options opt;
  std::string in_path, out_path, name;
  bool print_ops = false;
  auto die = [&](const std::string& msg) {
    std::cerr << "statiq-import: " << (in_path.empty() ? "" : in_path + ": ") << msg << "\n";
    return 2;
  };
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    auto next = [&]() -> const char* { return k + 1 < argc ? argv[++k] : nullptr; };
    if (a == "-h" || a == "--help") { std::cout << usage; return 0; }
    if (a == "--print-ops") { print_ops = true; continue; }
    if (a == "--reverse-input-channels" || a == "--reverse_input_channels") { opt.reverse_input_channels = true; continue; }
    const char* v = nullptr;
    const bool preprocess_option = a == "--mean-values" || a == "--mean_values" || a == "--scale-values" ||
                                   a == "--scale_values" || a == "--input-type" || a == "--input_type";
    if (a == "-o" || a == "--name" || a == "--input-shape" || a == "--layout" || a == "--weights" || a == "--constant-input" ||
        preprocess_option) {
      v = next();
      if (!v) { std::cerr << "statiq-import: option " << a << " needs a value\n" << usage; return 2; }
    }
    if (a == "-o") out_path = v;
    else if (a == "--name") name = v;
    else if (a == "--input-shape") {
      std::stringstream ss(v);
      std::string d;
      while (std::getline(ss, d, ',')) {
        char* end = nullptr;
        const long long x = std::strtoll(d.c_str(), &end, 10);
        if (d.empty() || *end || x <= 0) { std::cerr << "statiq-import: --input-shape takes positive integers separated by commas\n"; return 2; }
        opt.input_shape.push_back(x);
      }
    } else if (a == "--layout") {
      const std::string l = v;
      if (l == "nchw") opt.layout = input_layout::nchw;
      else if (l == "nhwc") opt.layout = input_layout::nhwc;
      else { std::cerr << "statiq-import: --layout takes nchw or nhwc\n"; return 2; }
    } else if (a == "--weights") {
      const std::string w = v;
      if (w == "external") opt.external_weights = true;
      else if (w == "embedded") opt.external_weights = false;
      else { std::cerr << "statiq-import: --weights takes embedded or external\n"; return 2; }
    } else if (a == "--mean-values" || a == "--mean_values" || a == "--scale-values" || a == "--scale_values") {
      const bool is_mean = a == "--mean-values" || a == "--mean_values";
      const std::string err = parse_values(is_mean ? "--mean-values" : "--scale-values", v,
                                           is_mean ? opt.mean_values : opt.scale_values, opt.preprocess_input);
      if (!err.empty()) { std::cerr << "statiq-import: " << err << "\n"; return 2; }
    } else if (a == "--input-type" || a == "--input_type") {
      const std::string t = v;
      if (t == "u8" || t == "U8") opt.u8_input = true;
      else if (t == "f32" || t == "FP32" || t == "fp32") opt.u8_input = false;
      else { std::cerr << "statiq-import: --input-type takes u8 or f32, not '" << t << "'\n"; return 2; }
    } else if (a == "--constant-input") {
      std::string bytes;
      if (!read_file(v, bytes)) { std::cerr << "statiq-import: cannot read '" << v << "'\n"; return 2; }
      opt.constant_inputs.push_back(std::move(bytes));
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "statiq-import: unknown option " << a << "\n" << usage;
      return 2;
    } else if (in_path.empty()) {
      in_path = a;
    } else {
      std::cerr << "statiq-import: more than one model given\n" << usage;
      return 2;
    }
  }
  if (in_path.empty()) { std::cerr << usage; return 2; }
  if (name.empty()) {
    name = std::filesystem::path(out_path.empty() ? in_path : out_path).stem().string();
    for (auto& c : name) if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) name = "model_" + name;
  }
  if (!valid_identifier(name)) return die("--name '" + name + "' is not a C++ identifier");
  if (out_path.empty()) out_path = name + ".hpp";
  opt.name = name;
  opt.source = std::filesystem::path(in_path).filename().string();
  const std::string bin_path = std::filesystem::path(out_path).replace_extension(".bin").string();
  opt.weights_file = std::filesystem::path(bin_path).filename().string();

  std::string bytes;
  if (!read_file(in_path, bytes)) return die("cannot read the file");
  if (print_ops) {
    try {
      for (const auto& op : model_ops(bytes.data(), bytes.size())) std::cout << op << "\n";
    } catch (const import_error& e) {
      std::cerr << format_error(in_path, e) << "\n";
      return 1;
    }
    return 0;
  }
  result r;
  try {
    r = import_model(bytes.data(), bytes.size(), opt);
  } catch (const import_error& e) {
    std::cerr << format_error(in_path, e) << "\n";
    return 1;
  }
  std::string err;
  if (opt.external_weights &&
      !write_atomically(bin_path, r.weights.data(), r.weights.size() * sizeof(float), err))
    return die(err);
  if (!write_atomically(out_path, r.header.data(), r.header.size(), err)) {
    if (opt.external_weights) std::remove(bin_path.c_str());
    return die(err);
  }
  return 0;
}
