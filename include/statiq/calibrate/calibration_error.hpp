// calibration_error: what statiq::calibrate throws for a calibration set it cannot use.
//
// Calibration runs on a host, before deployment, so it reports bad input by exception (C++20 has no
// std::expected); inference (run) stays noexcept and returns a status. Every error of calibrate() is this
// one type; sample() and node() say where, when the error has a place.
#pragma once

#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

namespace statiq {

class calibration_error : public std::runtime_error {
 public:
  static constexpr std::size_t none = std::numeric_limits<std::size_t>::max();

  explicit calibration_error(const std::string& what, std::size_t sample = none, std::size_t node = none)
      : std::runtime_error(what), sample_(sample), node_(node) {}

  // Index of the offending sample in the calibration set, or `none`.
  std::size_t sample() const noexcept { return sample_; }
  // Index of the graph node whose output was bad (0: the input itself), or `none`.
  std::size_t node() const noexcept { return node_; }

 private:
  std::size_t sample_;
  std::size_t node_;
};

}  // namespace statiq
