// The value-padded border pass (kernels/conv2d_border.hpp) equals ref::conv2d_q_value_padded_border bit for bit:
// swept shapes with strides, dilations, asymmetric pads, groups, channel counts around the 16-channel block, and
// a patch longer than the blocked path takes (the reference fallback).
#include <cstdint>
#include <random>
#include <vector>

#include <doctest/doctest.h>

#include "statiq/kernels/conv2d_border.hpp"

namespace {

using namespace statiq::kernels;

template <class T>
void check_border(const conv2d_dims& d, std::mt19937& rng) {
  const int cin_g = d.in_c / d.groups;
  const std::size_t k = static_cast<std::size_t>(d.k_h) * d.k_w * cin_g;
  std::uniform_int_distribution<int> xv(std::is_same_v<T, std::int8_t> ? -128 : 0, std::is_same_v<T, std::int8_t> ? 127 : 255);
  std::uniform_int_distribution<int> wv(-127, 127), bv(-5000, 5000), pv(-255 * 65536, 255 * 65536);
  std::vector<T> x(static_cast<std::size_t>(d.in_h) * d.in_w * d.in_c);
  for (auto& v : x) v = static_cast<T>(xv(rng));
  std::vector<std::int8_t> w(static_cast<std::size_t>(d.out_c) * k);
  for (auto& v : w) v = static_cast<std::int8_t>(wv(rng));
  std::vector<std::int32_t> bias(static_cast<std::size_t>(d.out_c)), pad(static_cast<std::size_t>(d.in_c));
  for (auto& v : bias) v = bv(rng);
  for (auto& v : pad) v = pv(rng);
  std::vector<ref::requant_multiplier> mult(static_cast<std::size_t>(d.out_c));
  for (auto& m : mult) m = ref::quantize_multiplier(std::uniform_real_distribution<double>(1e-4, 2e-2)(rng));
  const qconv_params q{xv(rng), xv(rng), mult.data(), true, std::is_same_v<T, std::int8_t> ? -128 : 0,
                       std::is_same_v<T, std::int8_t> ? 127 : 255};
  const std::size_t ny = static_cast<std::size_t>(d.out_h) * d.out_w * d.out_c;
  std::vector<T> y(ny, T{7}), yref(ny, T{7});  // interior pixels are left as they are by both
  ref::conv2d_q_value_padded_border(d, q, x.data(), w.data(), bias.data(), pad.data(), yref.data());
  conv2d_q_value_padded_border(d, q, x.data(), w.data(), bias.data(), pad.data(), y.data());
  INFO("in=", d.in_h, "x", d.in_w, "x", d.in_c, " out_c=", d.out_c, " k=", d.k_h, "x", d.k_w, " s=", d.stride_h,
       " dil=", d.dil_h, " groups=", d.groups);
  std::size_t bad = 0, touched = 0;
  for (std::size_t i = 0; i < ny; ++i) {
    bad += y[i] != yref[i];
    touched += yref[i] != T{7};
  }
  CHECK(bad == 0);
  CHECK(touched > 0);  // the shapes have a border
}

conv2d_dims dims(int h, int w, int cin, int cout, int kh, int kw, int s, int dil, int pad, int groups) {
  conv2d_dims d;
  d.in_h = h, d.in_w = w, d.in_c = cin, d.out_c = cout, d.k_h = kh, d.k_w = kw;
  d.stride_h = d.stride_w = s;
  d.dil_h = d.dil_w = dil;
  d.pad_top = d.pad_left = pad;
  d.pad_bottom = d.pad_right = pad > 0 ? pad - 1 : 0;
  d.groups = groups;
  d.out_h = (h + d.pad_top + d.pad_bottom - dil * (kh - 1) - 1) / s + 1;
  d.out_w = (w + d.pad_left + d.pad_right - dil * (kw - 1) - 1) / s + 1;
  return d;
}

}  // namespace

TEST_CASE("value-padded border pass equals ref::conv2d_q_value_padded_border") {
  std::mt19937 rng(99);
  for (int cin : {1, 3, 4})
    for (int cout : {1, 15, 16, 17, 40})
      for (int s : {1, 2})
        for (int dil : {1, 2})
          for (int pad : {1, 2}) {
            const int groups = (cin == 4 && cout % 2 == 0) ? 2 : 1;
            check_border<std::uint8_t>(dims(7 + static_cast<int>(rng() % 4), 6 + static_cast<int>(rng() % 5), cin, cout, 3, 3, s,
                                            dil, pad, groups),
                                       rng);
            check_border<std::int8_t>(dims(9, 8, cin, cout, 5, 5, s, dil, pad, groups), rng);
          }
  // 3x3 over 32 channels: a patch of 288 values takes the reference fallback.
  check_border<std::uint8_t>(dims(6, 6, 32, 8, 3, 3, 1, 1, 1, 1), rng);
  // The Fashion-MNIST first layer.
  check_border<std::uint8_t>(dims(28, 28, 1, 16, 3, 3, 1, 1, 1, 1), rng);
}
