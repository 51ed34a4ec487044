// Opt-in dynamic dispatch of the kernels: every target compiled in one TU, the best one picked at run time.
//
// Any translation unit may include this header for the declarations. Exactly ONE translation unit of the
// program defines STATIQ_DYNAMIC_DISPATCH_IMPLEMENTATION before including it (stb style); that TU compiles
// every kernel for every Highway target (foreach_target.h) and defines the functions below. It needs no
// libhwy: the target is chosen by statiq's own CPUID/XGETBV (x86) or getauxval (aarch64) check, which
// mirrors Highway's target groups, and the function table is a function-local static (one per program,
// initialised once, thread-safe). Compile that TU with the baseline flags (no -march=native): Highway drops
// targets below the baseline, so -march decides the slowest machine the program still runs on.
//
//   // statiq_kernels.cpp: the one TU
//   #define STATIQ_DYNAMIC_DISPATCH_IMPLEMENTATION
//   #include <statiq/kernels/dynamic.hpp>
//
// Everything else calls statiq::kernels::dynamic::matmul_u8s8_to_u8(...) etc. (see examples/dynamic_dispatch).
// Note: that TU does its own foreach_target pass, so it must not be a TU that already did one.
#pragma once

#include <cstddef>
#include <cstdint>

#include "statiq/kernels/pack.hpp"
#include "statiq/kernels/ref/requantize.hpp"

namespace statiq::kernels::dynamic {

// Name of the chosen target ("AVX2", "SSE4", "NEON", "SVE", "SCALAR", ...). On AVX3 the int8 GEMM runs the
// vpdpbusd kernels where the CPU has AVX512-VNNI, else the AVX2 kernels.
const char* target_name();
// Which int8 GEMM kernels the chosen target runs: "vpdpbusd" (AVX-512 VNNI), "avx2" (vpmaddubsw or the widening
// route) or "portable" (Highway's tile, or plain loops on SCALAR).
const char* int8_gemm_path();
// Highway's bit of the chosen target (HWY_AVX2, ...), for tests.
std::int64_t target();

// Same contracts as the statically dispatched functions of gemm.hpp, dense.hpp and requantize.hpp.
void gemm_packed_u8_to_u8(const std::uint8_t* packed, std::size_t rows, const std::uint8_t* x, std::size_t x_stride,
                          std::uint8_t* y, std::size_t y_stride, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                          std::size_t n_begin = 0, std::size_t n_end = static_cast<std::size_t>(-1));
void gemm_packed_s8_to_s8(const std::uint8_t* packed, std::size_t rows, const std::int8_t* x, std::size_t x_stride,
                          std::int8_t* y, std::size_t y_stride, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                          std::size_t n_begin = 0, std::size_t n_end = static_cast<std::size_t>(-1));
void gemm_packed_u8_to_s32(const std::uint8_t* packed, std::size_t rows, const std::uint8_t* x, std::size_t x_stride,
                           std::int32_t* y, std::size_t y_stride, std::size_t n_begin = 0,
                           std::size_t n_end = static_cast<std::size_t>(-1));
void gemm_packed_s8_to_s32(const std::uint8_t* packed, std::size_t rows, const std::int8_t* x, std::size_t x_stride,
                           std::int32_t* y, std::size_t y_stride, std::size_t n_begin = 0,
                           std::size_t n_end = static_cast<std::size_t>(-1));
inline void matmul_u8s8_to_u8(const std::uint8_t* packed, std::size_t rows, const std::uint8_t* x,
                              std::size_t x_stride, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                              std::uint8_t* y, std::size_t y_stride) {
  gemm_packed_u8_to_u8(packed, rows, x, x_stride, y, y_stride, y_zp, lo, hi);
}
inline void matmul_s8s8_to_s8(const std::uint8_t* packed, std::size_t rows, const std::int8_t* x,
                              std::size_t x_stride, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                              std::int8_t* y, std::size_t y_stride) {
  gemm_packed_s8_to_s8(packed, rows, x, x_stride, y, y_stride, y_zp, lo, hi);
}
void dense_f32(std::size_t rows, std::size_t n, std::size_t k, const float* x, const float* w, const float* bias,
               float* y, float lo, float hi, std::size_t n_begin = 0,
               std::size_t n_end = static_cast<std::size_t>(-1));
void requantize_s32_to_u8_per_channel(const std::int32_t* acc, std::size_t n, const std::int32_t* mult,
                                      const std::int32_t* shift, std::int32_t zp, std::int32_t lo, std::int32_t hi,
                                      std::uint8_t* out);
void requantize_s32_to_s8_per_channel(const std::int32_t* acc, std::size_t n, const std::int32_t* mult,
                                      const std::int32_t* shift, std::int32_t zp, std::int32_t lo, std::int32_t hi,
                                      std::int8_t* out);

}  // namespace statiq::kernels::dynamic

#if defined(STATIQ_DYNAMIC_DISPATCH_IMPLEMENTATION) && !defined(STATIQ_DYNAMIC_DISPATCH_IMPLEMENTED_)
#define STATIQ_DYNAMIC_DISPATCH_IMPLEMENTED_

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "statiq/kernels/detail/dynamic_targets-inl.h"
#include "statiq/kernels/detail/hwy_config.hpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "statiq/kernels/detail/dynamic_targets-inl.h"

#if HWY_ARCH_X86
#include <cpuid.h>
#elif HWY_ARCH_ARM_A64 && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace statiq::kernels::dynamic {
namespace {

// What this CPU (and OS) supports, as Highway target bits; mirrors Highway 1.0.3's target groups. avx512vnni: the
// CPU has AVX512-VNNI (meaningful with HWY_AVX3).
std::int64_t detect_targets(bool& avx512vnni) {
  avx512vnni = false;
  std::int64_t t = HWY_STATIC_TARGET;  // the baseline the program was compiled for always runs
#if HWY_ARCH_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return t;
  const bool sse2 = d & (1u << 26), sse3 = c & 1u, ssse3 = c & (1u << 9), sse41 = c & (1u << 19),
             sse42 = c & (1u << 20), pclmul = c & (1u << 1), aes = c & (1u << 25), avx = c & (1u << 28),
             fma = c & (1u << 12), f16c = c & (1u << 29), osxsave = c & (1u << 27);
  unsigned b7 = 0, c7 = 0, d7 = 0, a7 = 0;
  __get_cpuid_count(7, 0, &a7, &b7, &c7, &d7);
  const bool avx2 = b7 & (1u << 5), bmi = b7 & (1u << 3), bmi2 = b7 & (1u << 8), avx512f = b7 & (1u << 16),
             avx512dq = b7 & (1u << 17), avx512bw = b7 & (1u << 30), avx512vl = b7 & (1u << 31);
  unsigned a8 = 0, b8 = 0, c8 = 0, d8 = 0;
  __get_cpuid(0x80000001u, &a8, &b8, &c8, &d8);
  const bool lzcnt = c8 & (1u << 5);
  std::uint64_t xcr0 = 0;
  if (osxsave) {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (std::uint64_t{hi} << 32) | lo;
  }
  const bool os_avx = (xcr0 & 0x6) == 0x6, os_avx512 = (xcr0 & 0xE6) == 0xE6;
  avx512vnni = (c7 & (1u << 11)) != 0;  // CPUID.7.0:ECX[11]
  const bool g_ssse3 = sse2 && sse3 && ssse3;
  const bool g_sse4 = g_ssse3 && sse41 && sse42 && pclmul && aes;
  const bool g_avx2 = g_sse4 && avx && avx2 && fma && f16c && bmi && bmi2 && lzcnt && os_avx;
  const bool g_avx3 = g_avx2 && avx512f && avx512vl && avx512dq && avx512bw && os_avx512;
  if (g_ssse3) t |= HWY_SSSE3;
  if (g_sse4) t |= HWY_SSE4;
  if (g_avx2) t |= HWY_AVX2;
  if (g_avx3) t |= HWY_AVX3;
#elif HWY_ARCH_ARM_A64 && defined(__linux__)
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  if (hw & (1ul << 3)) t |= HWY_NEON;  // HWCAP_AES: Highway's NEON target includes AES
  if (hw & (1ul << 22)) t |= HWY_SVE;  // HWCAP_SVE
  if ((hw & (1ul << 22)) && (hw2 & (1ul << 1))) t |= HWY_SVE2;  // HWCAP2_SVE2
#endif
  return t;
}

struct table {
  std::int64_t target;
  const char* gemm_path;
  decltype(&HWY_NAMESPACE::GemmPacked<std::uint8_t, std::uint8_t>) gemm_u8_u8;
  decltype(&HWY_NAMESPACE::GemmPacked<std::int8_t, std::int8_t>) gemm_s8_s8;
  decltype(&HWY_NAMESPACE::GemmPacked<std::uint8_t, std::int32_t>) gemm_u8_s32;
  decltype(&HWY_NAMESPACE::GemmPacked<std::int8_t, std::int32_t>) gemm_s8_s32;
  decltype(&HWY_NAMESPACE::DenseF32) dense;
  decltype(&HWY_NAMESPACE::RequantizeS32PerChannel<std::uint8_t>) requant_u8;
  decltype(&HWY_NAMESPACE::RequantizeS32PerChannel<std::int8_t>) requant_s8;
};

#define STATIQ_DYNAMIC_ENTRY(TARGET, NS, PATH)                                                              \
  table {                                                                                                   \
    TARGET, PATH, &NS::GemmPacked<std::uint8_t, std::uint8_t>, &NS::GemmPacked<std::int8_t, std::int8_t>,         \
        &NS::GemmPacked<std::uint8_t, std::int32_t>, &NS::GemmPacked<std::int8_t, std::int32_t>,           \
        &NS::DenseF32, &NS::RequantizeS32PerChannel<std::uint8_t>, &NS::RequantizeS32PerChannel<std::int8_t> \
  }

table choose() {
  bool avx512vnni = false;
  const std::int64_t cpu = detect_targets(avx512vnni);
  (void)cpu;
  (void)avx512vnni;
  // best first, as Highway orders its targets
#if (HWY_TARGETS & HWY_AVX3) && HWY_ARCH_X86
  if (cpu & HWY_AVX3) {
    table t = STATIQ_DYNAMIC_ENTRY(HWY_AVX3, N_AVX3, STATIQ_AVX512VNNI ? "vpdpbusd" : "avx2");
#if !STATIQ_AVX512VNNI
    // This translation unit's flags lack AVX512-VNNI, so the AVX3 pass's GemmPacked runs the AVX2 kernels
    // (vpmaddubsw or the widening route). Where the CPU has AVX512-VNNI the int8 GEMM runs GemmPackedVnni
    // instead: the vpdpbusd kernels, compiled here all the same (784x32x288: 704 against 208 GOPS on a Zen 5).
    if (avx512vnni) {
      t.gemm_path = "vpdpbusd";
      t.gemm_u8_u8 = &N_AVX3::GemmPackedVnni<std::uint8_t, std::uint8_t>;
      t.gemm_s8_s8 = &N_AVX3::GemmPackedVnni<std::int8_t, std::int8_t>;
      t.gemm_u8_s32 = &N_AVX3::GemmPackedVnni<std::uint8_t, std::int32_t>;
      t.gemm_s8_s32 = &N_AVX3::GemmPackedVnni<std::int8_t, std::int32_t>;
    }
#endif
    return t;
  }
#endif
#if (HWY_TARGETS & HWY_AVX2) && HWY_ARCH_X86
  if (cpu & HWY_AVX2) return STATIQ_DYNAMIC_ENTRY(HWY_AVX2, N_AVX2, "avx2");
#endif
#if (HWY_TARGETS & HWY_SSE4) && HWY_ARCH_X86
  if (cpu & HWY_SSE4) return STATIQ_DYNAMIC_ENTRY(HWY_SSE4, N_SSE4, "portable");
#endif
#if (HWY_TARGETS & HWY_SSSE3) && HWY_ARCH_X86
  if (cpu & HWY_SSSE3) return STATIQ_DYNAMIC_ENTRY(HWY_SSSE3, N_SSSE3, "portable");
#endif
#if (HWY_TARGETS & HWY_SVE2) && HWY_ARCH_ARM_A64
  if (cpu & HWY_SVE2) return STATIQ_DYNAMIC_ENTRY(HWY_SVE2, N_SVE2, "portable");
#endif
#if (HWY_TARGETS & HWY_SVE) && HWY_ARCH_ARM_A64
  if (cpu & HWY_SVE) return STATIQ_DYNAMIC_ENTRY(HWY_SVE, N_SVE, "portable");
#endif
#if (HWY_TARGETS & HWY_NEON) && HWY_ARCH_ARM
  if (cpu & HWY_NEON) return STATIQ_DYNAMIC_ENTRY(HWY_NEON, N_NEON, "portable");
#endif
  constexpr bool avx512 = HWY_STATIC_TARGET == HWY_AVX3 || HWY_STATIC_TARGET == HWY_AVX3_DL;
  return STATIQ_DYNAMIC_ENTRY(HWY_STATIC_TARGET, HWY_NAMESPACE,
                              avx512 && STATIQ_AVX512VNNI                   ? "vpdpbusd"
                              : avx512 || HWY_STATIC_TARGET == HWY_AVX2 ? "avx2"
                                                                            : "portable");
}
#undef STATIQ_DYNAMIC_ENTRY

const table& chosen() {
  static const table t = choose();  // thread-safe one-time initialisation
  return t;
}

}  // namespace

const char* target_name() { return hwy::TargetName(chosen().target); }
const char* int8_gemm_path() { return chosen().gemm_path; }
std::int64_t target() { return chosen().target; }

void gemm_packed_u8_to_u8(const std::uint8_t* packed, std::size_t rows, const std::uint8_t* x, std::size_t x_stride,
                          std::uint8_t* y, std::size_t y_stride, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                          std::size_t n_begin, std::size_t n_end) {
  chosen().gemm_u8_u8(packed, rows, x, x_stride, y, y_stride, y_zp, lo, hi, n_begin, n_end);
}
void gemm_packed_s8_to_s8(const std::uint8_t* packed, std::size_t rows, const std::int8_t* x, std::size_t x_stride,
                          std::int8_t* y, std::size_t y_stride, std::int32_t y_zp, std::int32_t lo, std::int32_t hi,
                          std::size_t n_begin, std::size_t n_end) {
  chosen().gemm_s8_s8(packed, rows, x, x_stride, y, y_stride, y_zp, lo, hi, n_begin, n_end);
}
void gemm_packed_u8_to_s32(const std::uint8_t* packed, std::size_t rows, const std::uint8_t* x, std::size_t x_stride,
                           std::int32_t* y, std::size_t y_stride, std::size_t n_begin, std::size_t n_end) {
  chosen().gemm_u8_s32(packed, rows, x, x_stride, y, y_stride, 0, 0, 0, n_begin, n_end);
}
void gemm_packed_s8_to_s32(const std::uint8_t* packed, std::size_t rows, const std::int8_t* x, std::size_t x_stride,
                           std::int32_t* y, std::size_t y_stride, std::size_t n_begin, std::size_t n_end) {
  chosen().gemm_s8_s32(packed, rows, x, x_stride, y, y_stride, 0, 0, 0, n_begin, n_end);
}
void dense_f32(std::size_t rows, std::size_t n, std::size_t k, const float* x, const float* w, const float* bias,
               float* y, float lo, float hi, std::size_t n_begin, std::size_t n_end) {
  chosen().dense(rows, n, k, x, w, bias, y, lo, hi, n_begin, n_end);
}
void requantize_s32_to_u8_per_channel(const std::int32_t* acc, std::size_t n, const std::int32_t* mult,
                                      const std::int32_t* shift, std::int32_t zp, std::int32_t lo, std::int32_t hi,
                                      std::uint8_t* out) {
  chosen().requant_u8(acc, n, mult, shift, zp, lo, hi, out);
}
void requantize_s32_to_s8_per_channel(const std::int32_t* acc, std::size_t n, const std::int32_t* mult,
                                      const std::int32_t* shift, std::int32_t zp, std::int32_t lo, std::int32_t hi,
                                      std::int8_t* out) {
  chosen().requant_s8(acc, n, mult, shift, zp, lo, hi, out);
}

}  // namespace statiq::kernels::dynamic

#endif  // STATIQ_DYNAMIC_DISPATCH_IMPLEMENTATION
