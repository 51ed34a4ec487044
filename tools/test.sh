#!/usr/bin/env bash
# Sets up a Debian 12 machine and runs every statiq test leg: CMake + g++ (everything), Meson + clang
# (everything), AddressSanitizer + UndefinedBehaviorSanitizer, the kernel tests for AVX-512 without AVX512-VNNI
# (where the CPU has AVX-512), header self-containment, the ONNX importer
# and conformance tests, and the aarch64 kernel tests under qemu. Prints each leg's time; exits non-zero if
# any leg fails.  Usage: tools/test.sh [leg ...]
# (legs: cmake-gcc meson-clang sanitizers avx512-novnni headers onnx aarch64)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/tools/setup-debian.sh" || exit 1

jobs=$(nproc)
build=${STATIQ_BUILD_ROOT:-$root/build}
legs=("$@")
[ ${#legs[@]} -gt 0 ] || legs=(cmake-gcc meson-clang sanitizers avx512-novnni headers onnx aarch64)
passed=0 failed=0
summary=()

# The g++ legs build at -O2 (Debian's level; CMake's Release default is -O3): g++ -O3 took 1.7x the compile time
# (tests/exec/quantized_test.cpp: 104 s against 62 s of CPU) for the same tests.
gcc_release=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG")
leg_cmake_gcc() {
  cmake -S . -B "$build/cmake-gcc" -G Ninja "${gcc_release[@]}" &&
    cmake --build "$build/cmake-gcc" -j "$jobs" &&
    ctest --test-dir "$build/cmake-gcc" -j "$jobs" --output-on-failure -LE onnx
}
leg_meson_clang() {
  rm -rf "$build/meson-clang"
  # -O1 here (the second compiler and build system; optimised code is the g++ leg's at -O3, and the benchmarks'):
  # clang -O2 doubled this leg's build (536 s against 272 s, 988 s of compile CPU against 503 s). The kernel tests
  # compile every attainable target in the g++ leg (which runs AVX-512 where the CPU has it) and leave out here
  # AVX-512 (AVX3 and AVX3_DL) and SSSE3 (SSE4's 128-bit code paths).
  CXX=clang++-14 meson setup "$build/meson-clang" . --buildtype=release -Doptimization=1 -Db_ndebug=true \
    -Dkernel_test_disabled_targets='HWY_AVX3|HWY_AVX3_DL|HWY_SSSE3' >/dev/null &&
    meson compile -C "$build/meson-clang" -j "$jobs" &&
    meson test -C "$build/meson-clang" --num-processes "$jobs" --print-errorlogs --no-suite onnx
}
leg_sanitizers() {
  cmake -S . -B "$build/sanitize" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ \
    -DSTATIQ_SANITIZE=ON -DSTATIQ_BUILD_BENCH=OFF -DSTATIQ_BUILD_EXAMPLES=OFF -DSTATIQ_BUILD_TOOLS=OFF \
    -DSTATIQ_KERNEL_TEST_DISABLED_TARGETS='HWY_AVX3|HWY_AVX3_DL' &&
    cmake --build "$build/sanitize" -j "$jobs" &&
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --test-dir "$build/sanitize" -j "$jobs" --output-on-failure -E "^(compile_fail|consumer)\\."
}
# AVX-512 without AVX512-VNNI among the flags (Skylake-SP with -march=native): the AVX3 pass runs the AVX2 GEMM and
# implicit convolution kernels, which no other leg compiles there. Only the kernel tests and the dynamic dispatch
# example (about 2 minutes); skipped on a CPU without AVX-512, which could not run them.
leg_avx512_novnni() {
  if ! grep -qw avx512bw /proc/cpuinfo || ! grep -qw avx512vl /proc/cpuinfo || ! grep -qw avx512dq /proc/cpuinfo; then
    echo "no AVX-512 on this CPU: skipped"
    return 0
  fi
  cmake -S . -B "$build/avx512-novnni" -G Ninja "${gcc_release[@]}" -DSTATIQ_NATIVE=OFF \
    -DCMAKE_CXX_FLAGS=-march=skylake-avx512 -DSTATIQ_BUILD_BENCH=OFF -DSTATIQ_BUILD_TOOLS=OFF >/dev/null &&
    cmake --build "$build/avx512-novnni" -j "$jobs" --target statiq_kernel_tests statiq_dynamic_dispatch &&
    "$build/avx512-novnni/tests/kernels/statiq_kernel_tests" &&
    "$build/avx512-novnni/examples/dynamic_dispatch/statiq_dynamic_dispatch"
}
leg_headers() { bash tools/ci/check_headers.sh; }
leg_onnx() {
  [ -d "$build/cmake-gcc" ] || { cmake -S . -B "$build/cmake-gcc" -G Ninja "${gcc_release[@]}" || return 1; }
  cmake --build "$build/cmake-gcc" -j "$jobs" &&
    ctest --test-dir "$build/cmake-gcc" -j "$jobs" --output-on-failure -L onnx
}
leg_aarch64() { bash tools/ci/aarch64_kernel_tests.sh "$build/aarch64"; }

total_start=$(date +%s)
for leg in "${legs[@]}"; do
  fn="leg_${leg//-/_}"
  if ! declare -F "$fn" >/dev/null; then echo "unknown leg: $leg"; exit 2; fi
  echo "=== leg $leg"
  start=$(date +%s)
  if "$fn"; then result=passed; passed=$((passed + 1)); else result=FAILED; failed=$((failed + 1)); fi
  secs=$(( $(date +%s) - start ))
  echo "=== leg $leg: $result in ${secs}s"
  summary+=("$(printf '%-12s %-7s %5ss' "$leg" "$result" "$secs")")
done
echo
echo "statiq test legs ($(( $(date +%s) - total_start ))s in all):"
printf '  %s\n' "${summary[@]}"
echo "legs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
