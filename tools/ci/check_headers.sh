#!/usr/bin/env bash
# Every public header compiles on its own (self-contained), with g++ and clang. -inl.h files are Highway
# per-target bodies, re-included by their wrapper header, and are checked through it. One compile per core.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/include"
check() {
  local cxx=$1 h=$2 out
  if ! out=$(printf '#include <%s>\n#include <%s>\n' "$h" "$h" |
             "$cxx" -std=c++20 -fsyntax-only -Wall -Wextra -Wno-deprecated-declarations -I. -x c++ - 2>&1); then
    echo "not self-contained with $cxx: $h"
    echo "$out" | head -20
    return 1
  fi
}
export -f check
headers=$(find statiq -name '*.hpp' | sort)
count=$(( 2 * $(echo "$headers" | wc -l) ))
fail=0
for cxx in g++ clang++-14; do echo "$headers" | sed "s|^|$cxx |"; done |
  xargs -P "$(nproc)" -L 1 bash -c 'check "$0" "$1"' || fail=1
echo "headers: $count checks, $([ $fail -eq 0 ] && echo all self-contained || echo FAILURES)"
exit $fail
