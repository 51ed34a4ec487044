#!/usr/bin/python3
"""Write the int8 QDQ form of a float ONNX CNN the way ONNX Runtime's quantize_static lays it out.

There is no onnxruntime Python package here, so this re-creates what

    onnxruntime.quantization.quantize_static(float_model, qdq_model, reader,
        quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)

writes, with /usr/bin/python3, onnx and numpy only:

  * activations: u8, per tensor, asymmetric; the range is the min/max of the tensor over the calibration
    images, widened to include 0 (scale = (max - min) / 255, zero point = round(-min / scale));
    one QuantizeLinear -> DequantizeLinear pair per tensor, shared by all its consumers;
  * weights of Conv and Gemm: s8, symmetric, per output channel (axis 0; Gemm with transB=1), range
    [-127, 127], stored quantized with a DequantizeLinear (no QuantizeLinear);
  * biases: s32 = round(b / (input scale * weight scale[c])) with a DequantizeLinear, zero point 0;
  * a Relu right after a Conv/Gemm whose output feeds only it is removed, and the Conv/Gemm output takes
    the Relu output's (non-negative) range, so the u8 clamp does the ReLU (ORT's QDQRemovableActivation);
  * MaxPool's output reuses its input's scale and zero point (QDQDirect8BitOp); Flatten is left in float,
    its output, being Gemm's input, gets its own pair (ORT's QDQ registry has no Flatten entry);
  * graph outputs are quantized too (the producer writes "<name>_QuantizeLinear_Input").

At load time ORT's graph optimizer fuses DQ -> Conv -> Q into QLinearConv, DQ -> Gemm -> Q into QGemm,
DQ -> MaxPool -> Q into a u8 MaxPool, and runs them on its int8 (MLAS u8s8) kernels; ort_bench.js
checks that with ORT's profiler and reports the accuracy on the 10,000 test images.

Calibration: the first N (default 300) training images, normalised (p / 255 - 0.2860) / 0.3530, run
through a small numpy interpreter of the float graph (Conv, BatchNormalization, Relu, MaxPool, Flatten,
Gemm: enough for the Fashion-MNIST CNNs; anything else is an error).

Usage: /usr/bin/python3 bench/model_compare/make_qdq.py FLOAT.onnx OUT_QDQ.onnx [--data DIR] [--calib N]
"""
import argparse
import gzip
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MEAN, STD = 0.2860, 0.3530


def load_images(path, limit):
    with gzip.open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[4:8], "big")
    x = np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, 1, 28, 28)[:limit]
    return ((x.astype(np.float32) / 255.0 - MEAN) / STD).astype(np.float32)


def attrs_of(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def conv(x, w, b, a):
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise SystemExit("make_qdq: only group=1, dilation=1 Conv is supported")
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    sh, sw = a.get("strides", [1, 1])
    kh, kw = w.shape[2], w.shape[3]
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    y = np.einsum("nchwij,mcij->nmhw", win, w, optimize=True)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y.astype(np.float32)


def maxpool(x, a):
    if any(p != 0 for p in a.get("pads", [0, 0, 0, 0])) or a.get("ceil_mode", 0):
        raise SystemExit("make_qdq: only unpadded floor-mode MaxPool is supported")
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    return win.max(axis=(4, 5))


def run_float(model, x):
    """Every tensor of the float graph on input x (a dict name -> array)."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env = dict(inits)
    env[model.graph.input[0].name] = x
    for n in model.graph.node:
        a = attrs_of(n)
        i = [env[k] if k else None for k in n.input]
        if n.op_type == "Conv":
            y = conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif n.op_type == "BatchNormalization":
            s = i[1] / np.sqrt(i[4] + a.get("epsilon", 1e-5))
            y = (i[0] - i[3].reshape(1, -1, 1, 1)) * s.reshape(1, -1, 1, 1) + i[2].reshape(1, -1, 1, 1)
        elif n.op_type == "Relu":
            y = np.maximum(i[0], 0)
        elif n.op_type == "MaxPool":
            y = maxpool(i[0], a)
        elif n.op_type == "Flatten":
            y = i[0].reshape(i[0].shape[0], -1)
        elif n.op_type == "Gemm":
            bm = i[1].T if a.get("transB", 0) else i[1]
            am = i[0].T if a.get("transA", 0) else i[0]
            y = a.get("alpha", 1.0) * (am @ bm)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
        else:
            raise SystemExit(f"make_qdq: op {n.op_type} is not supported by the calibration interpreter")
        env[n.output[0]] = y.astype(np.float32)
    return env


def activation_qparams(lo, hi):
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = np.float32((hi - lo) / 255.0)
    if scale < np.finfo(np.float32).tiny:
        return np.float32(1.0), np.uint8(0)
    zp = int(np.clip(np.round(0.0 - lo / float(scale)), 0, 255))
    return scale, np.uint8(zp)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("float_model")
    ap.add_argument("out")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--calib", type=int, default=300)
    args = ap.parse_args()

    model = onnx.load(args.float_model)
    g = model.graph
    if any(n.op_type == "BatchNormalization" for n in g.node):
        raise SystemExit("make_qdq: fold BatchNormalization first (use the *_fused.onnx export, as ORT's "
                         "quant_pre_process would)")
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}

    # Calibration: min/max of every tensor over the calibration images.
    x = load_images(os.path.join(args.data, "train-images-idx3-ubyte.gz"), args.calib)
    env = run_float(model, x)
    ranges = {k: (v.min(), v.max()) for k, v in env.items() if k not in inits}

    consumers = {}
    for n in g.node:
        for k in n.input:
            consumers.setdefault(k, []).append(n)
    graph_outputs = {o.name for o in g.output}

    # 1. Removable activations: Conv/Gemm -> Relu (sole consumer, not a graph output) becomes one node
    #    writing the Relu's output tensor.
    nodes = list(g.node)
    producer = {o: n for n in nodes for o in n.output}
    removed = set()
    for n in nodes:
        if n.op_type != "Relu":
            continue
        up = producer.get(n.input[0])
        if up is None or up.op_type not in ("Conv", "Gemm"):
            continue
        if len(consumers.get(n.input[0], [])) != 1 or n.input[0] in graph_outputs:
            continue
        up.output[0] = n.output[0]
        removed.add(id(n))
    nodes = [n for n in nodes if id(n) not in removed]

    # 2. Which activation tensors get a Q/DQ pair, and their parameters.
    qparams = {}  # tensor -> (scale, zp)
    for n in nodes:
        if n.op_type in ("Conv", "Gemm"):
            for t in (n.input[0], n.output[0]):
                if t not in qparams:
                    qparams[t] = activation_qparams(*ranges[t])
        elif n.op_type == "MaxPool" and n.input[0] in qparams:
            qparams[n.output[0]] = qparams[n.input[0]]  # same scale and zero point as the input

    new_inits = [t for t in g.initializer]
    new_nodes = []

    def add_const(name, arr):
        new_inits.append(numpy_helper.from_array(np.asarray(arr), name))

    # 3. Weights (s8 per channel) and biases (s32) of Conv and Gemm, stored quantized, with a DQ each.
    replaced_inits = set()
    for n in nodes:
        if n.op_type not in ("Conv", "Gemm"):
            continue
        a = attrs_of(n)
        wname = n.input[1]
        w = inits[wname]
        if n.op_type == "Gemm" and not a.get("transB", 0):
            raise SystemExit("make_qdq: Gemm without transB is not supported")
        absmax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
        wscale = np.where(absmax > 0, absmax / 127.0, 1.0).astype(np.float32)
        bshape = (-1,) + (1,) * (w.ndim - 1)
        wq = np.clip(np.round(w / wscale.reshape(bshape)), -127, 127).astype(np.int8)
        add_const(wname + "_quantized", wq)
        add_const(wname + "_scale", wscale)
        add_const(wname + "_zero_point", np.zeros(w.shape[0], np.int8))
        new_nodes.append(helper.make_node("DequantizeLinear", [wname + "_quantized", wname + "_scale", wname + "_zero_point"],
                                          [wname + "_DequantizeLinear_Output"], name=wname + "_DequantizeLinear", axis=0))
        replaced_inits.add(wname)
        n.input[1] = wname + "_DequantizeLinear_Output"
        if len(n.input) > 2 and n.input[2]:
            bname = n.input[2]
            in_scale = qparams[n.input[0]][0]
            bscale = (np.float32(in_scale) * wscale).astype(np.float32)
            bq = np.round(inits[bname] / bscale).astype(np.int32)
            add_const(bname + "_quantized", bq)
            add_const(bname + "_quantized_scale", bscale)
            add_const(bname + "_quantized_zero_point", np.zeros(w.shape[0], np.int32))
            new_nodes.append(helper.make_node("DequantizeLinear", [bname + "_quantized", bname + "_quantized_scale",
                                                                   bname + "_quantized_zero_point"],
                                              [bname + "_DequantizeLinear_Output"], name=bname + "_DequantizeLinear", axis=0))
            replaced_inits.add(bname)
            n.input[2] = bname + "_DequantizeLinear_Output"
    new_inits = [t for t in new_inits if t.name not in replaced_inits]

    # 4. Activation Q/DQ pairs: consumers read "<t>_DequantizeLinear_Output"; a graph output keeps its
    #    name on the DQ and its producer writes "<t>_QuantizeLinear_Input".
    rename_out = {}
    for t, (scale, zp) in qparams.items():
        add_const(t + "_scale", np.array(scale, np.float32))
        add_const(t + "_zero_point", np.array(zp, np.uint8))
        src = t
        dq_out = t + "_DequantizeLinear_Output"
        if t in graph_outputs:
            src = t + "_QuantizeLinear_Input"
            rename_out[t] = src
            dq_out = t
        new_nodes.append(helper.make_node("QuantizeLinear", [src, t + "_scale", t + "_zero_point"], [t + "_quantized"],
                                          name=t + "_QuantizeLinear"))
        new_nodes.append(helper.make_node("DequantizeLinear", [t + "_quantized", t + "_scale", t + "_zero_point"],
                                          [dq_out], name=t + "_DequantizeLinear"))
    for n in nodes:
        for j, k in enumerate(n.input):
            if k in qparams and k not in graph_outputs:
                n.input[j] = k + "_DequantizeLinear_Output"
        for j, k in enumerate(n.output):
            if k in rename_out:
                n.output[j] = rename_out[k]

    # Topological order: node outputs before their uses.
    all_nodes = new_nodes + nodes
    ready = {i.name for i in g.input} | {t.name for t in new_inits}
    ordered = []
    pending = list(all_nodes)
    while pending:
        progress = False
        for n in list(pending):
            if all((not k) or k in ready for k in n.input):
                ordered.append(n)
                ready.update(n.output)
                pending.remove(n)
                progress = True
        if not progress:
            raise SystemExit("make_qdq: cycle or dangling input while ordering nodes")

    out_graph = helper.make_graph(ordered, g.name + "_qdq", list(g.input), list(g.output), new_inits)
    out = helper.make_model(out_graph, opset_imports=list(model.opset_import), producer_name="statiq make_qdq.py")
    out.ir_version = model.ir_version
    onnx.checker.check_model(out)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    onnx.save(out, args.out)
    counts = {}
    for n in ordered:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    print(f"make_qdq: {args.out}: {len(qparams)} activation tensors quantized (u8), "
          f"{sum(1 for n in nodes if n.op_type in ('Conv', 'Gemm'))} weight tensors (s8 per channel), "
          f"{len(removed)} Relu removed; calibration on {len(x)} images; nodes {counts}")


if __name__ == "__main__":
    main()
