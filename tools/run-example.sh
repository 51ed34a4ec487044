#!/usr/bin/env bash
# Sets up a Debian 12 machine and runs statiq's main example: a Fashion-MNIST CNN imported from ONNX,
# evaluated in float, calibrated on 300 training images, quantized to INT8, evaluated again (accuracy,
# latency, arena and weight bytes), baked into a header; then a second program built from that header
# alone classifies the test set and checks it predicts what the host build predicted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/setup-debian.sh"
build=${STATIQ_BUILD_ROOT:-$root/build}/example
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTATIQ_BUILD_TESTS=OFF -DSTATIQ_BUILD_BENCH=OFF \
  -DSTATIQ_BUILD_EXAMPLES=ON -DSTATIQ_BUILD_TOOLS=ON >/dev/null
cmake --build "$build" --target fmnist_example statiq_fashion_mnist_data -j "$(nproc)"
cd "$build/examples"
data=(data/train-images-idx3-ubyte data/train-labels-idx1-ubyte data/t10k-images-idx3-ubyte data/t10k-labels-idx1-ubyte)
./fmnist_example "${data[@]}" generated/fmnist_int8.hpp data/fmnist_int8_predictions.bin | tee data/example.log
cmake --build "$build" --target fmnist_deploy -j "$(nproc)" >/dev/null
./fmnist_deploy "${data[2]}" "${data[3]}" data/fmnist_int8_predictions.bin
tail -n 1 data/example.log   # the JSON line, last, for scripts
