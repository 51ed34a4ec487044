// Shared helpers of the kernel tests: seeded random tensors, misaligned buffers, per-target driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace statiq::kernels::test {

// A buffer whose data() is `misalign` elements' alignment (misalign * alignof(T) bytes) past a 64-byte
// boundary, to exercise unaligned vector loads/stores; elements themselves stay naturally aligned, as C++
// requires (UBSan rejects an int32 at an odd address).
template <class T>
class offset_buffer {
 public:
  offset_buffer(std::size_t n, std::size_t misalign)
      : storage_(n * sizeof(T) + 64 + misalign * alignof(T) + 64), n_(n) {
    auto base = reinterpret_cast<std::uintptr_t>(storage_.data());
    base = (base + 63) & ~std::uintptr_t{63};
    ptr_ = reinterpret_cast<T*>(base + misalign * alignof(T));
  }
  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  std::size_t size() const { return n_; }
  T& operator[](std::size_t i) { return ptr_[i]; }
  const T& operator[](std::size_t i) const { return ptr_[i]; }

 private:
  std::vector<unsigned char> storage_;
  T* ptr_ = nullptr;
  std::size_t n_;
};

// Fill modes: random over [lo, hi], or every element lo, or every element hi (the saturation cases).
enum class fill { random, low, high };

template <class T>
void fill_int(offset_buffer<T>& b, std::mt19937& rng, int lo, int hi, fill f = fill::random) {
  std::uniform_int_distribution<int> dist(lo, hi);
  for (std::size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<T>(f == fill::random ? dist(rng) : (f == fill::low ? lo : hi));
}

}  // namespace statiq::kernels::test
