#!/usr/bin/python3
"""Reference logits of a QDQ ONNX model (QuantizeLinear/DequantizeLinear around Conv, Gemm, MaxPool, Flatten, Relu)
evaluated with numpy as ONNX defines the operators: QuantizeLinear = saturate(round_half_to_even(x / scale) + zp),
DequantizeLinear = (q - zp) * scale, the float operators in float32 between them (what ONNX Runtime's reference
and its QDQ graph compute). Writes the first N test images' outputs as little-endian float32 [N][classes].

Usage: /usr/bin/python3 tools/python/qdq_reference.py MODEL_QDQ.onnx OUT.f32 [--images N] [--data DIR]
The Fashion-MNIST QDQ model itself comes from bench/model_compare/make_qdq.py (ONNX Runtime's quantize_static
QDQ layout: u8 per-tensor activations, s8 per-channel weights, calibrated on 300 training images)."""
import argparse
import gzip
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "model_compare"))
import make_qdq  # noqa: E402  (conv, maxpool, attrs_of: the float interpreter's operators)


def quantize(x, scale, zp):
    info = np.iinfo(zp.dtype)
    q = np.rint(x / scale) + zp.astype(np.float32)
    return np.clip(q, info.min, info.max).astype(zp.dtype)


def dequantize(q, scale, zp, axis, rank):
    if np.ndim(scale) == 1 and rank > 1:  # per axis
        shape = [1] * rank
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return ((q.astype(np.int64) - zp.astype(np.int64)).astype(np.float32) * scale).astype(np.float32)


def run(model, x):
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env[model.graph.input[0].name] = x
    for n in model.graph.node:
        a = make_qdq.attrs_of(n)
        i = [env[k] if k else None for k in n.input]
        if n.op_type == "QuantizeLinear":
            y = quantize(i[0], i[1], i[2])
        elif n.op_type == "DequantizeLinear":
            y = dequantize(i[0], i[1], i[2], a.get("axis", 1), np.ndim(i[0]))
        elif n.op_type == "Conv":
            y = make_qdq.conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif n.op_type == "MaxPool":
            y = make_qdq.maxpool(i[0], a)
        elif n.op_type == "Relu":
            y = np.maximum(i[0], 0)
        elif n.op_type == "Flatten":
            y = i[0].reshape(i[0].shape[0], -1)
        elif n.op_type == "Gemm":
            bm = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (i[0] @ bm)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
            y = y.astype(np.float32)
        else:
            raise SystemExit(f"qdq_reference: op {n.op_type} is not supported")
        env[n.output[0]] = y
    return env[model.graph.output[0].name]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    model = onnx.load(args.model)
    x = make_qdq.load_images(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"), args.images)
    y = np.concatenate([run(model, x[k:k + 100]) for k in range(0, len(x), 100)]).astype("<f4")
    y.tofile(args.out)
    with gzip.open(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz"), "rb") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:len(y)]
    print(f"qdq_reference: {args.out}: {y.shape[0]} x {y.shape[1]} logits; accuracy on them "
          f"{100.0 * np.mean(y.argmax(1) == labels):.2f}%")


if __name__ == "__main__":
    main()
