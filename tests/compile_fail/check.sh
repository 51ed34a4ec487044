#!/usr/bin/env bash
# Compile-fail checks.
#   check.sh <compiler> <include-dir> <source> fail [extra flags...]
#     the source must NOT compile, and the compiler's output must match every `// expect: REGEX` line of the
#     source (extended regex).
#   check.sh <compiler> <include-dir> <source>... near-misses [extra flags...]
#     every source compiled with STATIQ_NEAR_MISS defined (one token away from its mistake) must compile. They
#     are compiled as one translation unit, each inside a namespace of its own, so the headers are parsed once
#     for all of them; a near miss that does not compile is named by the compiler's file:line.
set -u
cxx=$1; inc=$2; shift 2
srcs=()
while [ $# -gt 0 ] && [ "$1" != fail ] && [ "$1" != near-misses ]; do srcs+=("$1"); shift; done
mode=${1:-fail}; shift || true
flags=(-std=c++20 -fsyntax-only -I"$inc" -Wno-deprecated-declarations "$@")
if [ ${#srcs[@]} -eq 0 ]; then echo "usage: check.sh <compiler> <include-dir> <source>... fail|near-misses"; exit 2; fi

if [ "$mode" = near-misses ]; then
  tu=$(mktemp --suffix=.cpp) || exit 1
  trap 'rm -f "$tu"' EXIT
  {
    # Every header the sources include, first and at namespace scope; inside the namespaces below the
    # sources' own #include lines then find them already included.
    sed -n 's|^[[:space:]]*#[[:space:]]*include[[:space:]]*<\(.*\)>.*|#include <\1>|p' "${srcs[@]}" | sort -u
    echo '#define STATIQ_NEAR_MISS 1'
    for src in "${srcs[@]}"; do
      name=$(basename "$src" .cpp)
      printf 'namespace near_miss_%s {\n#include "%s"\n}  // namespace near_miss_%s\n' "${name//[^A-Za-z0-9_]/_}" \
        "$(cd "$(dirname "$src")" && pwd)/$(basename "$src")" "${name//[^A-Za-z0-9_]/_}"
    done
  } > "$tu"
  if out=$("$cxx" "${flags[@]}" "$tu" 2>&1); then
    echo "the near misses of ${#srcs[@]} compile-fail sources compile"; exit 0
  fi
  echo "FAIL: a near miss does not compile (the file:line below names it):"; echo "$out" | head -60; exit 1
fi

[ ${#srcs[@]} -eq 1 ] || { echo "fail mode takes one source"; exit 2; }
src=${srcs[0]}
if out=$("$cxx" "${flags[@]}" "$src" 2>&1); then
  echo "FAIL: $src compiled, but it must be rejected"; exit 1
fi
status=0
while IFS= read -r re; do
  if ! grep -Eq -- "$re" <<<"$out"; then
    echo "FAIL: $src: the diagnostic does not match /$re/"; status=1
  fi
done < <(sed -n 's|^// expect: ||p' "$src")
if [ $status -ne 0 ]; then echo "--- compiler output ---"; echo "$out" | grep -E "error|static assert|static_assert" | head -20; fi
[ $status -eq 0 ] && echo "rejected as expected: $src"
exit $status
