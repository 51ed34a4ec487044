#!/bin/sh
# Builds the libFuzzer target over statiq-import's parse + convert entry point with clang
# (-fsanitize=fuzzer,address) and runs it for a bounded time on a corpus seeded with ONNX's node test models.
# Usage: run_fuzz.sh SOURCE_DIR WORK_DIR [SECONDS]      (exit 77 when clang's libFuzzer is not available)
set -eu
src=$1
work=$2
secs=${3:-60}
cxx=${STATIQ_FUZZ_CXX:-clang++}
mkdir -p "$work/corpus" "$work/artifacts"
if ! command -v "$cxx" >/dev/null 2>&1; then echo "fuzz: $cxx not found"; exit 77; fi
"$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address -DONNX_ML=1 -DONNX_NAMESPACE=onnx \
  "$src/tools/statiq-import/fuzz_import.cpp" "$src/tools/statiq-import/importer.cpp" \
  -o "$work/fuzz_import" -lonnx_proto -lprotobuf
testdata=/usr/share/libonnx-testdata/data/node
if [ -d "$testdata" ]; then
  for t in conv_with_strides_padding maxpool_2d_pads averagepool_2d_ceil gemm_all_attributes batchnorm_example \
           reshape_reordered_last_dims flatten_axis1 softmax_example concat_2d_axis_1 clip_splitbounds; do
    [ -f "$testdata/test_$t/model.onnx" ] && cp "$testdata/test_$t/model.onnx" "$work/corpus/$t.onnx"
  done
fi
[ -f "$src/tests/data/fmnist/fmnist_cnn_fused.onnx" ] && cp "$src/tests/data/fmnist/fmnist_cnn_fused.onnx" "$work/corpus/"
# The corpus grows between runs; the time bound keeps each run short.
exec "$work/fuzz_import" "$work/corpus" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1
