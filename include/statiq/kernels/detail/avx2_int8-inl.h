// AVX2 building blocks of the int8 kernels with 7-bit weights (vpmaddubsw) and their byte-packing epilogues,
// shared by the first-layer convolution, the depthwise row-quad kernel and the GEMM. Empty on every other target.
#if defined(STATIQ_KERNELS_DETAIL_AVX2_INT8_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef STATIQ_KERNELS_DETAIL_AVX2_INT8_INL_H_
#undef STATIQ_KERNELS_DETAIL_AVX2_INT8_INL_H_
#else
#define STATIQ_KERNELS_DETAIL_AVX2_INT8_INL_H_
#endif

#include <cstdint>
#include <type_traits>

#include "statiq/kernels/detail/hwy_config.hpp"
#include <hwy/highway.h>

#if STATIQ_X86_INT8_PATHS || STATIQ_AVX2_GEMM_PATHS
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace statiq::kernels::HWY_NAMESPACE::detail {

#if STATIQ_X86_INT8_PATHS
// Whether QuadStep is exact for every s8 weight (vpdpbusd), not only for |w| <= 64 (vpmaddubsw).
inline constexpr bool kQuadStepAnyWeight = HWY_TARGET != HWY_AVX2;

// acc + the four taps' products of 8 lanes: x holds each lane's 4 u8 activations, w its 4 s8 weights. AVX2: exact
// for |w| <= 64: vpmaddubsw's pair sums stay within 255 * (64 + 64) = 32640 (no saturation); vpmaddwd by ones
// adds the two pairs in 32 bits. AVX3_DL: one vpdpbusd, exact for any weights (ones unused).
HWY_INLINE __m256i QuadStep(__m256i acc, __m256i x, __m256i w, __m256i ones) {
#if HWY_TARGET == HWY_AVX2
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), ones));
#else
  (void)ones;
  return _mm256_dpbusd_epi32(acc, x, w);
#endif
}
#endif  // STATIQ_X86_INT8_PATHS

#if STATIQ_X86_INT8_PATHS || STATIQ_AVX2_GEMM_PATHS

// Clamps bytes to [lo, hi] (lo8 / hi8: the bounds in every byte), unsigned for u8 output, signed for s8.
template <class TO>
HWY_INLINE __m256i ClampBytes(__m256i v, __m256i lo8, __m256i hi8) {
  if constexpr (std::is_same_v<TO, std::uint8_t>) return _mm256_min_epu8(_mm256_max_epu8(v, lo8), hi8);
  else return _mm256_min_epi8(_mm256_max_epi8(v, lo8), hi8);
}

// 16 requantized (unclamped) i32 lanes as 16 bytes, saturated to TO and clamped to [lo, hi] (within TO's range:
// the saturating packs are monotonic and exact there, so this equals clamping first). a holds outputs
// {0-3, 8-11}, b {4-7, 12-15}: vpackssdw then leaves 0-7 and 8-15 in the two 128-bit halves. clamp == false
// leaves the clamp out, for [lo, hi] = TO's whole range (the saturation is the clamp).
template <class TO>
HWY_INLINE __m128i PackBytes16(__m256i a, __m256i b, __m256i lo8, __m256i hi8, bool clamp = true) {
  const __m256i s16 = _mm256_packs_epi32(a, b);
  __m256i b8 = std::is_same_v<TO, std::uint8_t> ? _mm256_packus_epi16(s16, s16) : _mm256_packs_epi16(s16, s16);
  if (clamp) b8 = ClampBytes<TO>(b8, lo8, hi8);
  return _mm256_castsi256_si128(_mm256_permute4x64_epi64(b8, 0x08));
}

// Whether [lo, hi] is narrower than TO's range, so bytes saturated to TO still need clamping.
template <class TO>
constexpr bool NeedsByteClamp(std::int32_t lo, std::int32_t hi) {
  return std::is_same_v<TO, std::uint8_t> ? (lo > 0 || hi < 255) : (lo > -128 || hi < 127);
}
#endif  // STATIQ_X86_INT8_PATHS || STATIQ_AVX2_GEMM_PATHS

}  // namespace statiq::kernels::HWY_NAMESPACE::detail
HWY_AFTER_NAMESPACE();

#endif  // STATIQ_KERNELS_DETAIL_AVX2_INT8_INL_H_
