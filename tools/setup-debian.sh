#!/usr/bin/env bash
# Installs the Debian 12 packages statiq's build, tests, benchmarks and examples use (only what is missing).
set -euo pipefail
packages=(
  build-essential cmake ninja-build meson pkg-config git clang-14 libclang-rt-14-dev
  libboost-dev libhwy-dev doctest-dev libbenchmark-dev
  libonnx-dev libprotobuf-dev protobuf-compiler zlib1g-dev libonnx-testdata python3-onnx python3-numpy python3-torch
  dataset-fashion-mnist
  libdnnl-dev ocl-icd-opencl-dev libxnnpack-dev libpthreadpool-dev libgemmlowp-dev libeigen3-dev
  g++-aarch64-linux-gnu qemu-user
  gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib libnewlib-arm-none-eabi qemu-system-arm
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
