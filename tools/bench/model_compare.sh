#!/usr/bin/env bash
# The Fashion-MNIST CNN in statiq (INT8 and float), ONNX Runtime (fp32 and int8 QDQ) and PyTorch (float and
# FX-mode PTQ int8, qnnpack), one thread, batch 1 and 64, in one run on this machine; prints a table of the
# per-image times, the ratios the speed goals are stated in, and the accuracies. A benchmark, not a test.
#
#   tools/bench/model_compare.sh [BUILD_DIR]          (default: build/ in the source tree)
#
# Environment:
#   STATIQ_BENCH_MIN_TIME  seconds per repetition (default 1)     STATIQ_BENCH_REPS  repetitions (default 5)
#   STATIQ_BENCH_NICE      command prefix for the timed runs, e.g. "nice -n -5" (default: none)
#   STATIQ_BENCH_JOBS      build parallelism (default 2)           PYTHON  (default /usr/bin/python3)
#   STATIQ_BENCH_NO_BUILD=1  time the statiq_model_bench already in BUILD_DIR, do not rebuild it
#   STATIQ_FASHION_MNIST_DIR  folder of the Fashion-MNIST .gz files (default /usr/share/datasets/fashion-mnist)
# Needs: cmake, ninja (or make), Google Benchmark, ONNX (for statiq-import), node + npm, PyTorch, onnx, numpy.
# Results: BUILD_DIR/model_compare/{statiq,ort,torch,model_compare}.json; see bench/model_compare/README.md.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
out=$build/model_compare
min_time=${STATIQ_BENCH_MIN_TIME:-1}
reps=${STATIQ_BENCH_REPS:-5}
nice_cmd=${STATIQ_BENCH_NICE:-}
jobs=${STATIQ_BENCH_JOBS:-2}
py=${PYTHON:-/usr/bin/python3}
data=${STATIQ_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
mc=$root/bench/model_compare
mkdir -p "$out"

say() { printf '== %s\n' "$*" >&2; }

# 1. statiq_model_bench (configures the build folder if it is not one yet).
if [ ! -f "$build/CMakeCache.txt" ]; then
  gen=""
  command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
  say "configuring $build"
  # shellcheck disable=SC2086
  cmake -S "$root" -B "$build" $gen -DCMAKE_BUILD_TYPE=Release -DSTATIQ_FASHION_MNIST_DIR="$data" >&2
fi
if [ "${STATIQ_BENCH_NO_BUILD:-0}" != 1 ]; then
  say "building statiq_model_bench"
  cmake --build "$build" --target statiq_model_bench -j "$jobs" >&2
fi
bench_bin=$build/bench/statiq_model_bench
if ! "$bench_bin" --benchmark_list_tests=true | grep -q 'BM_Model_statiq_int8/fmnist/'; then
  echo "model_compare.sh: statiq_model_bench has no fmnist benchmarks (statiq-import or the data set was not found at configure time)" >&2
  exit 1
fi

# 2. onnxruntime-node, into the build folder (its CPU library ships in the package; the install script,
#    which would download more, is skipped).
node_dir=$build/bench-node
if [ ! -d "$node_dir/node_modules/onnxruntime-node" ]; then
  say "npm install --ignore-scripts onnxruntime-node into $node_dir"
  mkdir -p "$node_dir"
  (cd "$node_dir" && npm install --ignore-scripts --no-audit --no-fund --no-save onnxruntime-node >&2)
fi

# 3. ORT's int8 QDQ model (per-channel s8 weights, u8 activations, min/max on 300 training images).
qdq=$out/fmnist_cnn_qdq.onnx
if [ ! -f "$qdq" ] || [ "$mc/make_qdq.py" -nt "$qdq" ]; then
  say "writing the QDQ model"
  "$py" "$mc/make_qdq.py" "$root/tests/data/fmnist/fmnist_cnn_fused.onnx" "$qdq" --data "$data" >&2
fi

# 4. One run: statiq, ONNX Runtime, PyTorch, one after the other.
machine="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
say "statiq_model_bench"
# shellcheck disable=SC2086
$nice_cmd "$bench_bin" --benchmark_filter='fmnist/' --benchmark_min_time="$min_time" \
  --benchmark_repetitions="$reps" --benchmark_display_aggregates_only=true \
  --benchmark_out="$out/statiq.json" --benchmark_out_format=json >&2
say "ONNX Runtime (onnxruntime-node)"
# shellcheck disable=SC2086
NODE_PATH=$node_dir/node_modules $nice_cmd node "$mc/ort_bench.js" \
  --fp32 "$root/tests/data/fmnist/fmnist_cnn_fused.onnx" --int8 "$qdq" --data "$data" \
  --min-time "$min_time" --repetitions "$reps" --profile-dir "$out/ort_profile" > "$out/ort.json"
say "PyTorch"
# shellcheck disable=SC2086
$nice_cmd "$py" "$mc/torch_bench.py" --onnx "$root/tests/data/fmnist/fmnist_cnn.onnx" --data "$data" \
  --min-time "$min_time" --repetitions "$reps" > "$out/torch.json"
# shellcheck disable=SC2016  # the quotes are literal text; $nice_cmd expands
machine="$machine; after: $(cut -d' ' -f1-3 /proc/loadavg)${nice_cmd:+; timed under '$nice_cmd'}"

"$py" "$mc/report.py" "$out/statiq.json" "$out/ort.json" "$out/torch.json" --out "$out/model_compare.json" \
  --machine "$machine"
