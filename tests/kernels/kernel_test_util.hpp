// Shared helpers of the kernel tests: seeded random tensors, misaligned buffers, per-target driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/targets.h>

#include "statiq/kernels/ref/conv2d.hpp"

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

// Calls run(target) once per target compiled into the test and supported by this CPU, with dynamic dispatch
// pinned to that target (HWY_DYNAMIC_DISPATCH inside run takes it); restores normal dispatch afterwards.
template <class Run>
void on_every_target(Run&& run) {
  for (const auto target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    run(target);
  }
  hwy::SetSupportedTargetsForTest(0);
}

// Output extent of a convolution or pooling window along one axis (floor mode).
inline int out_size(int in, int pad_begin, int pad_end, int k, int stride, int dil) {
  return (in + pad_begin + pad_end - dil * (k - 1) - 1) / stride + 1;
}

// A convolution's dimensions: square stride and dilation, padding `pad` before and pad - 1 after (asymmetric).
inline conv2d_dims make_conv_dims(int h, int w, int cin, int cout, int kh, int kw, int s, int dil, int pad,
                                  int groups) {
  conv2d_dims d;
  d.in_h = h;
  d.in_w = w;
  d.in_c = cin;
  d.out_c = cout;
  d.k_h = kh;
  d.k_w = kw;
  d.stride_h = d.stride_w = s;
  d.dil_h = d.dil_w = dil;
  d.pad_top = d.pad_left = d.pad_bottom = pad;
  d.pad_right = pad > 0 ? pad - 1 : 0;
  d.groups = groups;
  d.out_h = out_size(h, d.pad_top, d.pad_bottom, kh, s, dil);
  d.out_w = out_size(w, d.pad_left, d.pad_right, kw, s, dil);
  return d;
}

}  // namespace statiq::kernels::test

namespace statiq::kernels::test {

// Runs convolution d as 2 or 3 slices of output rows (conv2d_rows, split at random rows), each by
// run(slice_dims, x + x_offset, y + y_offset), into a buffer of 0x5a bytes, and counts the outputs that differ from
// want (d's whole output): same(i, got, want) says whether output i agrees. ran is false where d has one output row or a slice reads padding alone.
struct slices_result {
  bool ran = false;
  std::size_t bad = 0;
};
template <class T, class Run, class Same>
slices_result check_row_slices(const conv2d_dims& d, std::mt19937& rng, const T* x, const T* want, const Run& run,
                               const Same& same) {
  slices_result r;
  if (d.out_h < 2) return r;
  int cut[4] = {0, 1 + static_cast<int>(rng() % static_cast<unsigned>(d.out_h - 1)), d.out_h, d.out_h};
  int n = 2;
  if (cut[1] + 1 < d.out_h && rng() % 2 == 0) {  // a third slice after the second
    cut[2] = cut[1] + 1 + static_cast<int>(rng() % static_cast<unsigned>(d.out_h - cut[1] - 1));
    n = 3;
  }
  for (int i = 0; i < n; ++i)
    if (!conv2d_rows_fit(d, cut[i], cut[i + 1])) return r;
  const std::size_t ny = static_cast<std::size_t>(d.out_h) * d.out_w * d.out_c;
  std::vector<T> y(ny + 1);
  std::memset(static_cast<void*>(y.data()), 0x5a, (ny + 1) * sizeof(T));
  const T canary = y[ny];
  for (int i = 0; i < n; ++i) {
    const conv2d_row_slice s = conv2d_rows(d, cut[i], cut[i + 1]);
    run(s.d, x + s.x_offset, y.data() + s.y_offset);
  }
  r.ran = true;
  for (std::size_t i = 0; i < ny; ++i) r.bad += !same(i, y[i], want[i]);
  r.bad += std::memcmp(&y[ny], &canary, sizeof(T)) != 0;  // nothing written past the output
  return r;
}
template <class T, class Run>
slices_result check_row_slices(const conv2d_dims& d, std::mt19937& rng, const T* x, const T* want, const Run& run) {
  return check_row_slices(d, rng, x, want, run, [](std::size_t, T a, T b) { return a == b; });
}

}  // namespace statiq::kernels::test
