// Heap buffers on 64-byte boundaries, for packed weight blobs: pack.hpp lays a blob's weights out on a 64-byte
// boundary of the blob, and a std::vector's 16-byte alignment would leave the kernels' 64-byte loads split across
// cache lines (a 512x784 GEMV: 2.58 against 2.41 us). Activations too, as oneDNN allocates its own: the float
// depthwise 28x28x24 ran 7.6 us on malloc's 16-byte boundaries, 5.9 on 64-byte ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace statiq_bench {

template <class T>
struct Aligned64 {
  using value_type = T;
  Aligned64() = default;
  template <class U>
  Aligned64(const Aligned64<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64})); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t{64}); }
  template <class U>
  bool operator==(const Aligned64<U>&) const {
    return true;
  }
};

template <class T>
using AlignedVector = std::vector<T, Aligned64<T>>;
using AlignedBytes = AlignedVector<std::uint8_t>;

}  // namespace statiq_bench
