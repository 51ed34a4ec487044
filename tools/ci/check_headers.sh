#!/usr/bin/env bash
# Every public header compiles on its own (self-contained), with g++ and clang. -inl.h files are Highway
# per-target bodies, re-included by their wrapper header, and are checked through it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/include"
fail=0
count=0
for cxx in g++ clang++-14; do
  while IFS= read -r h; do
    count=$((count + 1))
    if ! out=$(echo "#include <$h>
#include <$h>" | "$cxx" -std=c++20 -fsyntax-only -Wall -Wextra -Wno-deprecated-declarations -I. -x c++ - 2>&1); then
      echo "not self-contained with $cxx: $h"; echo "$out" | head -20; fail=1
    fi
  done < <(find statiq -name '*.hpp' | sort)
done
echo "headers: $count checks, $([ $fail -eq 0 ] && echo all self-contained || echo FAILURES)"
exit $fail
