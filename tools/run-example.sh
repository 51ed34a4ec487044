#!/usr/bin/env bash
# Sets up a Debian 12 machine and runs statiq's main example: a Fashion-MNIST CNN imported from ONNX,
# evaluated in float, calibrated, quantized to INT8 and evaluated again (accuracy, latency, footprint).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/setup-debian.sh"
build=${STATIQ_BUILD_ROOT:-$root/build}/example
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTATIQ_BUILD_TESTS=OFF -DSTATIQ_BUILD_BENCH=OFF \
  -DSTATIQ_BUILD_EXAMPLES=ON -DSTATIQ_BUILD_TOOLS=ON >/dev/null
cmake --build "$build" --target fmnist_example statiq_fashion_mnist_data -j "$(nproc)"
cd "$build/examples"
exec ./fmnist_example data/train-images-idx3-ubyte data/train-labels-idx1-ubyte data/t10k-images-idx3-ubyte data/t10k-labels-idx1-ubyte
