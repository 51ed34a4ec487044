// Included before Highway by every statiq header (and by a translation unit that includes Highway's
// foreach_target.h before statiq): works around Highway 1.0.3 (Debian 12), whose detect_targets.h tests an
// undefined macro (HWY_BASELINE, meaning HWY_BASELINE_TARGETS) before making AVX3_DL attainable. A translation
// unit compiled for a CPU with AVX3_DL's features (-march=native on Sapphire Rapids or Zen 5: AVX-VNNI besides
// AVX-512) then has AVX3_DL as its static target but not among its targets, and Highway stops with "Logic error:
// best baseline should be included in dynamic targets". Opting in to AVX3_DL when the compiler's flags make it the
// baseline is what that test meant to do; it changes nothing on other CPUs. Define HWY_WANT_AVX3_DL (or
// HWY_DISABLED_TARGETS including HWY_AVX3_DL) yourself to decide otherwise.
#pragma once

#if !defined(HWY_WANT_AVX3_DL) && !defined(HIGHWAY_HWY_DETECT_TARGETS_H_) && defined(__AVX512F__) && \
    defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__) && defined(__AVXVNNI__) &&  \
    defined(__VAES__) && defined(__VPCLMULQDQ__) && defined(__AVX512VBMI__) && defined(__AVX512VBMI2__) && \
    defined(__AVX512VPOPCNTDQ__) && defined(__AVX512BITALG__)
#define HWY_WANT_AVX3_DL 1
#endif

// AVX512-VNNI among the translation unit's own flags: statiq's AVX-512 kernels use vpdpbusd only then, because
// Highway 1.0.3's target attributes never enable AVX512-VNNI (AVX3_DL's enable AVX-VNNI, a different extension).
#if defined(__AVX512VNNI__)
#define STATIQ_AVX512VNNI 1
#else
#define STATIQ_AVX512VNNI 0
#endif

// True (in #if) in the foreach_target pass of an AVX-512 target (AVX3, AVX3_DL): statiq's vpdpbusd kernels compile
// there (their one VNNI instruction is inline asm).
#define STATIQ_AVX512_PASS (HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL)

// True (in #if) in an AVX-512 pass whose translation unit's flags include AVX512-VNNI (Cascade Lake, Zen 4 and
// later with -march=native): statiq's vpdpbusd kernels run there.
#define STATIQ_VNNI_PATHS (STATIQ_AVX512_PASS && STATIQ_AVX512VNNI)

// True (in #if) in a pass that runs the vpmaddubsw GEMM kernels (256-bit; 7-bit weights, or the widening route) and
// the implicit convolution on them: AVX2, and AVX-512 passes whose flags lack AVX512-VNNI (Skylake-SP with
// -march=native), where they are 3x Highway's portable tile (208 against 64 GOPS on 784x32x288, Zen 5).
#define STATIQ_AVX2_GEMM_PATHS (HWY_TARGET == HWY_AVX2 || (STATIQ_AVX512_PASS && !STATIQ_AVX512VNNI))

// True (in #if) in the foreach_target pass of a target that runs statiq's hand-written x86 int8 paths on 256-bit
// vectors: AVX2 (vpmaddubsw with 7-bit weights) and STATIQ_VNNI_PATHS (vpdpbusd, any weights).
#define STATIQ_X86_INT8_PATHS (HWY_TARGET == HWY_AVX2 || STATIQ_VNNI_PATHS)
