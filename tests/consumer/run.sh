#!/usr/bin/env bash
# Consumer tests: `run.sh find_package|add_subdirectory|meson_subproject <statiq source dir>`.
# Builds tests/consumer/main.cpp as an outside project would take statiq, in a scratch folder, and runs it.
set -euo pipefail
mode=$1
src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
here="$src/tests/consumer"
case "$mode" in
  find_package)
    cmake -S "$src" -B "$work/statiq-build" -G Ninja -DSTATIQ_BUILD_TESTS=OFF -DSTATIQ_BUILD_BENCH=OFF \
      -DSTATIQ_BUILD_EXAMPLES=OFF -DSTATIQ_BUILD_TOOLS=OFF -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
    cmake --install "$work/statiq-build" >/dev/null
    test -f "$work/prefix/share/cmake/statiq/statiqConfigVersion.cmake"
    cmake -S "$here/cmake" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
    ;;
  add_subdirectory)
    cmake -S "$here/cmake" -B "$work/build" -G Ninja -DSTATIQ_SOURCE_DIR="$src" >/dev/null
    ;;
  meson_subproject)
    mkdir -p "$work/proj/subprojects"
    cp "$here/meson/meson.build" "$here/main.cpp" "$work/proj/"
    ln -s "$src" "$work/proj/subprojects/statiq"
    meson setup "$work/build" "$work/proj" >/dev/null
    meson compile -C "$work/build" >/dev/null
    "$work/build/consumer"
    exit 0
    ;;
  *) echo "usage: run.sh find_package|add_subdirectory|meson_subproject <statiq source dir>" >&2; exit 2 ;;
esac
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
