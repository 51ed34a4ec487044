#!/usr/bin/env bash
# Cross-builds the kernel tests for aarch64 and runs them under qemu-aarch64, concurrently: NEON (Cortex-A72) and SVE/SVE2
# (-cpu max). Installs what is missing (g++-aarch64-linux-gnu, qemu-user, libhwy-dev:arm64 via multiarch).
# Usage: tools/ci/aarch64_kernel_tests.sh [build-dir]   (JOBS=2 by default; exit status non-zero on failure)
set -euo pipefail
start=$(date +%s)
elapsed() { echo "aarch64 kernel tests: $1 after $(( $(date +%s) - start )) s"; }
trap 'elapsed "FAILED (line $LINENO)"' ERR

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-${TMPDIR:-/tmp}/statiq-aarch64-build}
jobs=${JOBS:-2}

sudo_=""
if [ "$(id -u)" != 0 ]; then sudo_="sudo"; fi
need=()
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
if [ ! -e /usr/lib/aarch64-linux-gnu/libhwy.so ]; then
  dpkg --print-foreign-architectures | grep -qx arm64 || $sudo_ dpkg --add-architecture arm64
  need+=(libhwy-dev:arm64)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${need[@]}" >/dev/null
fi

cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DSTATIQ_NATIVE=OFF -DSTATIQ_BUILD_BENCH=OFF -DSTATIQ_BUILD_EXAMPLES=OFF \
  -DSTATIQ_BUILD_TOOLS=OFF -DSTATIQ_KERNEL_TEST_DISABLED_TARGETS='HWY_SVE_256|HWY_SVE2_128' >/dev/null
cmake --build "$build" --target statiq_kernel_tests -j "$jobs"
elapsed "built"

bin="$build/tests/kernels/statiq_kernel_tests"
# libc6:arm64 (pulled in by libhwy1:arm64) provides the loader; otherwise use the cross toolchain's sysroot.
if [ ! -e /lib/ld-linux-aarch64.so.1 ]; then export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu; fi
# Three emulations at once (the machine has 2 cores; SVE emulation is the slow one, so its run is split in two):
# NEON (Cortex-A72), and SVE/SVE2 (-cpu max, 512-bit vectors) for the GEMM tests and for the others. The
# fixed-width SVE_256 / SVE2_128 specialisations are not compiled: statiq's dispatch never picks them, and qemu's
# 512-bit vectors could not run them.
gemm_tc='int8 GEMM/GEMV*'
logs=$(mktemp -d)
qemu-aarch64 -cpu cortex-a72 "$bin" --no-intro=true >"$logs/neon.log" 2>&1 & neon=$!
qemu-aarch64 -cpu max "$bin" --no-intro=true --test-case="$gemm_tc" >"$logs/sve_gemm.log" 2>&1 & sve_gemm=$!
qemu-aarch64 -cpu max "$bin" --no-intro=true --test-case-exclude="$gemm_tc" >"$logs/sve_rest.log" 2>&1 & sve_rest=$!
status=0
for run in neon sve_gemm sve_rest; do
  pid=${!run}
  if wait "$pid"; then result=passed; else result=FAILED; status=1; fi
  case $run in
    neon) echo "== qemu-aarch64 -cpu cortex-a72 (NEON, scalar): $result" ;;
    sve_gemm) echo "== qemu-aarch64 -cpu max (SVE2, SVE, NEON, scalar; 512-bit vectors), GEMM test: $result" ;;
    sve_rest) echo "== qemu-aarch64 -cpu max (SVE2, SVE, NEON, scalar; 512-bit vectors), other tests: $result" ;;
  esac
  cat "$logs/$run.log"
done
rm -rf "$logs"
[ "$status" -eq 0 ] || { elapsed "FAILED"; exit 1; }
elapsed "all passed"
