#!/usr/bin/python3
"""Independent check of tests/data/torch_ref/*.hpp: parses each header and recomputes
`expected` with a straightforward float64 NumPy implementation working directly in
statiq's layouts (NHWC activations, OHWI conv weights, (h, w, c)-ordered dense inputs).
This validates the layout conversions done by make_torch_refs.py.

Usage: /usr/bin/python3 tools/python/check_torch_refs.py [dir]
"""
import os
import re
import sys

import numpy as np


def parse(path):
    text = open(path).read()
    ints = {k: int(v) for k, v in re.findall(r"\b(\w+) = (-?\d+)\b(?=[,;])", text)}
    arrs = {}
    for name, body in re.findall(r"inline constexpr float (\w+)\[\] = \{[^\n]*\n(.*?)\};", text, re.S):
        vals = [float(v.rstrip("f")) for v in re.findall(r"[-+0-9.eE]+f", body)]
        arrs[name] = np.array(vals, dtype=np.float64)
    return ints, arrs


def pad(x, t, l, b, r, value=0.0):
    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=value)


def conv(x, w, b, stride=(1, 1), pads=(0, 0, 0, 0), dil=(1, 1), groups=1):
    # x [N][H][W][C], w [O][KH][KW][C/groups]
    x = pad(x, *pads)
    n, h, wd, c = x.shape
    o, kh, kw, cg = w.shape
    oh = (h - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd - dil[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, oh, ow, o))
    og = o // groups
    for oc in range(o):
        gi = oc // og
        xs = x[..., gi * cg:(gi + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, i * dil[0]: i * dil[0] + stride[0] * (oh - 1) + 1: stride[0],
                           j * dil[1]: j * dil[1] + stride[1] * (ow - 1) + 1: stride[1], :]
                y[..., oc] += patch @ w[oc, i, j]
        y[..., oc] += b[oc]
    return y


def pool(x, k, s, pads=(0, 0, 0, 0), mode="max", ceil=False, include_pad=True):
    n, h, w, c = x.shape
    t, l, bo, r = pads

    def osz(size, lo, hi):
        num = size + lo + hi - k
        o = (-(-num // s) if ceil else num // s) + 1
        if ceil and (o - 1) * s >= size + lo:   # last window must start inside input or left pad
            o -= 1
        return o
    oh, ow = osz(h, t, bo), osz(w, l, r)
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * s - t, j * s - l
            h1, w1 = h0 + k, w0 + k
            hs, he, ws, we = max(h0, 0), min(h1, h), max(w0, 0), min(w1, w)
            win = x[:, hs:he, ws:we, :]
            if mode == "max":
                y[:, i, j] = win.max(axis=(1, 2))
            else:
                if include_pad:
                    cnt = (min(h1, h + bo) - h0) * (min(w1, w + r) - w0)
                else:
                    cnt = (he - hs) * (we - ws)
                y[:, i, j] = win.sum(axis=(1, 2)) / cnt
    return y


def bnorm(x, g, b, m, v, eps=1e-5):
    return (x - m) / np.sqrt(v + eps) * g + b


relu = lambda x: np.maximum(x, 0)
gap = lambda x: x.mean(axis=(1, 2), keepdims=True)


def dense(x, w, b):  # x [N][H][W][C] -> [N][1][1][O]
    n = x.shape[0]
    return (x.reshape(n, -1) @ w.T + b).reshape(n, 1, 1, -1)


def compute(case, I, A):
    n = I["batch"]
    x = A["input"].reshape(n, I["in_h"], I["in_w"], I["in_c"])
    x2 = A["input2"].reshape(n, I["in2_h"], I["in2_w"], I["in2_c"]) if "input2" in A else None
    p = [A[f"p{i}"] for i in range(100) if f"p{i}" in A]

    def cw(i, o, kh, kw):  # conv weight i reshaped OHWI
        return p[i].reshape(o, kh, kw, -1)
    if case == "conv_basic":
        return conv(x, cw(0, 4, 3, 3), p[1], pads=(1, 1, 1, 1))
    if case == "conv_stride2_asym":
        return conv(x, cw(0, 3, 3, 2), p[1], stride=(2, 2), pads=(0, 1, 1, 0))
    if case == "conv_dilated":
        return conv(x, cw(0, 5, 3, 3), p[1], pads=(2, 2, 2, 2), dil=(2, 2))
    if case == "conv_groups":
        return conv(x, cw(0, 6, 3, 3), p[1], pads=(1, 1, 1, 1), groups=2)
    if case == "conv_depthwise":
        return conv(x, cw(0, 8, 3, 3), p[1], stride=(2, 2), pads=(1, 1, 1, 1), groups=8)
    if case == "conv_1x1":
        return conv(x, cw(0, 8, 1, 1), p[1])
    if case == "dense":
        return dense(x, p[0].reshape(11, 37), p[1])
    if case == "batchnorm":
        return bnorm(x, *p)
    if case == "relu":
        return relu(x)
    if case == "relu6":
        return np.clip(x, 0, 6)
    if case == "clip_m1_2":
        return np.clip(x, -1.5, 2.25)
    if case == "maxpool_2x2":
        return pool(x, 2, 2)
    if case == "maxpool_3x3_s2_pad":
        return pool(x, 3, 2, (1, 1, 1, 1))
    if case == "maxpool_ceil":
        return pool(x, 2, 2, ceil=True)
    if case == "avgpool_incl_pad":
        return pool(x, 3, 2, (1, 1, 1, 1), "avg", include_pad=True)
    if case == "avgpool_excl_pad":
        return pool(x, 3, 2, (1, 1, 1, 1), "avg", include_pad=False)
    if case == "avgpool_2x2":
        return pool(x, 2, 2, mode="avg")
    if case == "global_avgpool":
        return gap(x)
    if case == "add":
        return x + x2
    if case == "concat":
        return np.concatenate([x, x2], axis=3)
    if case == "flatten_dense":
        return dense(x, p[0].reshape(5, 36), p[1])
    if case == "softmax":
        e = np.exp(x - x.max(axis=3, keepdims=True))
        return e / e.sum(axis=3, keepdims=True)
    if case == "plain_cnn":
        t = pool(relu(conv(x, cw(0, 8, 3, 3), p[1], pads=(1,) * 4)), 2, 2)
        t = relu(bnorm(conv(t, cw(2, 16, 3, 3), p[3], pads=(1,) * 4), *p[4:8]))
        return dense(gap(t), p[8].reshape(10, 16), p[9])
    if case == "residual_cnn":
        a = relu(conv(x, cw(0, 8, 3, 3), p[1], pads=(1,) * 4))
        t = relu(conv(a, cw(2, 8, 3, 3), p[3], pads=(1,) * 4))
        c = relu(conv(t, cw(4, 8, 3, 3), p[5], pads=(1,) * 4) + a)
        d = np.concatenate([conv(c, cw(6, 4, 1, 1), p[7]), conv(c, cw(8, 4, 3, 3), p[9], pads=(1,) * 4)], axis=3)
        return dense(gap(relu(d)), p[10].reshape(10, 8), p[11])
    raise KeyError(case)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "tests", "data", "torch_ref")
    bad = 0
    for f in sorted(os.listdir(d)):
        if not f.endswith(".hpp"):
            continue
        case = f[:-4]
        I, A = parse(os.path.join(d, f))
        y = compute(case, I, A)
        exp = A["expected"]
        shape_ok = y.shape[1:] == (I["out_h"], I["out_w"], I["out_c"]) and y.size == exp.size
        err = np.abs(y.reshape(-1) - exp).max() / max(1.0, np.abs(exp).max()) if shape_ok else float("inf")
        ok = shape_ok and err < 1e-5
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} {case:22s} out {y.shape[1:]} max err (rel to max(1,|y|max)) {err:.2e}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
