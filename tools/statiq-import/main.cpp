// statiq-import: command line front end (statiq-import model.onnx --name fmnist -o fmnist.hpp).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <unistd.h>

#include "importer.hpp"

namespace {

const char usage[] =
    "usage: statiq-import MODEL.onnx [-o OUT.hpp] [--name NS] [--input-shape N,C,H,W]\n"
    "                     [--layout nchw|nhwc] [--weights embedded|external] [--constant-input TENSOR.pb]...\n"
    "  -o OUT.hpp          header to write (default: NS.hpp)\n"
    "  --name NS           C++ namespace of the model (default: the file's stem)\n"
    "  --input-shape DIMS  the input's full ONNX shape, fixing dynamic dimensions (batch stays a run-time extent)\n"
    "  --layout L          layout of the caller's input buffer (default: the source model's, NCHW for images)\n"
    "  --weights external  write the weights to OUT.bin (float32) and a make_model(std::span) to the header\n"
    "  --constant-input T  bind the graph's next extra input to the TensorProto file T (ONNX's node tests)\n"
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
    const char* v = nullptr;
    if (a == "-o" || a == "--name" || a == "--input-shape" || a == "--layout" || a == "--weights" || a == "--constant-input") {
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
