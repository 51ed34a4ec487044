#!/usr/bin/python3
"""Generate PyTorch reference tensors for statiq's float layers.

For every case in CASES below this writes tests/data/torch_ref/<case>.hpp with
deterministic random inputs and parameters and the output PyTorch computes for
them (float32 on the CPU, like a user would run it).

Layouts in the headers (statiq's, channels-last):
  * activations  [batch][h][w][c] (NHWC); rank-1 tensors are written as h = w = 1, c = N;
  * conv weights OHWI [out_c][k_h][k_w][in_c/groups] (PyTorch's OIHW permuted), bias [out_c];
  * dense weights [out][in], `in` enumerating the flattened NHWC input in (h, w, c) order;
  * batchnorm parameters gamma, beta, running_mean, running_var (eval mode);
  * pads are written as (top, left, bottom, right).

Usage:  /usr/bin/python3 tools/python/make_torch_refs.py [--out tests/data/torch_ref] [--check]
  --check  also compile-checks every header with `g++ -std=c++20 -fsyntax-only`.

To add a case: write a function `case_xxx(g)` that returns a Ref (see below) and add a
row to CASES.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
BATCH = 2


# ----------------------------------------------------------------------------- helpers

@dataclass
class Ref:
    inputs: list                      # NCHW (or [N, F]) torch tensors, 1 or 2
    params: list                      # (description, tensor already in statiq layout)
    expected: torch.Tensor            # NCHW or [N, F]
    extra_comment: list = field(default_factory=list)


def randn(g, *shape, scale=1.0):
    return torch.randn(*shape, generator=g, dtype=torch.float32) * scale


def conv_params(g, out_c, in_c, kh, kw, groups=1):
    fan_in = (in_c // groups) * kh * kw
    s = 1.0 / math.sqrt(fan_in)
    w = randn(g, out_c, in_c // groups, kh, kw, scale=s)
    b = randn(g, out_c, scale=s)
    return w, b


def dense_params(g, out_f, in_f):
    s = 1.0 / math.sqrt(in_f)
    return randn(g, out_f, in_f, scale=s), randn(g, out_f, scale=s)


def bn_params(g, c):
    gamma = 1.0 + randn(g, c, scale=0.25)
    beta = randn(g, c, scale=0.2)
    mean = randn(g, c, scale=0.2)
    var = 0.5 + torch.rand(c, generator=g, dtype=torch.float32)  # in [0.5, 1.5)
    return gamma, beta, mean, var


def ohwi(w):
    """PyTorch OIHW -> statiq OHWI."""
    return w.permute(0, 2, 3, 1).contiguous()


def conv_desc(name, w):
    o, i, kh, kw = w.shape
    return f"{name} weight OHWI [{o}][{kh}][{kw}][{i}]"


def pad_tlbr(x, t, l, b, r, value=0.0):
    """Asymmetric padding given as (top, left, bottom, right)."""
    return F.pad(x, (l, r, t, b), value=value)


def bn(x, p, eps=1e-5):
    gamma, beta, mean, var = p
    return F.batch_norm(x, mean, var, gamma, beta, training=False, eps=eps)


def bn_list(name, p):
    c = p[0].numel()
    return [(f"{name} gamma [{c}]", p[0]), (f"{name} beta [{c}]", p[1]),
            (f"{name} running_mean [{c}]", p[2]), (f"{name} running_var [{c}]", p[3])]


def conv_list(name, w, b):
    return [(conv_desc(name, w), ohwi(w)), (f"{name} bias [{b.numel()}]", b)]


# ----------------------------------------------------------------------------- cases
# Each case function gets a torch.Generator seeded from the case name and returns a Ref.

def case_conv(in_hwc, out_c, k, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    def f(g):
        h, w_, c = in_hwc
        x = randn(g, BATCH, c, h, w_)
        w, b = conv_params(g, out_c, c, k[0], k[1], groups)
        y = F.conv2d(pad_tlbr(x, *pads), w, b, stride=stride, dilation=dilation, groups=groups)
        return Ref([x], conv_list("conv", w, b), y)
    return f


def case_dense(g):
    x = randn(g, BATCH, 37)
    w, b = dense_params(g, 11, 37)
    return Ref([x], [("dense weight [11][37]", w), ("dense bias [11]", b)], F.linear(x, w, b))


def case_batchnorm(g):
    x = randn(g, BATCH, 6, 5, 5)
    p = bn_params(g, 6)
    return Ref([x], bn_list("batchnorm", p), bn(x, p))


def case_elementwise(shape_hwc, fn, scale=1.0):
    def f(g):
        h, w, c = shape_hwc
        x = randn(g, BATCH, c, h, w, scale=scale)
        return Ref([x], [], fn(x))
    return f


def case_pool(in_hwc, fn, shift=0.0):
    def f(g):
        h, w, c = in_hwc
        x = randn(g, BATCH, c, h, w) + shift
        return Ref([x], [], fn(x))
    return f


def case_add(g):
    a = randn(g, BATCH, 5, 4, 4)
    b = randn(g, BATCH, 5, 4, 4)
    return Ref([a, b], [], a + b)


def case_concat(g):
    a = randn(g, BATCH, 3, 4, 4)
    b = randn(g, BATCH, 5, 4, 4)
    return Ref([a, b], [], torch.cat([a, b], dim=1))


def case_flatten_dense(g):
    # The PyTorch model flattens its NCHW tensor (c, h, w order) and applies Linear(36, 5);
    # statiq flattens NHWC in (h, w, c) order, so the weight columns are permuted to match.
    x = randn(g, BATCH, 4, 3, 3)
    w, b = dense_params(g, 5, 36)
    y = F.linear(torch.flatten(x, 1), w, b)
    w_hwc = w.reshape(5, 4, 3, 3).permute(0, 2, 3, 1).reshape(5, 36).contiguous()
    return Ref([x], [("dense weight [5][36], columns in (h, w, c) order", w_hwc),
                     ("dense bias [5]", b)], y,
               ["PyTorch: y = Linear(36, 5)(x_nchw.flatten(1)); p0 is that weight with its",
                "columns permuted from (c, h, w) to statiq's channels-last (h, w, c) order."])


def case_softmax(g):
    x = randn(g, BATCH, 10, scale=5.0)
    return Ref([x], [], torch.softmax(x, dim=1))


def case_plain_cnn(g):
    x = randn(g, BATCH, 1, 12, 12)
    w0, b0 = conv_params(g, 8, 1, 3, 3)
    w1, b1 = conv_params(g, 16, 8, 3, 3)
    p_bn = bn_params(g, 16)
    wd, bd = dense_params(g, 10, 16)
    t = F.relu(F.conv2d(x, w0, b0, padding=1))
    t = F.max_pool2d(t, 2, 2)
    t = F.conv2d(t, w1, b1, padding=1)
    t = F.relu(bn(t, p_bn))
    t = F.adaptive_avg_pool2d(t, 1)
    y = F.linear(torch.flatten(t, 1), wd, bd)
    params = (conv_list("conv1", w0, b0) + conv_list("conv2", w1, b1) + bn_list("batchnorm", p_bn)
              + [("dense weight [10][16]", wd), ("dense bias [10]", bd)])
    return Ref([x], params, y)


def case_residual_cnn(g):
    x = randn(g, BATCH, 3, 8, 8)
    w0, b0 = conv_params(g, 8, 3, 3, 3)
    w1, b1 = conv_params(g, 8, 8, 3, 3)
    w2, b2 = conv_params(g, 8, 8, 3, 3)
    w3, b3 = conv_params(g, 4, 8, 1, 1)
    w4, b4 = conv_params(g, 4, 8, 3, 3)
    wd, bd = dense_params(g, 10, 8)
    a = F.relu(F.conv2d(x, w0, b0, padding=1))
    t = F.relu(F.conv2d(a, w1, b1, padding=1))
    t = F.conv2d(t, w2, b2, padding=1)
    c = F.relu(t + a)
    d1 = F.conv2d(c, w3, b3)
    d2 = F.conv2d(c, w4, b4, padding=1)
    e = F.relu(torch.cat([d1, d2], dim=1))
    e = F.adaptive_avg_pool2d(e, 1)
    y = F.linear(torch.flatten(e, 1), wd, bd)
    params = (conv_list("conv_a", w0, b0) + conv_list("conv_r1", w1, b1) + conv_list("conv_r2", w2, b2)
              + conv_list("conv_1x1", w3, b3) + conv_list("conv_3x3", w4, b4)
              + [("dense weight [10][8]", wd), ("dense bias [10]", bd)])
    return Ref([x], params, y)


# The case table: (name, attribute comment lines, builder).
CASES = [
    ("conv_basic", ["Conv2d 6x7x3 -> 4 ch, kernel 3x3, stride (1,1), dilation (1,1), groups 1,",
                    "pads (top,left,bottom,right) = (1,1,1,1), bias. Output 6x7x4."],
     case_conv((6, 7, 3), 4, (3, 3), pads=(1, 1, 1, 1))),
    ("conv_stride2_asym", ["Conv2d 9x8x2 -> 3 ch, kernel 3x2 (k_h=3, k_w=2), stride (2,2), dilation (1,1), groups 1,",
                           "pads (top,left,bottom,right) = (0,1,1,0) (PyTorch: F.pad then conv2d padding 0), bias.",
                           "Output 4x4x3."],
     case_conv((9, 8, 2), 3, (3, 2), stride=(2, 2), pads=(0, 1, 1, 0))),
    ("conv_dilated", ["Conv2d 9x9x3 -> 5 ch, kernel 3x3, stride (1,1), dilation (2,2), groups 1,",
                      "pads (2,2,2,2), bias. Output 9x9x5."],
     case_conv((9, 9, 3), 5, (3, 3), pads=(2, 2, 2, 2), dilation=(2, 2))),
    ("conv_groups", ["Conv2d 6x6x4 -> 6 ch, groups 2 (2 in / 3 out channels per group), kernel 3x3,",
                     "stride (1,1), dilation (1,1), pads (1,1,1,1), bias. Weight OHWI [6][3][3][2]. Output 6x6x6."],
     case_conv((6, 6, 4), 6, (3, 3), pads=(1, 1, 1, 1), groups=2)),
    ("conv_depthwise", ["Conv2d depthwise 7x7x8 -> 8 ch, groups 8, kernel 3x3, stride (2,2), dilation (1,1),",
                        "pads (1,1,1,1), bias. Weight OHWI [8][3][3][1]. Output 4x4x8."],
     case_conv((7, 7, 8), 8, (3, 3), stride=(2, 2), pads=(1, 1, 1, 1), groups=8)),
    ("conv_1x1", ["Conv2d 5x5x16 -> 8 ch, kernel 1x1, stride (1,1), no padding, groups 1, bias. Output 5x5x8."],
     case_conv((5, 5, 16), 8, (1, 1))),
    ("dense", ["Dense (Linear) rank-1 input of 37 -> 11 outputs, bias. Input/output written as 1x1xN."],
     case_dense),
    ("batchnorm", ["BatchNorm (eval mode) over 5x5x6, eps 1e-5: y = (x - mean) / sqrt(var + eps) * gamma + beta."],
     case_batchnorm),
    ("relu", ["ReLU over 4x5x6."], case_elementwise((4, 5, 6), F.relu)),
    ("relu6", ["ReLU6 = clip(x, 0, 6) over 4x5x6; inputs are N(0,1) scaled x4 so both bounds bite."],
     case_elementwise((4, 5, 6), lambda x: torch.clamp(x, 0.0, 6.0), scale=4.0)),
    ("clip_m1_2", ["Clip(x, min = -1.5, max = 2.25) over 4x5x6; inputs are N(0,1) scaled x2 so both bounds bite."],
     case_elementwise((4, 5, 6), lambda x: torch.clamp(x, -1.5, 2.25), scale=2.0)),
    ("maxpool_2x2", ["MaxPool 8x8x3, kernel 2x2, stride (2,2), no padding, floor mode. Output 4x4x3."],
     case_pool((8, 8, 3), lambda x: F.max_pool2d(x, 2, 2))),
    ("maxpool_3x3_s2_pad", ["MaxPool 9x9x3, kernel 3x3, stride (2,2), pads (1,1,1,1), floor mode;",
                            "padding is -inf (never wins). Inputs are N(0,1) - 2 so that many windows are all",
                            "negative and zero padding would give a wrong result. Output 5x5x3."],
     case_pool((9, 9, 3), lambda x: F.max_pool2d(x, 3, 2, padding=1), shift=-2.0)),
    ("maxpool_ceil", ["MaxPool 7x7x2, kernel 2x2, stride (2,2), no padding, ceil_mode=True",
                      "(the last row/column window covers a single input row/column). Output 4x4x2."],
     case_pool((7, 7, 2), lambda x: F.max_pool2d(x, 2, 2, ceil_mode=True))),
    ("avgpool_incl_pad", ["AvgPool 7x7x3, kernel 3x3, stride (2,2), pads (1,1,1,1), count_include_pad=True",
                          "(divisor always 9). Output 4x4x3."],
     case_pool((7, 7, 3), lambda x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=True))),
    ("avgpool_excl_pad", ["AvgPool 7x7x3, kernel 3x3, stride (2,2), pads (1,1,1,1), count_include_pad=False",
                          "(divisor = number of non-pad elements in the window). Output 4x4x3."],
     case_pool((7, 7, 3), lambda x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False))),
    ("avgpool_2x2", ["AvgPool 8x8x4, kernel 2x2, stride (2,2), no padding. Output 4x4x4."],
     case_pool((8, 8, 4), lambda x: F.avg_pool2d(x, 2, 2))),
    ("global_avgpool", ["Global average pool 5x6x7 -> 1x1x7 (mean over h and w)."],
     case_pool((5, 6, 7), lambda x: F.adaptive_avg_pool2d(x, 1))),
    ("add", ["Elementwise Add of two 4x4x5 tensors: expected = input + input2."], case_add),
    ("concat", ["Concat along channels: input 4x4x3 then input2 4x4x5 -> 4x4x8 (input's channels first)."],
     case_concat),
    ("flatten_dense", ["Flatten 3x3x4 in channels-last (h, w, c) order -> 36, then Dense 36 -> 5 with bias."],
     case_flatten_dense),
    ("softmax", ["Softmax over a rank-1 input of 10 (N(0,1) values scaled x5). Input/output written as 1x1x10."],
     case_softmax),
    ("plain_cnn", ["Sequential model, 12x12x1 input:",
                   "  conv1 1->8 3x3 stride 1 pads (1,1,1,1) (p0 weight, p1 bias) -> ReLU",
                   "  -> MaxPool 2x2 stride 2 (12x12 -> 6x6)",
                   "  -> conv2 8->16 3x3 stride 1 pads (1,1,1,1) (p2, p3)",
                   "  -> BatchNorm eps 1e-5 (p4 gamma, p5 beta, p6 running_mean, p7 running_var) -> ReLU",
                   "  -> global avgpool (6x6x16 -> 1x1x16) -> Flatten (16) -> Dense 16->10 (p8 weight, p9 bias).",
                   "Output: logits, 1x1x10."],
     case_plain_cnn),
    ("residual_cnn", ["DAG, 8x8x3 input x (all convs stride 1, with bias):",
                      "  A = ReLU(conv_a(x))         conv_a   3->8 3x3 pads (1,1,1,1)  p0 weight, p1 bias",
                      "  R = ReLU(conv_r1(A))        conv_r1  8->8 3x3 pads (1,1,1,1)  p2, p3",
                      "  S = conv_r2(R)              conv_r2  8->8 3x3 pads (1,1,1,1)  p4, p5",
                      "  C = ReLU(S + A)             residual Add",
                      "  D1 = conv_1x1(C)            conv_1x1 8->4 1x1 no padding      p6, p7",
                      "  D2 = conv_3x3(C)            conv_3x3 8->4 3x3 pads (1,1,1,1)  p8, p9",
                      "  E = ReLU(Concat_channels(D1, D2))   8x8x8, D1's 4 channels first",
                      "  G = Flatten(GlobalAvgPool(E))       8",
                      "  y = Dense(G)                dense 8->10                        p10 weight, p11 bias",
                      "Output: logits, 1x1x10."],
     case_residual_cnn),
]


# ----------------------------------------------------------------------------- writer

def fmt(v):
    s = "%.9g" % v
    if not any(ch in s for ch in ".eEn"):   # make it a floating literal so the f suffix is legal
        s += ".0"
    return s + "f"


def array(name, t, dims_comment):
    vals = t.detach().contiguous().reshape(-1).tolist()
    lines = [f"inline constexpr float {name}[] = {{  // {dims_comment}"]
    per_line = 8
    for i in range(0, len(vals), per_line):
        lines.append("    " + ", ".join(fmt(v) for v in vals[i:i + per_line]) + ",")
    lines.append("};")
    return lines


def to_nhwc(t):
    """NCHW -> NHWC; rank-2 [N, F] -> [N, 1, 1, F]. Returns (tensor, h, w, c)."""
    if t.dim() == 2:
        return t, 1, 1, t.shape[1]
    return t.permute(0, 2, 3, 1).contiguous(), t.shape[2], t.shape[3], t.shape[1]


def render(name, comment, ref):
    out = [f"// Generated by tools/python/make_torch_refs.py (PyTorch {torch.__version__}); do not edit.",
           "#pragma once"]
    out += ["// " + c for c in comment + ref.extra_comment]
    out.append("// Layouts: activations NHWC; conv weights OHWI; dense weights [out][in] (in = flattened NHWC, h,w,c order).")
    for i, (desc, _) in enumerate(ref.params):
        out.append(f"//   p{i}: {desc}")
    out.append(f"namespace statiq_test::torch_ref::{name} {{")
    out.append(f"inline constexpr int batch = {BATCH};")
    for k, x in enumerate(ref.inputs):
        sfx = "" if k == 0 else str(k + 1)
        xt, h, w, c = to_nhwc(x)
        out.append(f"inline constexpr int in{sfx}_h = {h}, in{sfx}_w = {w}, in{sfx}_c = {c};")
        out += array(f"input{sfx}", xt, f"[batch][in{sfx}_h][in{sfx}_w][in{sfx}_c] (NHWC)")
    for i, (desc, p) in enumerate(ref.params):
        out += array(f"p{i}", p, desc)
    yt, h, w, c = to_nhwc(ref.expected)
    out.append(f"inline constexpr int out_h = {h}, out_w = {w}, out_c = {c};")
    out += array("expected", yt, "[batch][out_h][out_w][out_c] (NHWC)")
    out.append(f"}}  // namespace statiq_test::torch_ref::{name}")
    return "\n".join(out) + "\n"


def compile_check(paths):
    ok = True
    with tempfile.TemporaryDirectory() as d:
        for p in paths:
            src = os.path.join(d, "check.cpp")
            with open(src, "w") as f:
                f.write(f'#include "{os.path.abspath(p)}"\nint main() {{ return 0; }}\n')
            r = subprocess.run(["g++", "-std=c++20", "-fsyntax-only", "-Wall", "-Wextra",
                                "-Wconversion", "-Werror", src], capture_output=True, text=True)
            if r.returncode != 0:
                ok = False
                print(f"FAILED {p}:\n{r.stderr}", file=sys.stderr)
    return ok


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "tests", "data", "torch_ref"))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=default_out)
    ap.add_argument("--check", action="store_true", help="compile-check the headers with g++")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case name"
    paths, total = [], 0
    for name, comment, fn in CASES:
        g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
        with torch.no_grad():
            ref = fn(g)
        text = render(name, comment, ref)
        path = os.path.join(args.out, f"{name}.hpp")
        with open(path, "w") as f:
            f.write(text)
        paths.append(path)
        total += len(text)
        print(f"{name:22s} {len(text):8d} bytes")
    print(f"{len(paths)} headers, {total} bytes in total -> {args.out}")
    if args.check:
        if not compile_check(paths):
            sys.exit(1)
        print("all headers compile (g++ -std=c++20 -fsyntax-only -Wall -Wextra -Wconversion -Werror)")


if __name__ == "__main__":
    main()
