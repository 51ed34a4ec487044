#!/usr/bin/env bash
# Compile-fail check: `check.sh <compiler> <include-dir> <source> [fail|near-miss] [extra flags...]`.
# fail: the source must NOT compile and the compiler's output must match every `// expect: REGEX` line
# of the source (extended regex). near-miss: the source compiled with -DSTATIQ_NEAR_MISS must compile.
set -u
cxx=$1; inc=$2; src=$3; mode=${4:-fail}; shift 4 || shift $#
flags=(-std=c++20 -fsyntax-only -I"$inc" -Wno-deprecated-declarations "$@")
if [ "$mode" = near-miss ]; then
  if out=$("$cxx" "${flags[@]}" -DSTATIQ_NEAR_MISS "$src" 2>&1); then
    echo "near miss compiles: $src"; exit 0
  fi
  echo "FAIL: the near miss of $src does not compile:"; echo "$out" | head -40; exit 1
fi
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
