// Reads Fashion-MNIST (or MNIST) images from a gzip'd idx3 file, normalised as the reference CNN expects:
// (pixel / 255 - 0.2860) / 0.3530, one [1][28][28] (NCHW = NHWC for one channel) image after another.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace statiq_test {

inline std::vector<float> read_idx_images(const std::string& path, std::size_t max_images) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("cannot open " + path);
  unsigned char header[16];
  if (gzread(f, header, sizeof header) != static_cast<int>(sizeof header)) {
    gzclose(f);
    throw std::runtime_error(path + ": truncated idx header");
  }
  const auto be32 = [&](int at) {
    return std::uint32_t{header[at]} << 24 | std::uint32_t{header[at + 1]} << 16 | std::uint32_t{header[at + 2]} << 8 |
           std::uint32_t{header[at + 3]};
  };
  if (be32(0) != 0x803) {
    gzclose(f);
    throw std::runtime_error(path + ": not an idx3 unsigned-byte file");
  }
  const std::size_t count = be32(4) < max_images ? be32(4) : max_images;
  const std::size_t pixels = std::size_t{be32(8)} * be32(12);
  std::vector<unsigned char> raw(count * pixels);
  const int got = gzread(f, raw.data(), static_cast<unsigned>(raw.size()));
  gzclose(f);
  if (got != static_cast<int>(raw.size())) throw std::runtime_error(path + ": truncated idx data");
  std::vector<float> x(raw.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (raw[i] / 255.0f - 0.2860f) / 0.3530f;
  return x;
}

}  // namespace statiq_test
