// bit_flipper: flips each bit of the memory it is shown with probability `rate`, reproducibly from a seed
// (the soft-error model of fault-injection studies: independent single-bit upsets at a fixed rate per bit).
//
// The bits of every span passed to flip() form one stream, and flips are placed on it as a Bernoulli process:
// the gap to the next flipped bit is geometric, drawn by inversion, G = floor(ln U / ln(1 - rate)), U in (0, 1].
// Cost is proportional to the number of flips, not the number of bits, so a 1e-7 rate over megabytes is free.
// Bit b of a span is bit (b mod 8) of byte b / 8 (least significant first).
//
// Deterministic: the same seed and the same sequence of span sizes give the same flips (xoshiro256** seeded
// through splitmix64; std::log of the same double on the same platform). Different platforms' libm may round
// the logarithm differently; the flip count statistics do not depend on it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>

namespace statiq::fault {

class bit_flipper {
 public:
  // rate: the probability that any one bit flips, in [0, 1]; throws std::invalid_argument otherwise.
  bit_flipper(double rate, std::uint64_t seed) : rate_(rate) {
    if (!(rate >= 0.0 && rate <= 1.0))
      throw std::invalid_argument("statiq::fault::bit_flipper: rate " + std::to_string(rate) +
                                  " is not a probability in [0, 1]");
    std::uint64_t z = seed;
    for (auto& s : state_) s = splitmix64(z);
    log_keep_ = std::log1p(-rate);  // ln(1 - rate): 0 for rate 0, -inf for rate 1
    gap_ = next_gap();
  }

  // Flips bits of `bytes`; calls on_flip(byte index, mask) for each byte it changes (mask: the bits flipped in
  // it, one bit per call). Returns the number of bits flipped.
  template <class OnFlip>
  std::size_t flip(std::span<std::byte> bytes, OnFlip&& on_flip) {
    const std::uint64_t bits = static_cast<std::uint64_t>(bytes.size()) * 8;
    std::size_t n = 0;
    std::uint64_t at = gap_;
    while (at < bits) {
      const std::byte mask{static_cast<unsigned char>(1u << (at % 8))};
      bytes[at / 8] ^= mask;
      on_flip(static_cast<std::size_t>(at / 8), mask);
      ++n;
      const std::uint64_t g = next_gap();
      at = g >= never - at ? never : at + 1 + g;
    }
    gap_ = at == never ? never : at - bits;
    bits_seen_ += bits;
    flipped_ += n;
    return n;
  }
  std::size_t flip(std::span<std::byte> bytes) {
    return flip(bytes, [](std::size_t, std::byte) {});
  }

  double rate() const noexcept { return rate_; }
  std::uint64_t bits_seen() const noexcept { return bits_seen_; }  // bits shown to flip() so far
  std::uint64_t flipped() const noexcept { return flipped_; }      // bits flipped so far

 private:
  static constexpr std::uint64_t never = std::numeric_limits<std::uint64_t>::max();

  static std::uint64_t splitmix64(std::uint64_t& z) {
    z += 0x9e3779b97f4a7c15ull;
    std::uint64_t x = z;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t next_u64() {  // xoshiro256**
    const std::uint64_t r = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return r;
  }
  // Bits to skip before the next flip: geometric with success probability rate_.
  std::uint64_t next_gap() {
    if (rate_ <= 0.0) return never;
    if (rate_ >= 1.0) return 0;
    const double u = static_cast<double>((next_u64() >> 11) + 1) * 0x1.0p-53;  // (0, 1]
    const double g = std::floor(std::log(u) / log_keep_);
    return g >= 0x1.0p62 ? never / 2 : static_cast<std::uint64_t>(g);
  }

  double rate_;
  double log_keep_ = 0;
  std::uint64_t state_[4]{};
  std::uint64_t gap_ = 0;  // bits of the stream to skip before the next flip
  std::uint64_t bits_seen_ = 0;
  std::uint64_t flipped_ = 0;
};

}  // namespace statiq::fault
