#!/usr/bin/python3
"""PyTorch on the Fashion-MNIST CNN: float and FX-mode post-training INT8 (qnnpack), one thread.

The model is tools/python/train_fmnist.py's FmnistCNN with the weights read from the ONNX file's
initializers (tests/data/fmnist/fmnist_cnn.onnx keeps BatchNorm, so every PyTorch parameter and running
statistic is there under its state_dict name).

  float: the eval-mode model with BatchNorm folded into the convolutions (torch.fx's inference fuse);
  int8:  torch.ao.quantization FX mode: prepare_fx with get_default_qconfig_mapping("qnnpack") (fuses
         Conv+BN+ReLU and Linear+ReLU, u8 activations with a histogram observer, s8 weights),
         calibration on the first N (default 300) training images, convert_fx; engine qnnpack.

Timing: torch.set_num_threads(1), inference_mode; for each batch, warm-up, then `repetitions`
repetitions of at least `min_time` seconds on the first test images; reported: the median repetition's
process CPU time per image (us_per_image; with one thread that is all of the work, and it
is what Google Benchmark reports for statiq) and its wall time (wall_us_per_image). Accuracy: top-1 on the 10,000 test images. Prints one JSON object.

Usage: /usr/bin/python3 bench/model_compare/torch_bench.py [--onnx tests/data/fmnist/fmnist_cnn.onnx]
           [--data /usr/share/datasets/fashion-mnist] [--calib 300] [--min-time 1.0] [--repetitions 5]
           [--batches 1,64]
"""
import argparse
import copy
import json
import os
import sys
import time
import warnings

import numpy as np
import onnx
import torch
import torch.fx.experimental.optimization
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
from train_fmnist import FmnistCNN, load_split, normalise  # noqa: E402


def load_model(onnx_path):
    inits = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(onnx_path).graph.initializer}
    model = FmnistCNN()
    sd = model.state_dict()
    missing = [k for k in sd if k not in inits and not k.endswith("num_batches_tracked")]
    if missing:
        raise SystemExit(f"torch_bench: {onnx_path} lacks the parameters {missing} (use the BatchNorm-kept export)")
    for k in sd:
        if k in inits:
            if tuple(sd[k].shape) != tuple(inits[k].shape):
                raise SystemExit(f"torch_bench: {k}: shape {tuple(inits[k].shape)} in ONNX, {tuple(sd[k].shape)} in the model")
            sd[k] = inits[k]
    model.load_state_dict(sd)
    return model.eval()


@torch.inference_mode()
def accuracy(model, x, y, bs=1000):
    correct = 0
    for i in range(0, len(x), bs):
        correct += (model(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
    return correct / len(x)


@torch.inference_mode()
def time_batch(model, x, batch, min_time, repetitions):
    xb = x[:batch].contiguous()
    t0 = time.perf_counter()
    n = 0
    while n < 10 or time.perf_counter() - t0 < 0.2:  # warm-up
        model(xb)
        n += 1
    wall, cpu = [], []
    for _ in range(repetitions):
        iters = 0
        c0 = time.process_time()
        t0 = time.perf_counter()
        while True:
            model(xb)
            iters += 1
            el = time.perf_counter() - t0
            if el >= min_time:
                break
        c = time.process_time() - c0
        wall.append(el * 1e6 / iters / batch)
        cpu.append(c * 1e6 / iters / batch)
    return {"us_per_image": sorted(cpu)[len(cpu) // 2], "wall_us_per_image": sorted(wall)[len(wall) // 2],
            "repetitions_cpu_us_per_image": cpu, "repetitions_wall_us_per_image": wall}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", default=os.path.join(ROOT, "tests", "data", "fmnist", "fmnist_cnn.onnx"))
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--calib", type=int, default=300)
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--batches", default="1,64")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    warnings.filterwarnings("ignore")

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    xtr_u8, _ = load_split(args.data, "train")
    xte_u8, yte = load_split(args.data, "t10k")
    calib = normalise(xtr_u8[:args.calib])
    xte, yte = normalise(xte_u8), torch.from_numpy(yte.astype(np.int64))

    model = load_model(args.onnx)
    float_model = torch.fx.experimental.optimization.fuse(copy.deepcopy(model))  # BN folded into Conv

    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    if "qnnpack" not in torch.backends.quantized.supported_engines:
        raise SystemExit(f"torch_bench: qnnpack is not a supported engine here ({torch.backends.quantized.supported_engines})")
    torch.backends.quantized.engine = "qnnpack"
    t0 = time.perf_counter()
    prepared = prepare_fx(copy.deepcopy(model), get_default_qconfig_mapping("qnnpack"), (calib[:1],))
    with torch.inference_mode():
        for i in range(0, len(calib), 50):
            prepared(calib[i:i + 50])
    int8_model = convert_fx(prepared)
    ptq_s = time.perf_counter() - t0

    result = {"engine": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(),
              "quantized_engine": torch.backends.quantized.engine, "calibration_images": len(calib),
              "ptq_seconds": ptq_s, "models": {}}
    for key, m in (("float", float_model), ("int8", int8_model)):
        r = {"accuracy": accuracy(m, xte, yte), "batch": {}}
        for b in batches:
            r["batch"][str(b)] = time_batch(m, xte, b, args.min_time, args.repetitions)
        result["models"][key] = r
    result["int8_modules"] = sorted({type(mod).__module__ + "." + type(mod).__name__
                                     for mod in int8_model.modules() if "quantized" in type(mod).__module__})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
