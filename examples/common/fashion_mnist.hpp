// Reads the Fashion-MNIST idx files (decompressed) into normalised NCHW float images and labels.
#pragma once

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace statiq_examples {

struct fashion_mnist {
  std::vector<float> images;        // [n][1][28][28], (pixel / 255 - mean) / std
  std::vector<std::uint8_t> pixels;  // [n][28][28], raw
  std::vector<std::uint8_t> labels;  // [n]
  std::size_t count = 0;
};

inline constexpr float fmnist_mean = 0.2860f;
inline constexpr float fmnist_std = 0.3530f;

namespace detail {
inline std::uint32_t read_be32(std::ifstream& f, const std::string& path) {
  unsigned char b[4];
  if (!f.read(reinterpret_cast<char*>(b), 4)) throw std::runtime_error(path + ": truncated idx header");
  return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
}
}  // namespace detail

// images_path / labels_path: uncompressed idx3 / idx1 files. Reads at most `limit` samples.
inline fashion_mnist load_fashion_mnist(const std::string& images_path, const std::string& labels_path,
                                        std::size_t limit = static_cast<std::size_t>(-1)) {
  std::ifstream fi(images_path, std::ios::binary), fl(labels_path, std::ios::binary);
  if (!fi) throw std::runtime_error(images_path + ": cannot open");
  if (!fl) throw std::runtime_error(labels_path + ": cannot open");
  if (detail::read_be32(fi, images_path) != 0x803) throw std::runtime_error(images_path + ": not an idx3 image file");
  if (detail::read_be32(fl, labels_path) != 0x801) throw std::runtime_error(labels_path + ": not an idx1 label file");
  const std::uint32_t n = detail::read_be32(fi, images_path);
  const std::uint32_t rows = detail::read_be32(fi, images_path), cols = detail::read_be32(fi, images_path);
  if (detail::read_be32(fl, labels_path) != n) throw std::runtime_error(labels_path + ": label count differs from images");
  if (rows != 28 || cols != 28) throw std::runtime_error(images_path + ": images are not 28x28");
  fashion_mnist d;
  d.count = n < limit ? n : limit;
  d.pixels.resize(d.count * 784);
  d.labels.resize(d.count);
  if (!fi.read(reinterpret_cast<char*>(d.pixels.data()), static_cast<std::streamsize>(d.pixels.size())))
    throw std::runtime_error(images_path + ": truncated at byte offset " + std::to_string(16 + fi.gcount()));
  if (!fl.read(reinterpret_cast<char*>(d.labels.data()), static_cast<std::streamsize>(d.labels.size())))
    throw std::runtime_error(labels_path + ": truncated at byte offset " + std::to_string(8 + fl.gcount()));
  d.images.resize(d.pixels.size());
  for (std::size_t i = 0; i < d.pixels.size(); ++i)
    d.images[i] = (static_cast<float>(d.pixels[i]) / 255.0f - fmnist_mean) / fmnist_std;
  return d;
}

}  // namespace statiq_examples
