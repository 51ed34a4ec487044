#!/usr/bin/env node
// ONNX Runtime (npm package onnxruntime-node, CPU execution provider) on the Fashion-MNIST CNN: the fp32
// model and its int8 QDQ form (make_qdq.py), single thread, batch 1 and 64. Prints one JSON object.
//
//   NODE_PATH=<dir>/node_modules node bench/model_compare/ort_bench.js --fp32 fmnist_cnn_fused.onnx \
//       --int8 fmnist_cnn_qdq.onnx [--data /usr/share/datasets/fashion-mnist] [--min-time 1.0] \
//       [--repetitions 5] [--batches 1,64] [--profile-dir DIR]
//
// Timing: for each model and batch, warm-up runs, then `repetitions` repetitions, each running the same
// input until `min-time` seconds have passed; reported: the median repetition's process CPU time per image
// (us_per_image; Google Benchmark's default for statiq too, less disturbed by a loaded machine than the
// wall time) and its wall time (wall_us_per_image). The time is what a Node.js caller sees: session.run() (a promise resolved after the run)
// including the binding's tensor marshalling, which matters at batch 1. The ORT profiler's own
// per-run time ("model_run", inside the engine) is reported beside it as engine_us_per_image.
//
// Accuracy: both models on the 10,000 test images (batch 64), top-1.
// Profile: one profiled session per model lists the kernels ORT actually executed after its graph
// optimizations (for the QDQ model: QLinearConv / QGemm / ... means it really ran in int8).
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const os = require('os');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const a = {data: '/usr/share/datasets/fashion-mnist', minTime: 1.0, repetitions: 5, batches: [1, 64],
             profileDir: null, fp32: null, int8: null};
  for (let i = 2; i < argv.length; ++i) {
    const k = argv[i], v = argv[i + 1];
    if (k === '--fp32') a.fp32 = v, ++i;
    else if (k === '--int8') a.int8 = v, ++i;
    else if (k === '--data') a.data = v, ++i;
    else if (k === '--min-time') a.minTime = parseFloat(v), ++i;
    else if (k === '--repetitions') a.repetitions = parseInt(v, 10), ++i;
    else if (k === '--batches') a.batches = v.split(',').map((s) => parseInt(s, 10)), ++i;
    else if (k === '--profile-dir') a.profileDir = v, ++i;
    else throw new Error(`ort_bench.js: unknown argument ${k}`);
  }
  if (!a.fp32 || !a.int8) throw new Error('ort_bench.js: --fp32 and --int8 are required');
  return a;
}

function readIdx(file) {
  const buf = zlib.gunzipSync(fs.readFileSync(file));
  const ndim = buf[3];
  const dims = [];
  for (let i = 0; i < ndim; ++i) dims.push(buf.readUInt32BE(4 + 4 * i));
  return {dims, data: buf.subarray(4 + 4 * ndim)};
}

function loadSplit(dir, prefix) {
  const x = readIdx(path.join(dir, `${prefix}-images-idx3-ubyte.gz`));
  const y = readIdx(path.join(dir, `${prefix}-labels-idx1-ubyte.gz`));
  const n = x.dims[0];
  const images = new Float32Array(n * 784);
  for (let i = 0; i < n * 784; ++i) images[i] = (x.data[i] / 255 - 0.2860) / 0.3530;
  return {n, images, labels: y.data};
}

function sessionOptions(extra) {
  return Object.assign({
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  }, extra || {});
}

async function accuracy(session, test) {
  let correct = 0;
  const B = 64;
  for (let s = 0; s < test.n; s += B) {
    const b = Math.min(B, test.n - s);
    const t = new ort.Tensor('float32', test.images.subarray(s * 784, (s + b) * 784), [b, 1, 28, 28]);
    const out = (await session.run({[session.inputNames[0]]: t}))[session.outputNames[0]].data;
    for (let i = 0; i < b; ++i) {
      let best = 0;
      for (let c = 1; c < 10; ++c) if (out[i * 10 + c] > out[i * 10 + best]) best = c;
      correct += best === test.labels[s + i];
    }
  }
  return correct / test.n;
}

async function timeBatch(session, test, batch, minTime, repetitions) {
  const t = new ort.Tensor('float32', test.images.slice(0, batch * 784), [batch, 1, 28, 28]);
  const feeds = {[session.inputNames[0]]: t};
  // Warm-up: at least 0.2 s and 10 runs.
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < 10 || Number(process.hrtime.bigint() - w0) < 2e8; ++i) await session.run(feeds);
  const wall = [], cpu = [];
  for (let r = 0; r < repetitions; ++r) {
    let iters = 0;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let el = 0;
    while (el < minTime * 1e9) {
      await session.run(feeds);
      ++iters;
      el = Number(process.hrtime.bigint() - t0);
    }
    const c = process.cpuUsage(c0);
    wall.push(el / 1e3 / iters / batch);
    cpu.push((c.user + c.system) / iters / batch);
  }
  const median = (v) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
  return {us_per_image: median(cpu), wall_us_per_image: median(wall), repetitions_cpu_us_per_image: cpu,
          repetitions_wall_us_per_image: wall};
}

// Runs `runs` profiled inferences at `batch`; returns the executed kernels (op -> {count, us}) and the
// median in-engine time per run.
async function profile(file, test, batch, runs, dir) {
  const prefix = path.join(dir, `ort_profile_${path.basename(file, '.onnx')}_b${batch}`);
  const s = await ort.InferenceSession.create(file, sessionOptions({enableProfiling: true, profileFilePrefix: prefix}));
  const t = new ort.Tensor('float32', test.images.slice(0, batch * 784), [batch, 1, 28, 28]);
  for (let i = 0; i < runs; ++i) await s.run({[s.inputNames[0]]: t});
  s.endProfiling();
  await s.release();
  const candidates = fs.readdirSync(dir).filter((f) => f.startsWith(path.basename(prefix)) && f.endsWith('.json'))
      .map((f) => path.join(dir, f)).sort((x, y) => fs.statSync(y).mtimeMs - fs.statSync(x).mtimeMs);
  if (!candidates.length) return {profile_file: null};
  const events = JSON.parse(fs.readFileSync(candidates[0], 'utf8'));
  const kernels = {};
  const runsUs = [];
  const skip = Math.floor(runs / 4);  // the first runs are warm-up
  let runIndex = -1;
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') {
      ++runIndex;
      if (runIndex >= skip) runsUs.push(e.dur);
    }
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = `${e.args.op_name}${e.args.provider && e.args.provider !== 'CPUExecutionProvider' ? '@' + e.args.provider : ''}`;
    kernels[op] = kernels[op] || {count: 0, us: 0};
    kernels[op].count += 1;
    kernels[op].us += e.dur;
  }
  const nRuns = Math.max(1, runIndex + 1);
  for (const k of Object.keys(kernels)) {
    kernels[k] = {per_run: kernels[k].count / nRuns, us_per_run: +(kernels[k].us / nRuns).toFixed(2)};
  }
  runsUs.sort((x, y) => x - y);
  return {profile_file: candidates[0], kernels,
          engine_us_per_image: runsUs.length ? runsUs[Math.floor(runsUs.length / 2)] / batch : null};
}

async function main() {
  const a = parseArgs(process.argv);
  const test = loadSplit(a.data, 't10k');
  const dir = a.profileDir || fs.mkdtempSync(path.join(os.tmpdir(), 'ort_bench_'));
  fs.mkdirSync(dir, {recursive: true});
  const result = {engine: 'onnxruntime-node', version: require('onnxruntime-node/package.json').version,
                  threads: 1, models: {}};
  for (const [key, file] of [['fp32', a.fp32], ['int8', a.int8]]) {
    const s = await ort.InferenceSession.create(file, sessionOptions());
    const m = {model: file, accuracy: await accuracy(s, test), batch: {}};
    for (const b of a.batches) m.batch[b] = await timeBatch(s, test, b, a.minTime, a.repetitions);
    await s.release();
    for (const b of a.batches) {
      const p = await profile(file, test, b, b === 1 ? 400 : 40, dir);
      m.batch[b].engine_us_per_image = p.engine_us_per_image;
      m.batch[b].kernels = p.kernels;
      m.batch[b].profile_file = p.profile_file;
    }
    result.models[key] = m;
  }
  // The int8 model must run int8 kernels, not DequantizeLinear + float Conv/Gemm.
  const k64 = Object.keys(result.models.int8.batch[a.batches[a.batches.length - 1]].kernels || {});
  result.int8_kernels_are_quantized = k64.some((k) => /QLinear|QGemm|MatMulInteger|ConvInteger/.test(k)) &&
      !k64.some((k) => /^(Conv|FusedConv|Gemm|FusedGemm|MatMul)$/.test(k));
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  process.stderr.write(`ort_bench.js: ${e.stack || e}\n`);
  process.exit(1);
});
