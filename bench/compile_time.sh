#!/usr/bin/env bash
# Compile cost of statiq's generated headers, the figure a header-only library's users feel. Times (wall
# seconds, peak compiler memory) compiling, with g++ and clang++-14 at -O2 -march=native:
#   imported   a program running the imported float Fashion-MNIST model (typed graph + constexpr float weights)
#   baked      the deploy program built from the baked INT8 header alone (examples/fmnist/deploy.cpp)
#   rt-quant   the float model + calibrated ranges, quantized at run time (examples/fmnist/constexpr_quantize.cpp
#              with -DSTATIQ_QUANTIZE_AT_RUN_TIME)
#   ct-quant   the same quantized by the compiler in a constant expression, static_assert-ed equal to the baked model
# The difference ct-quant - rt-quant is what compile-time quantization costs.
# Usage: bench/compile_time.sh <cmake build dir with the fmnist example built> [compiler ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: $0 <cmake build dir> [compiler ...]}
shift
compilers=("$@")
[ ${#compilers[@]} -gt 0 ] || compilers=(g++ clang++-14)
gen=$build/examples/generated
for f in fmnist.hpp fmnist_int8.hpp fmnist_ranges.hpp; do
  [ -f "$gen/$f" ] || { echo "$gen/$f is missing: build the fmnist_constexpr_quantize target in $build first" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(-std=c++20 -O2 -march=native -I"$root/include" -I"$gen" -DSTATIQ_EXAMPLE_HEADER='"fmnist.hpp"'
  -DSTATIQ_EXAMPLE_NAMESPACE=fmnist -DSTATIQ_RANGES_HEADER='"fmnist_ranges.hpp"' -DSTATIQ_RANGES_NAMESPACE=fmnist_ranges
  -DSTATIQ_BAKED_HEADER='"fmnist_int8.hpp"' -DSTATIQ_BAKED_NAMESPACE=fmnist_int8)
printf '%-12s %-9s %8s %10s\n' compiler case seconds peak_MiB
json="{"
for cxx in "${compilers[@]}"; do
  extra=()
  case $cxx in clang*) extra=(-fconstexpr-steps=2147483647) ;; g++*) extra=(-fconstexpr-ops-limit=2147483647) ;; esac
  for case in imported baked rt-quant ct-quant; do
    case $case in
      imported) src=$root/bench/compile_time/imported_model.cpp; defs=() ;;
      baked) src=$root/examples/fmnist/deploy.cpp; defs=() ;;
      rt-quant) src=$root/examples/fmnist/constexpr_quantize.cpp; defs=(-DSTATIQ_QUANTIZE_AT_RUN_TIME) ;;
      ct-quant) src=$root/examples/fmnist/constexpr_quantize.cpp; defs=() ;;
    esac
    /usr/bin/time -f '%e %M' -o "$tmp/time" "$cxx" "${common[@]}" "${extra[@]}" "${defs[@]}" -c "$src" -o "$tmp/x.o"
    read -r secs kib < "$tmp/time"
    printf '%-12s %-9s %8s %10d\n' "$cxx" "$case" "$secs" $((kib / 1024))
    json+="\"$cxx/$case\": {\"seconds\": $secs, \"peak_mib\": $((kib / 1024))}, "
  done
done
echo "${json%, }}"
