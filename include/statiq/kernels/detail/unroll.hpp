// STATIQ_UNROLL(n): unroll the next loop up to n times on GCC (loops whose trip count is a template constant
// in the fast paths). Clang warns when such a pragma meets a runtime trip count, and unrolls well without it.
#pragma once

#define STATIQ_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define STATIQ_UNROLL(n)
#else
#define STATIQ_UNROLL(n) STATIQ_PRAGMA(GCC unroll n)
#endif

// STATIQ_UNROLL_FULL(n): unroll completely a loop whose trip count is a compile-time constant (at most n), on
// Clang too: Clang 14 left the VNNI tile's row loop rolled (the inline asm counts as costly) and kept its
// accumulators in memory, at a quarter of the speed.
#if defined(__clang__)
#define STATIQ_UNROLL_FULL(n) STATIQ_PRAGMA(clang loop unroll(full))
#else
#define STATIQ_UNROLL_FULL(n) STATIQ_PRAGMA(GCC unroll n)
#endif
