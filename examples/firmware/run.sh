#!/usr/bin/env bash
# Builds the firmware example with the cross toolchain (CMake or Meson; arm-none-eabi-g++ and/or clang++-14),
# checks that a program calling malloc fails to link, runs the firmware under qemu-system-arm (mps2-an386),
# and prints the size table: code, model data and test data in flash; arena, other data and stack in RAM.
#
# usage: run.sh cmake|meson COMPILERS WORK_DIR BAKED_HEADER HOST_PREDICTIONS TEST_IMAGES TEST_LABELS HWY_INCLUDE
#   COMPILERS: gcc, clang or gcc,clang (clang: Meson only)
# Exit status: 0 passed; 77 skipped (the cross toolchain or QEMU is not installed); anything else failed.
set -uo pipefail
if [ $# -ne 8 ]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
system=$1 compilers=$2 work=$3 baked=$4 preds=$5 images=$6 labels=$7 hwy=$8
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

skip() {
  echo "SKIP: $1 (Debian: apt-get install gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib libnewlib-arm-none-eabi" \
       "qemu-system-arm, as tools/setup-debian.sh does)"
  exit 77
}
command -v arm-none-eabi-g++ >/dev/null || skip "arm-none-eabi-g++ is not installed"
command -v qemu-system-arm >/dev/null || skip "qemu-system-arm is not installed"
printf '#include <array>\n#include <cmath>\n' | arm-none-eabi-g++ -std=c++20 -x c++ -fsyntax-only - 2>/dev/null ||
  skip "the C++ library for arm-none-eabi is not installed"
for f in "$baked" "$preds" "$images" "$labels"; do
  [ -f "$f" ] || { echo "FAIL: $f does not exist (build the fmnist example first)"; exit 1; }
done
mkdir -p "$work"
# The sub-builds run in their own folders: absolute paths.
baked=$(readlink -f "$baked") preds=$(readlink -f "$preds") images=$(readlink -f "$images") labels=$(readlink -f "$labels")
work=$(readlink -f "$work") hwy=$(readlink -f "$hwy")

status=0
fail() { echo "FAIL [$variant]: $1"; status=1; }

# build_firmware DIR COMPILER: configures and builds the firmware into DIR; prints the build's output on failure.
build_firmware() {
  local dir=$1 compiler=$2 log=$1.log
  rm -rf "$dir"
  case $system in
    cmake)
      local gen=()
      command -v ninja >/dev/null && gen=(-G Ninja)
      cmake -S "$here" -B "$dir" "${gen[@]}" --toolchain "$root/cmake/toolchains/arm-none-eabi-cortex-m4.cmake" \
        -DSTATIQ_BAKED_HEADER="$baked" -DSTATIQ_HOST_PREDICTIONS="$preds" -DSTATIQ_TEST_IMAGES="$images" \
        -DSTATIQ_TEST_LABELS="$labels" -DSTATIQ_HWY_INCLUDE_DIR="$hwy" >"$log" 2>&1 &&
        cmake --build "$dir" -j 2 >>"$log" 2>&1 ;;
    meson)
      local cross=arm-none-eabi-cortex-m4.ini
      [ "$compiler" = clang ] && cross=clang-cortex-m4.ini
      meson setup "$dir" "$here" --cross-file "$root/meson/cross/$cross" -Dbaked_header="$baked" \
        -Dhost_predictions="$preds" -Dtest_images="$images" -Dtest_labels="$labels" -Dhwy_include="$hwy" >"$log" 2>&1 &&
        meson compile -C "$dir" -j 2 >>"$log" 2>&1 ;;
  esac || { cat "$log"; return 1; }
}

# heap_probe DIR: the program that calls malloc must fail to link, with the linker script's message.
heap_probe() {
  local out
  case $system in
    cmake) out=$(cmake --build "$1" --target statiq_firmware_heap_probe 2>&1) ;;
    meson) out=$(meson compile -C "$1" statiq_firmware_heap_probe 2>&1) ;;
  esac && { fail "a program that calls malloc linked; the firmware must have no heap"; return; }
  if grep -q "the heap is referenced" <<<"$out"; then
    echo "heap check: a program that calls malloc fails to link (\"the heap is referenced\")"
  else
    fail "the malloc probe failed to link without the linker script's message:"; echo "$out" | tail -20
  fi
}

# size_table ELF OUTPUT: arm-none-eabi-size, then flash and RAM by use (symbols from nm).
size_table() {
  local elf=$1 out=$2
  echo "--- arm-none-eabi-size $(basename "$elf")"
  arm-none-eabi-size "$elf"
  local syms
  syms=$(arm-none-eabi-nm -S -C --defined-only "$elf")
  sect() { arm-none-eabi-size -A "$elf" | awk -v s="$1" '$1 == s { print $2 }'; }
  sym() {  # total size of the symbols whose nm line matches $1
    local n=0 size
    while read -r size; do n=$((n + 16#$size)); done < <(grep -E -- "$1" <<<"$syms" | awk '{ print $2 }')
    echo $n
  }
  local text rodata data bss stack model testdata arena weights lower arena_const used
  text=$(sect .text) rodata=$(sect .rodata) data=$(sect .data) bss=$(sect .bss) stack=$(sect .stack)
  model=$(sym "::model\$") testdata=$(sym " test_images::") arena=$(sym "::arena\$")
  weights=$(sed -n 's/.*model data \([0-9]*\) B.*/\1/p' "$out")
  arena_const=$(sed -n 's/^arena \([0-9]*\) B.*/\1/p' "$out")
  lower=$(sed -n 's/.*lower bound \([0-9]*\) B.*/\1/p' "$out")
  used=$(sed -n 's/^stack: \([0-9]*\) B used.*/\1/p' "$out")
  echo "--- by use (bytes)"
  printf '  %-44s %8s  %s\n' \
    "code (.text)" "$text" "flash" \
    "model data ($(awk '/::model$/ { $1 = $2 = $3 = ""; sub(/^ +/, ""); print; exit }' <<<"$syms"))" "$model" "flash (weight_bytes_v: ${weights:-?})" \
    "test images, labels, host predictions" "$testdata" "flash" \
    "other read-only data" "$((rodata - model - testdata))" "flash" \
    "initialised data (.data)" "${data:-0}" "flash + RAM" \
    "arena (statiq::arena_for)" "$arena" "RAM (arena_bytes_v: ${arena_const:-?}, live-tensor lower bound: ${lower:-?})" \
    "other zeroed data (.bss: input image, logits)" "$((bss - arena))" "RAM" \
    "stack and its guard band (reserved)" "$stack" "RAM (${used:-?} used at most)"
  echo "  flash total $((text + rodata + ${data:-0})) B, RAM total $((${data:-0} + bss + stack)) B"
}

IFS=, read -ra list <<<"$compilers"
for compiler in "${list[@]}"; do
  variant="$system, $compiler"
  if [ "$compiler" = clang ]; then
    [ "$system" = meson ] || { echo "usage: clang builds the firmware with Meson only"; exit 2; }
    command -v clang++-14 >/dev/null || { echo "note: clang++-14 is not installed: the clang firmware is skipped"; continue; }
  fi
  dir="$work/$system-$compiler"
  echo "=== firmware [$variant]: build"
  start=$(date +%s)
  build_firmware "$dir" "$compiler" || { fail "the firmware did not build"; continue; }
  echo "built in $(( $(date +%s) - start ))s"
  heap_probe "$dir"
  elf="$dir/statiq_firmware.elf"
  echo "=== firmware [$variant]: qemu-system-arm -M mps2-an386 -nographic -semihosting -icount shift=0 -kernel $elf"
  out="$dir/qemu-output.txt"
  timeout 120 qemu-system-arm -M mps2-an386 -nographic -semihosting -icount shift=0 -kernel "$elf" </dev/null >"$out" 2>&1
  rc=$?
  cat "$out"
  [ $rc -eq 0 ] || fail "the firmware exited with status $rc"
  grep -Eq '^accuracy .*; ([0-9]+) of \1 predictions equal to the host build' "$out" ||
    fail "the firmware's predictions are not all equal to the host build's"
  size_table "$elf" "$out"
done
[ $status -eq 0 ] && echo "firmware: passed"
exit $status
